import { useEffect } from 'react';
import { create } from 'zustand';
import type { DaemonUsageReading, EnvironmentInfo, MemoryStep } from '../../../shared/model/run-record.ts';
import { call, onLabEvent } from '../../lab-client.ts';

// What runs:get carries besides the run's meta and samples: the agent's environment event,
// the daemon CPU/RSS readings (methods ctr, docker, cri) and a memory plan's steps. Read
// once when a run is shown (and again when it ends); while it measures, the runner's
// `run:extras` events add what it stores as it tails. Kept per run beside the runs store,
// shared by the run's charts and its environment view.

export interface RunExtras {
  environment: EnvironmentInfo | null;
  daemonUsage: DaemonUsageReading[];
  memorySteps: MemoryStep[];
}

const NO_READINGS: DaemonUsageReading[] = [];
const NO_STEPS: MemoryStep[] = [];

const useExtrasStore = create<{ byRun: Record<string, RunExtras> }>()(() => ({ byRun: {} }));
const inFlight = new Set<string>();

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

function add(runId: string, extras: RunExtras): void {
  useExtrasStore.setState((s) => ({ byRun: { ...s.byRun, [runId]: merge(s.byRun[runId], extras) } }));
}

async function refresh(runId: string): Promise<void> {
  if (inFlight.has(runId)) return;
  inFlight.add(runId);
  try {
    const detail = await call('runs:get', { runId });
    add(runId, { environment: detail.environment ?? null, daemonUsage: detail.daemonUsage ?? NO_READINGS, memorySteps: detail.memorySteps ?? NO_STEPS });
  } catch {
    // Not stored yet (still deploying) or gone: keep what was read before.
  } finally {
    inFlight.delete(runId);
  }
}

/**
 * The run's environment, daemon readings and memory steps. `live`: follow the run's
 * `run:extras` events while it measures. `settled`: changes when the run ends (its
 * finishedAt or phase), to read the final copy. `enabled` false: read nothing (a component
 * that needs them only for some runs).
 */
export function useRunExtras(runId: string, live: boolean, settled: string, enabled = true): RunExtras | undefined {
  useEffect(() => {
    if (!enabled) return;
    void refresh(runId);
    if (!live) return;
    return onLabEvent((event) => {
      if (event.type !== 'run:extras' || event.runId !== runId) return;
      add(runId, { environment: event.environment ?? null, daemonUsage: event.daemonUsage, memorySteps: event.memorySteps });
    });
  }, [runId, live, settled, enabled]);
  return useExtrasStore((s) => s.byRun[runId]);
}
