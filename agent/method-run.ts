import path from 'node:path';
import { DEFAULT_DAEMON_SAMPLE_MS, type Plan } from '../shared/model/plan.ts';
import type { AgentEvent } from '../shared/model/run-record.ts';
import type { PreparedBundle } from './bundle.ts';
import { startDaemonSampler, type DaemonSampler, type SamplerScope } from './daemon-sampler.ts';
import { spawnTimed } from './spawn-timed.ts';
import { prepareWorkloadBundle } from './workload-bundle.ts';

// What every method module is given by the agent's main, and the preparation they share.

/** What every method module is given by the agent's main. */
export interface MethodRun {
  /** Validated, with the seed filled in when the order is random. */
  plan: Plan;
  runId: string;
  runDir: string;
  /** Aborting stops after the current iteration is cleaned up. */
  signal: AbortSignal;
  emit: (event: AgentEvent) => void;
}

/** Builds the plan's workload bundle (the image's rootfs) and records it; every method runs the same workload. */
export function emitBundle(run: MethodRun): PreparedBundle {
  const bundle = prepareWorkloadBundle(run.plan, path.join(run.runDir, 'bundle'));
  for (const message of bundle.warnings) run.emit({ type: 'log', level: 'warn', message });
  run.emit({ type: 'bundle', bundle: bundle.info });
  return bundle;
}

/** `BINARY --version`, first line, for each runtime of the plan. */
export async function runtimeVersions(plan: Plan, options: { timeoutMs: number; scratchDir: string; signal?: AbortSignal }): Promise<Array<{ runtime: string; binary: string; version: string | null }>> {
  return Promise.all(plan.runtimes.map(async (r) => {
    const result = await spawnTimed([r.binary, '--version'], options);
    const first = result.exitCode === 0 ? (result.stdout.split('\n').map((l) => l.trim()).find(Boolean) ?? null) : null;
    return { runtime: r.name, binary: r.binary, version: first };
  }));
}

/** The one value all share, 'mixed' when they differ, null when none is known. */
export function uniform(values: readonly (string | null)[]): string | null {
  const distinct = [...new Set(values.filter((v): v is string => v !== null))];
  return distinct.length === 0 ? null : distinct.length === 1 ? distinct[0]! : 'mixed';
}

export function startSampler(plan: Plan, emit: (event: AgentEvent) => void, scope: SamplerScope): DaemonSampler | null {
  const intervalMs = plan.daemonSampleMs ?? DEFAULT_DAEMON_SAMPLE_MS;
  return intervalMs > 0 ? startDaemonSampler({ intervalMs, emit, scope }) : null;
}
