import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import type { NativeTimer, TimedExit } from './native-timer.ts';

// Runs one command and times it from spawn to exit with the monotonic clock.
//
// Output goes to files, never to pipes: a runtime's helpers (runsc's sandbox, a created
// container's init) inherit the descriptors and may outlive the runtime, and a pipe they
// hold open either delays "all output read" or loses the tail (gVisor lost its stdout on a
// pipe in our lab). A file has all of it the moment the process exits.
//
// The command leads its own process group (detached), so a timeout or an abort kills it
// and everything it forked, not only the first process.

export interface SpawnTimedOptions {
  timeoutMs: number;
  /** Where the output files live while the command runs; they are removed afterwards. */
  scratchDir: string;
  /** Aborting kills the command at once; the result then has `aborted` set. */
  signal?: AbortSignal;
  /** The native timer (agent/native-timer.ts): when set, it runs and times the command instead of Node. */
  timer?: NativeTimer | null;
}

export interface SpawnTimedResult {
  durationMs: number;
  /** Null when the process never started, or was killed. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** Why the process could not be started at all (binary missing, not executable). */
  spawnError: string | null;
  /** The native timer itself failed (died, could not start): whether the command ran is unknown. */
  timerError: string | null;
  /** Queued behind a command that failed and never run (native timer only): run it again after cleaning up. */
  skipped: boolean;
  /** Wall-clock time (ms) the command was started; null when it was not. */
  startedAtMs: number | null;
  /** Up to OUTPUT_CAP bytes from the start of each stream, as text. */
  stdout: string;
  stderr: string;
}

/** Enough for any runtime's error message; a flood (a Go panic's goroutine dump) is cut. */
export const OUTPUT_CAP = 4096;

let scratchCounter = 0;

export async function spawnTimed(argv: readonly string[], options: SpawnTimedOptions): Promise<SpawnTimedResult> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('spawnTimed: empty command');
  const base = path.join(options.scratchDir, `${process.pid}-${scratchCounter++}`);
  const outPath = `${base}.out`;
  const errPath = `${base}.err`;
  try {
    const ended = options.timer
      ? fromTimer(command, await options.timer.measure(argv, { stdout: outPath, stderr: errPath }, options))
      : await run(command, args, [openSync(outPath, 'w'), openSync(errPath, 'w')], options);
    // The native timer creates the files only when it gets that far.
    const read = (file: string) => (existsSync(file) ? readCapped(file) : '');
    return { ...ended, stdout: read(outPath), stderr: read(errPath) };
  } finally {
    for (const file of [outPath, errPath]) rmSync(file, { force: true });
  }
}

function fromTimer(command: string, exit: TimedExit): Ended {
  const { spawnError } = exit;
  return {
    timerError: exit.timerError,
    skipped: exit.skipped,
    startedAtMs: exit.startedAtMs,
    durationMs: exit.durationMs,
    exitCode: exit.exitCode,
    signal: exit.signal === null ? null : signalName(exit.signal),
    timedOut: exit.timedOut,
    aborted: exit.aborted,
    spawnError: spawnError && (spawnError.stage === 'spawn'
      ? spawnErrorText(command, spawnError.code, spawnError.message)
      : `cannot open the output file of ${command}: ${spawnError.message} (${spawnError.code})`),
  };
}

/** One wording whether Node or the native timer failed to start the command. */
function spawnErrorText(command: string, code: string, message: string): string {
  return `${command}: ${code === 'ENOENT' ? 'not found' : message} (${code})`;
}

function signalName(signal: number): string {
  return Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? `signal ${signal}`;
}

type Ended = Omit<SpawnTimedResult, 'stdout' | 'stderr'>;

function run(command: string, args: string[], fds: number[], options: SpawnTimedOptions): Promise<Ended> {
  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    let settled = false;
    const start = process.hrtime.bigint();
    const startedAtMs = Date.now();
    const child = spawn(command, args, { detached: true, stdio: ['ignore', ...fds] });
    // The child has its own copies now; ours would only keep the files open.
    for (const fd of fds) closeSync(fd);

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    const finish = (ended: Omit<Ended, 'durationMs' | 'timedOut' | 'aborted' | 'skipped' | 'startedAtMs'>) => {
      if (settled) return;
      settled = true;
      const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ durationMs, timedOut, aborted, skipped: false, startedAtMs, ...ended });
    };

    child.once('exit', (exitCode, signal) => finish({ exitCode, signal, spawnError: null, timerError: null }));
    child.once('error', (err: NodeJS.ErrnoException) => {
      finish({ exitCode: null, signal: null, spawnError: spawnErrorText(command, err.code ?? 'error', err.message), timerError: null });
    });

    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The first OUTPUT_CAP bytes of a command's output file. */
export function readCapped(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(OUTPUT_CAP);
    const length = readSync(fd, buffer, 0, OUTPUT_CAP, 0);
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}
