import { useMemo } from 'react';
import type { LiveRun } from '../../store/runs-store.ts';
import { isLive, runtimeNames } from './run-view.ts';
import { indexSummaries, type SummaryIndex } from './summary-index.ts';

/**
 * What the CRI, perf and storage-driver views start from: the runtime names (the same array
 * while they do not change, so charts keyed on them keep their state), the summaries of
 * every series (recomputed as samples arrive) and whether the run is still measuring.
 */
export function useRunSummaries(run: LiveRun): { names: string[]; index: SummaryIndex; live: boolean } {
  const runtimesKey = runtimeNames(run).join('\n');
  const { samples, rev, epoch } = run;
  // eslint-disable-next-line react-hooks/exhaustive-deps -- rev/epoch: the samples array grows in place.
  const index = useMemo(() => indexSummaries(samples), [samples, rev, epoch]);
  const names = useMemo(() => runtimesKey.split('\n').filter(Boolean), [runtimesKey]);
  return { names, index, live: isLive(run) };
}
