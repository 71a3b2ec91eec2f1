import { stringify } from 'csv-stringify/sync';
import type { RunMeta } from './model/run.ts';
import type { MemoryStep, Sample } from './model/run-record.ts';
import type { RuntimeSummary } from './stats.ts';

// Exports are views of a run for spreadsheets and scripts. Every row carries the run and
// its environment, so a row pasted elsewhere or two runs' files concatenated still say
// where each number came from.

export const SAMPLE_CSV_COLUMNS = [
  'run_id', 'host', 'method', 'runtime', 'step', 'storage_driver', 'iteration', 'warmup', 'duration_ms', 'ok', 'error',
  'seq', 'started_at', 'exit_code', 'timed_out',
  'kernel', 'cgroup_mode', 'cpu_model', 'runtime_version',
] as const;

export const SUMMARY_CSV_COLUMNS = [
  'run_id', 'host', 'method', 'runtime', 'step', 'storage_driver', 'n', 'failures', 'warmups',
  'mean_ms', 'median_ms', 'sd_ms', 'min_ms', 'max_ms', 'p5_ms', 'p95_ms', 'p99_ms',
  'ci_confidence', 'ci_low_ms', 'ci_high_ms', 'ci_resamples', 'ci_seed',
  'kernel', 'cgroup_mode', 'cpu_model', 'runtime_version',
] as const;

type Cell = string | number | boolean | null;

export function samplesToCsv(run: RunMeta, samples: readonly Sample[]): string {
  const rows = samples.map((s): Cell[] => [
    run.id, run.hostName, run.method, s.runtime, s.step ?? null, s.storageDriver ?? null, s.iteration, s.warmup, s.durationMs, s.ok, s.error,
    s.seq, s.startedAt, s.exitCode, s.timedOut,
    ...environment(run, s.runtime),
  ]);
  return toCsv(SAMPLE_CSV_COLUMNS, rows);
}

export function summaryToCsv(run: RunMeta, summaries: readonly RuntimeSummary[]): string {
  const rows = summaries.map((s): Cell[] => [
    run.id, run.hostName, run.method, s.runtime, s.step, s.storageDriver, s.n, s.failures, s.warmups,
    s.mean, s.median, s.sd, s.min, s.max, s.p5, s.p95, s.p99,
    s.medianCi?.confidence ?? null, s.medianCi?.low ?? null, s.medianCi?.high ?? null,
    s.medianCi?.resamples ?? null, s.medianCi?.seed ?? null,
    ...environment(run, s.runtime),
  ]);
  return toCsv(SUMMARY_CSV_COLUMNS, rows);
}

export const MEMORY_STEP_CSV_COLUMNS = [
  'run_id', 'host', 'method', 'runtime', 'containers', 'running', 'ok', 'error',
  'total_pss_bytes', 'per_container_pss_bytes', 'mem_available_drop_bytes', 'per_container_mem_available_drop_bytes',
  'mem_available_before_bytes', 'settle_ms', 'output', 'processes', 'daemons', 'seq', 'at',
  'kernel', 'cgroup_mode', 'cpu_model', 'runtime_version',
] as const;

/**
 * One row per memory step; `processes` lists what was counted as "pid comm role pss_bytes",
 * `daemons` the shared daemons (not counted) as "process pid rss_before_bytes rss_after_bytes",
 * each separated by ";".
 */
export function memoryStepsToCsv(run: RunMeta, steps: readonly MemoryStep[]): string {
  const rows = steps.map((s): Cell[] => [
    run.id, run.hostName, run.method, s.runtime, s.containers, s.running, s.ok, s.error,
    s.totalPssBytes, s.perContainerPssBytes, s.memAvailableDropBytes, s.perContainerMemAvailableDropBytes,
    s.memAvailableBeforeBytes, s.settleMs, s.output, s.processes.map((p) => `${p.pid} ${p.comm} ${p.role} ${p.pssBytes}`).join(';'),
    (s.daemons ?? []).map((d) => `${d.process} ${d.pid} ${d.rssBeforeBytes ?? ''} ${d.rssAfterBytes ?? ''}`).join(';'), s.seq, s.at,
    ...environment(run, s.runtime),
  ]);
  return toCsv(MEMORY_STEP_CSV_COLUMNS, rows);
}

/** The run's context (plan, host facts, versions, bundle, outcome) to save beside a CSV. */
export function runSidecarJson(run: RunMeta): string {
  return `${JSON.stringify(run, null, 2)}\n`;
}

function environment(run: RunMeta, runtime: string): Cell[] {
  const version = run.versions.find((v) => v.runtime === runtime)?.version ?? null;
  return [run.facts.os.kernel, run.facts.cgroup.mode, run.facts.cpu.model, version];
}

function toCsv(columns: readonly string[], rows: Cell[][]): string {
  return stringify(rows, {
    header: true,
    columns: [...columns],
    // RFC 4180: CRLF between records, and any field holding a line break is quoted. With
    // CRLF records csv-stringify would leave a lone \n or \r unquoted, hence quoted_match.
    record_delimiter: 'windows',
    quoted_match: /[\r\n]/,
    // Spelled out rather than csv-stringify's default of "1" and "" for booleans.
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
}
