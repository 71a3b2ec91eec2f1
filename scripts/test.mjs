// `npm test`: the whole suite (unit, real lab, browser e2e) on Node 24 with the lab's
// Debian packages present. Extra arguments go to Vitest: `npm test -- tests/stats.test.ts`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureDependencies, node24Env, root, run } from './node24.mjs';

const env = node24Env();
run('bash', [path.join(root, 'scripts/install-lab-packages.sh')], env);
ensureDependencies(env);
const result = spawnSync('node', [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
