#!/usr/bin/env bash
# Installs the Debian packages the test lab uses (see docs/testing.md): a real sshd,
# real runtimes and daemons, a browser for the renderer tests, the peers the benchmark
# scripts compare against. Idempotent: does nothing when all are present.
set -euo pipefail
# fuse-overlayfs: a third storage driver dockerd can start with on ext4 (the storage-driver loop's tests).
# containernetworking-plugins: bridge, host-local and loopback in /usr/lib/cni for the CRI tests' pods on a CNI network.
# skopeo: imports images into containers/storage, cri-o's image store (cri-o itself is not in Debian 12).
packages=(openssh-server openssh-client runc runsc crun containerd docker.io chromium
  busybox-static gcc libc6-dev hyperfine shellcheck iproute2 procps python3 ca-certificates fuse-overlayfs
  containernetworking-plugins skopeo)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-lab-packages: missing ${missing[*]}; install them as root on Debian 12 (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-lab-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages enable their daemons; the tests start their own instances.
systemctl disable --now containerd docker ssh 2>/dev/null || true
