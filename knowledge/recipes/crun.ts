import type { Recipe } from '../schema.ts';
import { aptInstall, haveCommands } from './apt.ts';
import { ctrRun, directRun, dockerRun } from './smoke.ts';

// crun: the C OCI runtime. Its trap: hosts in hybrid cgroup mode with controllers in the
// cgroup2 mount, which crun refuses outright (seen on this project's lab machines).

export const crun: Recipe = {
  id: 'crun',
  title: 'crun',
  version: '1.0.0',
  kind: 'runtime',
  tool: 'crun',
  appliesTo: [{ distro: 'debian', versions: ['11', '12'] }, { distro: 'ubuntu', versions: ['22.04', '24.04'] }],
  requires: ['oci-bundle'],
  after: ['containerd', 'docker'],
  params: [{ name: 'crunPath', description: 'crun binary registered with containerd and Docker', default: '/usr/bin/crun' }],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'cgroup-crun' }],
  steps: [
    {
      id: 'install',
      title: 'Install crun',
      why: 'crun is the C alternative to runc, known for a faster start.',
      check: haveCommands('crun'),
      apply: [aptInstall('crun')],
      needsRoot: true,
    },
    {
      id: 'containerd-runtime',
      title: 'Register crun with containerd\'s CRI plugin',
      why: 'containerd runs crun through the runc shim with another binary (options.BinaryName); the CRI handler is "crun".',
      when: { planIncludes: ['containerd'] },
      edits: [{
        kind: 'managed-block',
        path: '{{containerdConfig}}',
        marker: 'crun',
        content: `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]
  BinaryName = "{{crunPath}}"`,
      }],
      afterChange: [{ daemon: 'containerd', action: 'restart' }],
      needsRoot: true,
    },
    {
      id: 'docker-runtime',
      title: 'Register crun with Docker',
      why: 'Docker runs any OCI runtime listed under "runtimes" in daemon.json; SIGHUP makes dockerd re-read it.',
      when: { planIncludes: ['docker'] },
      edits: [{ kind: 'json-merge', path: '{{dockerDaemonJson}}', value: { runtimes: { crun: { path: '{{crunPath}}' } } } }],
      afterChange: [{ daemon: 'dockerd', action: 'reload' }],
      needsRoot: true,
    },
  ],
  verify: [directRun('crun', 'crun'), ctrRun('crun', '--runc-binary "$crunPath"'), dockerRun('crun')],
  signatures: ['crun-hybrid-cgroup'],
  methods: [
    { method: 'oci-direct' },
    { method: 'ctr', tools: ['ctr'], recipes: ['containerd'] },
    { method: 'docker', tools: ['docker'], recipes: ['docker'] },
    { method: 'cri', tools: ['containerd', 'ctr'], recipes: ['containerd'] },
  ],
  status: { ran: true },
};
