import { LabError } from '../shared/lab-error.ts';
import { PERF_KERNELS, type PerfKernel, type PerfOptions } from '../shared/model/plan.ts';
import type { RuntimeSummary } from '../shared/stats.ts';
import { benchCommand, type BenchFlags } from './bench-command.ts';

// `runtime-lab perf TARGET --runtime runc --runtime runsc`: the same static workload in
// every runtime times three fixed kernels inside the container (cpu, syscalls, io). The run
// goes through bench's flow — same host link, store, CSV/JSON export and exit status — with
// the perf workload, and ends with a table per runtime and kernel beside the whole
// container life.

/** The methods a perf plan may use (the plan model refuses cri: its loop is the pod lifecycle). */
export const PERF_METHODS = ['oci-direct', 'ctr', 'docker'] as const;

export interface PerfFlags extends Omit<BenchFlags, 'method'> {
  method: (typeof PERF_METHODS)[number];
  cpuLoops: number;
  syscalls: number;
  ioBytes: number;
}

/** The smallest io kernel: one 64 KiB write (the plan refuses less). */
const MIN_IO_BYTES = 65_536;

export async function perfCommand(targetText: string, flags: PerfFlags, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  if (!(PERF_METHODS as readonly string[]).includes(flags.method)) {
    throw new LabError('invalid-input', `perf measures through ${PERF_METHODS.join(', ')} (not --method ${String(flags.method)}).`);
  }
  if (flags.ioBytes < MIN_IO_BYTES) throw new LabError('invalid-input', `--io-bytes must be at least ${MIN_IO_BYTES} (one 64 KiB write), not ${flags.ioBytes}.`);
  // Every parameter written out, defaults included: the stored plan says what ran.
  const perf: Required<PerfOptions> = { cpuLoops: flags.cpuLoops, syscalls: flags.syscalls, ioBytes: flags.ioBytes };
  return benchCommand(targetText, flags, out, err, { plan: { workload: 'perf', perf }, table: (summaries) => formatPerfTable(summaries, perf) });
}

const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(2));

/** The kernel's median as a rate a reader can compare across hosts and parameters. */
function rate(kernel: PerfKernel, medianMs: number, perf: Required<PerfOptions>): string {
  switch (kernel) {
    case 'cpu':
      return `${((medianMs * 1e6) / perf.cpuLoops).toFixed(3)} ns/loop`;
    case 'syscalls':
      return `${((medianMs * 1e6) / perf.syscalls).toFixed(1)} ns/call`;
    case 'io':
      return `${(perf.ioBytes / 1024 ** 2 / (medianMs / 1000)).toFixed(1)} MiB/s`;
  }
}

/**
 * The end-of-run table: per runtime, the whole container life ("start to exit", timed
 * outside) and then each kernel (timed inside), with the median, its 95% CI and a rate.
 */
export function formatPerfTable(summaries: readonly RuntimeSummary[], perf: Required<PerfOptions>): string {
  const rows = [['runtime', 'measured', 'n', 'fail', 'median ms', 'median 95% CI', 'rate']];
  const runtimes = [...new Set(summaries.map((s) => s.runtime))];
  for (const runtime of runtimes) {
    for (const part of [null, ...PERF_KERNELS]) {
      const s = summaries.find((x) => x.runtime === runtime && x.step === part);
      if (!s) continue;
      const ci = s.medianCi ? `${ms(s.medianCi.low)}–${ms(s.medianCi.high)}` : '-';
      const perUnit = part !== null && s.median !== null && s.median > 0 ? rate(part, s.median, perf) : '';
      rows.push([runtime, part ?? 'start to exit', String(s.n), String(s.failures), ms(s.median), ci, perUnit]);
    }
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  // Names left-aligned, numbers right-aligned, the rate (last) unpadded.
  const cellText = (cell: string, col: number) => (col === 6 ? cell : col <= 1 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!));
  return `${rows.map((r) => r.map(cellText).join('  ').trimEnd()).join('\n')}\n`;
}
