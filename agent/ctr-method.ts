import { createHash } from 'node:crypto';
import { accessSync, chmodSync, constants, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CTR_LEGACY_V1, CTR_RUNC_SHIM, resolveContainerdOptions, shimBinary, type ContainerdOptions, type RuntimeSpec,
} from '../shared/model/plan.ts';
import type { AgentEvent, BundleInfo, ComponentVersion, EnvironmentInfo, RuntimeInvocation, Sample, WorkloadImageInfo } from '../shared/model/run-record.ts';
import type { DaemonSampler } from './daemon-sampler.ts';
import { cgroupMode, hostBasics } from './host-environment.ts';
import { daemonContainerId, killShim } from './daemon-containers.ts';
import { emitBundle, runtimeVersions, startSampler, uniform, type MethodRun } from './method-run.ts';
import { perfIterationSamples } from './perf-report.ts';
import { prepareRunTimer, type PreciseTimer } from './precise-timer.ts';
import { buildRunOrder } from './run-order.ts';
import { spawnTimed, type SpawnTimedResult } from './spawn-timed.ts';
import { buildWorkloadImage, containerdRef, importIntoContainerd } from './workload-image.ts';
import { NOT_THERE, failureText } from './command-output.ts';

// The "ctr" method: `ctr run --rm IMAGE ID` per iteration in Runtime Lab's own containerd
// namespace (talk 1's ctr measurements, done many times, interleaved, with warm-ups and
// failures kept). The runtime is chosen by shim v2 name (io.containerd.runc.v2,
// io.containerd.kata.v2, io.containerd.runsc.v1…), by the runc shim with another OCI
// binary (--runc-binary; a wrapper carries flags, since ctr passes none), or by the legacy
// io.containerd.runtime.v1.linux where this containerd still has it. The snapshotter is
// chosen by the plan, checked in `ctr plugins ls` and recorded. The image is the bundle's
// rootfs, imported offline. One sample is one `ctr run --rm`, from spawn to exit: image
// unpack (done once, before), container create, task start, workload, task and container
// delete.


/** Every workload prints this; a zero exit without it means the workload did not run. */
const WORKLOAD_OUTPUT = 'Hello';

/** How long preparation commands (version, plugins, import) may take at least. */
const SETUP_TIMEOUT_MS = 60_000;

export interface CtrInvocation extends RuntimeInvocation {
  /** The flags after `run --rm` (or `run -d`), before the image. */
  flags: string[];
}

export async function runCtr(run: MethodRun): Promise<'completed' | 'aborted'> {
  const { plan, signal, emit } = run;
  const scratchDir = path.join(run.runDir, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  const setup = { timeoutMs: Math.max(plan.timeoutMs, SETUP_TIMEOUT_MS), scratchDir, signal };
  let sampler: DaemonSampler | null = null;
  try {
    const bundle = emitBundle(run);
    const timer = prepareRunTimer(run);
    const prepared = await prepareContainerd(run, bundle.info, { runArgs: ['run', '--rm'], timing: timer.description }, setup);
    if (!prepared) return 'aborted';
    const { ctr, options, invocations, image } = prepared;

    sampler = startSampler(plan, emit, { containerdSocket: options.address, dockerSocket: null, shimNamespaces: [options.namespace] });
    const byName = new Map(invocations.map((i) => [i.runtime, i]));
    return (await measureLoop(run, scratchDir, {
      timer,
      command: (runtime, id) => [...ctr, 'run', '--rm', ...byName.get(runtime.name)!.flags, image.ref, id],
      cleanup: (runtime, id) => removeCtrContainer({ ctr, ...options, invocation: byName.get(runtime.name)!, id, timeoutMs: plan.timeoutMs, scratchDir, emit }),
    })).outcome;
  } finally {
    await sampler?.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

export interface PreparedContainerd {
  /** `ctr --address A --namespace N`: the prefix of every ctr command of the run. */
  ctr: string[];
  options: Required<ContainerdOptions>;
  invocations: CtrInvocation[];
  image: WorkloadImageInfo;
}

/**
 * Everything before the first container, for any plan through ctr: containerd answers, the
 * snapshotter is usable, the image is built from `bundle` and imported, and the runtimes'
 * versions and the environment are recorded. `runArgs` is how containers will be started
 * (`run --rm`, `run -d --null-io`), as recorded in the environment. Null when aborted.
 */
export async function prepareContainerd(
  run: MethodRun, bundle: BundleInfo, how: { runArgs: string[]; timing: string }, setup: { timeoutMs: number; scratchDir: string; signal: AbortSignal },
): Promise<PreparedContainerd | null> {
  const { plan, signal, emit } = run;
  const options = resolveContainerdOptions(plan);
  const ctr = ['ctr', '--address', options.address, '--namespace', options.namespace];
  const version = await spawnTimed(['ctr', '--address', options.address, 'version'], setup);
  if (version.exitCode !== 0) throw new Error(`containerd does not answer at ${options.address}: ${failureText(version, setup.timeoutMs) ?? ''}`);

  const plugins = await spawnTimed(['ctr', '--address', options.address, 'plugins', 'ls'], setup);
  if (plugins.exitCode !== 0) throw new Error(`ctr plugins ls failed: ${failureText(plugins, setup.timeoutMs) ?? ''}`);
  const table = parsePlugins(plugins.stdout);
  const snapshotters = Object.fromEntries(table.filter((p) => p.type === 'io.containerd.snapshotter.v1').map((p) => [p.id, p.status]));
  const snapshotterStatus = snapshotters[options.snapshotter] ?? null;
  const snapshotterError = snapshotterStatus === 'ok' ? null : await pluginError(options.address, options.snapshotter, setup);
  const legacyRuntimeV1 = table.find((p) => p.type === 'io.containerd.runtime.v1' && p.id === 'linux')?.status ?? null;

  const built = buildWorkloadImage(bundle, path.join(run.runDir, 'image'));
  const imageRef = containerdRef(built.ref);
  const invocations = plan.runtimes.map((r) => ctrInvocation(r, run.runDir, [...ctr, ...how.runArgs], options.snapshotter, imageRef));
  for (const inv of invocations) {
    const spec = plan.runtimes.find((r) => r.name === inv.runtime);
    if (inv.runtimeType === CTR_LEGACY_V1 && legacyRuntimeV1 !== 'ok') {
      emit({ type: 'log', level: 'warn', message: `${inv.runtime}: this containerd has no working ${CTR_LEGACY_V1} (plugin status ${legacyRuntimeV1 ?? 'absent'}; removed in containerd 2.0): its iterations will fail` });
    }
    if (inv.runtimeType !== CTR_RUNC_SHIM && spec && spec.globalArgs.length > 0) {
      emit({ type: 'log', level: 'warn', message: `${inv.runtime}: globalArgs are not passed through ${inv.runtimeType}; put them in the shim's configuration (ctr.configPath)` });
    }
  }
  const versions = await runtimeVersions(plan, setup);
  if (signal.aborted) return null;
  emit({ type: 'versions', versions });

  const components: ComponentVersion[] = [...parseCtrVersion(version.stdout), ...(await shimVersions(invocations, setup))];
  const environment = (image: EnvironmentInfo['image']): EnvironmentInfo => ({
    method: 'ctr',
    ...hostBasics(),
    timing: how.timing,
    cgroup: { mode: cgroupMode(), driver: uniform(invocations.map((i) => i.cgroupDriver)) },
    components,
    containerd: { ...options, snapshotterStatus, snapshotterError, snapshotters, legacyRuntimeV1 },
    docker: null,
    image,
    runtimes: invocations.map(({ flags: _flags, ...inv }) => inv),
  });
  if (snapshotterStatus !== 'ok') {
    emit({ type: 'environment', environment: environment(null) });
    throw new Error(
      `the snapshotter ${options.snapshotter} is not usable in this containerd (ctr plugins ls: ${snapshotterStatus ?? 'not listed'}${snapshotterError ? `: ${snapshotterError}` : ''}); ` +
        `usable here: ${Object.entries(snapshotters).filter(([, s]) => s === 'ok').map(([id]) => id).join(', ') || 'none'}`,
    );
  }

  const image = await importIntoContainerd(ctr, built, options.snapshotter, setup);
  emit({ type: 'environment', environment: environment(image) });
  return signal.aborted ? null : { ctr, options, invocations, image };
}

/** How `ctr run` is told to use this runtime. */
function ctrInvocation(spec: RuntimeSpec, runDir: string, runPrefix: string[], snapshotter: string, imageRef: string): CtrInvocation {
  const runtimeType = spec.ctr?.runtimeType ?? CTR_RUNC_SHIM;
  const fifoDir = path.join(runDir, 'fifo');
  const flags = ['--snapshotter', snapshotter, '--fifo-dir', fifoDir, '--runtime', runtimeType];
  let ociBinary: string;
  let ociArgs: string[] = [];
  if (runtimeType === CTR_RUNC_SHIM) {
    if (spec.ctr?.runcBinary) {
      ociBinary = spec.ctr.runcBinary;
      flags.push('--runc-binary', ociBinary);
    } else if (path.basename(spec.binary) === 'runc' && spec.globalArgs.length === 0) {
      // The shim's own default: no flag, exactly what a plain `ctr run` does.
      ociBinary = spec.binary;
    } else if (spec.globalArgs.length === 0) {
      ociBinary = absoluteBinary(spec.binary);
      flags.push('--runc-binary', ociBinary);
    } else {
      ociBinary = absoluteBinary(spec.binary);
      ociArgs = spec.globalArgs;
      flags.push('--runc-binary', writeWrapper(path.join(runDir, 'runtimes'), spec.name, ociBinary, ociArgs));
    }
    if (spec.ctr?.systemdCgroup) flags.push('--runc-systemd-cgroup');
  } else {
    ociBinary = spec.binary;
  }
  if (spec.ctr?.configPath) flags.push('--runtime-config-path', spec.ctr.configPath);
  const cgroupDriver = runtimeType === CTR_RUNC_SHIM ? (spec.ctr?.systemdCgroup ? 'systemd' : 'cgroupfs') : null;
  return { runtime: spec.name, argv: [...runPrefix, ...flags, imageRef, '<id>'], runtimeType, ociBinary, ociArgs, cgroupDriver, flags };
}

/** The runc shim calls --runc-binary with runc's arguments only: flags travel in a script. */
function writeWrapper(dir: string, name: string, binary: string, args: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n# Written by Runtime Lab for ctr --runc-binary: ${name} with its flags.\nexec ${[binary, ...args].map(shellQuote).join(' ')} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A binary name as an absolute path (the shim and dockerd run with their own PATH); unchanged when not found. */
export function absoluteBinary(binary: string): string {
  if (binary.includes('/')) return path.resolve(binary);
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return binary;
}

interface PluginRow {
  type: string;
  id: string;
  status: string;
}

/** `ctr plugins ls`: TYPE ID PLATFORMS STATUS. */
export function parsePlugins(text: string): PluginRow[] {
  return text.split('\n').slice(1).map((line) => line.trim().split(/\s+/)).filter((f) => f.length >= 4).map((f) => ({ type: f[0]!, id: f[1]!, status: f.at(-1)! }));
}

/** The error message of a plugin that did not load (`ctr plugins ls -d id==ID`). */
async function pluginError(address: string, id: string, options: { timeoutMs: number; scratchDir: string }): Promise<string | null> {
  const result = await spawnTimed(['ctr', '--address', address, 'plugins', 'ls', '-d', `id==${id}`], options);
  return /Message:\s*(.+)/.exec(result.stdout)?.[1]?.trim() ?? null;
}

function parseCtrVersion(text: string): ComponentVersion[] {
  const section = (name: string) => text.split(/\n(?=\S)/).find((s) => s.startsWith(`${name}:`)) ?? '';
  const field = (block: string, key: string) => new RegExp(`^\\s*${key}:\\s*(.+)$`, 'm').exec(block)?.[1]?.trim() ?? null;
  const server = section('Server');
  const client = section('Client');
  return [
    { component: 'containerd', version: field(server, 'Version'), detail: `revision ${field(server, 'Revision') ?? '?'}` },
    { component: 'ctr', version: field(client, 'Version'), detail: `revision ${field(client, 'Revision') ?? '?'}` },
  ];
}

async function shimVersions(invocations: readonly RuntimeInvocation[], options: { timeoutMs: number; scratchDir: string }): Promise<ComponentVersion[]> {
  const types = [...new Set(invocations.map((i) => i.runtimeType))];
  return Promise.all(types.map(async (type) => {
    const shim = shimBinary(type);
    // The v1 shim has no version flag; shim v2 binaries print "Version: …" for -v.
    if (type === CTR_LEGACY_V1) return { component: shim, version: null, detail: `${type} (no version flag)` };
    const result = await spawnTimed([shim, '-v'], options);
    const version = /Version:\s*(\S+)/.exec(result.stdout)?.[1] ?? null;
    return { component: shim, version, detail: type };
  }));
}

export interface LoopHooks {
  /** The native timer (precise-timer.ts), as oci-direct uses it: the methods compare on one clock. */
  timer: PreciseTimer;
  command: (runtime: RuntimeSpec, id: string) => string[];
  /** After a failed, timed-out or aborted iteration: remove what it may have left. Must not throw. */
  cleanup: (runtime: RuntimeSpec, id: string) => Promise<void>;
  /** The first sample's seq (default 0): a storage-driver loop runs the plan once per driver, seq unique across them. */
  firstSeq?: number;
  /** Carried by every sample of this loop, e.g. the storage driver it ran on. */
  sampleTag?: Pick<Sample, 'storageDriver'>;
}

/** How the loop ended, and the seq the next sample would have (a storage-driver loop goes on from it). */
export interface LoopResult {
  outcome: 'completed' | 'aborted';
  nextSeq: number;
}

/**
 * The interleaved loop shared by the daemon methods: warm-ups first, then measured rounds,
 * every iteration a sample — failures with the client's own error text. Aborting stops
 * after the current iteration is cleaned up; that iteration is logged, not recorded.
 */
export async function measureLoop(run: MethodRun, scratchDir: string, hooks: LoopHooks): Promise<LoopResult> {
  const { plan, signal, emit } = run;
  const runtimes = new Map(plan.runtimes.map((r) => [r.name, r]));
  const slots = buildRunOrder({ ...plan, runtimes: plan.runtimes.map((r) => r.name) });
  // Perf iterations emit several samples (whole, then each kernel): seq counts samples, not slots.
  let seq = hooks.firstSeq ?? 0;
  try {
    for (const slot of slots) {
      if (signal.aborted) return { outcome: 'aborted', nextSeq: seq };
      const runtime = runtimes.get(slot.runtime);
      if (!runtime) throw new Error(`run order names unknown runtime ${slot.runtime}`);
      const id = daemonContainerId(run.runId, runtime.name, seq);
      const result = await spawnTimed(hooks.command(runtime, id), { timeoutMs: plan.timeoutMs, scratchDir, signal, timer: hooks.timer.native });
      const startedAt = new Date(result.startedAtMs ?? Date.now()).toISOString();
      // A perf workload's report line is checked by perfIterationSamples, hello's "Hello" here.
      const error = failureText(result, plan.timeoutMs) ?? (plan.perf ? null : missingOutput(result));
      if (error !== null || result.aborted) await hooks.cleanup(runtime, id);
      if (result.aborted) {
        emit({ type: 'log', level: 'info', message: `abort interrupted ${runtime.name} at seq ${seq}; that iteration is not recorded` });
        return { outcome: 'aborted', nextSeq: seq };
      }
      const sample: Sample = {
        seq, runtime: runtime.name, iteration: slot.iteration, warmup: slot.warmup, startedAt,
        durationMs: result.durationMs, ok: error === null, exitCode: result.exitCode, timedOut: result.timedOut, error, ...hooks.sampleTag,
      };
      const samples = plan.perf ? perfIterationSamples(sample, result) : [sample];
      for (const s of samples) emit({ type: 'sample', sample: s });
      seq += samples.length;
    }
    return { outcome: 'completed', nextSeq: seq };
  } finally {
    hooks.timer.native?.close();
  }
}

function missingOutput(result: SpawnTimedResult): string | null {
  if (result.stdout.includes(WORKLOAD_OUTPUT)) return null;
  const said = [result.stdout.trim(), result.stderr.trim()].filter(Boolean).join('\n');
  return `exited 0 but the workload's "${WORKLOAD_OUTPUT}" never arrived${said ? `: ${said}` : ''}`;
}

export interface CtrCleanup {
  ctr: string[];
  address: string;
  namespace: string;
  invocation: CtrInvocation;
  id: string;
  timeoutMs: number;
  scratchDir: string;
  emit: (event: AgentEvent) => void;
}

/**
 * Removes what a failed iteration left in containerd: kill and delete the task, then the
 * container (with its snapshot). A task stuck in "created" (runsc refusing to signal it)
 * survives `task delete --force`, and a shim blocked in a hung runtime's `create` has no
 * task to delete: such a shim and everything under it (runsc-sandbox, runsc-gofer, the
 * hung runtime) are killed, and what the dead shim would have removed is removed here —
 * the task's rootfs mount and, for the runc shim, the runtime's state — before the task
 * and container are deleted again.
 */
export async function removeCtrContainer(c: CtrCleanup): Promise<void> {
  const options = { timeoutMs: Math.min(c.timeoutMs, 30_000), scratchDir: c.scratchDir };
  const run = (...args: string[]) => spawnTimed([...c.ctr, ...args], options);
  const failures: SpawnTimedResult[] = [];
  const note = (result: SpawnTimedResult) => {
    if (result.exitCode !== 0 && !NOT_THERE.test(result.stderr)) failures.push(result);
    return result;
  };
  await run('task', 'kill', '--signal', 'SIGKILL', c.id);
  const deleted = await run('task', 'delete', '--force', c.id);
  const stuck = deleted.exitCode !== 0 && !NOT_THERE.test(deleted.stderr);
  if (!stuck) note(await run('container', 'rm', c.id));
  const killed = killShim(c.address, c.namespace, c.id);
  if (killed.length > 0) {
    const why = stuck ? `its task could not be deleted (${deleted.stderr.trim()})` : 'its shim was still running';
    c.emit({ type: 'log', level: 'warn', message: `${c.id}: ${why}; killed its shim and children (pids ${killed.join(', ')})` });
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const mount of taskMounts(c.namespace, c.id)) note(await spawnTimed(['umount', mount], options));
    rmSync(shimSocket(c.address, c.namespace, c.id), { force: true });
    if (c.invocation.runtimeType === CTR_RUNC_SHIM) {
      const binary = c.invocation.flags[c.invocation.flags.indexOf('--runc-binary') + 1] ?? 'runc';
      await spawnTimed([c.invocation.flags.includes('--runc-binary') ? binary : 'runc', '--root', `/run/containerd/runc/${c.namespace}`, 'delete', '--force', c.id], options);
    }
    note(await run('task', 'delete', '--force', c.id));
    note(await run('container', 'rm', c.id));
  } else if (stuck) {
    failures.push(deleted);
    note(await run('container', 'rm', c.id));
  }
  for (const result of failures) {
    c.emit({ type: 'log', level: 'warn', message: `cleanup of ${c.id} failed: ${failureText(result, options.timeoutMs) ?? ''}` });
  }
}

/**
 * The socket a shim v2 listens on (containerd 1.6: /run/containerd/s/ + sha256 of
 * address/namespace/id). A killed shim leaves it behind.
 */
export function shimSocket(address: string, namespace: string, id: string): string {
  return path.join('/run/containerd/s', createHash('sha256').update(path.join(address, namespace, id)).digest('hex'));
}

/** Mount points of a task's bundle (its rootfs), for shim v2 and the legacy v1 runtime. */
function taskMounts(namespace: string, id: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const suffixes = [`/io.containerd.runtime.v2.task/${namespace}/${id}/rootfs`, `/io.containerd.runtime.v1.linux/${namespace}/${id}/rootfs`];
  // mountinfo escapes spaces and other bytes as \ooo; containerd's paths have none.
  return text.split('\n').map((line) => line.split(' ')[4] ?? '').filter((point) => suffixes.some((s) => point.endsWith(s))).reverse();
}
