import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';

// Node's own child_process adds 1–4 ms per spawn (a fork of a large process, then an
// event-loop wake-up on SIGCHLD), which is 5–15% of a 25 ms `runc run`. hyperfine times
// a posix_spawn → waitpid from a small native process. So does this timer: from just
// before posix_spawn to waitpid's return, with CLOCK_MONOTONIC.
//
// It stays resident for the whole run and reads one command after another on stdin, and
// the agent may queue the next command while one runs: the timer then starts it the moment
// the previous one has been reaped, as hyperfine does. Without that, the agent's own work
// between two samples (~0.7 ms here: reading output, writing the event, the next request)
// sat before every run, and on these VMs what happens just before a spawn changes how fast
// the runtime itself runs (docs/architecture.md › Timing).
//
// A command that fails (anything but exit 0) ends an epoch: every request of that epoch
// still queued is answered "skipped" without running, so that the agent can clean up the
// failure before anything else runs. Requests carry the epoch the agent last heard of.
//
// Request: NUL-terminated strings: epoch, stdout file, stderr file, argv..., then an empty
// one. Report, one line per request on stdout (parseTimerReport), the epoch after it first:
//   exit EPOCH NS CODE START | signal EPOCH NS SIGNO START | skipped EPOCH
//   spawn-error EPOCH ERRNO TEXT | output-error EPOCH ERRNO TEXT
// START is the wall clock (CLOCK_REALTIME, ns) at the spawn. The output files are opened
// before the clock starts; the command's stdin is /dev/null.
export const TIMER_SOURCE = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
static unsigned long epoch = 0;

static long long ns_between(struct timespec a, struct timespec b) {
  return (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
}

/* Runs fields[2..] with its output in fields[0] and fields[1]; returns 0 when it exited 0. */
static int measure(char **fields) {
  int out = open(fields[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = out < 0 ? -1 : open(fields[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0 || err < 0) {
    int e = errno;
    if (out >= 0) close(out);
    printf("output-error %lu %d %s\\n", epoch + 1, e, strerror(e));
    return 1;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, err, 2);
  struct timespec wall, start, end;
  pid_t pid;
  int status = 0;
  clock_gettime(CLOCK_REALTIME, &wall);
  clock_gettime(CLOCK_MONOTONIC, &start);
  int failed = posix_spawnp(&pid, fields[2], &actions, NULL, fields + 2, environ);
  if (!failed) while (waitpid(pid, &status, 0) < 0) {}
  clock_gettime(CLOCK_MONOTONIC, &end);
  posix_spawn_file_actions_destroy(&actions);
  close(out);
  close(err);
  int ok = !failed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  unsigned long after = ok ? epoch : epoch + 1;
  long long started = (long long)wall.tv_sec * 1000000000LL + wall.tv_nsec;
  if (failed) printf("spawn-error %lu %d %s\\n", after, failed, strerror(failed));
  else if (WIFEXITED(status)) printf("exit %lu %lld %d %lld\\n", after, ns_between(start, end), WEXITSTATUS(status), started);
  else printf("signal %lu %lld %d %lld\\n", after, ns_between(start, end), WTERMSIG(status), started);
  return !ok;
}

int main(void) {
  char *field = NULL;
  size_t size = 0, count = 0, room = 8;
  char **fields = malloc(room * sizeof *fields);
  for (;;) {
    ssize_t n = getdelim(&field, &size, '\\0', stdin);
    if (n <= 0 || field[n - 1] != '\\0' || !fields) return 0;
    if (count + 1 >= room) {
      room *= 2;
      fields = realloc(fields, room * sizeof *fields);
      if (!fields) return 125;
    }
    if (n > 1) {
      fields[count++] = strdup(field);
      continue;
    }
    fields[count] = NULL;
    if (count < 4) printf("spawn-error %lu %d malformed request\\n", epoch, EINVAL);
    else if (strtoul(fields[0], NULL, 10) != epoch) printf("skipped %lu\\n", epoch);
    else if (measure(fields + 1)) epoch += 1;
    fflush(stdout);
    while (count > 0) free(fields[--count]);
  }
}
`;

export interface TimerReport {
  durationMs: number;
  exitCode: number | null;
  signal: number | null;
  /** errno name and text when the command could not be started: posix_spawnp failed (e.g. ENOENT), or its output files could not be opened. */
  spawnError: { code: string; message: string; stage: 'spawn' | 'output' } | null;
  /** Wall-clock time of the spawn (ms since the epoch); null when nothing was spawned. */
  startedAtMs: number | null;
}

/** How one command ended, as the native timer saw it. */
export interface TimedExit extends TimerReport {
  timedOut: boolean;
  aborted: boolean;
  /** Never run: queued behind a command that failed or was killed (ask again after cleaning up), or aborted before it started. */
  skipped: boolean;
  /** Set when the timer process itself failed (could not start, died): the command's fate is unknown. */
  timerError: string | null;
}

type TimerProcess = ChildProcessByStdio<Writable, Readable, Readable>;

/** What became of a request: its report line, or the timer ended while it ran, or before it started. */
type Outcome =
  | { kind: 'report'; line: string; parsed: ReturnType<typeof parseTimerReport> }
  | { kind: 'timer-gone'; reason: string }
  | { kind: 'not-run' };

interface Request {
  settle: (outcome: Outcome) => void;
  /** Starts the request's timeout; called when the command before it has ended. */
  arm: () => void;
}

/** A command may wait behind the running one; more would only delay cleaning up after a failure. */
const MAX_QUEUED = 2;

/**
 * The Node side of the resident timer. The timer leads its own process group and every
 * command it starts stays in that group, so a timeout or an abort kills the group (timer,
 * runtime and whatever the runtime forked) as a one-shot spawn would; a queued request then
 * comes back skipped, and the next measurement starts a new timer.
 */
export class NativeTimer {
  readonly binary: string;
  private child: TimerProcess | null = null;
  /** Requests sent to `child`, oldest (the one running) first; reports come back in this order. */
  private queue: Request[] = [];
  private epoch = 0;

  constructor(binary: string) {
    this.binary = binary;
  }

  measure(argv: readonly string[], output: { stdout: string; stderr: string }, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<TimedExit> {
    const files = [output.stdout, output.stderr, ...argv];
    if (argv.length === 0 || files.some((f) => f.length === 0 || f.includes('\0'))) {
      throw new Error(`NativeTimer: a request needs non-empty fields without NUL: ${JSON.stringify(files)}`);
    }
    if (options.signal?.aborted) return Promise.resolve(notRun({ aborted: true, skipped: true }));
    if (this.queue.length >= MAX_QUEUED) throw new Error(`NativeTimer queues at most ${MAX_QUEUED} commands`);
    const child = this.child ?? this.start();
    return new Promise((resolve) => {
      let timedOut = false;
      let aborted = false;
      let sentAt = process.hrtime.bigint();
      let timeout: NodeJS.Timeout | undefined;
      const request: Request = {
        arm: () => {
          sentAt = process.hrtime.bigint();
          timeout = setTimeout(() => {
            timedOut = true;
            this.kill();
          }, options.timeoutMs);
        },
        settle: (outcome) => {
          clearTimeout(timeout);
          options.signal?.removeEventListener('abort', onAbort);
          if (outcome.kind === 'report' && outcome.parsed && !timedOut && !aborted) {
            const { report } = outcome.parsed;
            resolve(report ? { ...report, timedOut, aborted, skipped: false, timerError: null } : notRun({ skipped: true }));
            return;
          }
          if (outcome.kind === 'not-run') {
            resolve(notRun({ skipped: true, aborted }));
            return;
          }
          const durationMs = Number(process.hrtime.bigint() - sentAt) / 1e6;
          const timerError = timedOut || aborted ? null
            : outcome.kind === 'timer-gone' ? outcome.reason : `rlab-timer wrote an unreadable report: ${JSON.stringify(outcome.line)}`;
          resolve({ ...notRun({ timedOut, aborted }), durationMs, timerError });
        },
      };
      const onAbort = () => {
        aborted = true;
        this.kill();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(request);
      // Held while commands are queued, so that the loop waits for their reports or the timer's exit.
      child.ref();
      if (this.queue.length === 1) request.arm();
      child.stdin.write([String(this.epoch), ...files].map((f) => `${f}\0`).join('') + '\0');
    });
  }

  /** Ends the timer process once it has nothing to do; the next measurement would start a new one. */
  close(): void {
    this.child?.stdin.end();
    this.child = null;
  }

  private start(): TimerProcess {
    const child = spawn(this.binary, [], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.epoch = 0;
    const queue: Request[] = [];
    this.queue = queue;
    let received = '';
    let stderrTail = '';
    const answer = (line: string) => {
      const request = queue[0];
      if (!request) return;
      const parsed = parseTimerReport(line);
      if (parsed && this.child === child) this.epoch = parsed.epoch;
      request.settle({ kind: 'report', line, parsed });
      queue.shift();
      queue[0]?.arm();
      if (queue.length === 0) child.unref();
    };
    // Between measurements neither the timer nor its pipes keep the agent alive.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as Socket).unref();
    // A write to a timer that was just killed fails with EPIPE; its exit settles what was queued.
    child.stdin.on('error', () => {});
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk;
      for (let newline = received.indexOf('\n'); newline >= 0; newline = received.indexOf('\n')) {
        answer(received.slice(0, newline));
        received = received.slice(newline + 1);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-1000);
    });
    const gone = (reason: string) => {
      if (this.child === child) this.child = null;
      // The running request gets the reason; the ones behind it never ran.
      const [running, ...behind] = queue.splice(0);
      running?.settle({ kind: 'timer-gone', reason });
      for (const request of behind) request.settle({ kind: 'not-run' });
    };
    child.once('error', (err) => gone(`rlab-timer could not run: ${err.message}`));
    child.once('exit', (code, signal) => {
      const said = stderrTail.trim();
      gone(`rlab-timer exited unexpectedly (${signal ?? `code ${code}`})${said ? `: ${said}` : ''}`);
    });
    return child;
  }

  private kill(): void {
    const child = this.child;
    this.child = null;
    if (child?.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  }
}

function notRun(flags: Partial<Pick<TimedExit, 'timedOut' | 'aborted' | 'skipped'>>): TimedExit {
  return { durationMs: 0, exitCode: null, signal: null, spawnError: null, startedAtMs: null, timedOut: false, aborted: false, skipped: false, timerError: null, ...flags };
}

/** Parses one report line of the timer; null when it is not one. `report` is null for a skipped request. */
export function parseTimerReport(text: string): { epoch: number; report: TimerReport | null } | null {
  const [kind, epochText, a, b, ...rest] = text.trim().split(' ');
  const epoch = Number(epochText);
  if (!Number.isInteger(epoch)) return null;
  if (kind === 'skipped') return { epoch, report: null };
  if (kind === 'spawn-error' || kind === 'output-error') {
    const code = Object.entries(constants.errno).find(([, n]) => n === Number(a))?.[0] ?? `errno ${a}`;
    const stage = kind === 'spawn-error' ? 'spawn' : 'output';
    return { epoch, report: { durationMs: 0, exitCode: null, signal: null, startedAtMs: null, spawnError: { code, message: [b, ...rest].join(' '), stage } } };
  }
  const started = rest[0];
  if ((kind !== 'exit' && kind !== 'signal') || a === undefined || b === undefined || started === undefined) return null;
  const common = { durationMs: Number(a) / 1e6, spawnError: null, startedAtMs: Math.round(Number(started) / 1e6) };
  return { epoch, report: kind === 'exit' ? { ...common, exitCode: Number(b), signal: null } : { ...common, exitCode: null, signal: Number(b) } };
}
