import type { Recipe } from '../schema.ts';
import { aptInstall } from './apt.ts';

// cri-o: the Kubernetes-only CRI server talk 2 compared with containerd (slower, and
// slower over time, at 100% CPU in 2018). Packages come from the cri-o project's
// repository on the openSUSE build service (isv:kubernetes:addons:cri-o).

export const crio: Recipe = {
  id: 'crio',
  title: 'cri-o',
  version: '1.0.0',
  kind: 'component',
  tool: 'crio',
  appliesTo: [{ distro: 'debian', versions: ['12'] }, { distro: 'ubuntu', versions: ['22.04', '24.04'] }],
  params: [
    { name: 'crioMinor', description: 'cri-o minor version stream', default: 'v1.30' },
    { name: 'crioPauseImage', description: 'pod sandbox image', default: 'registry.k8s.io/pause:3.9' },
    { name: 'crioCgroupManager', description: 'cgroupfs without systemd, systemd with it', default: 'cgroupfs' },
  ],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'downloads-reachable' }],
  downloads: [{ url: 'https://download.opensuse.org/repositories/isv:/kubernetes:/addons:/cri-o:/stable:/v1.30/deb/Release.key' }],
  daemons: [{
    id: 'crio',
    systemdUnit: 'crio',
    argv: ['crio'],
    // Its own status client (crio ≥ 1.28; `crio-status info` before): crictl may not be installed.
    ready: ['crio', 'status', '--socket', '/var/run/crio/crio.sock', 'info'],
    readyTimeoutMs: 60_000,
  }],
  steps: [
    {
      id: 'repository',
      title: 'Add the cri-o package repository',
      why: 'cri-o is not in Debian 12; the project publishes signed packages per minor version.',
      check: { script: 'grep -qs "cri-o:/stable:/$crioMinor/" /etc/apt/sources.list.d/cri-o.list' },
      apply: [
        aptInstall('ca-certificates', 'curl', 'gnupg'),
        {
          script: `set -e
repo="https://download.opensuse.org/repositories/isv:/kubernetes:/addons:/cri-o:/stable:/$crioMinor/deb/"
curl -fsSL "\${repo}Release.key" | gpg --dearmor --yes -o /usr/share/keyrings/cri-o-apt-keyring.gpg
echo "deb [signed-by=/usr/share/keyrings/cri-o-apt-keyring.gpg] $repo /" > /etc/apt/sources.list.d/cri-o.list
apt-get update -q`,
        },
      ],
      needsRoot: true,
    },
    {
      id: 'install',
      title: 'Install cri-o',
      why: 'The CRI server under test; skopeo is how Runtime Lab puts its images into cri-o\'s containers/storage offline.',
      check: { script: 'command -v crio >/dev/null 2>&1 && command -v skopeo >/dev/null 2>&1' },
      apply: [aptInstall('cri-o', 'skopeo')],
      needsRoot: true,
    },
    {
      id: 'config',
      title: 'Set the pause image and cgroup manager',
      why: 'A wrong cgroup manager fails every pod ("configured with cgroupfs cgroup manager, but received systemd slice as parent").',
      edits: [{
        kind: 'file',
        path: '/etc/crio/crio.conf.d/10-runtime-lab.conf',
        content: '[crio.image]\npause_image = "{{crioPauseImage}}"\n\n[crio.runtime]\ncgroup_manager = "{{crioCgroupManager}}"\n',
      }],
      afterChange: [{ daemon: 'crio', action: 'restart' }],
      needsRoot: true,
    },
    {
      id: 'start',
      title: 'Start cri-o',
      why: 'systemctl where systemd runs; otherwise its own session with a pidfile.',
      check: { daemon: 'crio', action: 'running' },
      apply: [{ daemon: 'crio', action: 'start' }],
      needsRoot: true,
    },
  ],
  signatures: ['crio-no-cni-config', 'crio-cgroup-manager-mismatch', 'cni-not-initialized'],
  status: { ran: false, why: 'cri-o is not packaged by Debian 12 and its repository needs the internet.' },
};
