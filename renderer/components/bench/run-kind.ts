import { runKindOf, type RunKind } from '../../../shared/model/run.ts';
import type { ChannelInput } from '../../../shared/contract/ipc-contract.ts';
import type { Plan } from '../../../shared/model/plan.ts';

// What a run measured, as the Results page names it, and which files it offers: a memory
// run has steps, not samples; every other kind has samples and their summary.

export const RUN_KIND_LABELS: Record<RunKind, { label: string; short: string }> = {
  startup: { label: 'Startup time', short: 'startup' },
  cri: { label: 'CRI pod lifecycle', short: 'CRI steps' },
  'storage-drivers': { label: 'Startup per storage driver', short: 'storage drivers' },
  memory: { label: 'Memory footprint', short: 'memory' },
  perf: { label: 'Performance inside the container', short: 'perf' },
};

/** The run-level files of the Results header; daemon readings are exported from their own card. */
export type ExportKind = Exclude<ChannelInput<'runs:export'>['kind'], 'daemon-usage-csv'>;

export interface ExportChoice {
  kind: ExportKind;
  label: string;
  title: string;
}

const SAMPLES: ExportChoice = { kind: 'samples-csv', label: 'Samples CSV', title: 'Every sample, one row each (with its step and storage driver), with the environment' };
const SUMMARY: ExportChoice = { kind: 'summary-csv', label: 'Summary CSV', title: 'n, median, CI, percentiles per runtime (and step, storage driver)' };
const MEMORY: ExportChoice = { kind: 'memory-steps-csv', label: 'Memory steps CSV', title: 'One row per step: PSS, MemAvailable drop, the processes counted' };
const ENVIRONMENT: ExportChoice = { kind: 'environment-json', label: 'Environment JSON', title: 'Plan, host facts, runtime versions and bundle as JSON' };

export function exportsFor(kind: RunKind): ExportChoice[] {
  return kind === 'memory' ? [MEMORY, ENVIRONMENT] : [SAMPLES, SUMMARY, ENVIRONMENT];
}

export function kindOf(plan: Plan | null): RunKind {
  return plan ? runKindOf(plan) : 'startup';
}
