import type { Recipe } from '../schema.ts';

// Firecracker: a VMM with no OCI-bundle command of its own. It is measured through Kata
// (kata-fc); this recipe installs the standalone release binary for hosts that want the
// newest VMM instead of the one inside the Kata tarball.

export const firecracker: Recipe = {
  id: 'firecracker',
  title: 'Firecracker (VMM)',
  version: '1.0.0',
  kind: 'component',
  tool: 'firecracker',
  appliesTo: [{ distro: 'debian', versions: ['12'] }, { distro: 'ubuntu', versions: ['22.04', '24.04'] }],
  params: [{ name: 'firecrackerVersion', description: 'Firecracker release', default: '1.4.1' }],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'arch', args: { arch: 'x86_64,aarch64' } }, { id: 'kvm' }, { id: 'downloads-reachable' }],
  downloads: [{ url: 'https://github.com/firecracker-microvm/firecracker/releases/download/v1.4.1/firecracker-v1.4.1-x86_64.tgz' }],
  steps: [
    {
      id: 'install',
      title: 'Install Firecracker and its jailer',
      why: 'Release binaries are static; the tarball holds firecracker-vX-ARCH and jailer-vX-ARCH.',
      check: { script: 'firecracker --version 2>/dev/null | grep -q "Firecracker v$firecrackerVersion"' },
      apply: [{
        script: `set -e
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL -o "$tmp/fc.tgz" "https://github.com/firecracker-microvm/firecracker/releases/download/v$firecrackerVersion/firecracker-v$firecrackerVersion-$arch.tgz"
tar -xzf "$tmp/fc.tgz" -C "$tmp"
install -m 0755 "$tmp/release-v$firecrackerVersion-$arch/firecracker-v$firecrackerVersion-$arch" /usr/local/bin/firecracker
install -m 0755 "$tmp/release-v$firecrackerVersion-$arch/jailer-v$firecrackerVersion-$arch" /usr/local/bin/jailer`,
      }],
      needsRoot: true,
    },
    {
      id: 'kvm-access',
      title: 'Check /dev/kvm is read-write',
      why: 'Firecracker opens /dev/kvm itself; without read-write access it fails at once.',
      check: { script: '[ -r /dev/kvm ] && [ -w /dev/kvm ]' },
      apply: [{ script: 'echo "/dev/kvm is missing or not read-write for root; see the KVM prerequisite" >&2; exit 1' }],
      needsRoot: true,
    },
  ],
  signatures: ['kvm-missing'],
  status: { ran: false, why: 'not packaged by Debian 12 and the release download needs the internet.' },
};
