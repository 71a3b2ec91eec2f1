import type { Recipe } from '../schema.ts';
import { aptInstall } from './apt.ts';

// Node.js on the lab host: the measuring agent is one JavaScript file run by the host's
// Node (services/bench/remote-agent.ts needs 18 or newer).

export const node: Recipe = {
  id: 'node',
  title: 'Node.js for the measuring agent',
  version: '1.0.0',
  kind: 'component',
  appliesTo: [{ distro: 'debian', versions: ['12'] }, { distro: 'ubuntu', versions: ['24.04'] }],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'node-for-agent', required: false }],
  steps: [
    {
      id: 'install',
      title: 'Install Node.js 18 or newer',
      why: 'The agent that times each container runs on the host itself, so that no network delay is measured.',
      check: {
        script: `v=$(node --version 2>/dev/null || nodejs --version 2>/dev/null) || exit 1
major=$(echo "$v" | sed 's/^v\\([0-9]*\\).*/\\1/')
[ "$major" -ge 18 ]`,
      },
      // Debian 12 ships Node 18, Ubuntu 24.04 Node 18: both new enough.
      apply: [aptInstall('nodejs')],
      needsRoot: true,
    },
  ],
  status: { ran: true },
};
