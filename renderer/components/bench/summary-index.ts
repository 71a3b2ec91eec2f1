import type { Sample } from '../../../shared/model/run-record.ts';
import { summarizeSamples, type RuntimeSummary } from '../../../shared/stats.ts';

// shared/stats.ts summaries of every series of a run (runtime × step × storage driver),
// looked up by their parts: the CRI, perf and storage-driver views read them this way.

export interface SummaryIndex {
  get(runtime: string, step: string | null, storageDriver?: string | null): RuntimeSummary | undefined;
  /** Steps the samples name, in the order given first, then any others as they first appear. */
  steps(order: readonly string[]): string[];
  /** Storage drivers the samples name, in the order given first (the plan's), then the others. */
  drivers(order: readonly string[]): string[];
}

function key(runtime: string, step: string | null, storageDriver: string | null): string {
  return JSON.stringify([runtime, step, storageDriver]);
}

function inOrder(seen: readonly string[], order: readonly string[]): string[] {
  return [...order.filter((o) => seen.includes(o)), ...seen.filter((s) => !order.includes(s))];
}

export function indexSummaries(samples: readonly Sample[]): SummaryIndex {
  const all = summarizeSamples(samples);
  const byKey = new Map(all.map((s) => [key(s.runtime, s.step, s.storageDriver), s]));
  const steps = [...new Set(all.flatMap((s) => (s.step === null ? [] : [s.step])))];
  const drivers = [...new Set(all.flatMap((s) => (s.storageDriver === null ? [] : [s.storageDriver])))];
  return {
    get: (runtime, step, storageDriver = null) => byKey.get(key(runtime, step, storageDriver)),
    steps: (order) => inOrder(steps, order),
    drivers: (order) => inOrder(drivers, order),
  };
}
