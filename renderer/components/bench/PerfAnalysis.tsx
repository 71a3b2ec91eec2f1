import { useCallback, useMemo, useRef, useState } from 'react';
import type { Chart } from 'chart.js';
import { PERF_KERNELS } from '../../../shared/model/plan.ts';
import { ChartCard } from '../charts/ChartCard.tsx';
import { GroupedBarChart, type BarValue } from '../charts/GroupedBarChart.tsx';
import { RuntimeLegendItems } from '../charts/LegendItems.tsx';
import { runtimeColor } from '../charts/palette.ts';
import { Icon } from '../Icon.tsx';
import { formatMs, formatTick } from './bench-format.ts';
import { DaemonUsageCard } from './DaemonUsageCard.tsx';
import { MedianMatrix, type MatrixRow } from './MedianMatrix.tsx';
import { PartIterationCard } from './PartIterationCard.tsx';
import type { AnalysisProps } from './run-view.ts';
import { SegmentedPicker } from './SegmentedPicker.tsx';
import { useRunSummaries } from './use-run-summaries.ts';

// A perf plan: the same static binary times a CPU loop, a getpid loop and write+fsync
// inside each runtime's container. The kernels differ by orders of magnitude, so the
// chart shows each runtime's median relative to the fastest runtime on that kernel (1× =
// fastest; gVisor's syscall cost stands out whatever the absolute scale), with absolute
// milliseconds one click away. Both on a log axis: on real runs runsc's getpid loop is ~80×
// runc's, which on a linear axis flattened the cpu and io ratios (1.1×, 1.6×) to nothing. The whole iteration (start, kernels, exit)
// is a group of its own.

const WHOLE = 'whole iteration';

type Scale = 'relative' | 'absolute';

export function PerfAnalysis({ run, pngBase, aside }: AnalysisProps) {
  const barsChart = useRef<Chart | null>(null);
  const [scale, setScale] = useState<Scale>('relative');
  const { names, index, live } = useRunSummaries(run);
  const kernels = useMemo(() => index.steps(PERF_KERNELS), [index]);
  const groups = useMemo(() => [...kernels, WHOLE], [kernels]);
  const bars = useMemo(() => names.map((r, i) => ({ name: r, color: runtimeColor(i) })), [names]);
  const stepOf = (group: string): string | null => (group === WHOLE ? null : group);

  const valueOf = useCallback(
    (group: string, runtime: string): BarValue | null => {
      const step = group === WHOLE ? null : group;
      const s = index.get(runtime, step);
      if (!s || s.median === null) return null;
      const medians = names.map((r) => index.get(r, step)?.median).filter((m): m is number => typeof m === 'number' && m > 0);
      const fastest = medians.length > 0 ? Math.min(...medians) : null;
      const detail = [`   median ${formatMs(s.median)} · n = ${s.n}${s.failures ? ` · ${s.failures} failed` : ''}`];
      if (scale === 'absolute') return { value: s.median, ...(s.medianCi ? { low: s.medianCi.low, high: s.medianCi.high } : {}), detail };
      if (fastest === null) return null;
      return {
        value: s.median / fastest,
        ...(s.medianCi ? { low: s.medianCi.low / fastest, high: s.medianCi.high / fastest } : {}),
        detail,
      };
    },
    [index, names, scale],
  );
  const format = useCallback((v: number) => (scale === 'relative' ? `${v.toLocaleString('en-US', { maximumFractionDigits: v >= 10 ? 0 : 2 })}×` : formatTick(v)), [scale]);
  // Kernels are groups, never coloured in a chart: no row swatch, so the only colours in the
  // view are the runtimes' (a kernel swatch in a runtime's blue read as that runtime).
  const rows: MatrixRow[] = groups.map((g) => ({
    key: g,
    label: g,
    ...(g === WHOLE ? { strong: true } : {}),
    summaryOf: (r: string) => index.get(r, stepOf(g)),
  }));
  const parts = useMemo(() => [...kernels.map((k) => ({ step: k, label: k })), { step: null, label: WHOLE }], [kernels]);

  return (
    <div className="run-analysis" data-testid="perf-analysis">
      <ChartCard
        title="Inside the container"
        subtitle={scale === 'relative' ? 'median ÷ fastest runtime’s (log); whiskers: 95% CI' : 'median per kernel (ms, log scale); whiskers: 95% CI'}
        icon="cpu"
        testId="perf-card"
        chart={barsChart}
        pngName={`${pngBase}-perf-${scale}`}
        tools={
          <SegmentedPicker
            ariaLabel="Scale"
            options={['relative', 'absolute'] as const}
            value={scale}
            onChange={setScale}
            labelOf={(s) => (s === 'relative' ? '× fastest' : 'ms')}
            testId="perf-scale"
            dataName="scale"
          />
        }
        footer={
          <div className="chart-legend">
            <RuntimeLegendItems names={names} mark="swatch" />
            <span className="chart-legend__sep" />
            <span className="chart-legend__item muted small">cpu: integer loop · syscalls: getpid loop · io: write + fsync</span>
          </div>
        }
      >
        <GroupedBarChart
          groups={groups}
          bars={bars}
          valueOf={valueOf}
          yTitle={scale === 'relative' ? 'median ÷ fastest runtime’s median' : 'median (ms)'}
          format={format}
          logScale
          {...(scale === 'relative' ? { reference: 1 } : {})}
          chartRef={barsChart}
          showValues
          testId="perf-chart"
          ariaLabel="Median time of each perf kernel per runtime"
          height={320}
        />
      </ChartCard>

      {run.plan && run.plan.method !== 'oci-direct' ? <DaemonUsageCard run={run} live={live} pngBase={pngBase} /> : null}

      <PartIterationCard run={run} runtimes={names} parts={parts} title="Every iteration, per kernel" pngName={`${pngBase}-perf-iterations`} testId="perf-iterations-card" />

      <section className="card summary-card" data-testid="perf-table-card">
        <header className="card__header">
          <Icon name="list" size={16} />
          <h3>Kernels</h3>
          <span className="card__badge muted small">median, 95% CI, n; measured, successful iterations only</span>
        </header>
        <MedianMatrix rows={rows} runtimes={names} testId="perf-table" corner="kernel · median, ms" />
      </section>
      {aside}
    </div>
  );
}
