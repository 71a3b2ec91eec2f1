import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PENDING_SUFFIX } from '../agent/daemon-json.ts';
import { startDaemons, type TestDaemons } from './lab/daemons.ts';
import { createAgentWorkspace, readEvents, waitFor, type AgentWorkspace } from './lab/agent-process.ts';
import { finishedOf, stepsOf, stopMemoryRunMidStep } from './lab/memory-run.ts';

// Memory plans through ctr and docker, as they run on a lab host: the bundled agent against
// a real containerd and a real dockerd started for this file in a temp folder, with the
// real runc and runsc (ptrace, no network). Only relations are asserted, never numbers.
// Steps stay small (1 and 3 containers). After every run, and after an abort in the middle
// of a step, nothing of the run may be left: no container, task, snapshot or shim, and the
// user's daemon.json is back byte for byte.

const NAMESPACE = 'rlab-test-memory';
const RUNSC_ARGS = ['--network=none', '--platform=ptrace'];
const CRUN_HYBRID = 'cgroups in hybrid mode not supported';
// Odd spacing on purpose: a restore must give back these exact bytes.
const ORIGINAL_DAEMON_JSON = '{ "log-level" :"warn" }\n';

let ws: AgentWorkspace;
let daemons: TestDaemons;
/** Per method and runtime: PSS per container at 3 containers, for the report. */
const measured: Record<string, Record<string, number>> = {};

beforeAll(async () => {
  ws = await createAgentWorkspace('rlab-memory-daemons-');
  daemons = startDaemons(path.join(ws.work, 'lab'), ORIGINAL_DAEMON_JSON, [NAMESPACE]);
}, 180_000);

afterAll(() => {
  daemons?.stop();
  ws?.remove();
  if (Object.keys(measured).length > 0) console.log(`PSS per container at N=3 (MiB): ${JSON.stringify(measured)}`);
}, 180_000);

function memoryPlan(method: 'ctr' | 'docker', containers: number[], settleMs = 500): object {
  return {
    method, workload: 'loop', iterations: 1, warmups: 0, timeoutMs: 30_000,
    runtimes: [{ name: 'runc', binary: 'runc' }, { name: 'runsc', binary: 'runsc', globalArgs: RUNSC_ARGS }],
    memory: { containers, settleMs },
    ...(method === 'ctr'
      ? { containerd: { address: daemons.containerdAddress, namespace: NAMESPACE, snapshotter: 'overlayfs' } }
      : { docker: { host: daemons.dockerHost, daemonJson: daemons.daemonJson } }),
  };
}

/** What the agent's container IDs (and docker names) of run folder `name` start with. */
const prefixOf = (name: string) => `rlab-${name.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}-`;

function ctr(...args: string[]): string {
  const out = spawnSync('ctr', ['--address', daemons.containerdAddress, '--namespace', NAMESPACE, ...args], { encoding: 'utf8', timeout: 30_000 });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout;
}

function docker(...args: string[]): string {
  const out = spawnSync('docker', ['-H', daemons.dockerHost, ...args], { encoding: 'utf8', timeout: 30_000 });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout;
}

/**
 * Live shims, runsc sandboxes and gofers of this file's containerd (their arguments name its
 * temp root: the shim's -address, the sandbox's bundle under its state folder), and loops in
 * this file's ctr namespace (by cgroup: other suites may run loops of their own meanwhile).
 */
function runningUnderDaemons(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'Z') continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const name = path.basename(argv[0] ?? '');
      const helper = /^containerd-shim|^runsc-/.test(name) && argv.some((a) => a.includes(daemons.root));
      const loop = name === 'loop' && readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${NAMESPACE}/`);
      if (helper || loop) found.push(`${pid} ${argv.join(' ')}`);
    } catch {
      // gone
    }
  }
  return found;
}

function expectNothingLeft(method: 'ctr' | 'docker', runName: string): void {
  const prefix = prefixOf(runName);
  if (method === 'ctr') {
    expect(ctr('containers', 'ls', '--quiet').split('\n').filter((l) => l.startsWith(prefix))).toEqual([]);
    expect(ctr('tasks', 'ls').split('\n').slice(1).filter((l) => l.startsWith(prefix))).toEqual([]);
    expect(ctr('snapshots', '--snapshotter', 'overlayfs', 'ls').split('\n').filter((l) => l.startsWith(prefix))).toEqual([]);
  } else {
    expect(docker('ps', '--all', '--format', '{{.Names}}').split('\n').filter((l) => l.startsWith(prefix))).toEqual([]);
    expect(readFileSync(daemons.daemonJson, 'utf8')).toBe(ORIGINAL_DAEMON_JSON);
    expect(readdirSync(path.dirname(daemons.daemonJson)).filter((f) => f.endsWith(PENDING_SUFFIX))).toEqual([]);
  }
  expect(runningUnderDaemons()).toEqual([]);
}

describe.each(['ctr', 'docker'] as const)('memory plans through %s', (method) => {
  it('counts the shims, runsc sandboxes and gofers and the workloads of each step, and leaves nothing behind', async () => {
    const runName = `${method}steps`;
    const runDir = ws.runDirWith(runName, memoryPlan(method, [1, 3]));
    const { code, stderr } = await ws.run('run', '--run-dir', runDir);
    expect(stderr).toBe('');
    const events = readEvents(runDir);
    expect(finishedOf(events), JSON.stringify(events.filter((e) => e.type === 'log'))).toMatchObject({ status: 'completed' });
    expect(code).toBe(0);
    // Removal went the plain way: no shim had to be killed, nothing was found left over.
    expect(events.flatMap((e) => (e.type === 'log' && e.level !== 'info' ? [e.message] : []))).toEqual([]);
    const environment = events.find((e) => e.type === 'environment' && e.environment.image !== null);
    expect(environment?.type === 'environment' && environment.environment.method).toBe(method);
    expect(environment?.type === 'environment' && environment.environment.runtimes[0]?.argv.join(' ')).toMatch(method === 'ctr' ? / run -d --null-io / : / run -d --log-driver none /);

    const steps = stepsOf(events);
    expect(steps.map((s) => `${s.runtime}×${s.containers}`)).toEqual(['runc×1', 'runsc×1', 'runc×3', 'runsc×3']);
    for (const step of steps) {
      expect(step.ok, step.error ?? '').toBe(true);
      expect(step.running).toBe(step.containers);
      expect(step.output).toMatch(method === 'ctr' ? /--null-io/ : /--log-driver none/);
      for (const p of step.processes) expect(p.pssBytes, `${p.pid} ${p.comm} ${p.role}`).toBeGreaterThan(0);
      expect(step.totalPssBytes).toBe(step.processes.reduce((sum, p) => sum + p.pssBytes, 0));
      expect(step.perContainerPssBytes).toBeGreaterThan(0);
      expect(step.perContainerPssBytes).toBeCloseTo((step.totalPssBytes ?? 0) / step.containers);
      expect(step.perContainerMemAvailableDropBytes).toBeCloseTo((step.memAvailableDropBytes ?? 0) / step.containers);
      // One shim per container, started for this step (shim v2 groups only pods, and ctr and docker make none).
      const roles = step.processes.map((p) => p.role);
      expect(roles.filter((r) => r === 'shim'), roles.join(',')).toHaveLength(step.containers);
      expect(step.processes.filter((p) => p.role === 'shim').every((p) => p.comm.startsWith('containerd-shim'))).toBe(true);
      if (step.runtime === 'runc') {
        expect(roles.filter((r) => r === 'container')).toHaveLength(step.containers);
        expect(step.processes.filter((p) => p.role === 'container').every((p) => p.comm === 'loop')).toBe(true);
      } else {
        // runsc's footprint: its sandboxes (and their children) and gofers, one of each per container at least.
        expect(roles.filter((r) => r === 'gofer')).toHaveLength(step.containers);
        expect(roles.filter((r) => r === 'sandbox').length).toBeGreaterThanOrEqual(step.containers);
        expect(roles.every((r) => r === 'shim' || r === 'sandbox' || r === 'gofer')).toBe(true);
      }
      // The shared daemons are read beside the step, not counted in it.
      const expected = method === 'ctr' ? ['containerd'] : ['containerd', 'dockerd'];
      expect(step.daemons?.map((d) => d.process)).toEqual(expected);
      for (const d of step.daemons ?? []) expect(d.rssAfterBytes).toBeGreaterThan(0);
    }
    const at3 = (runtime: string) => steps.find((s) => s.runtime === runtime && s.containers === 3)!;
    measured[method] = Object.fromEntries(['runc', 'runsc'].map((r) => [r, Number(((at3(r).perContainerPssBytes ?? 0) / 2 ** 20).toFixed(2))]));
    expect(at3('runsc').perContainerPssBytes ?? 0).toBeGreaterThan(at3('runc').perContainerPssBytes ?? 0);
    expectNothingLeft(method, runName);
  }, 240_000);

  it('records a runtime that cannot start a container with its own words, and removes what was created', async () => {
    const runName = `${method}crun`;
    const plan = { ...memoryPlan(method, [1]), runtimes: [{ name: 'crun', binary: 'crun' }] };
    const runDir = ws.runDirWith(runName, plan);
    expect((await ws.run('run', '--run-dir', runDir)).code).toBe(0);
    const events = readEvents(runDir);
    expect(finishedOf(events)).toMatchObject({ status: 'completed' });
    const [step] = stepsOf(events);
    expect(step).toMatchObject({ runtime: 'crun', containers: 1, running: 0, ok: false, totalPssBytes: null, processes: [] });
    expect(step?.error).toContain(CRUN_HYBRID);
    expectNothingLeft(method, runName);
  }, 240_000);

  it('removes every container it started when stopped (SIGTERM) in the middle of a step', async () => {
    const runName = `${method}abort`;
    const runDir = ws.runDirWith(runName, memoryPlan(method, [2], 60_000));
    const prefix = prefixOf(runName);
    const up = () => (method === 'ctr'
      ? ctr('tasks', 'ls').split('\n').filter((l) => l.startsWith(prefix) && /RUNNING/.test(l))
      : docker('ps', '--format', '{{.Names}}').split('\n').filter((l) => l.startsWith(prefix)));
    // Both runc containers up: the agent is now waiting out the settle time.
    await stopMemoryRunMidStep(ws, runDir, () => waitFor('two containers', () => up().length === 2, 120_000), () => {
      if (method === 'docker') expect(readFileSync(daemons.daemonJson, 'utf8')).not.toBe(ORIGINAL_DAEMON_JSON);
    });
    expectNothingLeft(method, runName);
  }, 240_000);
});
