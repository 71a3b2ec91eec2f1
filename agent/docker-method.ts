import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { resolveDockerOptions, type RuntimeSpec } from '../shared/model/plan.ts';
import type { BundleInfo, ComponentVersion, EnvironmentInfo, RuntimeInvocation, WorkloadImageInfo } from '../shared/model/run-record.ts';
import { absoluteBinary, measureLoop, type LoopHooks } from './ctr-method.ts';
import { emitBundle, runtimeVersions, startSampler, type MethodRun } from './method-run.ts';
import { prepareRunTimer } from './precise-timer.ts';
import { cgroupMode, hostBasics } from './host-environment.ts';
import type { DaemonSampler } from './daemon-sampler.ts';
import { recoverLeftoverEdit, registerRuntimes, type DaemonJsonContext, type DaemonJsonEdit, type RuntimeRegistration } from './daemon-json.ts';
import { daemonJsonReadBy } from './dockerd-process.ts';
import { spawnTimed } from './spawn-timed.ts';
import { buildWorkloadImage, importIntoDocker } from './workload-image.ts';
import { NOT_THERE, failureText } from './command-output.ts';

// The "docker" method: talk 2's loop, `docker run --rm --runtime X IMAGE`, one sample per
// run from spawn to exit (client, dockerd, containerd, shim, runtime, workload, removal).
// Runtimes are selected by their daemon.json name; a runtime dockerd does not know yet is
// registered for the run only (daemon-json.ts: backup, reload, restore). The storage driver
// in use is read from `docker info` and recorded; when the plan expects one, any other
// fails the run before the first container.

/** Runtimes dockerd knows without daemon.json. */
const BUILT_IN = new Set(['runc', 'io.containerd.runc.v2', 'io.containerd.runtime.v1.linux']);

const SETUP_TIMEOUT_MS = 60_000;

export interface DockerRuntime {
  name: string;
  registration: RuntimeRegistration | null;
}

/** The daemon.json name of a runtime, and what to register under it (null: nothing). */
export function dockerRuntimeOf(spec: RuntimeSpec): DockerRuntime {
  if (spec.docker) {
    const register = spec.docker.register ?? !BUILT_IN.has(spec.docker.runtime);
    return { name: spec.docker.runtime, registration: register ? { path: absoluteBinary(spec.binary), runtimeArgs: spec.globalArgs } : null };
  }
  if (path.basename(spec.binary) === 'runc' && spec.globalArgs.length === 0) return { name: 'runc', registration: null };
  // A name of Runtime Lab's own: the user's "runsc" entry (other flags, perhaps) stays untouched.
  return { name: `rlab-${spec.name}`, registration: { path: absoluteBinary(spec.binary), runtimeArgs: spec.globalArgs } };
}

export async function runDocker(run: MethodRun): Promise<'completed' | 'aborted'> {
  const { plan, signal, emit } = run;
  const scratchDir = path.join(run.runDir, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  const setup = { timeoutMs: Math.max(plan.timeoutMs, SETUP_TIMEOUT_MS), scratchDir, signal };
  const held: { edit: DaemonJsonEdit | null } = { edit: null };
  let sampler: DaemonSampler | null = null;
  try {
    const bundle = emitBundle(run);
    const timer = prepareRunTimer(run);
    const prepared = await prepareDocker(run, bundle.info, { runArgs: ['run', '--rm'], timing: timer.description }, setup, held);
    if (!prepared) return 'aborted';
    const { options } = prepared;

    // dockerd's containers live in containerd's "moby" namespace; containerd is the one dockerd names.
    sampler = startSampler(plan, emit, { containerdSocket: null, dockerSocket: options.host, shimNamespaces: ['moby'] });
    return (await measureLoop(run, scratchDir, { timer, ...dockerRunHooks(run, prepared, scratchDir) })).outcome;
  } finally {
    await sampler?.stop();
    // Not given the abort signal: an aborted run must still give the user's file back.
    await held.edit?.restore();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

/** `docker run --rm` of each iteration, and the removal of a container an iteration left. */
export function dockerRunHooks(run: MethodRun, prepared: PreparedDocker, scratchDir: string): Pick<LoopHooks, 'command' | 'cleanup'> {
  const { plan, emit } = run;
  const { docker, options, runtimes, image } = prepared;
  return {
    command: (runtime, id) => [...docker, 'run', '--rm', '--runtime', runtimes.get(runtime.name)!.name, '--network', options.network, '--name', id, image.ref],
    cleanup: async (_runtime, id) => {
      const removed = await spawnTimed([...docker, 'rm', '--force', id], { timeoutMs: Math.min(plan.timeoutMs, 30_000), scratchDir });
      if (removed.exitCode !== 0 && !NOT_THERE.test(removed.stderr)) {
        emit({ type: 'log', level: 'warn', message: `cleanup of ${id} failed: ${failureText(removed, plan.timeoutMs) ?? ''}` });
      }
    },
  };
}

/** `docker -H HOST`: the prefix of every docker command of a run. */
export function dockerCli(options: DockerOptions): string[] {
  return ['docker', '-H', options.host];
}

/** What daemon.json edits of a run need: the file, the dockerd that reads it, how to apply a change. */
export function daemonJsonContextOf(run: MethodRun, options: DockerOptions, apply: DaemonJsonContext['apply'], setup: { timeoutMs: number; scratchDir: string }): DaemonJsonContext {
  return {
    file: options.daemonJson,
    runDir: run.runDir,
    docker: dockerCli(options),
    dockerHost: options.host,
    apply,
    scratchDir: setup.scratchDir,
    timeoutMs: setup.timeoutMs,
    log: (level, message) => run.emit({ type: 'log', level, message }),
  };
}

type DockerOptions = ReturnType<typeof resolveDockerOptions>;

/**
 * The plan's docker options; a plan that names no daemon.json edits the one the dockerd
 * serving its host really reads (its --config-file), so a dockerd started with its own
 * file is handled without the user having to know it.
 */
export function resolveAgentDockerOptions(plan: MethodRun['plan']): DockerOptions {
  const options = resolveDockerOptions(plan);
  if (plan.docker?.daemonJson !== undefined) return options;
  let reads: string | null = null;
  try {
    reads = daemonJsonReadBy(options.host);
  } catch {
    // Several dockerds and a TCP host: keep the default; the run names the mismatch if any.
  }
  return { ...options, daemonJson: reads ?? options.daemonJson };
}

export interface PreparedDocker {
  /** `docker -H HOST`: the prefix of every docker command of the run. */
  docker: string[];
  options: DockerOptions;
  /** Per runtime of the plan (by its name in the plan): its name in dockerd. */
  runtimes: Map<string, DockerRuntime>;
  image: WorkloadImageInfo;
}

/**
 * Everything before the first container, for any plan through docker: a leftover
 * daemon.json edit is settled, dockerd answers with the expected storage driver, the
 * runtimes are registered, the image is built from `bundle` and loaded, versions and the
 * environment are recorded. `runArgs` is how containers will be started (`run --rm`,
 * `run -d …`), as recorded in the environment. The daemon.json edit goes into `held` as
 * soon as it exists: the caller restores it, whatever happens next. Null when aborted.
 */
export async function prepareDocker(
  run: MethodRun, bundle: BundleInfo, how: { runArgs: string[]; timing: string },
  setup: { timeoutMs: number; scratchDir: string; signal: AbortSignal }, held: { edit: DaemonJsonEdit | null },
): Promise<PreparedDocker | null> {
  const { plan, signal, emit } = run;
  const options = resolveAgentDockerOptions(plan);
  const docker = dockerCli(options);
  const context = daemonJsonContextOf(run, options, options.apply, setup);
  // A journal left by a crashed run is settled first, whatever this run needs.
  await recoverLeftoverEdit(context);
  const version = await spawnTimed([...docker, 'version', '--format', '{{json .}}'], setup);
  const versionJson = parseJson(version.stdout);
  if (version.exitCode !== 0 || !versionJson?.['Server']) {
    throw new Error(`dockerd does not answer at ${options.host}: ${failureText(version, setup.timeoutMs) ?? version.stdout.trim()}`);
  }

  const runtimes = new Map(plan.runtimes.map((r) => [r.name, dockerRuntimeOf(r)]));
  const built = buildWorkloadImage(bundle, path.join(run.runDir, 'image'));
  const readInfo = async () => {
    const info = await spawnTimed([...docker, 'info', '--format', '{{json .}}'], setup);
    const json = parseJson(info.stdout);
    if (info.exitCode !== 0 || !json) throw new Error(`docker info failed: ${failureText(info, setup.timeoutMs) ?? info.stdout.trim()}`);
    return json;
  };
  const environment = (infoJson: Record<string, unknown>, image: EnvironmentInfo['image']): EnvironmentInfo => {
    const known = asRecord(infoJson['Runtimes']) ?? {};
    const cgroupDriver = str(infoJson['CgroupDriver']);
    return {
      method: 'docker',
      ...hostBasics(),
      timing: how.timing,
      cgroup: { mode: cgroupMode(), driver: cgroupDriver },
      components: dockerComponents(versionJson),
      containerd: null,
      docker: {
        host: options.host,
        daemonJson: options.daemonJson,
        serverVersion: str(infoJson['ServerVersion']),
        storageDriver: str(infoJson['Driver']),
        expectedStorageDriver: options.storageDriver,
        cgroupDriver,
        cgroupVersion: str(infoJson['CgroupVersion']),
        defaultRuntime: str(infoJson['DefaultRuntime']),
        runtimes: Object.fromEntries(Object.entries(known).map(([name, value]) => [name, registrationOf(value)])),
        network: options.network,
      },
      image,
      runtimes: plan.runtimes.map((spec): RuntimeInvocation => {
        const r = runtimes.get(spec.name)!;
        const entry = registrationOf(known[r.name]);
        return {
          runtime: spec.name,
          argv: [...docker, ...how.runArgs, '--runtime', r.name, '--network', options.network, '--name', '<id>', built.ref],
          runtimeType: r.name,
          ociBinary: entry.path ?? null,
          ociArgs: entry.runtimeArgs ?? [],
          cgroupDriver,
          registeredByRuntimeLab: held.edit?.registered.includes(r.name) ?? false,
        };
      }),
    };
  };

  // The storage driver is checked before daemon.json is touched.
  const before = await readInfo();
  const storageDriver = str(before['Driver']);
  if (options.storageDriver !== null && storageDriver !== options.storageDriver) {
    emit({ type: 'environment', environment: environment(before, null) });
    throw new Error(
      `dockerd at ${options.host} uses the storage driver ${storageDriver ?? '(unknown)'}, not ${options.storageDriver} as the plan expects; ` +
        'results would not be comparable. Set "storage-driver" in daemon.json (changing it hides the images of the old driver) or change the expectation',
    );
  }

  const registrations: Record<string, RuntimeRegistration> = {};
  for (const r of runtimes.values()) if (r.registration) registrations[r.name] = r.registration;
  if (Object.keys(registrations).length > 0) held.edit = await registerRuntimes(context, registrations);
  if (signal.aborted) return null;

  const infoJson = Object.keys(registrations).length > 0 ? await readInfo() : before;
  const known = asRecord(infoJson['Runtimes']) ?? {};
  for (const [name, r] of runtimes) {
    if (!(r.name in known)) emit({ type: 'log', level: 'warn', message: `${name}: dockerd knows no runtime "${r.name}" (it knows ${Object.keys(known).join(', ')}); its iterations will fail` });
  }
  const versions = await runtimeVersions(plan, setup);
  if (signal.aborted) return null;
  emit({ type: 'versions', versions });

  const image = await importIntoDocker(docker, built, setup);
  emit({ type: 'environment', environment: environment(infoJson, image) });
  return signal.aborted ? null : { docker, options, runtimes, image };
}

function dockerComponents(version: Record<string, unknown>): ComponentVersion[] {
  const client = asRecord(version['Client']) ?? {};
  const server = asRecord(version['Server']) ?? {};
  const components: ComponentVersion[] = [
    { component: 'docker', version: str(client['Version']), detail: `client, API ${str(client['ApiVersion']) ?? '?'}` },
  ];
  const parts = Array.isArray(server['Components']) ? (server['Components'] as unknown[]) : [];
  for (const part of parts) {
    const c = asRecord(part) ?? {};
    const name = str(c['Name']) ?? 'unknown';
    const details = asRecord(c['Details']) ?? {};
    components.push({
      component: name === 'Engine' ? 'dockerd' : `${name} (as dockerd reports it)`,
      version: str(c['Version']),
      ...(str(details['GitCommit']) ? { detail: `commit ${str(details['GitCommit'])}` } : {}),
    });
  }
  return components;
}

function registrationOf(value: unknown): { path?: string; runtimeArgs?: string[] } {
  const entry = asRecord(value) ?? {};
  return {
    ...(typeof entry['path'] === 'string' ? { path: entry['path'] } : {}),
    ...(Array.isArray(entry['runtimeArgs']) ? { runtimeArgs: (entry['runtimeArgs'] as unknown[]).map(String) } : {}),
  };
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    return asRecord(JSON.parse(text));
  } catch {
    return null;
  }
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
