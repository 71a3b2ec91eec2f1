import { z } from 'zod';

// A measurement plan is data: the desktop builds it, the host agent executes it, the
// results store keeps it with the run. Nothing about *how* to measure lives elsewhere.

export const MEASUREMENT_METHODS = ['oci-direct'] as const;
export const MeasurementMethod = z.enum(MEASUREMENT_METHODS);
export type MeasurementMethod = z.infer<typeof MeasurementMethod>;

export const RuntimeSpec = z.object({
  /** Label shown in charts and CSV, unique within a plan (e.g. "runsc-ptrace"). */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  /** Binary name or absolute path on the host. */
  binary: z.string().min(1).max(4096),
  /** Global flags placed before the subcommand (e.g. runsc's --network=none --platform=ptrace). */
  globalArgs: z.array(z.string().max(4096)).max(64).default([]),
  /** `run` for runc-like runtimes; `create-start` for runtimes without `run` (runnc). */
  lifecycle: z.enum(['run', 'create-start']).default('run'),
});
export type RuntimeSpec = z.infer<typeof RuntimeSpec>;

export const Workload = z.enum(['hello']);
export type Workload = z.infer<typeof Workload>;

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
  })
  .refine((p) => new Set(p.runtimes.map((r) => r.name)).size === p.runtimes.length, {
    message: 'runtime names must be unique within a plan',
  });
export type Plan = z.infer<typeof Plan>;
