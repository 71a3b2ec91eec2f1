import type { ReactNode } from 'react';
import { isTerminal, type LiveRun } from '../../store/runs-store.ts';

// What every view of a run (startup, CRI, storage drivers, memory, perf) is given, and the
// two facts about the run they all read.

export interface AnalysisProps {
  run: LiveRun;
  /** Base name of the PNGs saved from this run's charts. */
  pngBase: string;
  /** A card placed beside the last chart (the run's log). */
  aside?: ReactNode;
}

/** Runtime names in plan order, then any a sample names that the plan does not. */
export function runtimeNames(run: LiveRun): string[] {
  const names = run.plan?.runtimes.map((r) => r.name) ?? [];
  for (const name of Object.keys(run.counts)) if (!names.includes(name)) names.push(name);
  return names;
}

/** Whether the run's samples are still arriving (the x axis then spans the whole plan). */
export function isLive(run: LiveRun): boolean {
  return run.phase !== null && !isTerminal(run.phase) && run.phase !== 'detached';
}
