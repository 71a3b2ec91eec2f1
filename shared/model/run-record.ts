import { z } from 'zod';
import { Plan } from './plan.ts';

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

export const AgentEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), runId: z.string(), at: z.string(), plan: Plan, agentVersion: z.string(), pid: z.number().int() }),
  z.object({ type: z.literal('bundle'), bundle: BundleInfo }),
  z.object({ type: z.literal('versions'), versions: z.array(RuntimeVersion) }),
  z.object({ type: z.literal('sample'), sample: Sample }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  z.object({
    type: z.literal('finished'),
    at: z.string(),
    status: z.enum(['completed', 'aborted', 'failed']),
    message: z.string().optional(),
  }),
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
