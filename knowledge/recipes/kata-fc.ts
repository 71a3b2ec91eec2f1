import type { Recipe } from '../schema.ts';

// Kata Containers 3 with Firecracker: the same install as kata-qemu, a CRI handler naming
// configuration-fc.toml, and containerd's devmapper snapshotter, since Firecracker only
// takes block devices as the guest's root file system.

export const kataFc: Recipe = {
  id: 'kata-fc',
  title: 'Kata Containers 3 (Firecracker)',
  version: '1.0.0',
  kind: 'runtime',
  tool: 'kata-runtime',
  appliesTo: [{ distro: 'debian', versions: ['12'] }, { distro: 'ubuntu', versions: ['22.04', '24.04'] }],
  requires: ['kata-qemu', 'containerd-devmapper'],
  after: ['containerd', 'docker'],
  prerequisites: [
    { id: 'distro' }, { id: 'sudo' }, { id: 'arch', args: { arch: 'x86_64' } }, { id: 'kvm' }, { id: 'vhost-vsock' },
    { id: 'disk-free', args: { gib: 14 } },
  ],
  steps: [
    {
      id: 'cri-runtime',
      title: 'Register kata-fc with containerd\'s CRI plugin',
      why: 'The Firecracker handler uses configuration-fc.toml and the devmapper snapshotter.',
      edits: [{
        kind: 'managed-block',
        path: '{{containerdConfig}}',
        marker: 'kata-fc',
        content: `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata-fc]
  runtime_type = "io.containerd.kata.v2"
  snapshotter = "devmapper"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata-fc.options]
  ConfigPath = "/opt/kata/share/defaults/kata-containers/configuration-fc.toml"`,
      }],
      afterChange: [{ daemon: 'containerd', action: 'restart' }],
      needsRoot: true,
    },
  ],
  verify: [
    {
      id: 'run-ctr',
      title: 'Run a Firecracker VM through ctr with devmapper',
      why: 'An image on the devmapper snapshotter is the only root file system Firecracker can boot; a guest kernel differing from the host\'s proves the VM.',
      apply: [{
        script: `host=$(uname -r)
ctr --address "$containerdAddress" --namespace runtime-lab image ls -q | grep -q . || { echo "import an image first: ctr -n runtime-lab image import FILE.tar" >&2; exit 1; }
image=$(ctr --address "$containerdAddress" --namespace runtime-lab image ls -q | head -n 1)
ctr --address "$containerdAddress" --namespace runtime-lab container rm rlab-verify-kata-fc >/dev/null 2>&1
guest=$(ctr --address "$containerdAddress" --namespace runtime-lab run --rm --snapshotter devmapper --runtime io.containerd.kata.v2 --runtime-config-path /opt/kata/share/defaults/kata-containers/configuration-fc.toml "$image" rlab-verify-kata-fc uname -r) || exit 1
echo "host kernel $host, guest kernel $guest"
[ "$guest" != "$host" ] && echo Hello`,
      }],
      needsRoot: true,
      timeoutMs: 180_000,
      expectOutput: 'Hello',
    },
  ],
  signatures: ['containerd-devmapper-error', 'vhost-vsock-busy', 'vhost-vsock-device-missing', 'kvm-missing'],
  methods: [
    { method: 'oci-direct', unsupported: 'Firecracker cannot boot from a bundle\'s directory rootfs (no virtio-fs): only through containerd with devmapper' },
    { method: 'ctr', tools: ['ctr'], recipes: ['containerd', 'containerd-devmapper'] },
    { method: 'docker', unsupported: 'needed Docker\'s devicemapper storage driver (Docker 18.06 with Kata 1.x, the docker-18.06 recipe); removed in Engine 25' },
    { method: 'cri', tools: ['containerd', 'ctr'], recipes: ['containerd', 'containerd-devmapper'] },
  ],
  status: { ran: false, why: 'needs Kata (not in Debian 12, download needs the internet), vhost_vsock (missing on this machine) and a devmapper thin pool.' },
};
