import { existsSync, readFileSync } from 'node:fs';

/** Gone, or a zombie waiting for a reaper that does nothing: either way it no longer runs. */
export function isRunning(pid: number): boolean {
  const statPath = `/proc/${pid}/stat`;
  if (!existsSync(statPath)) return false;
  // The state follows the command name, which may itself contain ") ".
  const state = readFileSync(statPath, 'utf8').replace(/^.*\) /s, '')[0];
  return state !== 'Z' && state !== 'X';
}
