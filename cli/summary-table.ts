import type { RuntimeSummary } from '../shared/stats.ts';

const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(2));

// The end-of-run table, the columns hyperfine users expect plus failures; a storage-driver
// loop adds the driver after the runtime (one row per runtime × driver), a CRI run the step.
export function formatSummaryTable(summaries: readonly RuntimeSummary[]): string {
  const drivers = summaries.some((s) => s.storageDriver !== null);
  // CRI runs: one row per call (step) and one for the whole iteration.
  const steps = summaries.some((s) => s.step !== null);
  const labels = ['runtime', ...(drivers ? ['driver'] : []), ...(steps ? ['step'] : [])];
  const rows = [[...labels, 'n', 'fail', 'median ms', 'mean ms', 'sd ms', 'min ms', 'max ms', 'p95 ms', 'median 95% CI']];
  for (const s of summaries) {
    const ci = s.medianCi ? `${ms(s.medianCi.low)}–${ms(s.medianCi.high)}` : '-';
    const label = [s.runtime, ...(drivers ? [s.storageDriver ?? '-'] : []), ...(steps ? [s.step ?? 'whole'] : [])];
    rows.push([...label, String(s.n), String(s.failures), ms(s.median), ms(s.mean), ms(s.sd), ms(s.min), ms(s.max), ms(s.p95), ci]);
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return `${rows.map((r) => r.map((cell, col) => (col < labels.length ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ')).join('\n')}\n`;
}
