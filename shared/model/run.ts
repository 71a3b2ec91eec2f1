import { z } from 'zod';
import { HostFacts } from './host-facts.ts';
import { MeasurementMethod, Plan } from './plan.ts';
import { BundleInfo, DaemonUsageReading, EnvironmentInfo, MemoryStep, RuntimeVersion, Sample } from './run-record.ts';

// A run as the results store keeps it: everything needed to read its samples later
// without the host — what was asked (plan), where (host facts), with what (runtime
// versions, workload bundle), and how it ended. Samples are stored beside it, not in it.

export const RUN_STATUSES = ['running', 'completed', 'aborted', 'failed'] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;

/** The statuses a run can end in; the same words as the agent's `finished` event. */
export const FinalRunStatus = RunStatus.exclude(['running']);
export type FinalRunStatus = z.infer<typeof FinalRunStatus>;

export const RunId = z.string().min(1).max(128);

/**
 * What a run measured, read from its plan: the charts and exports that fit it. memory and
 * perf plans say so themselves; method cri times the pod lifecycle's steps; a docker
 * storage-driver loop repeats the startup plan per driver; anything else is plain startup.
 */
export const RUN_KINDS = ['startup', 'cri', 'storage-drivers', 'memory', 'perf'] as const;
export const RunKind = z.enum(RUN_KINDS);
export type RunKind = z.infer<typeof RunKind>;

export function runKindOf(plan: Pick<Plan, 'method' | 'memory' | 'perf' | 'docker'>): RunKind {
  if (plan.memory) return 'memory';
  if (plan.perf) return 'perf';
  if (plan.method === 'cri') return 'cri';
  if (plan.docker?.storageDrivers) return 'storage-drivers';
  return 'startup';
}

export const RunMeta = z
  .object({
    id: RunId,
    /** The host's display name at the time of the run (hosts can be renamed or deleted later). */
    hostName: z.string().min(1),
    /** Always plan.method; kept as its own field so listings can show and filter it without the plan. */
    method: MeasurementMethod,
    plan: Plan,
    facts: HostFacts,
    /** Filled from the agent's `versions` event, which arrives after the run is created. */
    versions: z.array(RuntimeVersion),
    /** Filled from the agent's `bundle` event; null until then. */
    bundle: BundleInfo.nullable(),
    /** ISO 8601 in UTC, so that text order is time order in the store. */
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    status: RunStatus,
    /** Why an aborted or failed run ended, in the agent's or runner's words. */
    statusMessage: z.string().nullable(),
  })
  .refine((r) => r.method === r.plan.method, { message: 'method must equal plan.method', path: ['method'] });
export type RunMeta = z.infer<typeof RunMeta>;

/** One line of the results list: enough to choose a run without loading its samples. */
export const RunListItem = z.object({
  id: RunId,
  hostName: z.string(),
  method: MeasurementMethod,
  kind: RunKind,
  runtimes: z.array(z.string()),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  status: RunStatus,
  /** Iterations (startup kinds), or steps of N containers (kind memory, warmups always 0). */
  counts: z.object({
    /** Measured iterations that succeeded: the ones statistics are computed from. */
    ok: z.number().int().nonnegative(),
    /** Measured iterations that failed. */
    failed: z.number().int().nonnegative(),
    warmups: z.number().int().nonnegative(),
  }),
});
export type RunListItem = z.infer<typeof RunListItem>;

export const RunDetail = z.object({
  meta: RunMeta,
  samples: z.array(Sample),
  /**
   * The agent's `environment` event (methods ctr and docker; newer agents for oci-direct
   * too): null until it arrived, or for runs recorded before it existed. Optional so that
   * details written without it stay valid.
   */
  environment: EnvironmentInfo.nullable().optional(),
  /** Daemon and shim CPU/RSS readings in time order (methods ctr and docker); absent or empty when none. */
  daemonUsage: z.array(DaemonUsageReading).optional(),
  /** A memory plan's steps in execution order; absent or empty for other runs. */
  memorySteps: z.array(MemoryStep).optional(),
});
export type RunDetail = z.infer<typeof RunDetail>;
