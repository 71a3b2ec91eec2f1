import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { RuntimeSpec } from '../shared/model/plan.ts';
import type { AgentEvent, EnvironmentInfo, Sample } from '../shared/model/run-record.ts';
import { cgroupMode, hostBasics } from './host-environment.ts';
import { emitBundle, runtimeVersions, uniform, type MethodRun } from './method-run.ts';
import { buildRunOrder } from './run-order.ts';
import { spawnTimed, type SpawnTimedResult } from './spawn-timed.ts';
import { prepareRunTimer, type PreciseTimer } from './precise-timer.ts';
import { perfIterationSamples } from './perf-report.ts';
import { NOT_THERE, failureText } from './command-output.ts';

// The "oci-direct" method: call each low-level runtime on an OCI bundle, the fewest
// layers between the timer and the runtime (talk 1's `time runc run ID`, done many times,
// interleaved, with warm-ups and failures kept). One sample is one container's whole life.

/** How long a create-start sample waits between two `state` polls. */
const STATE_POLL_MS = 5;

export async function runOciDirect(run: MethodRun): Promise<'completed' | 'aborted'> {
  const { plan, signal, emit } = run;
  const scratchDir = path.join(run.runDir, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  let timer: PreciseTimer | null = null;
  let queued: { id: string; index: number; runtime: RuntimeSpec; result: Promise<SpawnTimedResult> } | null = null;
  try {
    const bundle = emitBundle(run);
    timer = prepareRunTimer(run);

    const versions = await runtimeVersions(plan, { timeoutMs: plan.timeoutMs, scratchDir, signal });
    if (signal.aborted) return 'aborted';
    emit({ type: 'versions', versions });
    emit({ type: 'environment', environment: ociDirectEnvironment(plan, bundle.info.path, timer.description) });

    const runtimes = new Map(plan.runtimes.map((r) => [r.name, r]));
    const slots = buildRunOrder({ ...plan, runtimes: plan.runtimes.map((r) => r.name) });
    const runtimeAt = (index: number) => {
      const runtime = runtimes.get(slots[index]!.runtime);
      if (!runtime) throw new Error(`run order names unknown runtime ${slots[index]!.runtime}`);
      return runtime;
    };
    const options = { timeoutMs: plan.timeoutMs, scratchDir, signal };
    // Container IDs carry the slot's index: a perf slot emits several samples, so the next
    // slot's seq is not known yet when its command is queued.
    const ids = slots.map((slot, index) => containerId(run.runId, slot.runtime, index));
    const native = timer.native;
    const runSlot = (index: number) => spawnTimed(command(runtimeAt(index), 'run', '--bundle', bundle.info.path, ids[index]!), { ...options, timer: native });
    // The next `run` waits inside the native timer, which starts it the moment this one is
    // reaped, as hyperfine's loop does; the agent's own work happens while it runs.
    let previousExitedZero = false;
    // Perf iterations emit several samples (whole, then each kernel): seq counts samples, not slots.
    let seq = 0;
    for (const [index, slot] of slots.entries()) {
      if (signal.aborted) return 'aborted';
      const runtime = runtimeAt(index);
      const id = ids[index]!;
      let measured: Measured;
      let startedAt = new Date().toISOString();
      if (runtime.lifecycle === 'run') {
        let pending = queued?.index === index ? queued.result : null;
        queued = null;
        // Queued before the previous command failed: the timer skips it, so that the failure is cleaned up first.
        if (pending && !previousExitedZero && (await pending).skipped) pending = null;
        pending ??= runSlot(index);
        if (native && index + 1 < slots.length && runtimeAt(index + 1).lifecycle === 'run') queued = { id: ids[index + 1]!, index: index + 1, runtime: runtimeAt(index + 1), result: runSlot(index + 1) };
        const result = await pending;
        if (result.skipped && !result.aborted) throw new Error(`the native timer skipped ${id} after a command that exited 0`);
        previousExitedZero = result.exitCode === 0 && !result.timedOut && result.timerError === null;
        if (result.startedAtMs !== null) startedAt = new Date(result.startedAtMs).toISOString();
        measured = toMeasured(result, plan.timeoutMs);
      } else {
        previousExitedZero = false;
        measured = await measureCreateStart(runtime, bundle.info.path, id, options);
      }
      // A binary that could not even start made no container; anything else may have.
      // A `run` that succeeded has removed its container already; cleaning up anyway would
      // put a second runtime process between two measured ones, which slowed the next
      // sample by ~15% here (hyperfine runs back to back). Failures are always cleaned up
      // (the command queued behind one is skipped until then), and sweepLeftovers() checks
      // at the end that nothing of this run is left.
      if (!measured.neverStarted && (measured.error !== null || runtime.lifecycle !== 'run')) {
        await removeContainer(runtime, id, plan.timeoutMs, scratchDir, emit);
      }
      if (measured.aborted) {
        emit({ type: 'log', level: 'info', message: `abort interrupted ${runtime.name} at seq ${seq}; that iteration is not recorded` });
        return 'aborted';
      }
      const { durationMs, exitCode, timedOut, error } = measured;
      const whole: Sample = { seq, runtime: runtime.name, iteration: slot.iteration, warmup: slot.warmup, startedAt, durationMs, ok: error === null, exitCode, timedOut, error };
      const samples = plan.perf ? perfIterationSamples(whole, measured) : [whole];
      for (const sample of samples) emit({ type: 'sample', sample });
      seq += samples.length;
    }
    return 'completed';
  } finally {
    // An abort or an error leaves the command queued behind the last one; if it ran at all, clean it up.
    const left = await queued?.result;
    if (queued && left && !left.skipped && left.spawnError === null) {
      await removeContainer(queued.runtime, queued.id, plan.timeoutMs, scratchDir, emit);
    }
    timer?.native?.close();
    for (const runtime of plan.runtimes) await sweepLeftovers(runtime, run.runId, plan.timeoutMs, scratchDir, emit);
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

/**
 * Container IDs are long and unique: runnc panics on short ones ("Insufficient uniqueness
 * in ID"), and a random tail keeps a retried or concurrent run from meeting a leftover.
 */
export function containerId(runId: string, runtime: string, seq: number): string {
  return `${containerPrefix(runId, runtime)}-${seq}-${randomBytes(12).toString('hex')}`;
}

/** What every container ID of one runtime in one run starts with (then `-`). */
export function containerPrefix(runId: string, runtime: string): string {
  const name = runtime.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 24);
  return `${runPrefix(runId)}${name}`;
}

/** What every container ID (and CRI pod name) of one run starts with. */
export function runPrefix(runId: string): string {
  return `rlab-${runId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8) || 'run'}-`;
}

interface Measured {
  durationMs: number;
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  neverStarted: boolean;
  /** The runtime's own words when the iteration failed; null when it succeeded. */
  error: string | null;
  /** The workload's output as it reached the runtime's stdio (`run`); empty for create-start, whose container outlives the files. */
  stdout: string;
  stderr: string;
}

/** No daemon, no image: the host, the timer and exactly how each runtime binary is called. */
function ociDirectEnvironment(plan: MethodRun['plan'], bundlePath: string, timing: string): EnvironmentInfo {
  return {
    method: 'oci-direct',
    ...hostBasics(),
    timing,
    cgroup: { mode: cgroupMode(), driver: uniform(plan.runtimes.map(cgroupDriverOf)) },
    components: [],
    containerd: null,
    docker: null,
    image: null,
    runtimes: plan.runtimes.map((r) => ({
      runtime: r.name,
      argv: r.lifecycle === 'run' ? command(r, 'run', '--bundle', bundlePath, '<id>') : command(r, 'create', '--bundle', bundlePath, '<id>'),
      runtimeType: r.lifecycle === 'run' ? 'oci run' : 'oci create + start',
      ociBinary: r.binary,
      ociArgs: r.globalArgs,
      cgroupDriver: cgroupDriverOf(r),
    })),
  };
}

/** runc-like runtimes use cgroupfs unless told --systemd-cgroup. */
function cgroupDriverOf(runtime: RuntimeSpec): string {
  return runtime.globalArgs.includes('--systemd-cgroup') ? 'systemd' : 'cgroupfs';
}

function command(runtime: RuntimeSpec, ...args: string[]): string[] {
  return [runtime.binary, ...runtime.globalArgs, ...args];
}

function toMeasured(result: SpawnTimedResult, timeoutMs: number, durationMs = result.durationMs): Measured {
  return {
    durationMs,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    aborted: result.aborted,
    neverStarted: result.spawnError !== null || result.skipped,
    error: failureText(result, timeoutMs),
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

/**
 * For runtimes without `run` (runnc): create, start, then poll `state` until the
 * container has stopped or is gone. `start` returns before the workload finishes, so
 * timing it alone would be wrong; the sample spans create to observed stop.
 */
async function measureCreateStart(
  runtime: RuntimeSpec,
  bundle: string,
  id: string,
  options: { timeoutMs: number; scratchDir: string; signal: AbortSignal },
): Promise<Measured> {
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6;
  const step = (...args: string[]) =>
    spawnTimed(command(runtime, ...args), { ...options, timeoutMs: Math.max(1, options.timeoutMs - elapsed()) });
  const failed = (result: SpawnTimedResult) => toMeasured(result, options.timeoutMs, elapsed());

  for (const args of [['create', '--bundle', bundle, id], ['start', id]]) {
    const result = await step(...args);
    if (result.exitCode !== 0) return failed(result);
  }
  for (;;) {
    const result = await step('state', id);
    const gone = result.exitCode !== 0 && NOT_THERE.test(result.stderr);
    if (gone || containerStatus(result.stdout) === 'stopped') {
      // Every step exited 0; `state` does not report the workload's own exit status.
      return { durationMs: elapsed(), exitCode: 0, timedOut: false, aborted: false, neverStarted: false, error: null, stdout: '', stderr: '' };
    }
    if (result.exitCode !== 0) return failed(result);
    const left = options.timeoutMs - elapsed();
    if (left <= 0) {
      return { durationMs: elapsed(), exitCode: null, timedOut: true, aborted: false, neverStarted: false, error: `timed out after ${options.timeoutMs} ms waiting for the container to stop`, stdout: '', stderr: '' };
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(STATE_POLL_MS, left)));
  }
}

function containerStatus(stateJson: string): string | null {
  try {
    const status: unknown = (JSON.parse(stateJson) as { status?: unknown }).status;
    return typeof status === 'string' ? status : null;
  } catch {
    return null;
  }
}

/**
 * `delete --force` after a failed, killed or create-start iteration, which can leave state
 * behind: the next iteration must start from a clean host. It is not given the abort
 * signal, because an abort must still clean up.
 */
async function removeContainer(runtime: RuntimeSpec, id: string, timeoutMs: number, scratchDir: string, emit: (event: AgentEvent) => void): Promise<void> {
  const result = await spawnTimed(command(runtime, 'delete', '--force', id), { timeoutMs, scratchDir });
  if (result.exitCode === 0 || NOT_THERE.test(result.stderr)) return;
  emit({ type: 'log', level: 'warn', message: `cleanup of ${id} failed: ${failureText(result, timeoutMs) ?? ''}` });
}

/** Deletes any container of this run the runtime still lists (a runtime whose `run` did not clean up). */
async function sweepLeftovers(runtime: RuntimeSpec, runId: string, timeoutMs: number, scratchDir: string, emit: (event: AgentEvent) => void): Promise<void> {
  const listed = await spawnTimed(command(runtime, 'list', '--quiet'), { timeoutMs, scratchDir });
  if (listed.exitCode !== 0) return;
  const prefix = `${containerPrefix(runId, runtime.name)}-`;
  for (const id of listed.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(prefix))) {
    emit({ type: 'log', level: 'warn', message: `${runtime.name} left container ${id} behind; deleting it` });
    await removeContainer(runtime, id, timeoutMs, scratchDir, emit);
  }
}
