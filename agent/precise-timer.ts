import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';

// Node's own child_process adds 1–4 ms per spawn (a fork of a large process, then an
// event-loop wake-up on SIGCHLD), which is 5–15% of a 25 ms `runc run`. hyperfine times
// a posix_spawn → waitpid from a small native process. So does this timer: the agent
// starts it outside the measured window, and it reports the runtime's wall time from just
// before posix_spawn to waitpid's return, with CLOCK_MONOTONIC, on file descriptor 3.
// Without gcc on the host the agent falls back to Node's timing, and says so.
export const TIMER_SOURCE = `#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
int main(int argc, char **argv) {
  if (argc < 2) return 125;
  FILE *report = fdopen(3, "w");
  if (!report) return 125;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, 3);
  struct timespec start, end;
  pid_t pid;
  int status = 0;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int failed = posix_spawnp(&pid, argv[1], &actions, NULL, argv + 1, environ);
  if (failed) {
    fprintf(report, "spawn-error %d %s\\n", failed, strerror(failed));
    return 127;
  }
  while (waitpid(pid, &status, 0) < 0) {}
  clock_gettime(CLOCK_MONOTONIC, &end);
  long long ns = (long long)(end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
  if (WIFEXITED(status)) fprintf(report, "exit %lld %d\\n", ns, WEXITSTATUS(status));
  else fprintf(report, "signal %lld %d\\n", ns, WTERMSIG(status));
  return 0;
}
`;

export interface PreciseTimer {
  /** Path of the compiled timer, or null when Node's clock is used. */
  path: string | null;
  /** What the run's environment records about how samples were timed. */
  description: string;
}

export function preparePreciseTimer(dir: string, gcc = 'gcc'): PreciseTimer {
  mkdirSync(dir, { recursive: true });
  const binary = path.join(dir, 'rlab-timer');
  if (!existsSync(binary)) {
    const source = path.join(dir, 'rlab-timer.c');
    writeFileSync(source, TIMER_SOURCE);
    const built = spawnSync(gcc, ['-O2', '-o', binary, source], { encoding: 'utf8', timeout: 120_000 });
    if (built.error || built.status !== 0) {
      return { path: null, description: `node process.hrtime around child_process.spawn (no native timer: ${built.error?.message ?? built.stderr.trim().split('\n')[0] ?? 'gcc failed'})` };
    }
  }
  return { path: binary, description: 'rlab-timer: posix_spawn → waitpid, CLOCK_MONOTONIC (as hyperfine -N)' };
}

export interface TimerReport {
  durationMs: number;
  exitCode: number | null;
  signal: number | null;
  /** errno name and text when posix_spawnp failed (e.g. ENOENT). */
  spawnError: { code: string; message: string } | null;
}

/** Parses what the timer wrote on fd 3; null when it wrote nothing usable (killed). */
export function parseTimerReport(text: string): TimerReport | null {
  const [kind, a, b, ...rest] = text.trim().split(' ');
  if (kind === 'spawn-error') {
    const code = Object.entries(constants.errno).find(([, n]) => n === Number(a))?.[0] ?? `errno ${a}`;
    return { durationMs: 0, exitCode: null, signal: null, spawnError: { code, message: [b, ...rest].join(' ') } };
  }
  if ((kind !== 'exit' && kind !== 'signal') || a === undefined || b === undefined) return null;
  const durationMs = Number(a) / 1e6;
  return kind === 'exit'
    ? { durationMs, exitCode: Number(b), signal: null, spawnError: null }
    : { durationMs, exitCode: null, signal: Number(b), spawnError: null };
}
