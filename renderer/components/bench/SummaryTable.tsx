import type { ReactNode } from 'react';
import type { RuntimeSummary } from '../../../shared/stats.ts';
import { runtimeColor } from '../charts/palette.ts';
import { formatMs } from './bench-format.ts';

// The numbers behind the summary chart, from shared/stats.ts: measured, successful
// iterations only; failures and warm-ups counted beside them, never mixed in. One column
// per runtime, so each statistic reads across the runtimes being compared.

type Row = { label: string; title?: string; testId?: string; strong?: boolean; cell: (s: RuntimeSummary) => ReactNode; value?: (s: RuntimeSummary) => number | null; tone?: (s: RuntimeSummary) => string | undefined };

const ms = (v: number | null) => formatMs(v, false);

export function SummaryTable({ summaries, runtimes }: { summaries: readonly RuntimeSummary[]; runtimes: readonly string[] }) {
  const medians = summaries.map((s) => s.median).filter((m): m is number => m !== null && m > 0);
  const fastest = medians.length > 1 ? Math.min(...medians) : null;
  const ci = summaries.find((s) => s.medianCi)?.medianCi;
  const colorOf = (s: RuntimeSummary) => runtimeColor(runtimes.includes(s.runtime) ? runtimes.indexOf(s.runtime) : summaries.indexOf(s));

  const rows: Row[] = [
    { label: 'Measured (n)', title: 'Measured iterations that succeeded: the statistics below are computed from these', testId: 'summary-n', cell: (s) => s.n.toLocaleString('en-US') },
    { label: 'Failed', title: 'Measured iterations that failed: counted, not in the statistics', testId: 'summary-failures', cell: (s) => s.failures.toLocaleString('en-US'), tone: (s) => (s.failures > 0 ? 'bad-text' : 'muted') },
    { label: 'Warm-ups', title: 'Warm-up iterations: run first, shown, never in the statistics', cell: (s) => s.warmups.toLocaleString('en-US'), tone: () => 'muted' },
    {
      label: 'Median',
      testId: 'summary-median',
      strong: true,
      value: (s) => s.median,
      cell: (s) => {
        const ratio = fastest !== null && s.median !== null ? s.median / fastest : null;
        return (
          <>
            {ratio === null ? null : ratio < 1.005 ? (
              <span className="ratio ratio--best" title="The lowest median in this run">fastest</span>
            ) : (
              <span className="ratio" title="This median relative to the fastest runtime’s">{ratio.toFixed(2)}×</span>
            )}
            <span className="strong">{ms(s.median)}</span>
          </>
        );
      },
    },
    {
      label: ci ? `${Math.round(ci.confidence * 100)}% CI of median` : 'CI of median',
      title: 'Percentile bootstrap confidence interval of the median',
      cell: (s) => (s.medianCi ? `${ms(s.medianCi.low)} – ${ms(s.medianCi.high)}` : '—'),
    },
    { label: 'Mean ± SD', cell: (s) => (s.mean === null ? '—' : `${ms(s.mean)} ± ${ms(s.sd)}`) },
    { label: 'Min', cell: (s) => ms(s.min) },
    { label: 'p5', cell: (s) => ms(s.p5) },
    { label: 'p95', cell: (s) => ms(s.p95) },
    { label: 'p99', cell: (s) => ms(s.p99) },
    { label: 'Max', cell: (s) => ms(s.max) },
  ];

  return (
    <div className="data-table-wrap">
      <table className="data-table data-table--stats" data-testid="summary-table">
        <thead>
          <tr>
            <th>
              <span className="muted">ms</span>
            </th>
            {summaries.map((s) => (
              <th key={s.runtime} className="num" data-testid="summary-col" data-runtime={s.runtime}>
                <span className="rt-name">
                  <span className="swatch" style={{ background: colorOf(s) }} />
                  <span className="mono">{s.runtime}</span>
                </span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.label} className={row.strong ? 'data-table__key-row' : undefined}>
              <th scope="row" title={row.title}>
                {row.label}
              </th>
              {summaries.map((s) => (
                <td
                  key={s.runtime}
                  className={`num${row.tone?.(s) ? ` ${row.tone(s)}` : ''}`}
                  data-testid={row.testId}
                  data-runtime={row.testId ? s.runtime : undefined}
                  data-ms={row.value ? (row.value(s) ?? '') : undefined}
                >
                  {row.cell(s)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** How the table's numbers were made, for the card's footer. */
export function SummaryNote({ summaries }: { summaries: readonly RuntimeSummary[] }) {
  const ci = summaries.find((s) => s.medianCi)?.medianCi;
  return (
    <p className="data-table__note muted small">
      Over measured, successful iterations; warm-ups and failures are counted, not included.
      {ci ? ` Median CI: percentile bootstrap, ${ci.resamples.toLocaleString('en-US')} resamples, seed ${ci.seed}.` : ''} Percentiles interpolate linearly
      (numpy’s default).
    </p>
  );
}
