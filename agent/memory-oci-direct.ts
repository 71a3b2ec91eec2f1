import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { RuntimeSpec } from '../shared/model/plan.ts';
import type { AgentEvent, BundleInfo } from '../shared/model/run-record.ts';
import { runtimeVersions } from './method-run.ts';
import { LOOP_OUTPUT } from './loop-workload.ts';
import type { DriverSetup, MemoryDriver, MemoryRun } from './memory-method.ts';
import { containerId, containerPrefix } from './oci-direct.ts';
import { listProcesses, readArgv } from './process-tree.ts';
import { NOT_THERE, failureText } from './command-output.ts';
import { readCapped, spawnTimed } from './spawn-timed.ts';

// Memory plans on the oci-direct route: `RUNTIME run --detach --bundle B ID` (or create +
// start), the runtime's stdio passed through to the container (/dev/null), so no shim or
// log copies the output. Counting starts from each container's init as `RUNTIME state`
// names it (runc: the workload; runsc: runsc-sandbox) and from new processes naming this
// run's bundle (runsc-gofer, runsc-sandbox); their descendants (runsc's ptrace stubs) too.

export async function createOciDirectMemoryDriver(run: MemoryRun, bundle: BundleInfo, setup: DriverSetup): Promise<MemoryDriver | null> {
  const { plan, emit } = run;
  const timeoutMs = plan.timeoutMs;
  const { scratchDir } = setup;
  const versions = await runtimeVersions(plan, setup);
  if (setup.signal.aborted) return null;
  emit({ type: 'versions', versions });
  const namesBundle = (argv: readonly string[]) => argv.some((a) => a === bundle.path || a === `--bundle=${bundle.path}`);

  return {
    output: LOOP_OUTPUT,
    containerId: (runtime, index) => containerId(run.runId, runtime.name, index),
    start: (runtime, id) => startContainer(runtime, bundle.path, id, timeoutMs, scratchDir),
    async locate(runtime, ids) {
      const inits = new Set<number>();
      for (const id of ids) {
        const state = await spawnTimed(command(runtime, 'state', id), { timeoutMs, scratchDir });
        const parsed = parseState(state.stdout);
        if (state.exitCode !== 0 || parsed === null) return { error: `state ${id} failed: ${state.stderr.trim() || `exit ${state.exitCode}`}`, running: inits.size };
        if (parsed.status !== 'running' || parsed.pid <= 0) return { error: `container ${id} is ${parsed.status}, not running, after the settle time`, running: inits.size };
        inits.add(parsed.pid);
      }
      // Helpers of earlier steps were killed with their containers; only this step's name the bundle now.
      const roots = new Set(inits);
      for (const p of listProcesses()) if (namesBundle(readArgv(p.pid))) roots.add(p.pid);
      return { inits, roots };
    },
    async remove(runtime, ids) {
      await removeAll(runtime, ids, timeoutMs, scratchDir, emit);
      killStragglers(bundle.path, emit);
    },
    async sweep() {
      for (const runtime of plan.runtimes) await sweepLeftovers(runtime, run.runId, timeoutMs, scratchDir, emit);
      killStragglers(bundle.path, emit);
    },
    daemons: () => [],
    close: () => Promise.resolve(),
  };
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
    const stderr = readCapped(errFile);
    rmSync(errFile, { force: true });
    const failure = failureText({ exitCode: outcome.code, signal: outcome.signal, spawnError: outcome.spawnError, timedOut: outcome.timedOut, stderr }, timeoutMs);
    if (failure === null) continue;
    return `${args[0] ?? ''} ${id}: ${failure}`;
  }
  return null;
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
  const prefix = `${containerPrefix(runId, runtime.name)}-`;
  const left = listed.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(prefix));
  for (const id of left) emit({ type: 'log', level: 'warn', message: `${runtime.name} left container ${id} behind; deleting it` });
  await removeAll(runtime, left, timeoutMs, scratchDir, emit);
}

/** A helper still naming this run's bundle after its containers were deleted (a runsc gofer, say) is killed. */
function killStragglers(bundlePath: string, emit: (event: AgentEvent) => void): void {
  for (const p of listProcesses()) {
    if (p.pid === process.pid) continue;
    const args = readArgv(p.pid);
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
