// Shared by the npm scripts that must work on a fresh machine whose Node is older than
// the Node 24 that Electron 45 embeds: find or fetch Node 24, install dependencies when
// the lockfile changed, and run commands with Node 24 first on PATH.
// Plain JavaScript that runs on Node 20, since it is what brings Node 24.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');

export function node24Env() {
  const bin = execFileSync('bash', [path.join(root, 'scripts/ensure-node.sh')], { encoding: 'utf8' }).trim();
  return { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, ELECTRON_SKIP_BINARY_DOWNLOAD: process.env.ELECTRON_SKIP_BINARY_DOWNLOAD ?? '' };
}

export function ensureDependencies(env) {
  const lock = path.join(root, 'package-lock.json');
  const installed = path.join(root, 'node_modules/.package-lock.json');
  if (fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  run('npm', ['ci', '--no-audit', '--no-fund'], env);
}

export function run(command, args, env) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
