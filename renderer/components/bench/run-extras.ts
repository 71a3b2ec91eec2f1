import { useEffect } from 'react';
import { create } from 'zustand';
import type { DaemonUsageReading, EnvironmentInfo, MemoryStep } from '../../../shared/model/run-record.ts';
import type { RunDetail } from '../../../shared/model/run.ts';
import { call } from '../../lab-client.ts';

// What runs:get carries besides the run's meta and samples: the agent's environment event,
// the daemon CPU/RSS readings (methods ctr, docker, cri) and a memory plan's steps. Filled
// by the runs store whenever it reads a run (storeRunExtras: no second runs:get for the
// same run), read here only for a run nobody has read yet; while a run measures, the runs
// store hands on the runner's `run:extras` events (what it stores as it tails). Kept per
// run beside the runs store, shared by the run's charts and its environment view.

export interface RunExtras {
  environment: EnvironmentInfo | null;
  daemonUsage: DaemonUsageReading[];
  memorySteps: MemoryStep[];
}

const NO_READINGS: DaemonUsageReading[] = [];
const NO_STEPS: MemoryStep[] = [];

const useExtrasStore = create<{ byRun: Record<string, RunExtras> }>()(() => ({ byRun: {} }));
const inFlight = new Set<string>();
/** Runs whose stored extras were read (runs:get); live events alone may hold only the latest. */
const read = new Set<string>();

/**
 * Both the stored copy and live events can hold a reading or step: merging by identity
 * (instant and pid; seq) means an event that lands while runs:get is in flight is kept.
 */
function merge(current: RunExtras | undefined, next: RunExtras): RunExtras {
  if (!current) return next;
  const readingKey = (r: DaemonUsageReading) => `${r.at}|${r.pid}`;
  const readings = new Map([...current.daemonUsage, ...next.daemonUsage].map((r) => [readingKey(r), r]));
  const steps = new Map([...current.memorySteps, ...next.memorySteps].map((s) => [s.seq, s]));
  return {
    environment: next.environment ?? current.environment,
    daemonUsage: [...readings.values()].sort((a, b) => a.at.localeCompare(b.at)),
    memorySteps: [...steps.values()].sort((a, b) => a.seq - b.seq),
  };
}

/** A `run:extras` event of a measuring run (the runs store hands them all on, viewed or not), or a runs:get reply's extras. */
export function addLiveExtras(runId: string, detail: Pick<RunDetail, 'environment' | 'daemonUsage' | 'memorySteps'>): void {
  const extras = { environment: detail.environment ?? null, daemonUsage: detail.daemonUsage ?? NO_READINGS, memorySteps: detail.memorySteps ?? NO_STEPS };
  useExtrasStore.setState((s) => ({ byRun: { ...s.byRun, [runId]: merge(s.byRun[runId], extras) } }));
}

/** What a runs:get reply holds besides meta and samples, kept for the run's views. */
export function storeRunExtras(runId: string, detail: Pick<RunDetail, 'environment' | 'daemonUsage' | 'memorySteps'>): void {
  read.add(runId);
  addLiveExtras(runId, detail);
}

async function refresh(runId: string): Promise<void> {
  if (inFlight.has(runId)) return;
  inFlight.add(runId);
  try {
    storeRunExtras(runId, await call('runs:get', { runId }));
  } catch {
    // Not stored yet (still deploying) or gone: keep what was read before.
  } finally {
    inFlight.delete(runId);
  }
}

/**
 * The run's environment, daemon readings and memory steps (live ones arrive through the
 * runs store). `enabled` false: read nothing (a component that needs them only for some runs).
 */
export function useRunExtras(runId: string, enabled = true): RunExtras | undefined {
  useEffect(() => {
    if (enabled && !read.has(runId)) void refresh(runId);
  }, [runId, enabled]);
  return useExtrasStore((s) => s.byRun[runId]);
}
