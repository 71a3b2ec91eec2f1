import type { Recipe } from '../schema.ts';
import { aptInstall } from './apt.ts';
import { dockerRun } from './smoke.ts';

// Kata Containers 1.x, the seed's era, as a legacy recipe: packages from the openSUSE
// build service for Ubuntu 18.04. The "master" channel installed 1.6.0-rc1, which did not
// work; "stable-1.5" did. Kata 1 can run without vsock (virtio-serial + kata-proxy),
// which is the way out on a VMware guest where vhost_vsock cannot load.

const REPO = 'http://download.opensuse.org/repositories/home:/katacontainers:/releases:/x86_64:/stable-1.5/xUbuntu_18.04/';

export const kata1: Recipe = {
  id: 'kata1',
  title: 'Kata Containers 1.5 (legacy)',
  version: '1.0.0',
  kind: 'runtime',
  tool: 'kata-runtime',
  appliesTo: [{ distro: 'ubuntu', versions: ['18.04'] }],
  requires: ['oci-bundle'],
  after: ['docker', 'docker-18.06'],
  params: [
    { name: 'kata1Channel', description: 'build-service channel: stable-1.5 (master gave the broken 1.6.0-rc1)', default: 'stable-1.5' },
    { name: 'kata1UseVsock', description: 'true: vsock (needs vhost_vsock); false: virtio-serial + kata-proxy (VMware guests)', default: 'true' },
  ],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'arch', args: { arch: 'x86_64' } }, { id: 'kvm' }, { id: 'vhost-vsock', required: false }, { id: 'downloads-reachable' }],
  downloads: [{ url: `${REPO}Release.key` }],
  steps: [
    {
      id: 'repository',
      title: 'Add the Kata 1.x package repository (stable-1.5 channel)',
      why: 'The seed\'s fix: the master channel\'s 1.6.0-rc1 did not work, stable-1.5 did.',
      check: { script: 'grep -qs "/$kata1Channel/" /etc/apt/sources.list.d/kata-containers.list' },
      apply: [{
        script: `set -e
repo="http://download.opensuse.org/repositories/home:/katacontainers:/releases:/$arch:/$kata1Channel/xUbuntu_$(lsb_release -rs)/"
curl -fsSL "\${repo}Release.key" | apt-key add -
echo "deb $repo /" > /etc/apt/sources.list.d/kata-containers.list
apt-get update -q`,
      }],
      needsRoot: true,
    },
    {
      id: 'install',
      title: 'Install kata-runtime, kata-proxy and kata-shim',
      why: 'Kata 1.x is three programs: the OCI runtime, the proxy (for virtio-serial) and the shim.',
      check: { script: 'kata-runtime --version 2>/dev/null | grep -q "kata-runtime *: *1\\.5\\."' },
      apply: [aptInstall('kata-runtime', 'kata-proxy', 'kata-shim')],
      needsRoot: true,
    },
    {
      id: 'vsock-setting',
      title: 'Choose vsock or virtio-serial',
      why: 'use_vsock = false keeps Kata 1.x working where vhost_vsock cannot load (VMware guests).',
      check: { script: 'grep -q "^use_vsock = $kata1UseVsock" /usr/share/defaults/kata-containers/configuration.toml' },
      apply: [{ script: 'sed -i "s/^#\\{0,1\\} *use_vsock *=.*/use_vsock = $kata1UseVsock/" /usr/share/defaults/kata-containers/configuration.toml' }],
      needsRoot: true,
    },
    {
      id: 'docker-runtime',
      title: 'Register kata-runtime with Docker',
      why: 'Docker 18.x runs Kata 1 as an OCI runtime named in daemon.json.',
      when: { planIncludes: ['docker'] },
      edits: [{ kind: 'json-merge', path: '{{dockerDaemonJson}}', value: { runtimes: { 'kata-runtime': { path: '/usr/bin/kata-runtime' } } } }],
      afterChange: [{ daemon: 'dockerd', action: 'reload' }],
      needsRoot: true,
    },
  ],
  verify: [
    {
      id: 'version',
      title: 'Check the installed Kata version',
      why: 'Catches the broken 1.6.0-rc1 from the master channel.',
      apply: [{ script: 'kata-runtime --version\nkata-runtime --version | grep -q "kata-runtime *: *1\\.5\\."' }],
      needsRoot: true,
      timeoutMs: 30_000,
    },
    {
      id: 'check',
      title: 'kata-runtime kata-check',
      why: 'Kata 1\'s own host check.',
      apply: [{ argv: ['kata-runtime', 'kata-check'] }],
      needsRoot: true,
      timeoutMs: 60_000,
    },
    dockerRun('kata-runtime'),
  ],
  signatures: ['kata-1.6rc1-master-channel', 'vhost-vsock-busy', 'kvm-missing'],
  methods: [
    { method: 'oci-direct', note: 'kata-runtime run on the bundle' },
    { method: 'ctr', tools: ['ctr'], recipes: ['containerd'], note: 'shim v1 (io.containerd.runtime.v1.linux), removed in containerd 2.0' },
    { method: 'docker', tools: ['docker'], recipes: ['docker'] },
    { method: 'cri', unsupported: 'talk 2: kata-runtime 1.x created pod sandboxes but no containers through CRI' },
  ],
  status: { ran: false, why: 'Ubuntu 18.04 packages from a repository that needs the internet (and is archived); kept as the seed\'s legacy path.' },
};
