import type { Recipe } from '../schema.ts';
import { ctrRun, directRun } from './smoke.ts';

// youki: the Rust OCI runtime. Not in Debian 12, so a release tarball; it expects systemd
// as init and a kernel of 5.3 or newer.

export const youki: Recipe = {
  id: 'youki',
  title: 'youki',
  version: '1.0.0',
  kind: 'runtime',
  tool: 'youki',
  appliesTo: [{ distro: 'debian', versions: ['12'] }, { distro: 'ubuntu', versions: ['22.04', '24.04'] }],
  requires: ['oci-bundle'],
  after: ['containerd', 'docker'],
  params: [
    { name: 'youkiVersion', description: 'youki release', default: '0.4.1' },
    { name: 'youkiPath', description: 'where the binary is installed', default: '/usr/local/bin/youki' },
  ],
  prerequisites: [
    { id: 'distro' }, { id: 'sudo' }, { id: 'arch', args: { arch: 'x86_64' } }, { id: 'systemd-init' },
    { id: 'kernel-min', args: { version: '5.3' } }, { id: 'downloads-reachable' },
  ],
  downloads: [{ url: 'https://github.com/youki-dev/youki/releases/download/v0.4.1/youki-0.4.1-x86_64-musl.tar.gz' }],
  steps: [
    {
      id: 'install',
      title: 'Install youki from its release tarball',
      why: 'youki is not packaged by Debian 12; the musl build has no library dependencies.',
      check: { script: '"$youkiPath" --version 2>/dev/null | grep -q "version $youkiVersion"' },
      apply: [{
        script: `set -e
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL -o "$tmp/youki.tar.gz" "https://github.com/youki-dev/youki/releases/download/v$youkiVersion/youki-$youkiVersion-x86_64-musl.tar.gz"
tar -xzf "$tmp/youki.tar.gz" -C "$tmp"
install -m 0755 "$(find "$tmp" -type f -name youki | head -n 1)" "$youkiPath"`,
      }],
      needsRoot: true,
    },
  ],
  verify: [directRun('youki', '"$youkiPath"'), ctrRun('youki', '--runc-binary "$youkiPath"')],
  methods: [
    { method: 'oci-direct' },
    { method: 'ctr', tools: ['ctr'], recipes: ['containerd'] },
    { method: 'docker', tools: ['docker'], recipes: ['docker'], note: 'register "youki" in daemon.json like crun' },
    { method: 'cri', tools: ['containerd', 'ctr'], recipes: ['containerd'] },
  ],
  status: { ran: false, why: 'youki is not packaged by Debian 12 and release downloads need the internet; the test machines also lack systemd as PID 1.' },
};
