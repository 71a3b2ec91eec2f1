import { describe, expect, it } from 'vitest';
import { DAEMON_USAGE_CSV_COLUMNS, daemonUsageToCsv } from '../shared/daemon-usage-csv.ts';
import type { DaemonUsageReading, EnvironmentInfo } from '../shared/model/run-record.ts';
import { RunMeta } from '../shared/model/run.ts';
import { buildPlan, DEFAULT_METHOD_DRAFT, type MethodDraft } from '../renderer/components/bench/plan-draft.ts';
import type { BenchDraft } from '../renderer/store/runs-store.ts';
import { hostFacts } from './lab/host-facts-fixture.ts';

// The daemon readings CSV, and the Benchmarks form's method options as a plan.

const run: RunMeta = RunMeta.parse({
  id: 'run-ctr-1',
  hostName: 'lab',
  method: 'ctr',
  plan: { method: 'ctr', runtimes: [{ name: 'runc', binary: 'runc' }], iterations: 3 },
  facts: hostFacts(),
  versions: [],
  bundle: null,
  startedAt: '2025-01-01T00:00:00.000Z',
  finishedAt: null,
  status: 'running',
  statusMessage: null,
});

const environment: EnvironmentInfo = {
  method: 'ctr',
  kernel: '6.1.0-amd64',
  cgroup: { mode: 'hybrid', driver: 'cgroupfs' },
  components: [{ component: 'containerd', version: '1.6.20' }],
  containerd: {
    address: '/run/containerd/containerd.sock',
    namespace: 'runtime-lab',
    snapshotter: 'overlayfs',
    snapshotterStatus: 'ok',
    snapshotterError: null,
    snapshotters: { overlayfs: 'ok' },
    legacyRuntimeV1: null,
  },
  docker: null,
  image: null,
  runtimes: [],
};

const readings: DaemonUsageReading[] = [
  { at: '2025-01-01T00:00:01.500Z', process: 'containerd', pid: 10, cpuPercent: 21.5, rssBytes: 40_000_000 },
  { at: '2025-01-01T00:00:01.500Z', process: 'containerd-shim-runc-v2', pid: 20, cpuPercent: 3, rssBytes: 12_000_000 },
];

describe('daemonUsageToCsv', () => {
  it('writes one CRLF row per reading with the run, elapsed seconds and the environment', () => {
    const lines = daemonUsageToCsv(run, environment, readings).split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(DAEMON_USAGE_CSV_COLUMNS.join(','));
    expect(lines.slice(1)).toEqual([
      'run-ctr-1,lab,ctr,2025-01-01T00:00:01.500Z,1.5,containerd,10,21.5,40000000,6.1.0-amd64,hybrid,overlayfs,',
      'run-ctr-1,lab,ctr,2025-01-01T00:00:01.500Z,1.5,containerd-shim-runc-v2,20,3,12000000,6.1.0-amd64,hybrid,overlayfs,',
    ]);
  });

  it('falls back to the host facts when no environment was recorded', () => {
    const lines = daemonUsageToCsv(run, null, readings.slice(0, 1)).split('\r\n').filter(Boolean);
    expect(lines[1]).toBe('run-ctr-1,lab,ctr,2025-01-01T00:00:01.500Z,1.5,containerd,10,21.5,40000000,6.1.0-amd64,hybrid,,');
  });
});

describe('buildPlan with a method', () => {
  const draft: BenchDraft = { hostId: 'h', picked: {}, flags: {}, iterations: '5', warmups: '1', order: 'round-robin', seed: '', timeoutSec: '30' };
  const presets = [
    { name: 'runc', binary: '/usr/sbin/runc', globalArgs: [], lifecycle: 'run' as const },
    { name: 'runsc', binary: '/usr/bin/runsc', globalArgs: ['--network=none'], lifecycle: 'run' as const },
  ];
  const method = (patch: Partial<MethodDraft>): MethodDraft => ({ ...DEFAULT_METHOD_DRAFT, ...patch });

  it('keeps oci-direct plans as before', () => {
    const { plan } = buildPlan(draft, presets);
    expect(plan?.method).toBe('oci-direct');
    expect(plan && 'containerd' in plan).toBe(false);
  });

  it('carries only the ctr options typed, and a runtime type per runtime', () => {
    const { plan, errors } = buildPlan(draft, presets, method({ method: 'ctr', containerdAddress: ' /tmp/c.sock ', snapshotter: 'native', daemonSampleMs: '100', ctrRuntimeType: { runsc: 'io.containerd.runsc.v1' } }));
    expect(errors).toEqual({});
    expect(plan?.method).toBe('ctr');
    expect(plan?.containerd).toEqual({ address: '/tmp/c.sock', snapshotter: 'native' });
    expect(plan?.daemonSampleMs).toBe(100);
    expect(plan?.runtimes.find((r) => r.name === 'runc')?.ctr).toBeUndefined();
    expect(plan?.runtimes.find((r) => r.name === 'runsc')?.ctr).toEqual({ runtimeType: 'io.containerd.runsc.v1' });
  });

  it('says where a ctr or docker option is wrong', () => {
    expect(buildPlan(draft, presets, method({ method: 'ctr', ctrRuntimeType: { runc: 'runc' } })).errors.methodRuntime?.runc).toMatch(/runtime type/);
    expect(buildPlan(draft, presets, method({ method: 'ctr', snapshotter: 'Over Lay' })).errors.containerd).toMatch(/snapshotter/);
    expect(buildPlan(draft, presets, method({ method: 'docker', dockerHost: '/var/run/docker.sock' })).errors.docker).toMatch(/host/);
    expect(buildPlan(draft, presets, method({ method: 'docker', daemonSampleMs: '10' })).errors.daemonSample).toBeDefined();
  });

  it('builds a docker plan with the expected storage driver and runtime names', () => {
    const { plan } = buildPlan(draft, presets, method({ method: 'docker', storageDriver: 'overlay2', dockerRuntime: { runsc: 'runsc' } }));
    expect(plan?.docker).toEqual({ storageDriver: 'overlay2' });
    expect(plan?.runtimes.find((r) => r.name === 'runsc')?.docker).toEqual({ runtime: 'runsc' });
  });
});
