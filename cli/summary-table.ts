import type { RuntimeSummary } from '../shared/stats.ts';

const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(2));

// The end-of-run table, the columns hyperfine users expect plus failures.
export function formatSummaryTable(summaries: readonly RuntimeSummary[]): string {
  const rows = [['runtime', 'n', 'fail', 'median ms', 'mean ms', 'sd ms', 'min ms', 'max ms', 'p95 ms', 'median 95% CI']];
  for (const s of summaries) {
    const ci = s.medianCi ? `${ms(s.medianCi.low)}–${ms(s.medianCi.high)}` : '-';
    rows.push([s.runtime, String(s.n), String(s.failures), ms(s.median), ms(s.mean), ms(s.sd), ms(s.min), ms(s.max), ms(s.p95), ci]);
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return `${rows.map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ')).join('\n')}\n`;
}
