import type { RuntimeSummary } from '../../../shared/stats.ts';
import { runtimeColor } from '../charts/palette.ts';
import { formatMs } from './bench-format.ts';

// Medians as a table: one row per part (a CRI call, a perf kernel, a storage driver), one
// column per runtime, each cell the median with its CI and n, and how it compares with the
// fastest runtime of the row. The numbers behind the bar charts, for reading off exactly.

export interface MatrixRow {
  key: string;
  label: string;
  /** A colour swatch tying the row to its chart segment. */
  color?: string;
  /** Emphasised (a whole-loop or sum row). */
  strong?: boolean;
  /** Computed from other rows (a sum of medians): no CI or n of its own. */
  derived?: boolean;
  summaryOf: (runtime: string) => RuntimeSummary | undefined;
}

const ms = (v: number | null) => formatMs(v, false);

export function MedianMatrix({ rows, runtimes, testId, corner = 'median, ms' }: { rows: readonly MatrixRow[]; runtimes: readonly string[]; testId: string; corner?: string }) {
  return (
    <div className="data-table-wrap">
      <table className="data-table data-table--stats median-matrix" data-testid={testId}>
        <thead>
          <tr>
            <th>
              <span className="muted">{corner}</span>
            </th>
            {runtimes.map((r, i) => (
              <th key={r} className="num" data-testid={`${testId}-runtime`} data-runtime={r} data-color={runtimeColor(i)}>
                <span className="rt-name">
                  <span className="swatch" style={{ background: runtimeColor(i) }} />
                  <span className="mono">{r}</span>
                </span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const cells = runtimes.map((r) => row.summaryOf(r));
            const medians = cells.map((s) => s?.median).filter((m): m is number => typeof m === 'number' && m > 0);
            const fastest = medians.length > 1 ? Math.min(...medians) : null;
            return (
              <tr key={row.key} className={row.strong ? 'data-table__key-row' : undefined} data-testid={`${testId}-row`} data-row={row.key} data-color={row.color ?? ''}>
                <th scope="row">
                  <span className="median-matrix__label">
                    {row.color ? <span className="swatch" style={{ background: row.color }} /> : null}
                    <span className="mono">{row.label}</span>
                  </span>
                </th>
                {cells.map((s, i) => {
                  const ratio = fastest !== null && s?.median != null ? s.median / fastest : null;
                  return (
                    <td key={runtimes[i]} className="num" data-runtime={runtimes[i]} data-ms={s?.median ?? ''} data-n={s?.n ?? 0}>
                      <div className="median-matrix__cell">
                        <span>
                          {ratio === null ? null : ratio < 1.005 ? <span className="ratio ratio--best">fastest</span> : <span className="ratio">{ratio.toFixed(2)}×</span>}
                          <span className="strong">{ms(s?.median ?? null)}</span>
                        </span>
                        {row.derived ? null : (
                        <span className="muted small">
                          {s?.medianCi ? `${ms(s.medianCi.low)}–${ms(s.medianCi.high)} · ` : ''}n {s?.n ?? 0}
                          {s && s.failures > 0 ? <span className="bad-text"> · {s.failures} failed</span> : null}
                        </span>
                        )}
                      </div>
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
