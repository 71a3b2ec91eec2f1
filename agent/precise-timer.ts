import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentEvent } from '../shared/model/run-record.ts';
import { NativeTimer, TIMER_SOURCE } from './native-timer.ts';

// How the agent times a measured command: the native timer (native-timer.ts) compiled on
// the host when gcc exists there, else Node's clock around child_process.spawn, and the
// run's environment says which.

export interface PreciseTimer {
  /** The resident native timer, or null when Node's clock is used. */
  native: NativeTimer | null;
  /** What the run's environment records about how samples were timed. */
  description: string;
}

/** The timer every method measures with, built once in the run folder; how samples are timed goes to the log too. */
export function prepareRunTimer(run: { runDir: string; emit: (event: AgentEvent) => void }): PreciseTimer {
  const timer = preparePreciseTimer(path.join(run.runDir, 'timer'));
  run.emit({ type: 'log', level: timer.native ? 'info' : 'warn', message: `timing: ${timer.description}` });
  return timer;
}

export function preparePreciseTimer(dir: string, gcc = 'gcc'): PreciseTimer {
  mkdirSync(dir, { recursive: true });
  const binary = path.join(dir, 'rlab-timer');
  if (!existsSync(binary)) {
    const source = path.join(dir, 'rlab-timer.c');
    writeFileSync(source, TIMER_SOURCE);
    const built = spawnSync(gcc, ['-O2', '-Wall', '-o', binary, source], { encoding: 'utf8', timeout: 120_000 });
    if (built.error || built.status !== 0) {
      return { native: null, description: `node process.hrtime around child_process.spawn (no native timer: ${built.error?.message ?? built.stderr.trim().split('\n')[0] ?? 'gcc failed'})` };
    }
  }
  return { native: new NativeTimer(binary), description: 'rlab-timer: posix_spawn → waitpid, CLOCK_MONOTONIC (as hyperfine -N), one resident timer process per run' };
}
