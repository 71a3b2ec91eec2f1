import type { Sample } from '../../../shared/model/run-record.ts';
import { emptySummary, summarizeSamples, type RuntimeSummary } from '../../../shared/stats.ts';

/**
 * shared/stats.ts summaries in plan order, with an empty row for a runtime that has no
 * samples yet (a live run just started), so tables and charts keep their shape.
 */
export function orderedSummaries(samples: readonly Sample[], runtimes: readonly string[]): RuntimeSummary[] {
  const byName = new Map(summarizeSamples(samples).filter((s) => s.step === null && s.storageDriver === null).map((s) => [s.runtime, s]));
  const names = [...runtimes, ...[...byName.keys()].filter((r) => !runtimes.includes(r))];
  return names.map((runtime) => byName.get(runtime) ?? emptySummary(runtime));
}
