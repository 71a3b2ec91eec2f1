import type { Recipe } from '../schema.ts';
import { directRun } from './smoke.ts';

// Kata Containers 3.x with QEMU: the static release tarball unpacked at /opt/kata (the
// distribution-independent way), vhost_vsock loaded for the agent channel, and a CRI
// handler per hypervisor. kata-fc builds on this recipe's install.

export const kataQemu: Recipe = {
  id: 'kata-qemu',
  title: 'Kata Containers 3 (QEMU)',
  version: '1.0.0',
  kind: 'runtime',
  tool: 'kata-runtime',
  appliesTo: [{ distro: 'debian', versions: ['12'] }, { distro: 'ubuntu', versions: ['22.04', '24.04'] }],
  requires: ['oci-bundle'],
  after: ['containerd', 'docker'],
  params: [{ name: 'kataVersion', description: 'Kata Containers 3 release (no dash: pre-releases are not for benchmarks)', default: '3.2.0' }],
  prerequisites: [
    { id: 'distro' }, { id: 'sudo' }, { id: 'arch', args: { arch: 'x86_64' } }, { id: 'kvm' }, { id: 'vhost-vsock' },
    { id: 'disk-free', args: { gib: 4 } }, { id: 'memory', args: { gib: 2 }, required: false }, { id: 'downloads-reachable' },
  ],
  downloads: [{ url: 'https://github.com/kata-containers/kata-containers/releases/download/3.2.0/kata-static-3.2.0-amd64.tar.xz' }],
  steps: [
    {
      id: 'install',
      title: 'Unpack the Kata static release at /opt/kata',
      why: 'The kata-static tarball carries the runtime, the shim, guest kernel and image, QEMU and Firecracker for one version (about 2 GB unpacked).',
      check: { script: '/opt/kata/bin/kata-runtime --version 2>/dev/null | grep -q ": $kataVersion"' },
      apply: [{
        script: `set -e
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL -o "$tmp/kata.tar.xz" "https://github.com/kata-containers/kata-containers/releases/download/$kataVersion/kata-static-$kataVersion-$goArch.tar.xz"
tar -xJf "$tmp/kata.tar.xz" -C /`,
      }],
      needsRoot: true,
      timeoutMs: 900_000,
    },
    {
      id: 'links',
      title: 'Put the shim and kata-runtime on containerd\'s PATH',
      why: 'containerd finds io.containerd.kata.v2 as the binary containerd-shim-kata-v2 on its PATH.',
      check: { script: '[ "$(readlink /usr/local/bin/containerd-shim-kata-v2)" = /opt/kata/bin/containerd-shim-kata-v2 ] && [ "$(readlink /usr/local/bin/kata-runtime)" = /opt/kata/bin/kata-runtime ]' },
      apply: [{ script: 'ln -sf /opt/kata/bin/containerd-shim-kata-v2 /usr/local/bin/containerd-shim-kata-v2\nln -sf /opt/kata/bin/kata-runtime /usr/local/bin/kata-runtime' }],
      needsRoot: true,
    },
    {
      id: 'vhost-vsock',
      title: 'Load vhost_vsock now and at boot',
      why: 'Kata 3 talks to its in-VM agent over vsock; without /dev/vhost-vsock no container starts.',
      check: { script: '[ -c /dev/vhost-vsock ] && [ -f /etc/modules-load.d/runtime-lab-kata.conf ]' },
      apply: [{ script: 'modprobe vhost_vsock\nmodprobe vhost_net\nprintf "vhost_vsock\\nvhost_net\\n" > /etc/modules-load.d/runtime-lab-kata.conf' }],
      needsRoot: true,
    },
    {
      id: 'cri-runtime',
      title: 'Register kata-qemu with containerd\'s CRI plugin',
      why: 'One CRI handler per hypervisor, each naming its configuration file (ConfigPath).',
      when: { planIncludes: ['containerd'] },
      edits: [{
        kind: 'managed-block',
        path: '{{containerdConfig}}',
        marker: 'kata-qemu',
        content: `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata-qemu]
  runtime_type = "io.containerd.kata.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata-qemu.options]
  ConfigPath = "/opt/kata/share/defaults/kata-containers/configuration-qemu.toml"`,
      }],
      afterChange: [{ daemon: 'containerd', action: 'restart' }],
      needsRoot: true,
    },
  ],
  verify: [
    {
      id: 'check',
      title: 'kata-runtime check',
      why: 'Kata\'s own test of the host: KVM, vhost_vsock, kernel modules.',
      apply: [{ argv: ['/opt/kata/bin/kata-runtime', 'check'] }],
      needsRoot: true,
      timeoutMs: 60_000,
    },
    // Kata 3 still answers "kata-runtime run" on a bundle, like runc.
    directRun('kata-qemu', '/opt/kata/bin/kata-runtime', '', 120_000),
    {
      id: 'run-ctr',
      title: 'Run a Kata VM through ctr and compare kernels',
      why: 'A guest kernel release different from the host\'s proves a VM really ran.',
      when: { planIncludes: ['containerd'] },
      apply: [{
        script: `host=$(uname -r)
ctr --address "$containerdAddress" --namespace runtime-lab container rm rlab-verify-kata-qemu >/dev/null 2>&1
guest=$(ctr --address "$containerdAddress" --namespace runtime-lab run --rm --fifo-dir "$containerdState/fifo" --runtime io.containerd.kata.v2 --runtime-config-path /opt/kata/share/defaults/kata-containers/configuration-qemu.toml --rootfs "$bundleDir/rootfs" rlab-verify-kata-qemu /bin/busybox uname -r) || exit 1
echo "host kernel $host, guest kernel $guest"
[ "$guest" != "$host" ] && echo Hello`,
      }],
      needsRoot: true,
      timeoutMs: 120_000,
      expectOutput: 'Hello',
    },
  ],
  signatures: ['vhost-vsock-busy', 'vhost-vsock-device-missing', 'vhost-vsock-module-missing', 'vhost-vsock-not-permitted', 'vhost-net-missing', 'kvm-missing', 'kata-vsock-check'],
  methods: [
    { method: 'oci-direct', note: 'kata-runtime run on the bundle' },
    { method: 'ctr', tools: ['ctr'], recipes: ['containerd'] },
    { method: 'docker', tools: ['docker'], recipes: ['docker'], note: 'Docker 23+ runs shim v2 runtimes by name: --runtime io.containerd.kata.v2' },
    { method: 'cri', tools: ['containerd', 'ctr'], recipes: ['containerd'] },
  ],
  status: { ran: false, why: 'Kata is not packaged by Debian 12, the release tarball needs the internet, and this machine has no /dev/vhost-vsock (modprobe vhost_vsock fails here).' },
};
