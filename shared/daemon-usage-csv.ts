import { stringify } from 'csv-stringify/sync';
import type { RunMeta } from './model/run.ts';
import type { DaemonUsageReading, EnvironmentInfo } from './model/run-record.ts';

// Daemon and shim CPU/RSS readings as a spreadsheet: one row per reading of one process,
// in time order, each carrying the run and the environment the readings depend on
// (snapshotter or storage driver, cgroup mode, kernel), like the samples CSV does.

export const DAEMON_USAGE_CSV_COLUMNS = [
  'run_id', 'host', 'method', 'at', 'elapsed_s', 'process', 'pid', 'cpu_percent', 'rss_bytes',
  'kernel', 'cgroup_mode', 'snapshotter', 'storage_driver',
] as const;

type Cell = string | number | boolean | null;

export function daemonUsageToCsv(run: RunMeta, environment: EnvironmentInfo | null, readings: readonly DaemonUsageReading[]): string {
  const start = Date.parse(run.startedAt);
  const kernel = environment?.kernel ?? run.facts.os.kernel;
  const cgroupMode = environment && environment.cgroup.mode !== 'unknown' ? environment.cgroup.mode : run.facts.cgroup.mode;
  const snapshotter = environment?.containerd?.snapshotter ?? null;
  const storageDriver = environment?.docker?.storageDriver ?? null;
  const rows = readings.map((r): Cell[] => {
    const at = Date.parse(r.at);
    const elapsed = Number.isFinite(at) && Number.isFinite(start) ? Math.round(at - start) / 1000 : null;
    return [run.id, run.hostName, run.method, r.at, elapsed, r.process, r.pid, r.cpuPercent, r.rssBytes, kernel, cgroupMode, snapshotter, storageDriver];
  });
  return stringify(rows, {
    header: true,
    columns: [...DAEMON_USAGE_CSV_COLUMNS],
    // As shared/csv-export.ts: RFC 4180 CRLF records, line breaks inside a field quoted.
    record_delimiter: 'windows',
    quoted_match: /[\r\n]/,
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
}
