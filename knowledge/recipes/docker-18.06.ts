import type { Recipe } from '../schema.ts';

// The legacy pin the seed needed: Kata 1.x with Firecracker (kata-fc) through Docker
// required the devicemapper storage driver in the form Docker 18.06 had; 18.09 changed
// it. devicemapper is gone from Engine 25, so this only makes sense on the seed's
// Ubuntu 18.04 with Kata 1.x. Today the same comparison uses containerd's devmapper.

export const dockerLegacy1806: Recipe = {
  id: 'docker-18.06',
  title: 'Docker 18.06 with devicemapper (legacy, for Kata 1.x + Firecracker)',
  version: '1.0.0',
  kind: 'component',
  tool: 'dockerd',
  appliesTo: [{ distro: 'ubuntu', versions: ['18.04'] }],
  params: [
    { name: 'dockerCeVersion', description: 'pinned docker-ce package version', default: '18.06.3~ce~3-0~ubuntu' },
    { name: 'dockerDaemonJson', description: 'dockerd configuration file', default: '/etc/docker/daemon.json' },
    { name: 'dockerSocket', description: 'dockerd API socket', default: '/var/run/docker.sock' },
  ],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'systemd-init' }, { id: 'downloads-reachable' }],
  downloads: [{ url: 'https://download.docker.com/linux/ubuntu/gpg' }],
  daemons: [{
    id: 'dockerd',
    systemdUnit: 'docker',
    argv: ['dockerd', '--config-file', '{{dockerDaemonJson}}', '-H', 'unix://{{dockerSocket}}'],
    ready: ['docker', '-H', 'unix://{{dockerSocket}}', 'version'],
    readyTimeoutMs: 60_000,
    reloadsOnHup: true,
  }],
  steps: [
    {
      id: 'repository',
      title: 'Add Docker\'s apt repository',
      why: 'docker-ce 18.06 is only in Docker\'s own repository.',
      check: { script: '[ -f /etc/apt/sources.list.d/docker.list ]' },
      apply: [{
        script: `set -e
curl -fsSL https://download.docker.com/linux/ubuntu/gpg | apt-key add -
echo "deb [arch=amd64] https://download.docker.com/linux/ubuntu $(lsb_release -cs) stable" > /etc/apt/sources.list.d/docker.list
apt-get update -q`,
      }],
      needsRoot: true,
    },
    {
      id: 'install',
      title: 'Install docker-ce 18.06 and hold it',
      why: 'apt must not upgrade past 18.06, which would break kata-fc with devicemapper.',
      check: { script: 'dpkg-query -W -f "\\${Version}" docker-ce 2>/dev/null | grep -qx "$dockerCeVersion" && apt-mark showhold | grep -qx docker-ce' },
      apply: [{ script: `export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --allow-downgrades "docker-ce=$dockerCeVersion"
apt-mark hold docker-ce` }],
      needsRoot: true,
    },
    {
      id: 'devicemapper',
      title: 'Switch the storage driver to devicemapper',
      why: 'kata-fc needs block devices for the container rootfs. Switching hides the images and containers of the previous driver.',
      edits: [{ kind: 'json-merge', path: '{{dockerDaemonJson}}', value: { 'storage-driver': 'devicemapper' } }],
      afterChange: [{ daemon: 'dockerd', action: 'restart' }],
      needsRoot: true,
    },
  ],
  verify: [
    {
      id: 'driver',
      title: 'Check dockerd uses devicemapper',
      why: 'dockerd silently falls back when a driver cannot start.',
      apply: [{ script: 'docker -H "unix://$dockerSocket" info --format "driver={{.Driver}}"' }],
      needsRoot: true,
      timeoutMs: 30_000,
      expectOutput: 'driver=devicemapper',
    },
  ],
  methods: [],
  status: { ran: false, why: 'Ubuntu 18.04 only, from Docker\'s repository (internet); devicemapper is removed from current Docker.' },
};
