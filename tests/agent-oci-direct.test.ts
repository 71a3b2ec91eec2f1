import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStaticElf, prepareBundle } from '../agent/bundle.ts';
import { containerId } from '../agent/oci-direct.ts';
import { buildRunOrder } from '../agent/run-order.ts';
import { createAgentWorkspace, readEvents, samplesOf, waitFor, median, containerIds, only, type AgentWorkspace } from './lab/agent-process.ts';
import { isRunning } from './lab/process-state.ts';

// The host agent as it runs on a lab host: bundled by the same code the desktop uses,
// written to disk, started with `node` as a real process, driving the real runc, runsc
// (ptrace, no network) and crun (which fails on this host's hybrid cgroups) installed here.

const RUNSC_ARGS = ['--network=none', '--platform=ptrace'];
const CRUN_HYBRID = 'cgroups in hybrid mode not supported';

let ws: AgentWorkspace;
const runDirWith = (name: string, plan: object) => ws.runDirWith(name, plan);
const startAgent = (...args: string[]) => ws.start(...args);
const agent = (...args: string[]) => ws.run(...args);

beforeAll(async () => {
  ws = await createAgentWorkspace('rlab-agent-test-');
});

afterAll(() => {
  ws?.remove();
});

describe('host agent, oci-direct, against the real runtimes of this host', () => {
  it('measures runc, runsc and crun interleaved round-robin, keeping warm-ups and failures', async () => {
    const names = ['runc', 'runsc', 'crun'];
    const dir = runDirWith('round-robin', {
      method: 'oci-direct',
      runtimes: [
        { name: 'runc', binary: 'runc' },
        { name: 'runsc', binary: 'runsc', globalArgs: RUNSC_ARGS },
        { name: 'crun', binary: 'crun' },
      ],
      iterations: 5,
      warmups: 2,
      order: 'round-robin',
    });
    const result = await agent('run', '--run-dir', dir);
    expect(result.code, result.stderr).toBe(0);

    const events = readEvents(dir);
    expect(events[0]?.type).toBe('started');
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'completed' });
    const started = only(events, 'started');
    expect(started.runId).toBe('round-robin');
    expect(started.agentVersion).toContain(ws.agentSha256);

    const versions = only(events, 'versions').versions;
    expect(versions.map((v) => v.runtime)).toEqual(names);
    expect(versions.find((v) => v.runtime === 'runc')?.version).toMatch(/^runc version /);
    expect(versions.find((v) => v.runtime === 'runsc')?.version).toMatch(/^runsc version /);
    expect(versions.find((v) => v.runtime === 'crun')?.version).toMatch(/^crun version /);
    // How each binary was called and on what host is recorded with the run.
    const environment = only(events, 'environment').environment;
    expect(environment).toMatchObject({ method: 'oci-direct', kernel: os.release(), containerd: null, docker: null });
    expect(environment.cgroup.mode).not.toBe('unknown');
    expect(environment.runtimes.map((r) => r.runtime)).toEqual(names);
    expect(environment.runtimes.find((r) => r.runtime === 'runsc')?.argv).toEqual(expect.arrayContaining(['run', '--bundle', '<id>', ...RUNSC_ARGS]));

    const samples = samplesOf(events);
    expect(samples.map((s) => s.seq)).toEqual([...Array(21).keys()]);
    // Round-robin: both warm-up rounds first, then measured round i is iteration i of each runtime in plan order.
    const expected = [0, 1].flatMap((i) => names.map((runtime) => ({ runtime, warmup: true, iteration: i })));
    expected.push(...[0, 1, 2, 3, 4].flatMap((i) => names.map((runtime) => ({ runtime, warmup: false, iteration: i }))));
    expect(samples.map(({ runtime, warmup, iteration }) => ({ runtime, warmup, iteration }))).toEqual(expected);

    for (const name of names) {
      const mine = samples.filter((s) => s.runtime === name);
      expect(mine.filter((s) => s.warmup)).toHaveLength(2);
      expect(mine.filter((s) => !s.warmup)).toHaveLength(5);
    }
    for (const sample of samples.filter((s) => s.runtime !== 'crun')) {
      expect(sample, JSON.stringify(sample)).toMatchObject({ ok: true, exitCode: 0, timedOut: false, error: null });
      expect(sample.durationMs).toBeGreaterThan(0);
    }
    for (const sample of samples.filter((s) => s.runtime === 'crun')) {
      expect(sample.ok).toBe(false);
      expect(sample.exitCode).not.toBe(0);
      expect(sample.error).toContain(CRUN_HYBRID);
    }

    const bundle = only(events, 'bundle').bundle;
    expect(bundle).toMatchObject({ workload: 'hello', path: path.join(dir, 'bundle') });
    expect(bundle.digest).toMatch(/^[0-9a-f]{64}$/);
    const config = JSON.parse(readFileSync(path.join(bundle.path, 'config.json'), 'utf8'));
    expect(path.isAbsolute(config.root.path)).toBe(true);
    expect(config.root).toEqual({ path: path.join(dir, 'bundle', 'rootfs'), readonly: true });
    expect(config.process).toMatchObject({ terminal: false, cwd: '/' });

    expect(existsSync(path.join(dir, 'agent.pid'))).toBe(false);
    expect(existsSync(path.join(dir, 'scratch'))).toBe(false);
    const measured = (name: string) => samples.filter((s) => s.runtime === name && !s.warmup).map((s) => s.durationMs);
    console.log(`median of 5: runc ${median(measured('runc')).toFixed(1)} ms, runsc ${median(measured('runsc')).toFixed(1)} ms`);
  }, 120_000);

  it('reproduces a random order from its seed, and records a seed it chose itself', async () => {
    // /bin/true accepts any arguments and exits 0: a free stand-in runtime for ordering.
    const runtimes = ['a', 'b', 'c', 'd'].map((name) => ({ name, binary: '/bin/true' }));
    const plan = { method: 'oci-direct', runtimes, iterations: 6, warmups: 1, order: 'random', seed: 42 };
    const orderOf = (dir: string) => samplesOf(readEvents(dir)).map(({ runtime, warmup, iteration }) => ({ runtime, warmup, iteration }));

    const first = runDirWith('random-1', plan);
    const second = runDirWith('random-2', plan);
    expect((await agent('run', '--run-dir', first)).code).toBe(0);
    expect((await agent('run', '--run-dir', second)).code).toBe(0);
    expect(orderOf(first)).toEqual(orderOf(second));
    expect(orderOf(first)).toEqual(buildRunOrder({ runtimes: ['a', 'b', 'c', 'd'], warmups: 1, iterations: 6, order: 'random', seed: 42 }));
    expect(only(readEvents(first), 'started').plan.seed).toBe(42);

    const unseeded = runDirWith('random-unseeded', { ...plan, seed: undefined });
    expect((await agent('run', '--run-dir', unseeded)).code).toBe(0);
    const events = readEvents(unseeded);
    const seed = only(events, 'started').plan.seed;
    expect(seed).toEqual(expect.any(Number));
    expect(orderOf(unseeded)).toEqual(buildRunOrder({ runtimes: ['a', 'b', 'c', 'd'], warmups: 1, iterations: 6, order: 'random', seed }));
  }, 60_000);

  it('kills a hanging runtime at the timeout and records failures of a missing binary, without stopping the run', async () => {
    const pidsFile = path.join(ws.work, 'hang.pids');
    const hang = path.join(ws.work, 'hang-runtime.sh');
    // Hangs on every subcommand (also --version and delete), through a child: killing only
    // the shell would leave the sleep behind, so this checks that the whole group dies.
    writeFileSync(hang, `#!/bin/sh\nsleep 60 &\necho $! >> ${pidsFile}\nwait\n`);
    chmodSync(hang, 0o755);
    const dir = runDirWith('broken', {
      method: 'oci-direct',
      runtimes: [
        { name: 'hang', binary: hang },
        { name: 'ghost', binary: '/nonexistent/rlab-no-such-runtime' },
        { name: 'runc', binary: 'runc' },
      ],
      iterations: 2,
      warmups: 0,
      timeoutMs: 500,
    });
    const result = await agent('run', '--run-dir', dir);
    expect(result.code, result.stderr).toBe(0);

    const events = readEvents(dir);
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'completed' });
    expect(only(events, 'versions').versions.map((v) => v.version === null)).toEqual([true, true, false]);
    const samples = samplesOf(events);
    expect(samples).toHaveLength(6);
    for (const sample of samples.filter((s) => s.runtime === 'hang')) {
      expect(sample).toMatchObject({ ok: false, timedOut: true, exitCode: null });
      expect(sample.durationMs).toBeGreaterThanOrEqual(500);
      expect(sample.durationMs).toBeLessThan(5_000);
      expect(sample.error).toContain('timed out after 500 ms');
    }
    for (const sample of samples.filter((s) => s.runtime === 'ghost')) {
      expect(sample).toMatchObject({ ok: false, timedOut: false, exitCode: null });
      expect(sample.error).toContain('ENOENT');
    }
    for (const sample of samples.filter((s) => s.runtime === 'runc')) expect(sample.ok).toBe(true);
    // The hung `delete --force` of each iteration is reported, not hidden.
    expect(events.filter((e) => e.type === 'log' && e.level === 'warn' && e.message.includes('cleanup of rlab-broken-hang-'))).toHaveLength(2);

    const pids = readFileSync(pidsFile, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(5); // --version, 2 × run, 2 × delete
    await waitFor('the killed sleeps to be gone', () => pids.every((pid) => !isRunning(pid)), 5_000);
  }, 60_000);

  it('measures a create-start runtime from create until the container is seen stopped', async () => {
    const dir = runDirWith('create-start', {
      method: 'oci-direct',
      runtimes: [{ name: 'runc-cs', binary: 'runc', lifecycle: 'create-start' }],
      iterations: 3,
      warmups: 0,
    });
    expect((await agent('run', '--run-dir', dir)).code).toBe(0);
    const samples = samplesOf(readEvents(dir));
    expect(samples).toHaveLength(3);
    for (const sample of samples) {
      expect(sample, JSON.stringify(sample)).toMatchObject({ ok: true, exitCode: 0, error: null });
      expect(sample.durationMs).toBeGreaterThan(0);
    }
    expect(containerIds('runc').filter((id) => id.startsWith('rlab-createst'))).toEqual([]);
  }, 60_000);

  it('aborts on SIGTERM from `stop`: cleans up the current container and finishes "aborted"', async () => {
    // A runtime caught mid-container, deterministically: `run` creates a real runc container
    // and then hangs, as a runtime stuck in the middle of a run would.
    const held = path.join(ws.work, 'held-runtime.sh');
    writeFileSync(held, '#!/bin/sh\nif [ "$1" = run ]; then runc create --bundle "$3" "$4" && exec sleep 30; fi\nexec runc "$@"\n');
    chmodSync(held, 0o755);
    const dir = runDirWith('abort', {
      method: 'oci-direct',
      runtimes: [
        { name: 'runc', binary: 'runc' },
        { name: 'runsc', binary: 'runsc', globalArgs: RUNSC_ARGS },
        { name: 'held', binary: held },
      ],
      iterations: 500,
      warmups: 0,
    });
    const running = startAgent('run', '--run-dir', dir, '--run-id', 'abortrun');
    await waitFor('the held container to exist', () => containerIds('runc').some((id) => id.startsWith('rlab-abortrun-held-')), 60_000);

    const stopped = await agent('stop', '--run-dir', dir);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ stopped: true, pid: running.child.pid });
    expect((await running.done).code).toBe(0);

    const events = readEvents(dir);
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'aborted', message: 'stopped by SIGTERM' });
    // Round 0 of runc and runsc completed; the interrupted held iteration is logged, not recorded.
    expect(samplesOf(events).map(({ seq, runtime, ok }) => ({ seq, runtime, ok }))).toEqual([
      { seq: 0, runtime: 'runc', ok: true },
      { seq: 1, runtime: 'runsc', ok: true },
    ]);
    expect(events.some((e) => e.type === 'log' && e.message.includes('abort interrupted held at seq 2'))).toBe(true);
    expect(containerIds('runc').filter((id) => id.startsWith('rlab-abortrun'))).toEqual([]);
    expect(containerIds('runsc').filter((id) => id.startsWith('rlab-abortrun'))).toEqual([]);
    expect(existsSync(path.join(dir, 'agent.pid'))).toBe(false);
    expect(JSON.parse((await agent('stop', '--run-dir', dir)).stdout)).toMatchObject({ stopped: false });
  }, 120_000);

  it('sweeps up containers that a runtime whose `run` succeeded left behind', async () => {
    // A runtime whose `run` exits 0 but leaves its container (created, never deleted).
    const leaky = path.join(ws.work, 'leaky-runtime.sh');
    writeFileSync(leaky, '#!/bin/sh\nif [ "$1" = run ]; then exec runc create --bundle "$3" "$4"; fi\nexec runc "$@"\n');
    chmodSync(leaky, 0o755);
    const dir = runDirWith('leaky', { method: 'oci-direct', runtimes: [{ name: 'leaky', binary: leaky }], iterations: 3, warmups: 0 });
    const result = await agent('run', '--run-dir', dir, '--run-id', 'leakyrun');
    expect(result.code, result.stderr).toBe(0);
    const events = readEvents(dir);
    expect(samplesOf(events).every((s) => s.ok)).toBe(true);
    expect(events.filter((e) => e.type === 'log' && e.message.includes('left container')).length).toBe(3);
    expect(containerIds('runc').filter((id) => id.startsWith('rlab-leakyrun'))).toEqual([]);
  }, 60_000);

  it('detaches from the process that started it, and refuses to reuse a run folder', async () => {
    const dir = runDirWith('detached', { method: 'oci-direct', runtimes: [{ name: 'runc', binary: 'runc' }], iterations: 2, warmups: 0 });
    const started = await agent('run', '--run-dir', dir, '--detach');
    expect(started.code, started.stderr).toBe(0);
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    await waitFor('the detached run to finish', () => readEvents(dir).at(-1)?.type === 'finished', 30_000);
    expect(readEvents(dir)[0]).toMatchObject({ type: 'started', pid });
    expect(readEvents(dir).at(-1)).toMatchObject({ status: 'completed' });
    expect(samplesOf(readEvents(dir)).every((s) => s.ok)).toBe(true);

    const again = await agent('run', '--run-dir', dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already holds a run');
  }, 60_000);

  it('ends with finished "failed" for an invalid plan', async () => {
    const dir = runDirWith('invalid', { method: 'oci-direct', runtimes: [], iterations: 1 });
    const result = await agent('run', '--run-dir', dir);
    expect(result.code).toBe(1);
    const events = readEvents(dir);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'finished', status: 'failed' });
    expect(events[0]?.type === 'finished' && events[0].message).toContain('plan.json');
  });

  it('reports, from the file on disk, the hash the desktop built', async () => {
    const result = await agent('version');
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'runtime-lab-agent', sha256: ws.agentSha256, node: process.version });
    expect(readFileSync(ws.agentFile, 'utf8').split('\n')[0]).toBe(`// runtime-lab-agent ${JSON.parse(readFileSync('package.json', 'utf8')).version} sha256:${ws.agentSha256}`);
  });
});

describe('workload bundle', () => {
  it('falls back to a static busybox without gcc, and that bundle runs under runc', () => {
    expect(isStaticElf('/bin/busybox')).toBe(true);
    expect(isStaticElf('/bin/sh')).toBe(false);
    expect(isStaticElf(path.join(process.cwd(), 'package.json'))).toBe(false);

    const { info, warnings } = prepareBundle(path.join(ws.work, 'busybox-bundle'), { gcc: '/nonexistent/gcc' });
    expect(info.builtWith).toMatch(/^busybox echo Hello/);
    expect(warnings.join()).toContain('/nonexistent/gcc');
    const config = JSON.parse(readFileSync(path.join(info.path, 'config.json'), 'utf8'));
    expect(config.process.args).toEqual(['/busybox', 'echo', 'Hello']);
    expect(path.isAbsolute(config.root.path)).toBe(true);

    const id = containerId('bundletest', 'runc', 0);
    const run = spawnSync('runc', ['run', '--bundle', info.path, id], { encoding: 'utf8', timeout: 30_000 });
    spawnSync('runc', ['delete', '--force', id]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('Hello\n');
  });

  it('gives the same digest to the same workload in different folders', () => {
    const a = prepareBundle(path.join(ws.work, 'digest-a')).info;
    const b = prepareBundle(path.join(ws.work, 'digest-b')).info;
    expect(a.digest).toBe(b.digest);
    expect(a.path).not.toBe(b.path);
  });
});

describe('run order', () => {
  const runtimes = ['runc', 'runsc', 'kata'];

  it('round-robin: warm-up rounds first, then iteration i of every runtime in plan order', () => {
    const slots = buildRunOrder({ runtimes, warmups: 1, iterations: 2, order: 'round-robin' });
    expect(slots).toEqual([
      { runtime: 'runc', warmup: true, iteration: 0 },
      { runtime: 'runsc', warmup: true, iteration: 0 },
      { runtime: 'kata', warmup: true, iteration: 0 },
      { runtime: 'runc', warmup: false, iteration: 0 },
      { runtime: 'runsc', warmup: false, iteration: 0 },
      { runtime: 'kata', warmup: false, iteration: 0 },
      { runtime: 'runc', warmup: false, iteration: 1 },
      { runtime: 'runsc', warmup: false, iteration: 1 },
      { runtime: 'kata', warmup: false, iteration: 1 },
    ]);
  });

  it('random: each round is a shuffle of all runtimes, fixed by the seed', () => {
    const options = { runtimes, warmups: 2, iterations: 20, order: 'random' as const };
    const slots = buildRunOrder({ ...options, seed: 7 });
    expect(buildRunOrder({ ...options, seed: 7 })).toEqual(slots);
    expect(buildRunOrder({ ...options, seed: 8 })).not.toEqual(slots);
    expect(buildRunOrder({ ...options, seed: 7 + 2 ** 32 })).not.toEqual(slots);
    for (let round = 0; round < 22; round++) {
      const block = slots.slice(round * 3, round * 3 + 3);
      expect(block.map((s) => s.runtime).sort()).toEqual([...runtimes].sort());
      expect(new Set(block.map((s) => `${s.warmup}:${s.iteration}`)).size).toBe(1);
      expect(block[0]).toMatchObject({ warmup: round < 2, iteration: round < 2 ? round : round - 2 });
    }
    // Shuffled for real: over 22 rounds, plan order every time would be a broken shuffle.
    expect(slots.map((s) => s.runtime)).not.toEqual(buildRunOrder({ ...options, order: 'round-robin' }).map((s) => s.runtime));
    expect(() => buildRunOrder(options)).toThrow(/seed/);
  });

  it('makes container IDs long, unique and safe for every runtime', () => {
    const ids = new Set([0, 1, 2].map(() => containerId('x', 'r', 0)));
    expect(ids.size).toBe(3);
    for (const id of ids) {
      expect(id.length).toBeGreaterThanOrEqual(32);
      expect(id).toMatch(/^rlab-x-r-0-[0-9a-f]{24}$/);
    }
  });
});
