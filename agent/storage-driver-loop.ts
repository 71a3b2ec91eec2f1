import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { AgentEvent, Sample } from '../shared/model/run-record.ts';
import { measureLoop } from './ctr-method.ts';
import { emitBundle, startSampler, uniform, type MethodRun } from './method-run.ts';
import { prepareRunTimer } from './precise-timer.ts';
import type { DaemonSampler } from './daemon-sampler.ts';
import { editStorageDriver, recoverLeftoverEdit, type DaemonJsonContext, type DaemonJsonEdit, type RuntimeRegistration, type StorageDriverEdit } from './daemon-json.ts';
import { daemonJsonContextOf, dockerCli, dockerRunHooks, dockerRuntimeOf, prepareDocker, resolveAgentDockerOptions } from './docker-method.ts';
import { dockerdExecRoot, findDockerd, resolveTarget, runningDockerd } from './dockerd-process.ts';
import { buildRunOrder } from './run-order.ts';
import { spawnTimed } from './spawn-timed.ts';
import { failureText } from './command-output.ts';

// Talk 2's storage-driver comparison: the docker plan measured once per driver, in the
// plan's order. For each driver daemon.json gets "storage-driver" (and the run's runtimes)
// through daemon-json.ts' journalled edit, dockerd is restarted (a driver change needs a
// restart) and `docker info` must show the driver; the workload image is loaded into that
// driver's own store, and every sample carries the driver. seq runs on across drivers.
//
// A driver dockerd cannot start with (btrfs or zfs on ext4, devicemapper compiled out) is
// recorded, not skipped: one error log naming dockerd's own reason, and every iteration of
// that driver as a failed sample carrying the same reason — so the run's CSV and charts show
// the driver with its failures. The next driver starts dockerd again; at the end, and on
// abort or failure, the user's daemon.json goes back byte for byte and dockerd is restarted
// on it. dockerd 20.10 giving up on a driver leaves the bind mount of its data root on
// itself, which it had marked to undo at shutdown, and the next dockerd takes that mount for
// the user's and never removes it: the loop undoes it.

const SETUP_TIMEOUT_MS = 60_000;

export async function runStorageDriverLoop(run: MethodRun, drivers: readonly string[]): Promise<'completed' | 'aborted'> {
  const { plan, signal, emit } = run;
  // The plan schema refuses storageDriver together with storageDrivers.
  const options = resolveAgentDockerOptions(plan);
  const scratchDir = path.join(run.runDir, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  const setup = { timeoutMs: Math.max(plan.timeoutMs, SETUP_TIMEOUT_MS), scratchDir, signal };
  const docker = dockerCli(options);
  const context = daemonJsonContextOf(run, options, 'restart', setup);
  /** Drivers dockerd ran on and the run measured, in order. */
  const confirmed: string[] = [];
  let edit: StorageDriverEdit | null = null;
  // prepareDocker finds the runtimes already registered by `edit` and adds no edit of its own.
  const held: { edit: DaemonJsonEdit | null } = { edit: null };
  let nextSeq = 0;
  const looped: MethodRun = {
    ...run,
    emit: (event) => run.emit(event.type === 'environment' ? withLoop(event, confirmed, edit?.registered ?? []) : event),
  };
  let originalDriver: string | null = null;
  try {
    // A journal left by a crashed run is settled first: the loop must start from the user's file.
    await recoverLeftoverEdit(context);
    const bundle = emitBundle(run);
    const timer = prepareRunTimer(run);
    const before = await dockerdStorage(docker, setup);
    originalDriver = before.driver;
    const execRoot = dockerdExecRoot(findDockerd(context, resolveTarget(context.file)), context.file);
    emit({
      type: 'log', level: 'info',
      message: `storage-driver loop over ${drivers.join(', ')}; dockerd uses ${originalDriver ?? '(unknown)'} now. It is restarted for each driver and once more at the end, on the original daemon.json (its containers without a restart policy stop)`,
    });
    const runtimes = new Map(plan.runtimes.map((r) => [r.name, dockerRuntimeOf(r)]));
    const registrations: Record<string, RuntimeRegistration> = {};
    for (const r of runtimes.values()) if (r.registration) registrations[r.name] = r.registration;
    if (before.rootDir === null) throw new Error('docker info does not name dockerd\'s data root (DockerRootDir)');
    edit = editStorageDriver(context, registrations, before.rootDir);

    for (const driver of drivers) {
      if (signal.aborted) return 'aborted';
      let prepared: Awaited<ReturnType<typeof prepareDocker>>;
      try {
        await edit.switchTo(driver);
        confirmed.push(driver);
        prepared = await prepareDocker(looped, bundle.info, { runArgs: ['run', '--rm'], timing: timer.description }, setup, held);
      } catch (err) {
        if (confirmed.at(-1) === driver) confirmed.pop();
        await releaseLeftRootMount(context, before.rootDir, execRoot);
        if (signal.aborted) return 'aborted';
        const reason = `dockerd cannot run with the storage driver ${driver}: ${err instanceof Error ? err.message : String(err)}`;
        emit({ type: 'log', level: 'error', message: `${reason}. Its iterations are recorded as failed; going on with the next driver` });
        nextSeq = recordUnusable(looped, driver, nextSeq, reason);
        continue;
      }
      if (!prepared) return 'aborted';
      // dockerd's containers live in containerd's "moby" namespace; dockerd is a new process per driver.
      const sampler: DaemonSampler | null = startSampler(plan, looped.emit, { containerdSocket: null, dockerSocket: options.host, shimNamespaces: ['moby'] });
      let outcome: 'completed' | 'aborted';
      try {
        ({ outcome, nextSeq } = await measureLoop(looped, scratchDir, {
          timer,
          // Cleanup warnings go through the loop's emit, which passes logs on unchanged.
          ...dockerRunHooks(looped, prepared, scratchDir),
          firstSeq: nextSeq,
          sampleTag: { storageDriver: driver },
        }));
      } finally {
        await sampler?.stop();
      }
      if (outcome === 'aborted') return 'aborted';
    }
    return 'completed';
  } finally {
    // Not given the abort signal: an aborted run must still give the user's file and driver back.
    await held.edit?.restore();
    await edit?.restore();
    if (edit !== null) {
      const after = (await dockerdStorage(docker, { timeoutMs: setup.timeoutMs, scratchDir }).catch(() => null))?.driver ?? null;
      if (after !== null && after === originalDriver) emit({ type: 'log', level: 'info', message: `dockerd is back on its storage driver ${after}` });
      else emit({ type: 'log', level: 'warn', message: `dockerd uses ${after ?? '(no answer)'} after the loop, not its original ${originalDriver ?? '(unknown)'}` });
    }
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

/** The environment as the loop has it: the drivers measured so far; "mixed" once there are several. */
function withLoop(event: Extract<AgentEvent, { type: 'environment' }>, confirmed: readonly string[], registered: readonly string[]): AgentEvent {
  const { environment } = event;
  if (!environment.docker) return event;
  return {
    type: 'environment',
    environment: {
      ...environment,
      docker: { ...environment.docker, storageDriver: uniform(confirmed), storageDrivers: [...confirmed] },
      // The runtimes were registered by the loop's edit, which prepareDocker does not see.
      runtimes: environment.runtimes.map((r) => ({ ...r, registeredByRuntimeLab: r.registeredByRuntimeLab || registered.includes(r.runtimeType) })),
    },
  };
}

/** Every iteration of a driver dockerd could not run with, as a failed sample with dockerd's reason. Returns the next seq. */
function recordUnusable(run: MethodRun, driver: string, firstSeq: number, reason: string): number {
  const startedAt = new Date().toISOString();
  const slots = buildRunOrder({ ...run.plan, runtimes: run.plan.runtimes.map((r) => r.name) });
  for (const [i, slot] of slots.entries()) {
    const sample: Sample = {
      seq: firstSeq + i, runtime: slot.runtime, iteration: slot.iteration, warmup: slot.warmup, startedAt,
      durationMs: 0, ok: false, exitCode: null, timedOut: false, error: reason, storageDriver: driver,
    };
    run.emit({ type: 'sample', sample });
  }
  return firstSeq + slots.length;
}

/** The storage driver dockerd uses and its data root (`docker info`). */
async function dockerdStorage(docker: readonly string[], options: { timeoutMs: number; scratchDir: string }): Promise<{ driver: string | null; rootDir: string | null }> {
  const info = await spawnTimed([...docker, 'info', '--format', '{{.Driver}}\t{{.DockerRootDir}}'], options);
  if (info.exitCode !== 0) throw new Error(`docker info failed: ${failureText(info, options.timeoutMs) ?? ''}`);
  const [driver, rootDir] = info.stdout.trim().split('\t');
  return { driver: driver || null, rootDir: rootDir || null };
}

/**
 * After dockerd gave up starting (none runs): the self bind mount of its data root, if its
 * own "unmount-on-shutdown" marker says it made it — a mount of the user's has no marker.
 */
async function releaseLeftRootMount(ctx: DaemonJsonContext, rootDir: string, execRoot: string): Promise<void> {
  const marker = path.join(execRoot, 'unmount-on-shutdown');
  if (runningDockerd(ctx, resolveTarget(ctx.file)) !== null || !existsSync(marker) || !isMountPoint(rootDir)) return;
  const result = await spawnTimed(['umount', rootDir], { timeoutMs: ctx.timeoutMs, scratchDir: ctx.scratchDir });
  if (result.exitCode === 0) {
    rmSync(marker, { force: true });
    ctx.log('info', `dockerd left ${rootDir} bind-mounted on itself when it gave up; unmounted, as it would have at shutdown`);
  } else ctx.log('warn', `dockerd left ${rootDir} bind-mounted on itself when it gave up, and umount failed: ${failureText(result, ctx.timeoutMs) ?? ''}`);
}

function isMountPoint(dir: string): boolean {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return false;
  }
  // mountinfo field 5 is the mount point, with space, tab, newline and backslash as octal escapes.
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.includes(real);
}
