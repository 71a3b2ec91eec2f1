import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CTR_RUNC_SHIM, criHandler, resolveCriOptions, type CriOptions, type CriStep, type RuntimeSpec } from '../shared/model/plan.ts';
import type { AgentEvent, ComponentVersion, EnvironmentInfo, RuntimeInvocation, Sample, WorkloadImageInfo } from '../shared/model/run-record.ts';
import { emitBundle, runtimeVersions, startSampler, uniform, type MethodRun } from './method-run.ts';
import { cgroupMode, hostBasics } from './host-environment.ts';
import type { ContainerConfig, ContainerStatus, PodSandboxConfig } from './cri/cri-api.ts';
import { CriClient, type CallLimits } from './cri/cri-client.ts';
import { describeEndpoint, type CriEndpointConfig, type CriHandler } from './cri/cri-endpoint.ts';
import { CriError, socketPathOf } from './cri/cri-error.ts';
import { fetchCrio, parseCrioConfig, withCrioConfig } from './cri/crio-config.ts';
import { ensureCrioPauseImage, ensurePauseImage } from './cri/pause-image.ts';
import { podNetwork } from './cri/pod-network.ts';
import { daemonContainerId, killShim } from './daemon-containers.ts';
import type { DaemonSampler } from './daemon-sampler.ts';
import { runPrefix } from './oci-direct.ts';
import { buildRunOrder } from './run-order.ts';
import { buildWorkloadImage, importIntoContainerd, importIntoContainersStorage, type ContainersStore } from './workload-image.ts';

// The "cri" method: talk 2's pod lifecycle through the CRI endpoint's gRPC API, spoken by
// Runtime Lab's own client (agent/cri/), per runtime handler. One iteration is
//   RunPodSandbox → CreateContainer → StartContainer → StopContainer → RemoveContainer →
//   StopPodSandbox → RemovePodSandbox
// each timed on its own (a Sample with `step`), plus one Sample for the whole iteration
// (step absent): the whole minus the sum of its steps is the client's own time between calls.
//
// StartContainer (decision): the step is the StartContainer call *and* the wait until the
// container has exited (ContainerStatus polled every POLL_MS), so that — as in `ctr run`
// and `docker run` — the workload has run to completion and StopContainer stops an exited
// container rather than racing a running one. The seven CRI_STEPS stay the complete
// decomposition of an iteration.
//
// Pods use the host's network namespace by default (NamespaceOption network NODE: no CNI on
// the measured path; plan cri.network "cni" gives them the endpoint's CNI network). Images
// are built offline and imported into containerd's k8s.io namespace, the one the CRI plugin
// uses: the workload (the hello bundle's rootfs) and, when the host lacks it, the sandbox
// image the plugin's config names (see cri/pause-image.ts for how the names relate).

/** containerd's namespace for everything the CRI plugin manages. */
const K8S_NAMESPACE = 'k8s.io';
const SETUP_TIMEOUT_MS = 60_000;
/** Wait between two ContainerStatus polls while the workload runs. */
const POLL_MS = 2;
const WORKLOAD_OUTPUT = 'Hello';
const LOG_NAME = 'hello.log';
/** Pod and container labels: the run's objects are found by these when cleaning up. */
const RUN_LABEL = 'runtime-lab.run';
const ITERATION_LABEL = 'runtime-lab.iteration';
/** After a shim was killed: time for containerd to notice and mark its tasks exited. */
const SHIM_EXIT_WAIT_MS = 500;
/** gRPC's DEADLINE_EXCEEDED status code. */
const DEADLINE_EXCEEDED = 4;
/** A cleanup call's own bound: a stuck pod must not hold the run for a whole iteration timeout. */
const CLEANUP_TIMEOUT_MS = 10_000;
/** Beyond the iteration's timeout: how long the sampler holds readings of a shim before its pod's ID is known. */
const SHIM_ID_MARGIN_MS = 2_000;

interface StepResult {
  step: CriStep;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  timedOut: boolean;
  error: string | null;
}

interface IterationResult {
  steps: StepResult[];
  startedAt: string;
  durationMs: number;
  ok: boolean;
  timedOut: boolean;
  error: string | null;
  exitCode: number | null;
  aborted: boolean;
}

interface LoopContext {
  run: MethodRun;
  client: CriClient;
  options: Required<CriOptions>;
  endpoint: CriEndpointConfig;
  image: WorkloadImageInfo;
  logRoot: string;
  /** The pods this run created, added as RunPodSandbox returns them: the daemon sampler's shims. */
  pods: Set<string>;
}

export async function runCri(run: MethodRun): Promise<'completed' | 'aborted'> {
  const { plan, signal, emit } = run;
  const options = resolveCriOptions(plan);
  const socket = socketPathOf(options.address);
  const scratchDir = path.join(run.runDir, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  const setup = { timeoutMs: Math.max(plan.timeoutMs, SETUP_TIMEOUT_MS), scratchDir, signal };
  const client = new CriClient(options.address);
  let connected = false;
  let sampler: DaemonSampler | null = null;
  try {
    const bundle = emitBundle(run);
    const version = await client.version(setup);
    connected = true;
    // containerd: images go in with ctr. cri-o: its configuration comes over HTTP on the same
    // socket and images go into its containers/storage with skopeo (not run here: no cri-o in Debian 12).
    let endpoint = describeEndpoint(await client.status(true, setup));
    let crioStore: ContainersStore | null = null;
    if (version.runtimeName === 'cri-o') {
      const crio = parseCrioConfig(await fetchCrio(socket, '/config', setup.timeoutMs));
      endpoint = withCrioConfig(endpoint, crio);
      crioStore = crio.store;
    } else if (version.runtimeName !== 'containerd') {
      throw new Error(`${socket} is ${version.runtimeName} ${version.runtimeVersion}: Runtime Lab imports its images offline into containerd and cri-o only`);
    }
    if (!endpoint.sandboxImage) throw new Error(`${socket} did not name its sandbox image in Status (verbose): cannot prepare the pod sandbox image`);
    const known = new Set(endpoint.handlers.map((h) => h.name));
    for (const runtime of plan.runtimes) {
      const handler = criHandler(runtime);
      if (handler !== '' && !known.has(handler)) {
        emit({ type: 'log', level: 'warn', message: `${runtime.name}: runtime handler "${handler}" is not configured at ${socket} (${handlerList(endpoint)}): its iterations will fail` });
      }
    }
    for (const handler of endpoint.handlers.filter((h) => known.has(h.name) && plan.runtimes.some((r) => criHandler(r) === h.name) && runscBehindRuncShim(h))) {
      emit({
        type: 'log', level: 'warn',
        message: `handler ${handler.name}: runsc behind containerd's runc shim (${handler.binaryName ?? ''}) cannot finish a pod's lifecycle: a container that joins the pod's gVisor sandbox gets the sandbox's PID from runsc, ` +
          'so the shim never sees it exit (ContainerStatus stays RUNNING, StopPodSandbox hangs). Use gVisor\'s containerd-shim-runsc-v1 (runtime_type io.containerd.runsc.v1) for CRI.',
      });
    }
    if (options.network === 'cni' && endpoint.notReady.length > 0) {
      emit({ type: 'log', level: 'warn', message: `pods use the CNI network but the endpoint is not ready: ${endpoint.notReady.join('; ')}` });
    }
    const versions = await runtimeVersions(plan, setup);
    if (signal.aborted) return 'aborted';
    emit({ type: 'versions', versions });

    const ctr = ['ctr', '--address', socket, '--namespace', K8S_NAMESPACE];
    const snapshotter = endpoint.snapshotter ?? 'overlayfs';
    const imageDir = path.join(run.runDir, 'image');
    const pausePresent = (await client.imageStatus(endpoint.sandboxImage, setup)) !== null;
    const pause = crioStore
      ? await ensureCrioPauseImage(crioStore, endpoint.sandboxImage, pausePresent, imageDir, setup)
      : await ensurePauseImage(ctr, endpoint.sandboxImage, pausePresent, snapshotter, imageDir, setup);
    emit({
      type: 'log', level: 'info',
      message: pause.origin === 'found'
        ? `sandbox image ${pause.ref}: already present in ${crioStore ? "cri-o's containers/storage" : K8S_NAMESPACE}, used as it is`
        : `sandbox image ${pause.ref}: missing, so Runtime Lab's pause (${pause.builtWith ?? '?'}, config ${pause.configDigest ?? '?'}) was imported under that name`,
    });
    const built = buildWorkloadImage(bundle.info, imageDir);
    const image = crioStore ? await importIntoContainersStorage(built, crioStore, setup) : await importIntoContainerd(ctr, built, snapshotter, setup);
    if ((await client.imageStatus(image.ref, setup)) === null) throw new Error(`${image.ref} was imported (${image.importedWith}) but the CRI endpoint does not see it (ImageStatus)`);

    const components: ComponentVersion[] = [
      { component: version.runtimeName, version: version.runtimeVersion, detail: `CRI ${version.runtimeApiVersion} at ${socket}` },
      { component: 'sandbox image', version: pause.configDigest, detail: `${pause.ref} (${pause.origin === 'found' ? 'found on the host' : `built by Runtime Lab: ${pause.builtWith ?? '?'}`})` },
    ];
    const invocations = plan.runtimes.map((r) => criInvocation(r, endpoint, image, options));
    const environment: EnvironmentInfo = {
      method: 'cri',
      ...hostBasics(),
      timing: `Node's monotonic clock around each CRI call on one gRPC channel to ${socket}; StartContainer includes the wait for the container's exit (ContainerStatus every ${POLL_MS} ms)`,
      cgroup: { mode: cgroupMode(), driver: uniform(invocations.map((i) => i.cgroupDriver)) },
      components,
      containerd: null,
      docker: null,
      cri: {
        address: socket,
        runtimeName: version.runtimeName || null,
        runtimeVersion: version.runtimeVersion || null,
        runtimeApiVersion: version.runtimeApiVersion || null,
        sandboxImage: endpoint.sandboxImage,
        network: options.network,
        cniConfig: options.network === 'cni' ? endpoint.cniConfDir : null,
        handlers: endpoint.handlers.map((h) => h.name),
        snapshotter: endpoint.snapshotter,
      },
      image,
      runtimes: invocations,
    };
    emit({ type: 'environment', environment });
    if (signal.aborted) return 'aborted';

    // Only this run's pods' shims: on a Kubernetes node, k8s.io also holds the kubelet's pods.
    // A shim starts inside RunPodSandbox, before its ID is known: the sampler holds its
    // readings until RunPodSandbox can have returned (the iteration's timeout).
    const pods = new Set<string>();
    const shimIds = { ids: pods, waitMs: plan.timeoutMs + SHIM_ID_MARGIN_MS };
    sampler = startSampler(plan, emit, crioStore
      ? { containerdSocket: null, dockerSocket: null, shimNamespaces: [], crio: { socket, podNamePart: `_${runPrefix(run.runId)}` } }
      : { containerdSocket: socket, dockerSocket: null, shimNamespaces: [K8S_NAMESPACE], shimIds });
    return await criLoop({ run, client, options, endpoint, image, logRoot: path.join(run.runDir, 'pod-logs'), pods });
  } finally {
    await sampler?.stop();
    if (connected) await removePods(client, { [RUN_LABEL]: run.runId }, Math.min(plan.timeoutMs, CLEANUP_TIMEOUT_MS), emit);
    client.close();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

/** Warm-ups first, runtimes interleaved (run-order.ts); every step and every iteration a sample. */
async function criLoop(ctx: LoopContext): Promise<'completed' | 'aborted'> {
  const { plan, signal, emit } = ctx.run;
  const runtimes = new Map(plan.runtimes.map((r) => [r.name, r]));
  const slots = buildRunOrder({ ...plan, runtimes: plan.runtimes.map((r) => r.name) });
  let seq = 0;
  for (const [index, slot] of slots.entries()) {
    if (signal.aborted) return 'aborted';
    const runtime = runtimes.get(slot.runtime);
    if (!runtime) throw new Error(`run order names unknown runtime ${slot.runtime}`);
    const id = daemonContainerId(ctx.run.runId, runtime.name, index);
    const result = await podLifecycle(ctx, runtime, id, ctx.options.network === 'cni' && index === 0);
    if (result.aborted) {
      emit({ type: 'log', level: 'info', message: `abort interrupted ${runtime.name} at iteration ${index}; that iteration is not recorded` });
      return 'aborted';
    }
    const common = { runtime: runtime.name, iteration: slot.iteration, warmup: slot.warmup };
    for (const s of result.steps) {
      const sample: Sample = { seq: seq++, ...common, startedAt: s.startedAt, durationMs: s.durationMs, ok: s.ok, exitCode: null, timedOut: s.timedOut, error: s.error, step: s.step };
      emit({ type: 'sample', sample });
    }
    const whole: Sample = {
      seq: seq++, ...common, startedAt: result.startedAt, durationMs: result.durationMs, ok: result.ok, exitCode: result.exitCode, timedOut: result.timedOut, error: result.error,
    };
    emit({ type: 'sample', sample: whole });
  }
  return 'completed';
}

/**
 * One pod lifecycle. A failed step ends it: the steps after it are not tried, the pod is removed.
 * `describeNetwork` (the run's first pod on a CNI network): PodSandboxStatus between
 * RunPodSandbox and CreateContainer, logged, so the record shows the pods really had their own
 * network; that call is not measured (taken out of the whole time, in no step).
 */
async function podLifecycle(ctx: LoopContext, runtime: RuntimeSpec, id: string, describeNetwork: boolean): Promise<IterationResult> {
  const { client, endpoint, run } = ctx;
  const { plan, signal } = run;
  const handler = criHandler(runtime);
  const logDir = path.join(ctx.logRoot, id);
  mkdirSync(logDir, { recursive: true });
  const labels = { [RUN_LABEL]: run.runId, [ITERATION_LABEL]: id };
  const namespaceOptions = { network: ctx.options.network === 'host' ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD' } as const;
  const podConfig: PodSandboxConfig = {
    metadata: { name: id, uid: id, namespace: 'runtime-lab', attempt: 0 },
    // A pod on the host network keeps the host's name (CRI: hostname may be empty only then).
    ...(ctx.options.network === 'host' ? {} : { hostname: id.slice(0, 63) }),
    logDirectory: logDir,
    labels,
    linux: { securityContext: { namespaceOptions } },
  };
  const containerConfig: ContainerConfig = {
    metadata: { name: 'hello', attempt: 0 },
    image: { image: ctx.image.ref },
    command: ctx.image.command,
    logPath: LOG_NAME,
    labels,
    linux: { securityContext: { namespaceOptions } },
  };

  const steps: StepResult[] = [];
  const startedAt = new Date().toISOString();
  const start = performance.now();
  const deadline = start + plan.timeoutMs;
  const limits = (): CallLimits => ({ timeoutMs: Math.max(1, Math.round(deadline - performance.now())), signal });
  const step = async <T>(name: CriStep, body: () => Promise<T>): Promise<T> => {
    const at = new Date().toISOString();
    const t0 = performance.now();
    try {
      const value = await body();
      steps.push({ step: name, startedAt: at, durationMs: performance.now() - t0, ok: true, timedOut: false, error: null });
      return value;
    } catch (err) {
      const durationMs = performance.now() - t0;
      steps.push({ step: name, startedAt: at, durationMs, ok: false, timedOut: err instanceof CriError && err.timedOut, error: stepError(name, err, handler, endpoint) });
      throw err;
    }
  };

  let podId: string | null = null;
  let unmeasuredMs = 0;
  let exited: ContainerStatus | null = null;
  let failed = false;
  try {
    const pod = await step('RunPodSandbox', () => client.runPodSandbox(podConfig, handler, limits()));
    podId = pod;
    ctx.pods.add(pod);
    if (describeNetwork) {
      const t0 = performance.now();
      await logPodNetwork(client, pod, limits(), run.emit);
      unmeasuredMs += performance.now() - t0;
    }
    const container = await step('CreateContainer', () => client.createContainer(pod, containerConfig, podConfig, limits()));
    exited = await step('StartContainer', async () => {
      await client.startContainer(container, limits());
      return waitForExit(client, container, deadline, signal);
    });
    await step('StopContainer', () => client.stopContainer(container, 0, limits()));
    await step('RemoveContainer', () => client.removeContainer(container, limits()));
    await step('StopPodSandbox', () => client.stopPodSandbox(pod, limits()));
    await step('RemovePodSandbox', () => client.removePodSandbox(pod, limits()));
    podId = null;
  } catch {
    failed = true;
  }
  const durationMs = performance.now() - start - unmeasuredMs;

  const last = steps.at(-1);
  const aborted = signal.aborted;
  if (failed || aborted) {
    const pods = podId ? [podId] : [];
    await removePods(client, { [ITERATION_LABEL]: id }, Math.min(plan.timeoutMs, CLEANUP_TIMEOUT_MS), run.emit, pods);
  }
  const output = readLog(path.join(logDir, LOG_NAME));
  rmSync(logDir, { recursive: true, force: true });
  let error = failed ? (last?.error ?? 'the iteration failed') : null;
  if (!failed && exited) {
    if (exited.exitCode !== 0) error = `the container exited with code ${exited.exitCode}${exited.reason ? ` (${exited.reason}${exited.message ? `: ${exited.message}` : ''})` : ''}${output ? `: ${output}` : ''}`;
    else if (!output.includes(WORKLOAD_OUTPUT)) error = `exited 0 but the workload's "${WORKLOAD_OUTPUT}" never reached its log${output ? `: ${output}` : ''}`;
  }
  return {
    steps, startedAt, durationMs, ok: error === null, timedOut: failed && (last?.timedOut ?? false), error,
    exitCode: exited?.exitCode ?? null, aborted,
  };
}

/** Where the pod's network is (IP, namespace), as the endpoint reports it; a failure to ask is only logged. */
async function logPodNetwork(client: CriClient, podId: string, limits: CallLimits, emit: (event: AgentEvent) => void): Promise<void> {
  try {
    const network = podNetwork(await client.podSandboxStatus(podId, true, limits));
    emit({
      type: 'log', level: network.ip ? 'info' : 'warn',
      message: `CNI network, first pod ${podId}: ${network.ip ? `IP ${network.ip}` : 'no IP'} (PodSandboxStatus), network namespace ${network.mode ?? '?'}` +
        `${network.netnsPath ? ` at ${network.netnsPath}` : ''}`,
    });
  } catch (err) {
    emit({ type: 'log', level: 'warn', message: `CNI network: PodSandboxStatus of the first pod failed: ${err instanceof Error ? err.message : String(err)}` });
  }
}

/** Polls ContainerStatus until the container has exited; the deadline is the iteration's. */
async function waitForExit(client: CriClient, containerId: string, deadline: number, signal: AbortSignal): Promise<ContainerStatus> {
  let state = 'unknown';
  const tooLate = () => new CriError('ContainerStatus', DEADLINE_EXCEEDED, 'deadline',
    `StartContainer returned, but the container was still ${state} (ContainerStatus) when the iteration's time ran out`);
  for (;;) {
    const remaining = Math.round(deadline - performance.now());
    if (remaining <= 0) throw tooLate();
    let status: ContainerStatus | null;
    try {
      status = await client.containerStatus(containerId, { timeoutMs: remaining, signal });
    } catch (err) {
      throw err instanceof CriError && err.timedOut ? tooLate() : err;
    }
    state = status?.state ?? 'unknown';
    if (status?.state === 'CONTAINER_EXITED') return status;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function stepError(step: CriStep, err: unknown, handler: string, endpoint: CriEndpointConfig): string {
  const text = err instanceof Error ? err.message : String(err);
  // containerd: `no runtime for "x" is configured`: name the ones that are.
  if (step === 'RunPodSandbox' && handler !== '' && !endpoint.handlers.some((h) => h.name === handler)) {
    return `${text} (runtime handler "${handler}" is not configured; ${handlerList(endpoint)})`;
  }
  return text;
}

/** A runc-shim handler whose BinaryName is runsc or a wrapper script that runs it. */
function runscBehindRuncShim(handler: CriHandler): boolean {
  if (handler.runtimeType !== CTR_RUNC_SHIM || !handler.binaryName) return false;
  if (path.basename(handler.binaryName).startsWith('runsc')) return true;
  // A wrapper script names runsc in its first bytes; a binary is not read further.
  let fd: number | null = null;
  try {
    fd = openSync(handler.binaryName, 'r');
    const head = Buffer.alloc(4096);
    const read = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, 2).toString() === '#!' && /\brunsc\b/.test(head.subarray(0, read).toString('utf8'));
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function handlerList(endpoint: CriEndpointConfig): string {
  return endpoint.handlers.length > 0 ? `configured handlers: ${endpoint.handlers.map((h) => h.name).join(', ')}` : 'the endpoint names no handlers';
}

/** The container's log in CRI format ("<time> stdout F Hello"), reduced to its text. */
function readLog(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  return text.split('\n').filter(Boolean).map((line) => line.split(' ').slice(3).join(' ')).join('\n').trim().slice(0, 2000);
}

/**
 * Stops and removes pods (RemovePodSandbox also removes their containers): the given IDs,
 * then every pod carrying `selector`'s labels. A pod the endpoint cannot stop (a runtime
 * whose exits its shim never sees, e.g. runsc behind the runc shim) has its shim and
 * everything under it killed, as ctr's cleanup does; containerd then reaps the tasks and
 * the pod can go. Must not throw; what still fails is logged.
 */
async function removePods(client: CriClient, selector: Record<string, string>, timeoutMs: number, emit: (event: AgentEvent) => void, ids: string[] = []): Promise<void> {
  const limits = { timeoutMs };
  const socket = socketPathOf(client.address);
  const failures: string[] = [];
  const stopAndRemove = async (podId: string) => {
    await client.stopPodSandbox(podId, limits);
    await client.removePodSandbox(podId, limits);
  };
  const remove = async (podId: string) => {
    try {
      await stopAndRemove(podId);
    } catch (err) {
      const killed = killShim(socket, K8S_NAMESPACE, podId);
      if (killed.length === 0) {
        failures.push(`${podId}: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      emit({ type: 'log', level: 'warn', message: `pod ${podId} could not be stopped (${err instanceof Error ? err.message : String(err)}); killed its shim and children (pids ${killed.join(', ')})` });
      await new Promise((resolve) => setTimeout(resolve, SHIM_EXIT_WAIT_MS));
      try {
        await stopAndRemove(podId);
      } catch (again) {
        failures.push(`${podId}: ${again instanceof Error ? again.message : String(again)}`);
      }
    }
  };
  for (const podId of ids) await remove(podId);
  try {
    for (const pod of await client.listPodSandbox(selector, limits)) await remove(pod.id);
  } catch (err) {
    failures.push(`ListPodSandbox: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const failure of failures) emit({ type: 'log', level: 'warn', message: `cleanup of pods failed: ${failure}` });
}

/** How a runtime of the plan reaches the endpoint: its handler and what the endpoint configured for it. */
function criInvocation(spec: RuntimeSpec, endpoint: CriEndpointConfig, image: WorkloadImageInfo, options: Required<CriOptions>): RuntimeInvocation {
  const handlerName = criHandler(spec);
  const handler = endpoint.handlers.find((h) => h.name === handlerName);
  const runtimeType = handler?.runtimeType ?? 'unknown';
  return {
    runtime: spec.name,
    argv: [
      `RunPodSandbox runtime_handler=${handlerName} network=${options.network === 'host' ? 'NODE' : 'POD'}`,
      `CreateContainer ${image.ref} ${image.command.join(' ')}`,
      'StartContainer (then ContainerStatus until exited)', 'StopContainer timeout=0', 'RemoveContainer', 'StopPodSandbox', 'RemovePodSandbox',
    ],
    runtimeType,
    ociBinary: handler?.binaryName ?? (runtimeType === CTR_RUNC_SHIM ? 'runc' : null),
    ociArgs: [],
    cgroupDriver: handler ? (handler.systemdCgroup ? 'systemd' : 'cgroupfs') : null,
  };
}
