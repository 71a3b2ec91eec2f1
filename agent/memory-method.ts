import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MEMORY_SETTLE_MS, type MeasurementMethod, type RuntimeSpec } from '../shared/model/plan.ts';
import type { BundleInfo, MemoryDaemon, MemoryProcess, MemoryStep } from '../shared/model/run-record.ts';
import type { MethodRun } from './method-run.ts';
import { prepareLoopBundle } from './loop-workload.ts';
import { createCtrMemoryDriver } from './memory-ctr.ts';
import { createDockerMemoryDriver } from './memory-docker.ts';
import { createOciDirectMemoryDriver } from './memory-oci-direct.ts';
import { descendants, listProcesses, procKey, readArgv, readMemInfo, readPssBytes, readRssBytes, type ProcInfo } from './process-tree.ts';

// A memory plan (plan.memory set): the seed's loop.c kept running in N containers of one
// runtime, for each N of plan.memory.containers and each runtime in turn (runtimes
// interleaved per step), started the plan's way — the runtime on a bundle (oci-direct),
// `ctr run -d`, or `docker run -d` (a driver per method). After the settle time the agent
// counts every process the step added and sums their PSS (/proc/PID/smaps_rollup), and
// reads how far MemAvailable dropped. Every container of a step is removed before the next
// step, and again (by name) at the end, on failure and on abort.
//
// Which processes a step added: /proc after the step minus /proc before it, kept only when
// they descend from the roots the driver names — the containers' inits and, through a
// daemon, the shims started for this step's containers (not other users' containers).
// The daemons themselves serve every container: their memory change is recorded beside
// the step, not in its totals.

export type MemoryRun = MethodRun;

/** What a driver found after the settle time: where counting starts. */
export interface LocatedContainers {
  /** Each container's init as the runtime or daemon reports it (runc: the workload; runsc: runsc-sandbox). */
  inits: Set<number>;
  /** Processes whose descendants (themselves included) are the step's: inits, shims, helpers naming the bundle. */
  roots: Set<number>;
}

/** How one method starts, finds and removes a step's containers. */
export interface MemoryDriver {
  /** Where the workload's output goes (MemoryStep.output). */
  output: string;
  /** The ID (or name) container `index` of a run gets; the driver's daemon must accept it. */
  containerId(runtime: RuntimeSpec, index: number): string;
  /** Starts one container detached; the error text, or null. */
  start(runtime: RuntimeSpec, id: string): Promise<string | null>;
  /** After the settle time: every container must be running; `running` counts those that are. */
  locate(runtime: RuntimeSpec, ids: readonly string[]): Promise<LocatedContainers | { error: string; running: number }>;
  /** Removes the containers and empties the list. Not abortable; never throws. */
  remove(runtime: RuntimeSpec, ids: string[]): Promise<void>;
  /** At the end: removes whatever of this run the runtime or daemon still lists. Never throws. */
  sweep(): Promise<void>;
  /** The shared daemons (pids now) whose memory is recorded beside each step. */
  daemons(): Array<Pick<MemoryDaemon, 'process' | 'pid'>>;
  /** Gives back what the driver changed on the host (docker: daemon.json). Never throws. */
  close(): Promise<void>;
}

export interface DriverSetup {
  timeoutMs: number;
  scratchDir: string;
  signal: AbortSignal;
}

/** Prepares the method (image, runtimes, daemon checks) and records its versions; null when aborted meanwhile. */
type DriverFactory = (run: MemoryRun, bundle: BundleInfo, setup: DriverSetup) => Promise<MemoryDriver | null>;

const DRIVERS: Record<Exclude<MeasurementMethod, 'cri'>, DriverFactory> = {
  'oci-direct': createOciDirectMemoryDriver,
  ctr: createCtrMemoryDriver,
  docker: createDockerMemoryDriver,
};

const MIB = 1024 * 1024;
/** Assumed cost of one container before a runtime has been measured once (generous: runsc ≈ 30 MiB here). */
const FIRST_ESTIMATE_BYTES = 64 * MIB;
/** The last measured cost is scaled by this when predicting a larger step. */
const ESTIMATE_FACTOR = 1.5;
/** How long preparation (image import, daemon.json reload) may take at least. */
const SETUP_TIMEOUT_MS = 60_000;

export async function runMemory(run: MemoryRun): Promise<'completed' | 'aborted'> {
  const { plan, signal, emit } = run;
  const memory = plan.memory;
  if (!memory) throw new Error('runMemory needs a plan with memory options');
  if (plan.method === 'cri') throw new Error('memory plans use method oci-direct, ctr or docker');
  const settleMs = memory.settleMs ?? DEFAULT_MEMORY_SETTLE_MS;
  const scratchDir = path.join(run.runDir, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  const started = new Map<string, string[]>(plan.runtimes.map((r) => [r.name, []]));
  let driver: MemoryDriver | null = null;
  try {
    const bundle = prepareLoopBundle(path.join(run.runDir, 'bundle'));
    for (const message of bundle.warnings) emit({ type: 'log', level: 'warn', message });
    emit({ type: 'bundle', bundle: bundle.info });
    driver = await DRIVERS[plan.method](run, bundle.info, { timeoutMs: Math.max(plan.timeoutMs, SETUP_TIMEOUT_MS), scratchDir, signal });
    if (!driver || signal.aborted) return 'aborted';
    emit({ type: 'log', level: 'info', message: `memory: workload output: ${driver.output}` });

    const { totalBytes } = readMemInfo();
    const marginBytes = memory.safetyMarginBytes ?? Math.max(512 * MIB, Math.round(totalBytes * 0.1));
    emit({ type: 'log', level: 'info', message: `memory: method ${plan.method}; steps ${memory.containers.join(', ')}; settle ${settleMs} ms; MemAvailable must stay above ${mib(marginBytes)}` });
    /** Per runtime: bytes per container measured at its last successful step. */
    const measuredCost = new Map<string, number>();

    let seq = 0;
    for (const n of memory.containers) {
      for (const runtime of plan.runtimes) {
        if (signal.aborted) return 'aborted';
        const ids = started.get(runtime.name) as string[];
        const step = await measureStep({ run, driver, runtime, n, seq, settleMs, marginBytes, ids, estimate: measuredCost.get(runtime.name) });
        seq += 1;
        // Cleanup comes before the step is reported, so the next step starts from a clean host.
        await driver.remove(runtime, ids);
        if (step === 'aborted') return 'aborted';
        if (step.ok && step.perContainerPssBytes !== null) {
          measuredCost.set(runtime.name, Math.max(step.perContainerPssBytes, step.perContainerMemAvailableDropBytes ?? 0));
        }
        emit({ type: 'memory-step', ...step });
        emit({ type: 'log', level: step.ok ? 'info' : 'warn', message: describeStep(step) });
      }
    }
    return 'completed';
  } finally {
    if (driver) {
      for (const runtime of plan.runtimes) await driver.remove(runtime, started.get(runtime.name) ?? []);
      await driver.sweep();
      await driver.close();
    }
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

interface StepInput {
  run: MemoryRun;
  driver: MemoryDriver;
  runtime: RuntimeSpec;
  n: number;
  seq: number;
  settleMs: number;
  marginBytes: number;
  /** Filled with every container ID started, for the caller to remove. */
  ids: string[];
  estimate: number | undefined;
}

async function measureStep(input: StepInput): Promise<MemoryStep | 'aborted'> {
  const { run, driver, runtime, n, seq, settleMs, marginBytes, ids } = input;
  const { signal } = run;
  const at = new Date().toISOString();
  const base = {
    seq, runtime: runtime.name, containers: n, at, settleMs, output: driver.output,
    totalPssBytes: null, perContainerPssBytes: null, memAvailableDropBytes: null, perContainerMemAvailableDropBytes: null,
  };
  const failed = (error: string, running: number, before: number | null): MemoryStep => ({ ...base, ok: false, error, running, memAvailableBeforeBytes: before, processes: [] });

  const before = readMemInfo().availableBytes;
  const perContainer = input.estimate === undefined ? FIRST_ESTIMATE_BYTES : input.estimate * ESTIMATE_FACTOR;
  const predicted = Math.round(n * perContainer);
  if (before - predicted < marginBytes) {
    const basis = input.estimate === undefined ? `${mib(FIRST_ESTIMATE_BYTES)} per container (not measured yet)` : `${mib(perContainer)} per container (${ESTIMATE_FACTOR} × its last step)`;
    return failed(`refused: ${n} containers would need about ${mib(predicted)} at ${basis}; MemAvailable is ${mib(before)} and ${mib(marginBytes)} must remain`, 0, before);
  }

  const daemonsBefore = driver.daemons().map((d) => ({ ...d, rss: readRssBytes(d.pid), pss: readPssBytes(d.pid) }));
  const baseline = new Set(listProcesses().map(procKey));
  for (let i = 0; i < n; i++) {
    if (signal.aborted) return 'aborted';
    const available = readMemInfo().availableBytes;
    if (available < marginBytes) {
      return failed(`refused: stopped after ${i} of ${n} containers, MemAvailable ${mib(available)} fell below the ${mib(marginBytes)} margin`, i, before);
    }
    const id = driver.containerId(runtime, seq * 10_000 + i);
    ids.push(id);
    const error = await driver.start(runtime, id);
    if (error !== null) return failed(error, i, before);
  }
  if (!(await sleep(settleMs, signal))) return 'aborted';

  const after = readMemInfo().availableBytes;
  const daemons: MemoryDaemon[] = daemonsBefore.map((d) => ({
    process: d.process, pid: d.pid, rssBeforeBytes: d.rss, pssBeforeBytes: d.pss, rssAfterBytes: readRssBytes(d.pid), pssAfterBytes: readPssBytes(d.pid),
  }));
  const located = await driver.locate(runtime, ids);
  if ('error' in located) return failed(located.error, located.running, before);

  const processes = countedProcesses(baseline, located.roots, located.inits);
  const totalPssBytes = processes.reduce((sum, p) => sum + p.pssBytes, 0);
  const drop = before - after;
  return {
    ...base,
    ok: true,
    error: null,
    running: ids.length,
    totalPssBytes,
    perContainerPssBytes: totalPssBytes / n,
    memAvailableDropBytes: drop,
    perContainerMemAvailableDropBytes: drop / n,
    memAvailableBeforeBytes: before,
    processes,
    ...(daemons.length > 0 ? { daemons } : {}),
  };
}

/** The processes this step added that descend from `roots`, each with its PSS and role. */
function countedProcesses(baseline: ReadonlySet<string>, roots: ReadonlySet<number>, initPids: ReadonlySet<number>): MemoryProcess[] {
  const all = listProcesses();
  const isNew = (p: ProcInfo) => !baseline.has(procKey(p));
  const tree = descendants(all, roots);
  const byPid = new Map(all.map((p) => [p.pid, p]));

  // Roles: runsc's helpers, shims and runtimes by their argv[0]; a container init and what it forks: container.
  const roleRoot = new Map<number, MemoryProcess['role']>();
  const roleOf = (pid: number): MemoryProcess['role'] => {
    const known = roleRoot.get(pid);
    if (known) return known;
    const name = path.basename(readArgv(pid)[0] ?? '');
    let role: MemoryProcess['role'];
    if (name === 'runsc-sandbox') role = 'sandbox';
    else if (name === 'runsc-gofer') role = 'gofer';
    else if (/^containerd-shim/.test(name)) role = 'shim';
    else if (/^(runc|runsc|crun|youki|kata-runtime|runnc)$/.test(name)) role = 'runtime';
    else if (initPids.has(pid)) role = 'container';
    else {
      const parent = byPid.get(pid)?.ppid;
      // A shim's other children (not its container's init) are not the container.
      role = parent !== undefined && tree.has(parent) && roleOf(parent) !== 'shim' ? roleOf(parent) : 'other';
    }
    roleRoot.set(pid, role);
    return role;
  };

  const counted: MemoryProcess[] = [];
  for (const pid of [...tree].sort((a, b) => a - b)) {
    const info = byPid.get(pid);
    if (!info || !isNew(info)) continue;
    const pss = readPssBytes(pid);
    if (pss === null) continue; // gone meanwhile
    counted.push({ pid, comm: info.comm, role: roleOf(pid), pssBytes: pss });
  }
  return counted;
}

/** The log line of a step: its figures, what was counted, and the daemons' change. */
function describeStep(step: MemoryStep): string {
  const head = `memory: ${step.runtime} × ${step.containers}`;
  if (!step.ok) return `${head} failed: ${(step.error ?? '').split('\n')[0] ?? ''}`;
  const roles = new Map<string, number>();
  for (const p of step.processes) roles.set(p.role, (roles.get(p.role) ?? 0) + 1);
  const counted = [...roles].map(([role, k]) => `${k} ${role}`).join(', ');
  const daemons = (step.daemons ?? []).map((d) => `${d.process} RSS ${signedMib(d.rssBeforeBytes, d.rssAfterBytes)}, PSS ${signedMib(d.pssBeforeBytes, d.pssAfterBytes)}`);
  return `${head}: PSS ${mib(step.perContainerPssBytes ?? 0)} per container, MemAvailable drop ${mib(step.perContainerMemAvailableDropBytes ?? 0)} per container ` +
    `(${step.processes.length} processes: ${counted || 'none'})${daemons.length > 0 ? `; shared daemons, not counted: ${daemons.join('; ')}` : ''}`;
}

function signedMib(before: number | null, after: number | null): string {
  if (before === null || after === null) return '?';
  const change = after - before;
  return `${change >= 0 ? '+' : '−'}${mib(Math.abs(change))}`;
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}
