import type { Recipe } from '../schema.ts';
import { aptInstall, haveCommands } from './apt.ts';

// Docker Engine: runtimes are registered in daemon.json by each runtime recipe; this one
// sets the storage driver (overlay2: the fastest for every runtime in talk 2; the legacy
// devicemapper driver is gone since Engine 25) and imports the test image, since lab
// hosts may have no registry access.

export const docker: Recipe = {
  id: 'docker',
  title: 'Docker Engine',
  version: '1.0.0',
  kind: 'component',
  tool: 'dockerd',
  appliesTo: [{ distro: 'debian', versions: ['11', '12'] }, { distro: 'ubuntu', versions: ['20.04', '22.04', '24.04'] }],
  requires: ['oci-bundle'],
  params: [
    { name: 'dockerDaemonJson', description: 'dockerd configuration file', default: '/etc/docker/daemon.json' },
    { name: 'dockerStorageDriver', description: 'storage driver (overlay2; changing it hides the old driver\'s images and containers)', default: 'overlay2' },
    { name: 'dockerDataRoot', description: 'dockerd --data-root (without systemd)', default: '/var/lib/docker' },
    { name: 'dockerExecRoot', description: 'dockerd --exec-root (without systemd)', default: '/var/run/docker' },
    { name: 'dockerPidfile', description: 'dockerd --pidfile (without systemd)', default: '/var/run/docker.pid' },
    { name: 'dockerSocket', description: 'dockerd API socket', default: '/var/run/docker.sock' },
    { name: 'dockerdExtraArgs', description: 'more dockerd flags without systemd (e.g. --iptables=false --bridge=none in a container)', default: [] },
  ],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'disk-free', args: { gib: 5 } }],
  daemons: [{
    id: 'dockerd',
    systemdUnit: 'docker',
    argv: [
      'dockerd', '--config-file', '{{dockerDaemonJson}}', '--data-root', '{{dockerDataRoot}}', '--exec-root', '{{dockerExecRoot}}',
      '--pidfile', '{{dockerPidfile}}', '-H', 'unix://{{dockerSocket}}', '{{@dockerdExtraArgs}}',
    ],
    ready: ['docker', '-H', 'unix://{{dockerSocket}}', 'version'],
    readyTimeoutMs: 60_000,
    reloadsOnHup: true,
    shimMarker: '{{dockerExecRoot}}',
  }],
  steps: [
    {
      id: 'install',
      title: 'Install Docker Engine',
      why: 'talk 2 measured "docker run" for every runtime; Debian and Ubuntu package the engine as docker.io.',
      check: haveCommands('dockerd', 'docker'),
      apply: [aptInstall('docker.io')],
      needsRoot: true,
    },
    {
      id: 'daemon-json',
      title: 'Set the storage driver in daemon.json',
      why: 'The same storage driver for every runtime is part of "the same conditions"; dockerd must restart to change it.',
      edits: [{ kind: 'json-merge', path: '{{dockerDaemonJson}}', value: { 'storage-driver': '{{dockerStorageDriver}}' } }],
      afterChange: [{ daemon: 'dockerd', action: 'restart' }],
      needsRoot: true,
      timeoutMs: 120_000,
    },
    {
      id: 'start',
      title: 'Start dockerd',
      why: 'Without systemd the daemon is started in its own session with a pidfile under the lab folder.',
      check: { daemon: 'dockerd', action: 'running' },
      apply: [{ daemon: 'dockerd', action: 'start' }],
      needsRoot: true,
      timeoutMs: 120_000,
    },
    {
      id: 'test-image',
      title: 'Import the test image',
      why: 'The test bundle\'s rootfs as image rlab-busybox:latest: no registry needed, the same files as the other methods.',
      check: { script: 'docker -H "unix://$dockerSocket" image inspect rlab-busybox:latest >/dev/null 2>&1' },
      apply: [{ script: 'tar -C "$bundleDir/rootfs" -c . | docker -H "unix://$dockerSocket" import - rlab-busybox:latest' }],
      needsRoot: true,
    },
  ],
  verify: [
    {
      id: 'info',
      title: 'Check the storage driver dockerd uses',
      why: 'dockerd falls back to another driver silently when the configured one cannot work.',
      apply: [{ script: 'docker -H "unix://$dockerSocket" info --format "driver={{.Driver}}"' }],
      needsRoot: true,
      timeoutMs: 30_000,
      expectOutput: 'driver={{dockerStorageDriver}}',
    },
    {
      id: 'run',
      title: 'Run a container through Docker',
      why: 'docker run --rm with runc, the method of talk 2\'s second benchmark.',
      apply: [{ script: 'docker -H "unix://$dockerSocket" run --rm --network none rlab-busybox:latest /bin/busybox echo Hello' }],
      needsRoot: true,
      timeoutMs: 90_000,
      expectOutput: 'Hello',
    },
  ],
  status: { ran: true },
};
