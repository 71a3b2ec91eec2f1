import { existsSync, readFileSync } from 'node:fs';

/** Gone, or a zombie waiting for a reaper that does nothing: either way it no longer runs. */
export function isRunning(pid: number): boolean {
  const statPath = `/proc/${pid}/stat`;
  if (!existsSync(statPath)) return false;
  // The state follows the command name, which may itself contain ") ".
  const state = readFileSync(statPath, 'utf8').replace(/^.*\) /s, '')[0];
  return state !== 'Z' && state !== 'X';
}

export const CAP_SYS_RESOURCE = 24;

/** Whether this process (root here) holds a capability, from CapEff in /proc/self/status. */
export function hasCapability(bit: number): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return ((BigInt(`0x${hex}`) >> BigInt(bit)) & 1n) === 1n;
}
