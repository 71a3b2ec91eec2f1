import { describe, expect, it } from 'vitest';
import { buildPlan, DEFAULT_METHOD_DRAFT, type MethodDraft } from '../renderer/components/bench/plan-draft.ts';
import { runKindOf } from '../shared/model/run.ts';
import type { BenchDraft } from '../renderer/store/runs-store.ts';

// The Benchmarks form's CRI, storage-driver, memory and perf choices as plans, checked by
// the same schema main validates with, and the kind of run each plan makes.

const draft: BenchDraft = { hostId: 'h', picked: {}, flags: {}, iterations: '5', warmups: '1', order: 'round-robin', seed: '', timeoutSec: '30' };
const presets = [
  { name: 'runc', binary: '/usr/sbin/runc', globalArgs: [], lifecycle: 'run' as const },
  { name: 'runsc', binary: '/usr/bin/runsc', globalArgs: ['--network=none'], lifecycle: 'run' as const },
];
const method = (patch: Partial<MethodDraft>): MethodDraft => ({ ...DEFAULT_METHOD_DRAFT, ...patch });

describe('buildPlan for every kind of run', () => {
  it('CRI: the socket typed, and a handler only where one was typed', () => {
    const { plan, errors } = buildPlan(draft, presets, method({ method: 'cri', criAddress: ' /run/crio/crio.sock ', criHandler: { runsc: 'runsc-ptrace' } }));
    expect(errors).toEqual({});
    expect(plan?.cri).toEqual({ address: '/run/crio/crio.sock' });
    expect(plan?.runtimes.map((r) => r.cri ?? null)).toEqual([null, { handler: 'runsc-ptrace' }]);
    expect(plan && runKindOf(plan)).toBe('cri');
    expect(buildPlan(draft, presets, method({ method: 'cri', criHandler: { runc: 'a b' } })).errors.methodRuntime?.runc).toMatch(/handler/);
  });

  it('CRI refuses memory and perf plans where they are chosen', () => {
    expect(buildPlan(draft, presets, method({ method: 'cri', measurement: 'memory' })).plan).toBeNull();
    expect(buildPlan(draft, presets, method({ method: 'cri', measurement: 'perf' })).errors.plan).toMatch(/not CRI/);
  });

  it('docker storage drivers in the order picked make a storage-driver loop (and replace the single expected driver)', () => {
    const { plan } = buildPlan(draft, presets, method({ method: 'docker', storageDriver: 'overlay2', storageDrivers: ['vfs', 'overlay2'] }));
    expect(plan?.docker).toEqual({ storageDrivers: ['vfs', 'overlay2'] });
    expect(plan && runKindOf(plan)).toBe('storage-drivers');
  });

  it('memory: the steps typed, loop workload, one pass without warm-ups whatever the iteration fields say', () => {
    const { plan } = buildPlan({ ...draft, iterations: 'x' }, presets, method({ measurement: 'memory', memoryContainers: '1, 5,10', memorySettleMs: '500' }));
    expect(plan).toMatchObject({ workload: 'loop', iterations: 1, warmups: 0, memory: { containers: [1, 5, 10], settleMs: 500 } });
    expect(plan && runKindOf(plan)).toBe('memory');
    expect(buildPlan(draft, presets, method({ measurement: 'memory', memoryContainers: '0' })).errors.memory).toBeDefined();
    expect(buildPlan(draft, presets, method({ method: 'ctr', measurement: 'memory' })).plan?.method).toBe('ctr');
  });

  it('perf: only the amounts typed, I/O in MiB', () => {
    const { plan } = buildPlan(draft, presets, method({ measurement: 'perf', perfIoMiB: '8' }));
    expect(plan).toMatchObject({ workload: 'perf', perf: { ioBytes: 8 * 1024 * 1024 } });
    expect(plan?.perf && 'cpuLoops' in plan.perf).toBe(false);
    expect(plan && runKindOf(plan)).toBe('perf');
    // A perf plan is not looped over storage drivers: its views have no driver dimension.
    expect(buildPlan(draft, presets, method({ method: 'docker', measurement: 'perf', storageDrivers: ['overlay2', 'vfs'] })).errors.plan).toMatch(/storageDrivers loops startup plans only/);
    expect(buildPlan(draft, presets, method({ measurement: 'perf', perfSyscalls: '-1' })).errors.perf).toMatch(/getpid/);
  });
});
