import type { Recipe } from '../schema.ts';
import { aptInstall, haveCommands } from './apt.ts';
import { ctrRun, directRun, dockerRun } from './smoke.ts';

// runc: the reference OCI runtime, and the default of containerd and Docker, so there is
// nothing to register; the recipe installs it and proves each method.

export const runc: Recipe = {
  id: 'runc',
  title: 'runc',
  version: '1.0.0',
  kind: 'runtime',
  tool: 'runc',
  appliesTo: [{ distro: 'debian', versions: ['11', '12'] }, { distro: 'ubuntu', versions: ['20.04', '22.04', '24.04'] }],
  requires: ['oci-bundle'],
  after: ['containerd', 'docker'],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }],
  steps: [
    {
      id: 'install',
      title: 'Install runc',
      why: 'runc is the baseline every other runtime is compared with.',
      check: haveCommands('runc'),
      apply: [aptInstall('runc')],
      needsRoot: true,
    },
  ],
  verify: [directRun('runc', 'runc'), ctrRun('runc', ''), dockerRun('runc')],
  methods: [
    { method: 'oci-direct' },
    { method: 'ctr', tools: ['ctr'], recipes: ['containerd'] },
    { method: 'docker', tools: ['docker'], recipes: ['docker'] },
    { method: 'cri', tools: ['containerd', 'ctr'], recipes: ['containerd'] },
  ],
  status: { ran: true },
};
