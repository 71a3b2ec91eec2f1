import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MEMORY_SETTLE_MS, type Plan, type RuntimeSpec } from '../shared/model/plan.ts';
import type { AgentEvent, MemoryProcess, MemoryStep } from '../shared/model/run-record.ts';
import { LOOP_OUTPUT, prepareLoopBundle } from './loop-workload.ts';
import { containerId } from './oci-direct.ts';
import { descendants, listProcesses, procKey, readCmdline, readMemInfo, readPssBytes, type ProcInfo } from './process-tree.ts';
import { spawnTimed } from './spawn-timed.ts';

// A memory plan (plan.memory set, method oci-direct): the seed's loop.c kept running in N
// containers of one runtime, for each N of plan.memory.containers and each runtime in
// turn (runtimes interleaved per step). After the settle time the agent counts every
// process the runtime added and sums their PSS (/proc/PID/smaps_rollup), and reads how
// far MemAvailable dropped. Every container of a step is deleted before the next step,
// and again (by name) at the end, on failure and on abort.
//
// Which processes the runtime added: /proc after the step minus /proc before it, kept
// only when the process belongs to this run — it is a container's init as `RUNTIME state`
// names it (runc: the workload; runsc: runsc-sandbox), its command line names this run's
// bundle (runsc-gofer, runsc-sandbox), or it descends from one of those (runsc's ptrace
// stubs). Other processes that started meanwhile on the host are not counted.

export interface MemoryRun {
  plan: Plan;
  runId: string;
  runDir: string;
  signal: AbortSignal;
  emit: (event: AgentEvent) => void;
}

const MIB = 1024 * 1024;
/** Assumed cost of one container before a runtime has been measured once (generous: runsc ≈ 30 MiB here). */
const FIRST_ESTIMATE_BYTES = 64 * MIB;
/** The last measured cost is scaled by this when predicting a larger step. */
const ESTIMATE_FACTOR = 1.5;
const STDERR_CAP = 4096;
const NOT_THERE = /does not exist|not exist|not found|no such/i;

export async function runMemory(run: MemoryRun): Promise<'completed' | 'aborted'> {
  const { plan, signal, emit } = run;
  const memory = plan.memory;
  if (!memory) throw new Error('runMemory needs a plan with memory options');
  const settleMs = memory.settleMs ?? DEFAULT_MEMORY_SETTLE_MS;
  const scratchDir = path.join(run.runDir, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  const started = new Map<string, string[]>(plan.runtimes.map((r) => [r.name, []]));
  try {
    const bundle = prepareLoopBundle(path.join(run.runDir, 'bundle'));
    for (const message of bundle.warnings) emit({ type: 'log', level: 'warn', message });
    emit({ type: 'bundle', bundle: bundle.info });
    emit({ type: 'log', level: 'info', message: `memory: workload output: ${LOOP_OUTPUT}` });

    const versions = await Promise.all(plan.runtimes.map(async (r) => ({ runtime: r.name, binary: r.binary, version: await runtimeVersion(r, plan.timeoutMs, scratchDir) })));
    if (signal.aborted) return 'aborted';
    emit({ type: 'versions', versions });

    const { totalBytes } = readMemInfo();
    const marginBytes = memory.safetyMarginBytes ?? Math.max(512 * MIB, Math.round(totalBytes * 0.1));
    emit({ type: 'log', level: 'info', message: `memory: steps ${memory.containers.join(', ')}; settle ${settleMs} ms; MemAvailable must stay above ${mib(marginBytes)}` });
    /** Per runtime: bytes per container measured at its last successful step. */
    const measuredCost = new Map<string, number>();

    let seq = 0;
    for (const n of memory.containers) {
      for (const runtime of plan.runtimes) {
        if (signal.aborted) return 'aborted';
        const ids = started.get(runtime.name) as string[];
        const step = await measureStep({ run, runtime, n, seq, settleMs, marginBytes, bundlePath: bundle.info.path, scratchDir, ids, estimate: measuredCost.get(runtime.name) });
        seq += 1;
        // Cleanup comes before the step is reported, so the next step starts from a clean host.
        await removeAll(runtime, ids, plan.timeoutMs, scratchDir, emit);
        killStragglers(bundle.info.path, emit);
        if (step === 'aborted') return 'aborted';
        if (step.ok && step.perContainerPssBytes !== null) {
          measuredCost.set(runtime.name, Math.max(step.perContainerPssBytes, step.perContainerMemAvailableDropBytes ?? 0));
        }
        emit({ type: 'memory-step', ...step });
        emit({
          type: 'log',
          level: step.ok ? 'info' : 'warn',
          message: step.ok
            ? `memory: ${runtime.name} × ${n}: PSS ${mib(step.perContainerPssBytes ?? 0)} per container, MemAvailable drop ${mib(step.perContainerMemAvailableDropBytes ?? 0)} per container (${step.processes.length} processes)`
            : `memory: ${runtime.name} × ${n} failed: ${(step.error ?? '').split('\n')[0] ?? ''}`,
        });
      }
    }
    return 'completed';
  } finally {
    for (const runtime of plan.runtimes) {
      await removeAll(runtime, started.get(runtime.name) ?? [], plan.timeoutMs, scratchDir, emit);
      await sweepLeftovers(runtime, run.runId, plan.timeoutMs, scratchDir, emit);
    }
    killStragglers(path.join(run.runDir, 'bundle'), emit);
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

interface StepInput {
  run: MemoryRun;
  runtime: RuntimeSpec;
  n: number;
  seq: number;
  settleMs: number;
  marginBytes: number;
  bundlePath: string;
  scratchDir: string;
  /** Filled with every container ID started, for the caller to delete. */
  ids: string[];
  estimate: number | undefined;
}

async function measureStep(input: StepInput): Promise<MemoryStep | 'aborted'> {
  const { run, runtime, n, seq, settleMs, marginBytes, bundlePath, scratchDir, ids } = input;
  const { signal } = run;
  const timeoutMs = run.plan.timeoutMs;
  const at = new Date().toISOString();
  const base = {
    seq, runtime: runtime.name, containers: n, at, settleMs, output: LOOP_OUTPUT,
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

  const baseline = new Set(listProcesses().map(procKey));
  for (let i = 0; i < n; i++) {
    if (signal.aborted) return 'aborted';
    const available = readMemInfo().availableBytes;
    if (available < marginBytes) {
      return failed(`refused: stopped after ${i} of ${n} containers, MemAvailable ${mib(available)} fell below the ${mib(marginBytes)} margin`, i, before);
    }
    const id = containerId(run.runId, runtime.name, seq * 10_000 + i);
    ids.push(id);
    const error = await startContainer(runtime, bundlePath, id, timeoutMs, scratchDir);
    if (error !== null) return failed(error, i, before);
  }
  if (!(await sleep(settleMs, signal))) return 'aborted';

  const after = readMemInfo().availableBytes;
  const initPids = new Set<number>();
  for (const id of ids) {
    const state = await spawnTimed(command(runtime, 'state', id), { timeoutMs, scratchDir });
    const parsed = parseState(state.stdout);
    if (state.exitCode !== 0 || parsed === null) return failed(`state ${id} failed: ${state.stderr.trim() || `exit ${state.exitCode}`}`, initPids.size, before);
    if (parsed.status !== 'running' || parsed.pid <= 0) return failed(`container ${id} is ${parsed.status}, not running, after the settle time`, initPids.size, before);
    initPids.add(parsed.pid);
  }

  const processes = countedProcesses(baseline, initPids, bundlePath);
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
  };
}

/**
 * The processes this step added (see the file comment), each with its PSS and role.
 * Exported for tests.
 */
export function countedProcesses(baseline: ReadonlySet<string>, initPids: ReadonlySet<number>, bundlePath: string): MemoryProcess[] {
  const all = listProcesses();
  const isNew = (p: ProcInfo) => !baseline.has(procKey(p));
  const cmdlines = new Map<number, string[]>();
  const argv = (pid: number): string[] => {
    let found = cmdlines.get(pid);
    if (!found) {
      found = readArgv(pid);
      cmdlines.set(pid, found);
    }
    return found;
  };
  const namesBundle = (pid: number) => argv(pid).some((a) => a === bundlePath || a === `--bundle=${bundlePath}`);
  const roots = new Set<number>(initPids);
  for (const p of all) if (isNew(p) && namesBundle(p.pid)) roots.add(p.pid);
  const tree = descendants(all, roots);
  const byPid = new Map(all.map((p) => [p.pid, p]));

  // Roles: runsc's helpers by their argv[0]; a container init and what it forks: container.
  const roleRoot = new Map<number, MemoryProcess['role']>();
  const roleOf = (pid: number): MemoryProcess['role'] => {
    const known = roleRoot.get(pid);
    if (known) return known;
    const name = path.basename(argv(pid)[0] ?? '');
    let role: MemoryProcess['role'];
    if (name === 'runsc-sandbox') role = 'sandbox';
    else if (name === 'runsc-gofer') role = 'gofer';
    else if (/^containerd-shim/.test(name)) role = 'shim';
    else if (/^(runc|runsc|crun|youki|kata-runtime|runnc)$/.test(name)) role = 'runtime';
    else if (initPids.has(pid)) role = 'container';
    else {
      const parent = byPid.get(pid)?.ppid;
      role = parent !== undefined && tree.has(parent) ? roleOf(parent) : 'other';
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

function readArgv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return [];
  }
}

/**
 * Starts one container detached. Its stdio is the runtime's: /dev/null for stdout, and for
 * stderr a file in the scratch folder (loop never writes there; the runtime's error does).
 * Waits for the runtime to exit, not for its descriptors to close: the container keeps them.
 * Returns the runtime's error text, or null.
 */
async function startContainer(runtime: RuntimeSpec, bundlePath: string, id: string, timeoutMs: number, scratchDir: string): Promise<string | null> {
  const steps = runtime.lifecycle === 'run' ? [['run', '--detach', '--bundle', bundlePath, id]] : [['create', '--bundle', bundlePath, id], ['start', id]];
  for (const args of steps) {
    const errFile = path.join(scratchDir, `${id}-${args[0] ?? 'x'}.err`);
    const errFd = openSync(errFile, 'w');
    let outcome: { code: number | null; signal: string | null; spawnError: string | null; timedOut: boolean };
    try {
      outcome = await new Promise((resolve) => {
        const child = spawn(runtime.binary, [...runtime.globalArgs, ...args], { stdio: ['ignore', 'ignore', errFd], detached: true });
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch { /* already gone */ }
        }, timeoutMs);
        child.once('error', (err) => {
          clearTimeout(timer);
          resolve({ code: null, signal: null, spawnError: err.message, timedOut: false });
        });
        child.once('exit', (code, sig) => {
          clearTimeout(timer);
          resolve({ code, signal: sig, spawnError: null, timedOut });
        });
      });
    } finally {
      closeSync(errFd);
    }
    const stderr = readCapped(errFile).trim();
    rmSync(errFile, { force: true });
    if (outcome.code === 0 && !outcome.timedOut) continue;
    const parts: string[] = [];
    if (outcome.timedOut) parts.push(`timed out after ${timeoutMs} ms; killed`);
    if (outcome.spawnError) parts.push(outcome.spawnError);
    if (stderr) parts.push(stderr);
    else if (!outcome.timedOut && !outcome.spawnError) parts.push(outcome.signal ? `killed by ${outcome.signal}` : `exited with code ${outcome.code}`);
    return `${args[0] ?? ''} ${id}: ${parts.join('\n')}`;
  }
  return null;
}

function readCapped(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(STDERR_CAP);
    const read = readSync(fd, buffer, 0, STDERR_CAP, 0);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function parseState(stdout: string): { status: string; pid: number } | null {
  try {
    const state = JSON.parse(stdout) as { status?: unknown; pid?: unknown };
    return typeof state.status === 'string' ? { status: state.status, pid: typeof state.pid === 'number' ? state.pid : 0 } : null;
  } catch {
    return null;
  }
}

/** `delete --force` for each ID (not abortable: an abort must still clean up); empties the list. */
async function removeAll(runtime: RuntimeSpec, ids: string[], timeoutMs: number, scratchDir: string, emit: (event: AgentEvent) => void): Promise<void> {
  for (const id of ids.splice(0)) {
    try {
      mkdirSync(scratchDir, { recursive: true }); // the run folder may have been removed under us
      const result = await spawnTimed(command(runtime, 'delete', '--force', id), { timeoutMs, scratchDir });
      if (result.exitCode === 0 || NOT_THERE.test(result.stderr)) continue;
      emit({ type: 'log', level: 'warn', message: `cleanup of ${id} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}` });
    } catch (err) {
      emit({ type: 'log', level: 'warn', message: `cleanup of ${id} failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}

/** Deletes any container of this run that the runtime still lists. */
async function sweepLeftovers(runtime: RuntimeSpec, runId: string, timeoutMs: number, scratchDir: string, emit: (event: AgentEvent) => void): Promise<void> {
  // --quiet, not -q: runsc's Go flags know only the long name.
  const listed = await spawnTimed(command(runtime, 'list', '--quiet'), { timeoutMs, scratchDir }).catch(() => null);
  if (!listed) return;
  if (listed.exitCode !== 0) {
    emit({ type: 'log', level: 'warn', message: `${runtime.name} list failed, leftovers not checked: ${listed.stderr.trim()}` });
    return;
  }
  const prefix = containerId(runId, runtime.name, 0).replace(/-0-[0-9a-f]+$/, '-');
  const left = listed.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(prefix));
  for (const id of left) emit({ type: 'log', level: 'warn', message: `${runtime.name} left container ${id} behind; deleting it` });
  await removeAll(runtime, left, timeoutMs, scratchDir, emit);
}

/** A helper still naming this run's bundle after its containers were deleted (a runsc gofer, say) is killed. */
function killStragglers(bundlePath: string, emit: (event: AgentEvent) => void): void {
  for (const p of listProcesses()) {
    if (p.pid === process.pid) continue;
    const args = readCmdline(p.pid).split(' ');
    if (!args.some((a) => a === bundlePath || a === `--bundle=${bundlePath}`)) continue;
    emit({ type: 'log', level: 'warn', message: `process ${p.pid} (${p.comm}) of this run's bundle outlived its container; killing it` });
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch { /* gone */ }
  }
}

function command(runtime: RuntimeSpec, ...args: string[]): string[] {
  return [runtime.binary, ...runtime.globalArgs, ...args];
}

async function runtimeVersion(runtime: RuntimeSpec, timeoutMs: number, scratchDir: string): Promise<string | null> {
  const result = await spawnTimed([runtime.binary, '--version'], { timeoutMs, scratchDir });
  if (result.exitCode !== 0) return null;
  return result.stdout.split('\n').map((line) => line.trim()).find(Boolean) ?? null;
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

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}
