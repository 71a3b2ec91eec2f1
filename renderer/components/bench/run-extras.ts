import { useEffect } from 'react';
import { create } from 'zustand';
import type { DaemonUsageReading, EnvironmentInfo, MemoryStep } from '../../../shared/model/run-record.ts';
import { call } from '../../lab-client.ts';

// What runs:get carries besides the run's meta and samples: the agent's environment event,
// the daemon CPU/RSS readings (methods ctr, docker, cri) and a memory plan's steps (no live
// event carries these: the runner stores them as it tails). Read once for a finished run;
// re-read every few seconds while one measures (they are not sent as live events). Kept
// per run beside the runs store, shared by the run's charts and its environment view.

export interface RunExtras {
  environment: EnvironmentInfo | null;
  daemonUsage: DaemonUsageReading[];
  memorySteps: MemoryStep[];
}

const REFRESH_MS = 3_000;
const NO_READINGS: DaemonUsageReading[] = [];
const NO_STEPS: MemoryStep[] = [];

const useExtrasStore = create<{ byRun: Record<string, RunExtras> }>()(() => ({ byRun: {} }));
const inFlight = new Set<string>();

async function refresh(runId: string): Promise<void> {
  if (inFlight.has(runId)) return;
  inFlight.add(runId);
  try {
    const detail = await call('runs:get', { runId });
    const extras: RunExtras = { environment: detail.environment ?? null, daemonUsage: detail.daemonUsage ?? NO_READINGS, memorySteps: detail.memorySteps ?? NO_STEPS };
    useExtrasStore.setState((s) => ({ byRun: { ...s.byRun, [runId]: extras } }));
  } catch {
    // Not stored yet (still deploying) or gone: keep what was read before.
  } finally {
    inFlight.delete(runId);
  }
}

/**
 * The run's environment, daemon readings and memory steps. `live`: re-read while the run
 * measures. `settled`: changes when the run ends (its finishedAt or phase), to read the
 * final copy. `enabled` false: read nothing (a component that needs them only for some runs).
 */
export function useRunExtras(runId: string, live: boolean, settled: string, enabled = true): RunExtras | undefined {
  useEffect(() => {
    if (!enabled) return;
    void refresh(runId);
    if (!live) return;
    const timer = window.setInterval(() => void refresh(runId), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [runId, live, settled, enabled]);
  return useExtrasStore((s) => s.byRun[runId]);
}
