import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePerfReport } from '../agent/perf-report.ts';
import { preparePerfBundle } from '../agent/perf-workload.ts';
import { PERF_KERNELS } from '../shared/model/plan.ts';
import type { AgentEvent, Sample } from '../shared/model/run-record.ts';
import { createAgentWorkspace, median, readEvents, samplesOf, type AgentWorkspace } from './lab/agent-process.ts';
import { startDaemons, type TestDaemons } from './lab/daemons.ts';

// Perf plans as they run on a lab host: the bundled agent, started with `node`, runs the
// static perf workload in the real runc and runsc (ptrace, no network) — directly on the
// bundle, through a real containerd (ctr) and a real dockerd started for this file. Only
// relations are asserted (every kernel timed, the container's life enclosing its kernels,
// gVisor's intercepted getpid slower than the host kernel's), never figures.

const NAMESPACE = 'rlab-test-perf';
const RUNSC_ARGS = ['--network=none', '--platform=ptrace'];
const RUNC = { name: 'runc', binary: 'runc' };
const RUNSC = { name: 'runsc', binary: 'runsc', globalArgs: RUNSC_ARGS };
// Small enough for runsc's ptrace platform (~50 µs per intercepted getpid here), big enough to time.
const PERF = { cpuLoops: 20_000_000, syscalls: 20_000, ioBytes: 4 * 1024 * 1024 };
const ITERATIONS = 3;
const WARMUPS = 1;

let ws: AgentWorkspace;
let daemons: TestDaemons;
/** Median kernel times (ms) per method, runtime and kernel, for the report at the end. */
const figures: Record<string, Record<string, Record<string, number>>> = {};

beforeAll(async () => {
  ws = await createAgentWorkspace('rlab-perf-');
  daemons = startDaemons(path.join(ws.work, 'lab'), '{}\n', [NAMESPACE]);
}, 180_000);

afterAll(() => {
  daemons?.stop();
  ws?.remove();
  if (Object.keys(figures).length > 0) console.log(`perf medians (ms):\n${JSON.stringify(figures, null, 1)}`);
}, 180_000);

function perfPlan(method: string, runtimes: object[], extra: object = {}) {
  return { method, runtimes, workload: 'perf', perf: PERF, iterations: ITERATIONS, warmups: WARMUPS, timeoutMs: 120_000, ...extra };
}

async function runPlan(name: string, plan: object): Promise<AgentEvent[]> {
  const dir = ws.runDirWith(name, plan);
  const result = await ws.run('run', '--run-dir', dir);
  const events = readEvents(dir);
  expect(result.code, `${result.stderr}\n${JSON.stringify(events.at(-1))}`).toBe(0);
  expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'completed' });
  return events;
}

/** Every iteration, warm-ups included, is ok and has its whole sample followed by one per kernel. */
function expectCompleteIterations(samples: Sample[], runtimes: string[]): void {
  expect(samples.map((s) => s.seq)).toEqual(samples.map((_, i) => i));
  expect(samples).toHaveLength(runtimes.length * (ITERATIONS + WARMUPS) * (1 + PERF_KERNELS.length));
  for (let i = 0; i < samples.length; i += 1 + PERF_KERNELS.length) {
    const [whole, ...kernels] = samples.slice(i, i + 1 + PERF_KERNELS.length) as [Sample, ...Sample[]];
    expect(whole, JSON.stringify(whole)).toMatchObject({ ok: true, error: null });
    expect(whole.step ?? null).toBeNull();
    expect(kernels.map((k) => k.step)).toEqual([...PERF_KERNELS]);
    for (const k of kernels) {
      expect(k).toMatchObject({ runtime: whole.runtime, iteration: whole.iteration, warmup: whole.warmup, ok: true, startedAt: whole.startedAt });
      expect(k.durationMs).toBeGreaterThan(0);
    }
    // Timed outside, the container's life encloses the kernels it ran.
    expect(whole.durationMs).toBeGreaterThan(kernels.reduce((sum, k) => sum + k.durationMs, 0));
  }
  for (const runtime of runtimes) {
    const mine = samples.filter((s) => s.runtime === runtime && (s.step ?? null) === null);
    expect(mine.filter((s) => s.warmup)).toHaveLength(WARMUPS);
    expect(mine.filter((s) => !s.warmup).map((s) => s.iteration)).toEqual([...Array(ITERATIONS).keys()]);
  }
}

function medianOf(samples: Sample[], runtime: string, step: string | null): number {
  return median(samples.filter((s) => s.runtime === runtime && (s.step ?? null) === step && !s.warmup && s.ok).map((s) => s.durationMs));
}

function recordFigures(method: string, samples: Sample[]): void {
  figures[method] = {};
  for (const runtime of new Set(samples.map((s) => s.runtime))) {
    figures[method][runtime] = Object.fromEntries([null, ...PERF_KERNELS].map((step) => [step ?? 'whole', Number(medianOf(samples, runtime, step).toFixed(2))]));
  }
}

/** gVisor's Sentry intercepts every getpid (ptrace: two context switches each): far slower than the host kernel's. */
function expectRunscSyscallsSlower(samples: Sample[]): void {
  expect(medianOf(samples, 'runsc', 'syscalls')).toBeGreaterThan(medianOf(samples, 'runc', 'syscalls'));
}

describe('perf workload', () => {
  it('reads the report line only when every kernel is there as whole nanoseconds', () => {
    expect(parsePerfReport('runtime-lab-perf cpu_ns=1500000 syscalls_ns=2000 io_ns=30000000 cpu_check=00ff\n')).toEqual({ cpu: 1.5, syscalls: 0.002, io: 30 });
    expect(parsePerfReport('noise\nruntime-lab-perf cpu_ns=1 syscalls_ns=2 io_ns=3\n')).toEqual({ cpu: 0.000001, syscalls: 0.000002, io: 0.000003 });
    expect(parsePerfReport('runtime-lab-perf cpu_ns=1 syscalls_ns=2\n')).toBeNull();
    expect(parsePerfReport('runtime-lab-perf cpu_ns=1 syscalls_ns=x io_ns=3\n')).toBeNull();
    expect(parsePerfReport('runtime-lab-perf cpu_ns=-1 syscalls_ns=2 io_ns=3\n')).toBeNull();
    expect(parsePerfReport('Hello\n')).toBeNull();
    expect(parsePerfReport('')).toBeNull();
  });

  it('is a static binary with the parameters in its arguments and a writable root; without gcc the error names the Debian packages', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rlab-perf-bundle-'));
    try {
      const built = preparePerfBundle(path.join(dir, 'bundle'), { cpuLoops: 7, syscalls: 8, ioBytes: 65_536 });
      const config = JSON.parse(readFileSync(path.join(built.info.path, 'config.json'), 'utf8')) as { process: { args: string[] }; root: { readonly: boolean } };
      expect(config.process.args).toEqual(['/perf', '7', '8', '65536']);
      expect(config.root.readonly).toBe(false);
      expect(built.info.workload).toBe('perf');
      expect(built.info.builtWith).toContain('/perf 7 8 65536');
      // Run on the host as it is, the binary prints the line the agent reads.
      const ran = spawnSync(path.join(built.info.path, 'rootfs', 'perf'), config.process.args.slice(1), { encoding: 'utf8', cwd: dir });
      expect(ran.status, ran.stderr).toBe(0);
      expect(parsePerfReport(ran.stdout)).not.toBeNull();
      // Defaults come from DEFAULT_PERF; a different parameter is a different workload.
      const defaults = preparePerfBundle(path.join(dir, 'defaults'), undefined);
      expect(defaults.info.builtWith).toContain('/perf 200000000 100000 67108864');
      expect(defaults.info.digest).not.toBe(built.info.digest);

      expect(() => preparePerfBundle(path.join(dir, 'nogcc'), undefined, '/nonexistent/gcc')).toThrow(/gcc and libc6-dev/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('host agent, perf plans, against the real runtimes and daemons of this host', () => {
  it('oci-direct: runc and runsc, every iteration with its three kernel samples', async () => {
    const events = await runPlan('oci-direct', perfPlan('oci-direct', [RUNC, RUNSC]));
    const bundle = events.find((e) => e.type === 'bundle');
    expect(bundle).toMatchObject({ bundle: { workload: 'perf' } });
    const samples = samplesOf(events);
    expectCompleteIterations(samples, ['runc', 'runsc']);
    expectRunscSyscallsSlower(samples);
    recordFigures('oci-direct', samples);
  }, 600_000);

  it('ctr: runc and runsc through the runc shim, on the perf image', async () => {
    const events = await runPlan('ctr', perfPlan('ctr', [RUNC, RUNSC], {
      containerd: { address: daemons.containerdAddress, namespace: NAMESPACE, snapshotter: 'overlayfs' },
    }));
    const environment = events.find((e) => e.type === 'environment' && e.environment.image !== null);
    expect(environment).toMatchObject({ environment: { image: { ref: expect.stringMatching(/^docker\.io\/runtime-lab\/perf:/), command: ['/perf', '20000000', '20000', '4194304'] } } });
    const samples = samplesOf(events);
    expectCompleteIterations(samples, ['runc', 'runsc']);
    expectRunscSyscallsSlower(samples);
    recordFigures('ctr', samples);
  }, 600_000);

  it('docker: runc and runsc (registered for the run), on the perf image', async () => {
    const events = await runPlan('docker', perfPlan('docker', [RUNC, RUNSC], {
      docker: { host: daemons.dockerHost, daemonJson: daemons.daemonJson, storageDriver: 'overlay2' },
    }));
    const samples = samplesOf(events);
    expectCompleteIterations(samples, ['runc', 'runsc']);
    expectRunscSyscallsSlower(samples);
    recordFigures('docker', samples);
    expect(readFileSync(daemons.daemonJson, 'utf8')).toBe('{}\n');
  }, 600_000);

  it('an iteration whose report line is broken fails with the output as its error, and has no kernel samples', async () => {
    // A "runtime" that is runc with its output rewritten: the container exits 0, the line is mangled.
    const wrapper = path.join(ws.work, 'runc-mangling-output');
    writeFileSync(wrapper, '#!/bin/sh\nrunc "$@" | sed "s/io_ns=/io_ms=/"\n');
    chmodSync(wrapper, 0o755);
    const events = await runPlan('broken-line', perfPlan('oci-direct', [{ name: 'mangled', binary: wrapper }, RUNC], { iterations: 2, warmups: 0 }));
    const samples = samplesOf(events);
    const mangled = samples.filter((s) => s.runtime === 'mangled');
    expect(mangled).toHaveLength(2);
    for (const s of mangled) {
      expect(s).toMatchObject({ ok: false, exitCode: 0 });
      expect(s.step ?? null).toBeNull();
      expect(s.error).toMatch(/without a complete "runtime-lab-perf" line: runtime-lab-perf cpu_ns=\d+ syscalls_ns=\d+ io_ms=\d+/);
    }
    // The other runtime's iterations are whole, seqs stay unique and contiguous.
    expect(samples.filter((s) => s.runtime === 'runc' && s.ok)).toHaveLength(2 * (1 + PERF_KERNELS.length));
    expect(samples.map((s) => s.seq)).toEqual(samples.map((_, i) => i));
  }, 600_000);

  it('an io kernel that cannot write fails the iteration with the workload\'s own error', async () => {
    // runc behind a wrapper that turns the bundle's root read-only: the io kernel's open fails inside the container.
    const wrapper = path.join(ws.work, 'runc-readonly-root');
    writeFileSync(wrapper, `#!/bin/sh\n# runc, with the bundle's root made read-only\nfor a in "$@"; do case "$prev" in --bundle) sed -i 's/"readonly": false/"readonly": true/' "$a/config.json";; esac; prev="$a"; done\nexec runc "$@"\n`);
    chmodSync(wrapper, 0o755);
    const events = await runPlan('readonly', perfPlan('oci-direct', [{ name: 'readonly', binary: wrapper }], { iterations: 1, warmups: 0 }));
    const samples = samplesOf(events);
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ ok: false, exitCode: 1 });
    expect(samples[0]?.error).toMatch(/io: open \/runtime-lab-perf\.io: Read-only file system/);
  }, 600_000);
});
