import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultsStore } from '../services/results/results-store.ts';
import { memoryStepsToCsv } from '../shared/csv-export.ts';
import { Plan } from '../shared/model/plan.ts';
import { RunMeta } from '../shared/model/run.ts';
import type { MemoryStep } from '../shared/model/run-record.ts';
import { createAgentWorkspace, readEvents, waitFor, type AgentWorkspace } from './lab/agent-process.ts';
import { hostFacts } from './lab/host-facts-fixture.ts';
import { finishedOf, stepsOf, stopMemoryRunMidStep } from './lab/memory-run.ts';

// Memory plans as they run on a lab host: the bundled agent started with node, driving
// the real runc, runsc (ptrace, no network) and crun (fails on this host's hybrid
// cgroups). Only relations are asserted, never numbers. Steps stay small (1 and 3
// containers) to keep the suite fast; every test checks that nothing is left running.

const RUNSC_ARGS = ['--network=none', '--platform=ptrace'];
const CRUN_HYBRID = 'cgroups in hybrid mode not supported';
const root = path.resolve(import.meta.dirname, '..');

let ws: AgentWorkspace;
const runDirWith = (name: string, plan: object) => ws.runDirWith(name, plan);
const startAgent = (...args: string[]) => ws.start(...args);

beforeAll(async () => {
  ws = await createAgentWorkspace('rlab-memory-test-');
});

afterAll(() => {
  ws?.remove();
});

function memoryPlan(runtimes: string[], containers: number[], extra: { settleMs?: number; safetyMarginBytes?: number } = {}): object {
  const specs: Record<string, object> = {
    runc: { name: 'runc', binary: 'runc' },
    runsc: { name: 'runsc', binary: 'runsc', globalArgs: RUNSC_ARGS },
    crun: { name: 'crun', binary: 'crun' },
  };
  return {
    method: 'oci-direct', workload: 'loop', iterations: 1, warmups: 0, timeoutMs: 30_000,
    runtimes: runtimes.map((r) => specs[r]),
    memory: { containers, settleMs: extra.settleMs ?? 500, ...(extra.safetyMarginBytes !== undefined ? { safetyMarginBytes: extra.safetyMarginBytes } : {}) },
  };
}




/** Containers of this run (IDs start rlab-<run>-) the runtime still lists. */
function listed(binary: string, runName: string, args: string[] = []): string[] {
  // --quiet: runsc knows no -q.
  const out = spawnSync(binary, [...args, 'list', '--quiet'], { encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout.split('\n').filter((id) => id.startsWith(`rlab-${runName.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}-`));
}

/** Processes whose command line names the run folder (runsc's sandbox and gofer name the bundle) or run its loop. */
function processesOf(runDir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmdline.includes(runDir)) found.push(`${pid} ${cmdline}`);
  }
  return found;
}

function expectNothingLeft(runDir: string, runName: string): void {
  expect(listed('runc', runName)).toEqual([]);
  expect(listed('runsc', runName, RUNSC_ARGS)).toEqual([]);
  expect(processesOf(runDir)).toEqual([]);
}


describe('memory plans', () => {
  it('keeps plans without memory options valid and ties the loop workload to memory plans', () => {
    const startup = { method: 'oci-direct', iterations: 3, runtimes: [{ name: 'runc', binary: 'runc' }] };
    expect(Plan.safeParse(startup).success).toBe(true);
    expect(Plan.parse(startup).memory).toBeUndefined();
    expect(Plan.safeParse({ ...startup, workload: 'loop' }).success).toBe(false);
    expect(Plan.safeParse({ ...startup, memory: { containers: [1] } }).success).toBe(false); // workload must say loop
    expect(Plan.safeParse({ ...startup, workload: 'loop', memory: { containers: [1, 5] } }).success).toBe(true);
    // Through ctr and docker too (tests/agent-memory-daemons.test.ts); CRI has no memory plan.
    expect(Plan.safeParse({ ...startup, method: 'ctr', workload: 'loop', memory: { containers: [1] } }).success).toBe(true);
    expect(Plan.safeParse({ ...startup, method: 'docker', workload: 'loop', memory: { containers: [1] } }).success).toBe(true);
    expect(Plan.safeParse({ ...startup, method: 'cri', workload: 'loop', memory: { containers: [1] } }).success).toBe(false);
  });

  it('measures runc and runsc step by step, records crun failing, and leaves nothing running', async () => {
    const runDir = runDirWith('steps', memoryPlan(['runc', 'runsc', 'crun'], [1, 3]));
    const { code, stderr } = await startAgent('run', '--run-dir', runDir).done;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const events = readEvents(runDir);
    expect(finishedOf(events)?.status).toBe('completed');
    const bundle = events.find((e) => e.type === 'bundle');
    expect(bundle?.type === 'bundle' && bundle.bundle.workload).toBe('loop');

    const steps = stepsOf(events);
    // Runtimes interleaved per step: N=1 for each runtime, then N=3 for each.
    expect(steps.map((s) => `${s.runtime}×${s.containers}`)).toEqual(['runc×1', 'runsc×1', 'crun×1', 'runc×3', 'runsc×3', 'crun×3']);
    expect(steps.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4, 5]);

    for (const step of steps.filter((s) => s.runtime !== 'crun')) {
      expect(step.ok, step.error ?? '').toBe(true);
      expect(step.running).toBe(step.containers);
      expect(step.settleMs).toBe(500);
      expect(step.output).toMatch(/\/dev\/null/);
      expect(step.processes.length).toBeGreaterThan(0);
      for (const p of step.processes) expect(p.pssBytes, `${p.pid} ${p.comm}`).toBeGreaterThan(0);
      expect(step.totalPssBytes).toBe(step.processes.reduce((sum, p) => sum + p.pssBytes, 0));
      expect(step.perContainerPssBytes).toBeCloseTo((step.totalPssBytes ?? 0) / step.containers);
      expect(step.perContainerPssBytes).toBeGreaterThan(0);
      expect(step.memAvailableBeforeBytes).toBeGreaterThan(0);
      expect(step.perContainerMemAvailableDropBytes).toBeCloseTo((step.memAvailableDropBytes ?? 0) / step.containers);
    }
    for (const n of [1, 3]) {
      const runc = steps.find((s) => s.runtime === 'runc' && s.containers === n) as MemoryStep;
      const runsc = steps.find((s) => s.runtime === 'runsc' && s.containers === n) as MemoryStep;
      // runc adds nothing but the workload itself: one process per container.
      expect(runc.processes.map((p) => p.role)).toEqual(Array(n).fill('container'));
      expect(runc.processes.every((p) => p.comm === 'loop')).toBe(true);
      // runsc's footprint is its sandboxes and gofers (and the sandboxes' children), one of each per container.
      const roles = runsc.processes.map((p) => p.role);
      expect(roles.every((r) => r === 'sandbox' || r === 'gofer')).toBe(true);
      expect(roles.filter((r) => r === 'gofer')).toHaveLength(n);
      expect(roles.filter((r) => r === 'sandbox').length).toBeGreaterThanOrEqual(n);
      expect(runsc.perContainerPssBytes ?? 0).toBeGreaterThan(runc.perContainerPssBytes ?? 0);
    }
    for (const crun of steps.filter((s) => s.runtime === 'crun')) {
      expect(crun.ok).toBe(false);
      expect(crun.error).toContain(CRUN_HYBRID);
      expect(crun.running).toBe(0);
      expect(crun.totalPssBytes).toBeNull();
      expect(crun.processes).toEqual([]);
    }
    expectNothingLeft(runDir, 'steps');
  }, 120_000);

  it('refuses a step that would take MemAvailable below the safety margin, and says why', async () => {
    const runDir = runDirWith('refused', memoryPlan(['runc'], [1], { safetyMarginBytes: 1024 ** 5 }));
    const { code } = await startAgent('run', '--run-dir', runDir).done;
    expect(code).toBe(0);
    const [step] = stepsOf(readEvents(runDir));
    expect(step?.ok).toBe(false);
    expect(step?.error).toMatch(/^refused: 1 containers would need about .* MemAvailable is .* must remain/);
    expect(step?.running).toBe(0);
    expectNothingLeft(runDir, 'refused');
  }, 60_000);

  it('records a step that failed part-way with the runtime\'s words and deletes the containers it did start', async () => {
    // runc behind a wrapper whose second `run` fails: one container is up when the step fails.
    const wrapper = path.join(ws.work, 'flaky-runc');
    const counter = path.join(ws.work, 'flaky-count');
    writeFileSync(
      wrapper,
      `#!/bin/sh\ncase " $* " in *" run "*) n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; ` +
        `if [ $n -eq 2 ]; then echo "flaky: refused to start a second container" >&2; exit 3; fi;; esac\nexec runc "$@"\n`,
      { mode: 0o755 },
    );
    const plan = memoryPlan(['runc'], [3]) as { runtimes: object[] };
    plan.runtimes = [{ name: 'flaky', binary: wrapper }];
    const runDir = runDirWith('flaky', plan);
    const { code } = await startAgent('run', '--run-dir', runDir).done;
    expect(code).toBe(0);
    const events = readEvents(runDir);
    expect(finishedOf(events)?.status).toBe('completed');
    const [step] = stepsOf(events);
    expect(step).toMatchObject({ runtime: 'flaky', containers: 3, running: 1, ok: false, totalPssBytes: null, processes: [] });
    expect(step?.error).toContain('flaky: refused to start a second container');
    expectNothingLeft(runDir, 'flaky');
  }, 60_000);

  it('deletes every container it started when stopped (SIGTERM) in the middle of a step', async () => {
    const runDir = runDirWith('aborted', memoryPlan(['runsc', 'runc'], [2], { settleMs: 60_000 }));
    // Both runsc containers up: the agent is now waiting out the settle time.
    await stopMemoryRunMidStep(ws, runDir, () => waitFor('two runsc containers', () => listed('runsc', 'aborted', RUNSC_ARGS).length === 2, 60_000), () => {
      expect(processesOf(runDir).length).toBeGreaterThan(0);
    });
    expectNothingLeft(runDir, 'aborted');
  }, 120_000);
});

describe('memory steps in the results store and CSV', () => {
  it('stores steps with their processes once (a resent tail is ignored) and exports them', () => {
    const store = ResultsStore.open(path.join(ws.work, 'store', 'results.db'));
    try {
      const meta = RunMeta.parse({
        id: 'mem-1', hostName: 'lab-1', method: 'oci-direct',
        plan: memoryPlan(['runc', 'crun'], [1]),
        facts: hostFacts({
          os: { prettyName: 'Debian', distroId: 'debian', distroVersion: '12', kernel: '6.1.0', arch: 'x86_64' },
        }),
        versions: [], bundle: null, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: null, status: 'running', statusMessage: null,
      });
      store.createRun(meta);
      store.setFollow('mem-1', { hostId: 'h', remoteDir: '/tmp/x', agent: {} });
      const ok: MemoryStep = {
        seq: 0, runtime: 'runc', containers: 1, running: 1, at: '2025-01-01T00:00:01.000Z', ok: true, error: null,
        totalPssBytes: 700_000, perContainerPssBytes: 700_000, memAvailableDropBytes: -4096, perContainerMemAvailableDropBytes: -4096,
        memAvailableBeforeBytes: 6e9, processes: [{ pid: 42, comm: 'loop', role: 'container', pssBytes: 700_000 }], settleMs: 500, output: '/dev/null',
      };
      const failed: MemoryStep = {
        ...ok, seq: 1, runtime: 'crun', running: 0, ok: false, error: `run x: ${CRUN_HYBRID}\nsecond line`,
        totalPssBytes: null, perContainerPssBytes: null, memAvailableDropBytes: null, perContainerMemAvailableDropBytes: null, processes: [],
      };
      store.recordTail('mem-1', [], 100, [], [ok]);
      store.recordTail('mem-1', [], 200, [], [ok, failed]); // the first again, as after a reconnect
      expect(store.getMemorySteps('mem-1')).toEqual([ok, failed]);
      expect(store.getFollow('mem-1')?.tailOffset).toBe(200);
      expect(store.getRun('mem-1').meta.plan.memory).toEqual({ containers: [1], settleMs: 500 });

      const rows = memoryStepsToCsv(store.getRun('mem-1').meta, store.getMemorySteps('mem-1')).split('\r\n');
      expect(rows[1]).toMatch(/^mem-1,lab-1,oci-direct,runc,1,1,true,,700000,700000,-4096,-4096,6000000000,500,\/dev\/null,42 loop container 700000,,0,/);
      expect(rows[2]).toContain(`"run x: ${CRUN_HYBRID}\nsecond line"`);
    } finally {
      store.close();
    }
  });
});

describe('runtime-lab memory', () => {
  it('prints a table per step, writes CSV and JSON, and stores the steps', async () => {
    const dataDir = path.join(ws.work, 'cli-data');
    const csv = path.join(ws.work, 'memory.csv');
    const json = path.join(ws.work, 'memory.json');
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [path.join(root, 'bin/runtime-lab.mjs'), 'memory', 'local', '--runtime', 'runc', '--runtime', 'runsc', '--containers', '1', '--settle', '300', '--csv', csv, '--json', json],
        { env: { ...process.env, RUNTIME_LAB_DATA_DIR: dataDir }, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^runtime\s+N\s+PSS\/container MiB\s+MemAvailable drop\/container MiB\s+processes counted\s+status$/);
    expect(lines[1]).toMatch(/^runc\s+1\s+\d+\.\d\d\s+-?\d+\.\d\d\s+1 \(1 container\)\s+ok$/);
    expect(lines[2]).toMatch(/^runsc\s+1\s+\d+\.\d\d\s+-?\d+\.\d\d\s+\d+ \(\d+ sandbox, 1 gofer\)\s+ok$/);
    const csvText = readFileSync(csv, 'utf8');
    expect(csvText.split('\r\n')[0]).toMatch(/^run_id,host,method,runtime,containers,running,ok,error,total_pss_bytes,per_container_pss_bytes,/);
    expect(csvText.split('\r\n').filter(Boolean)).toHaveLength(3);
    const parsed = JSON.parse(readFileSync(json, 'utf8')) as { run: { plan: { memory: unknown } }; steps: MemoryStep[] };
    expect(parsed.run.plan.memory).toEqual({ containers: [1], settleMs: 300 });
    expect(parsed.steps.map((s) => s.runtime)).toEqual(['runc', 'runsc']);
    expect(parsed.steps.every((s) => s.ok && s.processes.every((p) => p.pssBytes > 0))).toBe(true);
    // Every container deleted (IDs start with the run ID's first characters).
    const runId = (parsed.run as unknown as { id: string }).id;
    expect(listed('runc', runId)).toEqual([]);
    expect(listed('runsc', runId, RUNSC_ARGS)).toEqual([]);
  }, 120_000);

  it('refuses --containers that are not whole numbers', async () => {
    const child = spawnSync(process.execPath, [path.join(root, 'bin/runtime-lab.mjs'), 'memory', 'local', '--runtime', 'runc', '--containers', '1,x'], {
      encoding: 'utf8', env: { ...process.env, RUNTIME_LAB_DATA_DIR: path.join(ws.work, 'cli-data') }, cwd: root,
    });
    expect(child.status).not.toBe(0);
    expect(child.stderr).toMatch(/--containers takes whole numbers/);
  });
});
