import type { SpawnTimedResult } from './spawn-timed.ts';

// What a command's result says, in words every method stores the same way.

/** Output of cleanup commands saying the object is not there: not an error. */
export const NOT_THERE = /does not exist|not exist|not found|no such/i;

/** Null when the command succeeded; else why, in the command's own words first. */
export function failureText(result: Pick<SpawnTimedResult, 'exitCode' | 'signal' | 'spawnError' | 'timedOut' | 'stderr'> & Partial<Pick<SpawnTimedResult, 'timerError'>>, timeoutMs: number): string | null {
  if (result.exitCode === 0 && !result.timedOut) return null;
  const parts: string[] = [];
  if (result.timedOut) parts.push(`timed out after ${timeoutMs} ms; killed`);
  if (result.spawnError) parts.push(result.spawnError);
  if (result.timerError) parts.push(result.timerError);
  const stderr = result.stderr.trim();
  if (stderr) parts.push(stderr);
  else if (!result.timedOut && !result.spawnError && !result.timerError) parts.push(result.signal ? `killed by ${result.signal}` : `exited with code ${String(result.exitCode)}`);
  return parts.join('\n');
}
