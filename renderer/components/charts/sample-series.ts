import type { Sample } from '../../../shared/model/run-record.ts';

// Which line of a chart a sample belongs to. A run with steps (CRI calls, perf kernels)
// stores one sample per step and one for the whole iteration; a storage-driver loop
// repeats every runtime's iterations per driver. Charts pick their series with these.

/** Whole iterations, by runtime: step samples are parts of an iteration, not iterations. */
export function wholeIterationsByRuntime(s: Sample): string | null {
  return s.step == null ? s.runtime : null;
}

/** The series name of a runtime on one storage driver. */
export function driverSeries(runtime: string, driver: string): string {
  return `${runtime} · ${driver}`;
}

/** Whole iterations, by runtime and storage driver. */
export function wholeIterationsByRuntimeAndDriver(s: Sample): string | null {
  return s.step == null ? driverSeries(s.runtime, s.storageDriver ?? 'default') : null;
}

/** The samples of one step (null: whole iterations), by runtime. */
export function stepByRuntime(step: string | null): (s: Sample) => string | null {
  return (s) => ((s.step ?? null) === step ? s.runtime : null);
}
