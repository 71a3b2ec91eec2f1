import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, unlinkSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { parseTimerReport } from './precise-timer.ts';

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
  /** The native timer (agent/precise-timer.ts): when set, it times the command instead of Node. */
  timer?: string | null;
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
  const reportPath = `${base}.timer`;
  const outFd = openSync(outPath, 'w');
  const errFd = openSync(errPath, 'w');
  const files = [outPath, errPath];
  try {
    if (!options.timer) {
      const ended = await run(command, args, [outFd, errFd], options);
      return { ...ended, stdout: readCapped(outPath), stderr: readCapped(errPath) };
    }
    files.push(reportPath);
    const reportFd = openSync(reportPath, 'w');
    const ended = await run(options.timer, [command, ...args], [outFd, errFd, reportFd], options);
    const report = ended.timedOut || ended.aborted ? null : parseTimerReport(readFileSync(reportPath, 'utf8'));
    const measured: Ended = report
      ? { ...ended, durationMs: report.durationMs, exitCode: report.exitCode, signal: report.signal === null ? null : signalName(report.signal), spawnError: report.spawnError && spawnErrorText(command, report.spawnError.code, report.spawnError.message) }
      : ended;
    return { ...measured, stdout: readCapped(outPath), stderr: readCapped(errPath) };
  } finally {
    for (const file of files) unlinkSync(file);
  }
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
    const finish = (ended: Omit<Ended, 'durationMs' | 'timedOut' | 'aborted'>) => {
      if (settled) return;
      settled = true;
      const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ durationMs, timedOut, aborted, ...ended });
    };

    child.once('exit', (exitCode, signal) => finish({ exitCode, signal, spawnError: null }));
    child.once('error', (err: NodeJS.ErrnoException) => {
      finish({ exitCode: null, signal: null, spawnError: spawnErrorText(command, err.code ?? 'error', err.message) });
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
