import { z } from 'zod';
import { MeasurementMethod, Plan } from './plan.ts';

// What the host agent appends, one JSON object per line, to events.jsonl in its run
// folder. The desktop tails that file; a line is the unit of "stored": once written it
// is never rewritten, so resuming from a byte offset can neither lose nor repeat one.

export const Sample = z.object({
  /** Position in the run's execution order, 0-based, warm-ups included: unique per run. */
  seq: z.number().int().nonnegative(),
  runtime: z.string(),
  /** Index within this runtime's measured iterations (warm-ups count separately). */
  iteration: z.number().int().nonnegative(),
  warmup: z.boolean(),
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
  ok: z.boolean(),
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  /** The runtime's own error output (trimmed) when the iteration failed. */
  error: z.string().nullable(),
  /**
   * Part of the iteration timed on its own: a CRI call (RunPodSandbox … RemovePodSandbox,
   * see CRI_STEPS) or a perf kernel (cpu, syscalls, io; see PERF_KERNELS). Null or absent:
   * the whole iteration. An iteration with steps has one sample per step and one for the
   * whole, each with its own seq and the same iteration index.
   */
  step: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/).nullable().optional(),
  /** Docker's storage driver the iteration ran on, when the plan loops over several (docker.storageDrivers). */
  storageDriver: z.string().nullable().optional(),
});
export type Sample = z.infer<typeof Sample>;

export const BundleInfo = z.object({
  workload: z.string(),
  /** How the workload binary was made: "gcc -static hello.c" or "busybox echo Hello". */
  builtWith: z.string(),
  /** sha256 over the bundle's config.json and rootfs file list and contents. */
  digest: z.string(),
  path: z.string(),
});
export type BundleInfo = z.infer<typeof BundleInfo>;

export const RuntimeVersion = z.object({ runtime: z.string(), binary: z.string(), version: z.string().nullable() });

/** The workload as an image (methods ctr and docker): built offline from the bundle's rootfs. */
export const WorkloadImageInfo = z.object({
  /** The name both daemons know it by (containerd normalises it to docker.io/…). */
  ref: z.string(),
  /** sha256:… of the image config: Docker's image ID, the same in containerd. */
  configDigest: z.string(),
  /** sha256:… of the single uncompressed layer (its diff_id). */
  layerDiffId: z.string(),
  /** The bundle digest whose rootfs the layer holds: ties the image to the oci-direct workload. */
  bundleDigest: z.string(),
  /** process.args of the bundle, the image's Cmd. */
  command: z.array(z.string()),
  /** sha256 of the docker-archive tarball imported (built deterministically: same workload, same bytes). */
  archiveSha256: z.string(),
  /** How it reached the daemon, e.g. "ctr images import --snapshotter overlayfs" or "docker load". */
  importedWith: z.string(),
  /** containerd's manifest digest after import (method ctr); null for docker. */
  manifestDigest: z.string().nullable(),
});
export type WorkloadImageInfo = z.infer<typeof WorkloadImageInfo>;

/** A component's version as reported by the component itself (null: it did not answer). */
export const ComponentVersion = z.object({ component: z.string(), version: z.string().nullable(), detail: z.string().optional() });
export type ComponentVersion = z.infer<typeof ComponentVersion>;

/** How one runtime of the plan was actually invoked. */
export const RuntimeInvocation = z.object({
  runtime: z.string(),
  /** argv of one measured iteration, with the container ID shown as <id>. */
  argv: z.array(z.string()),
  /** ctr: the --runtime type; docker: the runtime name dockerd resolves. */
  runtimeType: z.string(),
  /** The OCI binary behind it (runc shim's --runc-binary, daemon.json path), when known. */
  ociBinary: z.string().nullable(),
  /** Flags the OCI binary receives from the wrapper or daemon.json runtimeArgs. */
  ociArgs: z.array(z.string()),
  /** cgroupfs or systemd. */
  cgroupDriver: z.string().nullable(),
  /** True when Runtime Lab registered it in daemon.json for this run only. */
  registeredByRuntimeLab: z.boolean().optional(),
});
export type RuntimeInvocation = z.infer<typeof RuntimeInvocation>;

/**
 * Everything a result depends on besides the runtimes' own binaries, as found on the host
 * at the start of the run: two runs are only comparable when these agree (the seed's
 * ctr-vs-docker surprise was a naive snapshotter against devicemapper).
 */
export const EnvironmentInfo = z.object({
  method: MeasurementMethod,
  kernel: z.string().nullable(),
  /** How samples were timed (the native posix_spawn timer, or Node's clock when the host has no gcc). */
  timing: z.string().optional(),
  cgroup: z.object({
    /** v1, hybrid (v1 controllers with a v2 "unified" mount), v2. */
    mode: z.enum(['v1', 'hybrid', 'v2', 'unknown']),
    /** cgroupfs or systemd, as dockerd reports it or the runc shim is told; "mixed" when runtimes differ. */
    driver: z.string().nullable(),
  }),
  /** Daemons, clients and shims involved, each in its own words. */
  components: z.array(ComponentVersion),
  containerd: z
    .object({
      address: z.string(),
      namespace: z.string(),
      snapshotter: z.string(),
      /** The snapshotter plugin's status in `ctr plugins ls` (ok, error, skip) and its error, if any. */
      snapshotterStatus: z.string().nullable(),
      snapshotterError: z.string().nullable(),
      /** Every snapshotter plugin and its status. */
      snapshotters: z.record(z.string(), z.string()),
      /** Status of io.containerd.runtime.v1 linux (the legacy shim v1 runtime); null: not present. */
      legacyRuntimeV1: z.string().nullable(),
    })
    .nullable(),
  docker: z
    .object({
      host: z.string(),
      daemonJson: z.string(),
      serverVersion: z.string().nullable(),
      storageDriver: z.string().nullable(),
      expectedStorageDriver: z.string().nullable(),
      cgroupDriver: z.string().nullable(),
      cgroupVersion: z.string().nullable(),
      defaultRuntime: z.string().nullable(),
      /** Runtimes dockerd knew while measuring (after Runtime Lab's registrations). */
      runtimes: z.record(z.string(), z.object({ path: z.string().optional(), runtimeArgs: z.array(z.string()).optional() })),
      network: z.string(),
      /** A storage-driver loop (plan docker.storageDrivers): the drivers in the order they were measured, as dockerd confirmed them. */
      storageDrivers: z.array(z.string()).optional(),
    })
    .nullable(),
  /** Method "cri": the CRI endpoint as it described itself (absent for other methods and older runs). */
  cri: z
    .object({
      address: z.string(),
      /** RuntimeService.Version: runtime_name, runtime_version, runtime_api_version. */
      runtimeName: z.string().nullable(),
      runtimeVersion: z.string().nullable(),
      runtimeApiVersion: z.string().nullable(),
      /** The pause image the CRI plugin starts sandboxes from (built and imported offline by Runtime Lab). */
      sandboxImage: z.string().nullable(),
      /** host: pods share the host's network namespace (no CNI involved); cni: the CNI config below. */
      network: z.enum(['host', 'cni']),
      cniConfig: z.string().nullable(),
      /** Runtime handlers the endpoint knows (containerd: plugins."io.containerd.grpc.v1.cri".containerd.runtimes). */
      handlers: z.array(z.string()),
      snapshotter: z.string().nullable(),
    })
    .nullable()
    .optional(),
  image: WorkloadImageInfo.nullable(),
  runtimes: z.array(RuntimeInvocation),
});
export type EnvironmentInfo = z.infer<typeof EnvironmentInfo>;

/** One reading of one daemon or shim process. */
export const DaemonUsageReading = z.object({
  /** When it was read (ISO 8601). */
  at: z.string(),
  /** containerd, dockerd, crio, conmon, containerd-shim-runc-v2 (any containerd-shim*), runsc-sandbox, runsc-gofer, runsc. */
  process: z.string(),
  pid: z.number().int().positive(),
  /** CPU time (user + system) over wall time since the previous reading (or since it started), in % of one CPU. */
  cpuPercent: z.number().nonnegative(),
  /** VmRSS. */
  rssBytes: z.number().int().nonnegative(),
});
export type DaemonUsageReading = z.infer<typeof DaemonUsageReading>;

/** One process counted in a memory step. */
export const MemoryProcess = z.object({
  pid: z.number().int().positive(),
  /** /proc/PID/comm. */
  comm: z.string(),
  /** container (the workload, or the init inside a sandbox), sandbox (runsc-sandbox and its children), gofer, runtime, shim, other. */
  role: z.enum(['container', 'sandbox', 'gofer', 'runtime', 'shim', 'other']),
  /** Pss from /proc/PID/smaps_rollup. */
  pssBytes: z.number().int().nonnegative(),
});
export type MemoryProcess = z.infer<typeof MemoryProcess>;

/** A shared daemon's memory around a memory step; null: it could not be read then. */
export const MemoryDaemon = z.object({
  process: z.enum(['containerd', 'dockerd']),
  pid: z.number().int().positive(),
  rssBeforeBytes: z.number().int().nonnegative().nullable(),
  rssAfterBytes: z.number().int().nonnegative().nullable(),
  pssBeforeBytes: z.number().int().nonnegative().nullable(),
  pssAfterBytes: z.number().int().nonnegative().nullable(),
});
export type MemoryDaemon = z.infer<typeof MemoryDaemon>;

/** One step of a memory plan: N containers of one runtime running at once. */
export const MemoryStep = z.object({
  /** Position in the run's execution order, 0-based: unique per run. */
  seq: z.number().int().nonnegative(),
  runtime: z.string(),
  /** Containers asked for in this step. */
  containers: z.number().int().positive(),
  /** Containers that were running when measured. */
  running: z.number().int().nonnegative(),
  at: z.string(),
  ok: z.boolean(),
  /** The runtime's own words, or why the step was refused (starts with "refused:"). */
  error: z.string().nullable(),
  /** Null when nothing was measured (failed or refused step). */
  totalPssBytes: z.number().int().nonnegative().nullable(),
  perContainerPssBytes: z.number().nonnegative().nullable(),
  /** MemAvailable before the first container minus after the settle time (may be negative: noise). */
  memAvailableDropBytes: z.number().int().nullable(),
  perContainerMemAvailableDropBytes: z.number().nullable(),
  memAvailableBeforeBytes: z.number().int().nonnegative().nullable(),
  processes: z.array(MemoryProcess),
  settleMs: z.number().int().nonnegative(),
  /** Where the workload's output went, since log handling is part of what is measured. */
  output: z.string(),
  /**
   * Methods ctr and docker: the shared daemons (containerd, dockerd), read before the first
   * container and after the settle time. Not in the totals: they serve every container.
   */
  daemons: z.array(MemoryDaemon).optional(),
});
export type MemoryStep = z.infer<typeof MemoryStep>;

export const AgentEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), runId: z.string(), at: z.string(), plan: Plan, agentVersion: z.string(), pid: z.number().int() }),
  z.object({ type: z.literal('bundle'), bundle: BundleInfo }),
  z.object({ type: z.literal('versions'), versions: z.array(RuntimeVersion) }),
  z.object({ type: z.literal('sample'), sample: Sample }),
  z.object({ type: z.literal('environment'), environment: EnvironmentInfo }),
  /** Emitted while a ctr or docker loop runs, batched (several readings per event). */
  z.object({ type: z.literal('daemon-usage'), at: z.string(), samples: z.array(DaemonUsageReading) }),
  /** A memory plan's step (see MemoryStep). */
  MemoryStep.extend({ type: z.literal('memory-step') }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  z.object({
    type: z.literal('finished'),
    at: z.string(),
    status: z.enum(['completed', 'aborted', 'failed']),
    message: z.string().optional(),
  }),
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
