import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeTimer } from '../agent/native-timer.ts';
import { preparePreciseTimer } from '../agent/precise-timer.ts';
import { spawnTimed } from '../agent/spawn-timed.ts';
import { isRunning } from './lab/process-state.ts';

// The resident native timer, compiled by the real gcc and driven through spawnTimed as the
// methods drive it: one timer process for many commands, a command queued behind the running
// one, and the guarantees a one-shot spawn gave (exit status, signals, output, timeouts and
// aborts that kill the whole group).

let work: string;
let scratchDir: string;
let timer: NativeTimer;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'rlab-native-timer-'));
  scratchDir = path.join(work, 'scratch');
  mkdirSync(scratchDir);
  const prepared = preparePreciseTimer(path.join(work, 'timer'));
  if (!prepared.native) throw new Error(`gcc is needed for this suite: ${prepared.description}`);
  timer = prepared.native;
});

afterAll(() => {
  timer?.close();
  rmSync(work, { recursive: true, force: true });
});

const timed = (argv: string[], options: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
  spawnTimed(argv, { timeoutMs: options.timeoutMs ?? 10_000, scratchDir, timer, ...(options.signal ? { signal: options.signal } : {}) });


describe('resident native timer', () => {
  it('runs every command from one timer process, with its exit status and output', async () => {
    const first = await timed(['sh', '-c', 'echo "parent $PPID"; echo oops >&2; exit 3']);
    const second = await timed(['sh', '-c', 'echo "parent $PPID"; read line; echo "stdin [$line]"']);
    expect(first).toMatchObject({ exitCode: 3, signal: null, timedOut: false, aborted: false, spawnError: null, timerError: null, stderr: 'oops\n' });
    // The same parent: no process is started between two measured commands.
    expect(second.stdout.split('\n')[0]).toBe(first.stdout.split('\n')[0]);
    expect(second.stdout).toContain('stdin []');
    expect(second.exitCode).toBe(0);
    expect(first.durationMs).toBeGreaterThan(0);
  });

  it('times the command itself: a 200 ms sleep is measured as at least 200 ms', async () => {
    const slept = await timed(['sleep', '0.2']);
    expect(slept.exitCode).toBe(0);
    expect(slept.durationMs).toBeGreaterThanOrEqual(200);
    expect(slept.durationMs).toBeLessThan(2_000);
  });

  it('reports a signal death, a missing binary and an unwritable output file in words', async () => {
    expect(await timed(['sh', '-c', 'kill -KILL $$'])).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(await timed(['/nonexistent/rlab-no-such-runtime', 'run'])).toMatchObject({
      exitCode: null, spawnError: '/nonexistent/rlab-no-such-runtime: not found (ENOENT)',
    });
    const gone = await spawnTimed(['true'], { timeoutMs: 10_000, scratchDir: path.join(work, 'no-such-dir'), timer });
    expect(gone.spawnError).toMatch(/^cannot open the output file of true: .* \(ENOENT\)$/);
    // The timer is still serving after all three.
    expect((await timed(['true'])).exitCode).toBe(0);
  });

  it('kills the command and everything it forked at the timeout, then serves the next command', async () => {
    const pidFile = path.join(work, 'orphan.pid');
    const hung = await timed(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 });
    expect(hung).toMatchObject({ timedOut: true, exitCode: null, timerError: null });
    expect(hung.durationMs).toBeGreaterThanOrEqual(300);
    const orphan = Number(readFileSync(pidFile, 'utf8'));
    await expect.poll(() => isRunning(orphan), { timeout: 2_000 }).toBe(false);
    expect((await timed(['true'])).exitCode).toBe(0);
  });

  it('aborts a running command at once, and one already aborted is never started', async () => {
    const controller = new AbortController();
    const running = timed(['sleep', '30'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const aborted = await running;
    expect(aborted).toMatchObject({ aborted: true, timedOut: false });
    expect(aborted.durationMs).toBeLessThan(5_000);

    const marker = path.join(work, 'never-started');
    expect(await timed(['touch', marker], { signal: controller.signal })).toMatchObject({ aborted: true });
    expect(existsSync(marker)).toBe(false);
  });

  it('says so when the timer process itself dies mid-command, and starts a fresh one', async () => {
    const pending = timed(['sh', '-c', 'kill -KILL $PPID; sleep 1']);
    const died = await pending;
    expect(died.timerError).toMatch(/^rlab-timer exited unexpectedly \(SIGKILL\)/);
    expect(died.timedOut).toBe(false);
    expect((await timed(['true'])).exitCode).toBe(0);
  });

  it('starts a queued command the moment the one before it has ended, in order', async () => {
    const marker = path.join(work, 'first-done');
    const first = timed(['sh', '-c', `sleep 0.2; touch ${marker}`]);
    const second = timed(['sh', '-c', `test -e ${marker}`]);
    const [a, b] = await Promise.all([first, second]);
    expect(a.exitCode).toBe(0);
    expect(b).toMatchObject({ exitCode: 0, skipped: false });
    // Started by the timer itself after the first was reaped, with no round trip through Node.
    expect(b.startedAtMs! - a.startedAtMs!).toBeGreaterThanOrEqual(Math.floor(a.durationMs));
    expect(b.startedAtMs! - (a.startedAtMs! + a.durationMs)).toBeLessThan(50);
  });

  it('skips what was queued behind a failure, so that the failure is cleaned up first', async () => {
    const marker = path.join(work, 'ran-behind-failure');
    const failing = timed(['sh', '-c', 'sleep 0.1; exit 1']);
    const behind = timed(['touch', marker]);
    expect(await failing).toMatchObject({ exitCode: 1, skipped: false });
    expect(await behind).toMatchObject({ skipped: true, exitCode: null, aborted: false });
    expect(existsSync(marker)).toBe(false);
    // Asked again, it runs.
    expect((await timed(['touch', marker])).exitCode).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('skips what was queued behind a timeout, and the next command gets a fresh timer', async () => {
    const marker = path.join(work, 'ran-behind-timeout');
    const hung = timed(['sleep', '30'], { timeoutMs: 200 });
    const behind = timed(['touch', marker]);
    expect(await hung).toMatchObject({ timedOut: true });
    expect(await behind).toMatchObject({ skipped: true });
    expect(existsSync(marker)).toBe(false);
    expect((await timed(['true'])).exitCode).toBe(0);
  });

  it('aborts the running and the queued command alike; the queued one never runs', async () => {
    const marker = path.join(work, 'ran-behind-abort');
    const controller = new AbortController();
    const running = timed(['sleep', '30'], { signal: controller.signal });
    const behind = timed(['touch', marker], { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(await running).toMatchObject({ aborted: true, skipped: false });
    expect(await behind).toMatchObject({ aborted: true, skipped: true });
    expect(existsSync(marker)).toBe(false);
  });

  it('queues one command behind the running one, not more', async () => {
    const first = timed(['sleep', '0.2']);
    const second = timed(['true']);
    await expect(timed(['true'])).rejects.toThrow(/at most 2 commands/);
    expect((await first).exitCode).toBe(0);
    expect((await second).exitCode).toBe(0);
  });
});
