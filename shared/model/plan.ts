import { z } from 'zod';

// A measurement plan is data: the desktop builds it, the host agent executes it, the
// results store keeps it with the run. Nothing about *how* to measure lives elsewhere.
//
// Fields added after the first release are optional (no defaults), so plans and
// TypeScript literals written for oci-direct stay valid; the agent fills in the
// documented defaults and records what it actually used in the run's `environment`.

export const MEASUREMENT_METHODS = ['oci-direct', 'ctr', 'docker', 'cri'] as const;
export const MeasurementMethod = z.enum(MEASUREMENT_METHODS);
export type MeasurementMethod = z.infer<typeof MeasurementMethod>;

/** containerd's runc shim: the only runtime type that takes another OCI binary (--runc-binary). */
export const CTR_RUNC_SHIM = 'io.containerd.runc.v2';
/** The legacy shim v1 runtime (deprecated in containerd 1.x, removed in 2.0): the seed's runnc route. */
export const CTR_LEGACY_V1 = 'io.containerd.runtime.v1.linux';

/** containerd's runtime type names: io.containerd.<name>.<version> (shim v2), or the legacy v1 name. */
export const CTR_RUNTIME_TYPE = /^io\.containerd\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.v[0-9]+$|^io\.containerd\.runtime\.v1\.linux$/;

/** The shim binary containerd starts for a runtime type: io.containerd.kata.v2 → containerd-shim-kata-v2. */
export function shimBinary(runtimeType: string): string {
  if (runtimeType === CTR_LEGACY_V1) return 'containerd-shim';
  const parts = runtimeType.split('.');
  return `containerd-shim-${parts.slice(2, -1).join('-')}-${parts.at(-1) ?? ''}`;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PATH = z.string().min(1).max(4096);

/** How `ctr run` selects the runtime (method "ctr"). */
export const CtrRuntimeOptions = z
  .object({
    /**
     * `ctr run --runtime`: a shim v2 name (io.containerd.runc.v2, io.containerd.kata.v2,
     * io.containerd.runsc.v1, …) or the legacy io.containerd.runtime.v1.linux, whose binary is
     * the one containerd's config.toml names. Default io.containerd.runc.v2.
     */
    runtimeType: z.string().regex(CTR_RUNTIME_TYPE).optional(),
    /**
     * `--runc-binary` (runc shim only): the OCI binary behind the runc shim. Unset: the agent
     * uses the spec's binary, through a wrapper script in the run folder when it has
     * globalArgs (ctr passes no flags to the binary, and runsc needs --network=none here).
     */
    runcBinary: PATH.optional(),
    /** `--runtime-config-path`: the shim's own configuration (Kata's configuration-*.toml, runsc.toml). */
    configPath: PATH.optional(),
    /** `--runc-systemd-cgroup` (runc shim only): the systemd cgroup driver instead of cgroupfs. */
    systemdCgroup: z.boolean().optional(),
  })
  .refine((o) => (o.runtimeType ?? CTR_RUNC_SHIM) === CTR_RUNC_SHIM || (o.runcBinary === undefined && !o.systemdCgroup), {
    message: `runcBinary and systemdCgroup only apply to ${CTR_RUNC_SHIM}`,
  });
export type CtrRuntimeOptions = z.infer<typeof CtrRuntimeOptions>;

/** How `docker run --runtime` selects the runtime (method "docker"). */
export const DockerRuntimeOptions = z.object({
  /** The runtime's name in daemon.json ("runtimes") or a built-in one (runc). */
  runtime: z.string().regex(NAME),
  /**
   * True: Runtime Lab registers the name as {path: binary, runtimeArgs: globalArgs} for the
   * run (daemon.json backed up, restored afterwards). False: dockerd must already know it.
   * Default: true, except for a built-in runtime.
   */
  register: z.boolean().optional(),
});
export type DockerRuntimeOptions = z.infer<typeof DockerRuntimeOptions>;

/** How a CRI pod names the runtime (method "cri"). */
export const CriRuntimeOptions = z.object({
  /**
   * RunPodSandboxRequest.runtime_handler: a runtime the CRI endpoint's configuration names
   * (containerd: [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.NAME]). "" is the
   * endpoint's default runtime. Default: the runtime's name in the plan.
   */
  handler: z.string().regex(/^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
});
export type CriRuntimeOptions = z.infer<typeof CriRuntimeOptions>;

export const RuntimeSpec = z.object({
  /** Label shown in charts and CSV, unique within a plan (e.g. "runsc-ptrace"). */
  name: z.string().regex(NAME),
  /** Binary name or absolute path on the host (for shim v2 runtimes: the shim, for its version). */
  binary: PATH,
  /** Global flags placed before the subcommand (e.g. runsc's --network=none --platform=ptrace). */
  globalArgs: z.array(z.string().max(4096)).max(64).default([]),
  /** `run` for runc-like runtimes; `create-start` for runtimes without `run` (runnc). oci-direct only. */
  lifecycle: z.enum(['run', 'create-start']).default('run'),
  /** Method "ctr": runtime type and options; defaults derived from binary and globalArgs. */
  ctr: CtrRuntimeOptions.optional(),
  /** Method "docker": runtime name in daemon.json; default derived from binary and globalArgs. */
  docker: DockerRuntimeOptions.optional(),
  /** Method "cri": the runtime handler; default the runtime's name. */
  cri: CriRuntimeOptions.optional(),
});
export type RuntimeSpec = z.infer<typeof RuntimeSpec>;

/**
 * hello: prints and exits (startup); loop: the seed's loop.c, stays up (memory plans only);
 * perf: fixed CPU, syscall and file I/O kernels timed inside the container (perf plans only).
 */
export const Workload = z.enum(['hello', 'loop', 'perf']);
export type Workload = z.infer<typeof Workload>;

export const DEFAULT_CONTAINERD_ADDRESS = '/run/containerd/containerd.sock';
export const DEFAULT_CONTAINERD_NAMESPACE = 'runtime-lab';
export const DEFAULT_SNAPSHOTTER = 'overlayfs';
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
export const DEFAULT_DAEMON_JSON = '/etc/docker/daemon.json';
export const DEFAULT_DAEMON_SAMPLE_MS = 250;

/** containerd as method "ctr" reaches it. */
export const ContainerdOptions = z.object({
  /** containerd's socket (`ctr --address`); default /run/containerd/containerd.sock. */
  address: PATH.optional(),
  /** Runtime Lab's own namespace, so its images and containers never mix with the host's; default runtime-lab. */
  namespace: z.string().regex(NAME).optional(),
  /** overlayfs, native, devmapper…: chosen and recorded so ctr and docker compare on the same; default overlayfs. */
  snapshotter: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/).optional(),
});
export type ContainerdOptions = z.infer<typeof ContainerdOptions>;

/** dockerd as method "docker" reaches it. */
export const DockerOptions = z.object({
  /** `docker -H`; default unix:///var/run/docker.sock. */
  host: z.string().regex(/^(unix|tcp|ssh|npipe):\/\/\S+$/).optional(),
  /** The daemon.json this dockerd reads (its --config-file); default /etc/docker/daemon.json. */
  daemonJson: PATH.optional(),
  /** The storage driver the comparison assumes: the run fails before measuring when dockerd uses another. */
  storageDriver: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/).optional(),
  /**
   * A storage-driver loop: the whole plan is measured once per driver, in this order, with
   * daemon.json's "storage-driver" switched (backed up, dockerd restarted, confirmed by
   * `docker info`) and the user's original restored at the end or on abort.
   */
  storageDrivers: z.array(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/)).min(1).max(8).optional(),
  /** `docker run --network`; default none (what ctr gives a container: its own namespace, no interface). */
  network: z.string().regex(NAME).optional(),
  /** How a daemon.json change takes effect: reload (SIGHUP; a restart when that is not enough, the default) or always restart. */
  apply: z.enum(['reload', 'restart']).optional(),
});
export type DockerOptions = z.infer<typeof DockerOptions>;

/**
 * A memory-footprint plan (method oci-direct): the seed's loop.c kept running in N
 * containers per runtime, N stepping up, measured after a settle time. `iterations`,
 * `warmups` and `order` do not apply (runtimes are interleaved per step).
 */
export const MemoryOptions = z.object({
  /** The steps: how many containers run at once, e.g. [1, 5, 10, 20]. */
  containers: z.array(z.number().int().min(1).max(1_000)).min(1).max(32),
  /** Wait after the last container of a step started, before measuring (ms); default 2000. */
  settleMs: z.number().int().min(0).max(600_000).optional(),
  /** MemAvailable that must remain after a step (bytes); default max(512 MiB, 10% of MemTotal). */
  safetyMarginBytes: z.number().int().min(0).optional(),
});
export type MemoryOptions = z.infer<typeof MemoryOptions>;

export const DEFAULT_MEMORY_SETTLE_MS = 2_000;

/** The perf workload's kernels, each a fixed amount of work timed inside the container (Sample.step). */
export const PERF_KERNELS = ['cpu', 'syscalls', 'io'] as const;
export type PerfKernel = (typeof PERF_KERNELS)[number];

/**
 * A performance plan: the same static binary in every runtime times fixed work inside the
 * container — cpu (an integer loop), syscalls (getpid in a loop, through the runtime's
 * syscall path: gVisor's Sentry, a VM's kernel), io (write + fsync of a fixed size).
 */
export const PerfOptions = z.object({
  /** Iterations of the integer loop; default 200 000 000. */
  cpuLoops: z.number().int().min(1).max(1e12).optional(),
  /** getpid calls; default 100 000 (gVisor on ptrace spends 15–50 µs on each: a million would outlast the timeout). */
  syscalls: z.number().int().min(1).max(1e10).optional(),
  /** Bytes written then fsynced, in 64 KiB writes, to a file in the container's root filesystem; default 64 MiB. */
  ioBytes: z.number().int().min(65_536).max(64 * 1024 ** 3).optional(),
});
export type PerfOptions = z.infer<typeof PerfOptions>;

export const DEFAULT_PERF = { cpuLoops: 200_000_000, syscalls: 100_000, ioBytes: 64 * 1024 * 1024 } as const;

/** The method "cri" endpoint. */
export const CriOptions = z.object({
  /** The CRI socket; default containerd's /run/containerd/containerd.sock (cri-o: /var/run/crio/crio.sock). */
  address: PATH.optional(),
  /** host (default): pods in the host's network namespace, no CNI on the path; cni: the endpoint's CNI config. */
  network: z.enum(['host', 'cni']).optional(),
});
export type CriOptions = z.infer<typeof CriOptions>;

/** The pod lifecycle of talk 2, in call order: each is one Sample.step of a cri iteration. */
export const CRI_STEPS = ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'StopPodSandbox', 'RemovePodSandbox'] as const;
export type CriStep = (typeof CRI_STEPS)[number];

export const DEFAULT_CRI_ADDRESS = DEFAULT_CONTAINERD_ADDRESS;

export const Plan = z
  .object({
    method: MeasurementMethod,
    runtimes: z.array(RuntimeSpec).min(1).max(16),
    workload: Workload.default('hello'),
    iterations: z.number().int().min(1).max(100_000),
    warmups: z.number().int().min(0).max(1_000).default(3),
    order: z.enum(['round-robin', 'random']).default('round-robin'),
    /** Seed of the random order; recorded so a run's order can be reproduced. */
    seed: z.number().int().nonnegative().optional(),
    timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Method "ctr". */
    containerd: ContainerdOptions.optional(),
    /** Method "docker". */
    docker: DockerOptions.optional(),
    /** Methods ctr and docker: how often daemon CPU and memory are read (ms; default 250, 0 = off). */
    daemonSampleMs: z.union([z.literal(0), z.number().int().min(50).max(60_000)]).optional(),
    /** Set: a memory-footprint run instead of a startup one (methods oci-direct, ctr, docker; workload loop). */
    memory: MemoryOptions.optional(),
    /** Set: a performance run (workload perf): the kernels' times are the samples' steps. */
    perf: PerfOptions.optional(),
    /** Method "cri". */
    cri: CriOptions.optional(),
  })
  .refine((p) => new Set(p.runtimes.map((r) => r.name)).size === p.runtimes.length, {
    message: 'runtime names must be unique within a plan',
  })
  .refine((p) => p.memory === undefined || p.method !== 'cri', { message: 'memory plans use method oci-direct, ctr or docker' })
  .refine((p) => (p.workload === 'loop') === (p.memory !== undefined), { message: 'workload loop goes with a memory plan, and only with one' })
  .refine((p) => (p.workload === 'perf') === (p.perf !== undefined), { message: 'workload perf goes with a perf plan, and only with one' })
  .refine((p) => p.perf === undefined || p.method !== 'cri', { message: 'perf plans use method oci-direct, ctr or docker' })
  .refine((p) => p.docker?.storageDrivers === undefined || p.method === 'docker', { message: 'docker.storageDrivers applies to method docker only' })
  .refine((p) => p.docker?.storageDrivers === undefined || p.docker.storageDriver === undefined, {
    message: 'docker.storageDriver (the driver dockerd must already use) and docker.storageDrivers (a loop that sets each) exclude each other',
  })
  .refine((p) => p.docker?.storageDrivers === undefined || p.memory === undefined, { message: 'a memory plan runs on the storage driver dockerd has: docker.storageDrivers loops startup plans only' })
  // The results views compare drivers on startup time; a perf plan per driver (docker.storageDriver) keeps each kernel's chart readable.
  .refine((p) => p.docker?.storageDrivers === undefined || p.perf === undefined, { message: 'docker.storageDrivers loops startup plans only: for perf on each driver, run one perf plan per driver with docker.storageDriver' });
export type Plan = z.infer<typeof Plan>;

/** Plan-level containerd options with the defaults filled in. */
export function resolveContainerdOptions(plan: Pick<Plan, 'containerd'>): Required<ContainerdOptions> {
  return {
    address: plan.containerd?.address ?? DEFAULT_CONTAINERD_ADDRESS,
    namespace: plan.containerd?.namespace ?? DEFAULT_CONTAINERD_NAMESPACE,
    snapshotter: plan.containerd?.snapshotter ?? DEFAULT_SNAPSHOTTER,
  };
}

/** Plan-level docker options with the defaults filled in (storageDriver stays optional: no expectation). */
export function resolveDockerOptions(plan: Pick<Plan, 'docker'>): Required<Omit<DockerOptions, 'storageDriver' | 'storageDrivers'>> & { storageDriver: string | null; storageDrivers: string[] | null } {
  return {
    host: plan.docker?.host ?? DEFAULT_DOCKER_HOST,
    daemonJson: plan.docker?.daemonJson ?? DEFAULT_DAEMON_JSON,
    storageDriver: plan.docker?.storageDriver ?? null,
    storageDrivers: plan.docker?.storageDrivers ?? null,
    network: plan.docker?.network ?? 'none',
    apply: plan.docker?.apply ?? 'reload',
  };
}

/** Plan-level CRI options with the defaults filled in. */
export function resolveCriOptions(plan: Pick<Plan, 'cri'>): Required<CriOptions> {
  return { address: plan.cri?.address ?? DEFAULT_CRI_ADDRESS, network: plan.cri?.network ?? 'host' };
}

/** The CRI runtime handler of a runtime: its own option, else its name. */
export function criHandler(runtime: Pick<RuntimeSpec, 'name' | 'cri'>): string {
  return runtime.cri?.handler ?? runtime.name;
}
