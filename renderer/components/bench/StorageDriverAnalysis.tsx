import { useCallback, useMemo, useRef, useState } from 'react';
import type { Chart } from 'chart.js';
import { CdfChart } from '../charts/CdfChart.tsx';
import { ChartCard, ToolToggle } from '../charts/ChartCard.tsx';
import { GroupedBarChart, type BarValue } from '../charts/GroupedBarChart.tsx';
import { IterationChart } from '../charts/IterationChart.tsx';
import { CategoryLegendItems, RuntimeLegendItems } from '../charts/LegendItems.tsx';
import { driverColor, runtimeDriverColor } from '../charts/palette.ts';
import { driverSeries, wholeIterationsByRuntimeAndDriver } from '../charts/sample-series.ts';
import { Icon } from '../Icon.tsx';
import { formatMs, formatTick } from './bench-format.ts';
import { DaemonUsageCard } from './DaemonUsageCard.tsx';
import { MedianMatrix, type MatrixRow } from './MedianMatrix.tsx';
import type { AnalysisProps } from './run-view.ts';
import { useRunSummaries } from './use-run-summaries.ts';

// A docker storage-driver loop: the startup plan once per driver. The talk's grouped chart
// (runtime × driver, median with its CI), the daemons beside it, every iteration per
// runtime and driver for drift, and the table. Colours (palette.ts): hue = runtime, as in the
// table's columns; shade = driver, in every card.

export function StorageDriverAnalysis({ run, pngBase, aside }: AnalysisProps) {
  const barsChart = useRef<Chart | null>(null);
  const iterationChart = useRef<Chart | null>(null);
  const cdfChart = useRef<Chart | null>(null);
  const [showWarmups, setShowWarmups] = useState(true);
  const [logScale, setLogScale] = useState(false);
  const { samples, rev, epoch } = run;
  const { names, index, live } = useRunSummaries(run);
  const planned = run.plan?.docker?.storageDrivers;
  const drivers = useMemo(() => index.drivers(planned ?? []), [index, planned]);
  const bars = useMemo(() => drivers.map((d, i) => ({ name: d, color: driverColor(i, drivers.length) })), [drivers]);
  const series = useMemo(() => names.flatMap((r) => drivers.map((d) => driverSeries(r, d))), [names, drivers]);
  const seriesColors = useMemo(
    () => new Map(names.flatMap((r, ri) => drivers.map((d, di) => [driverSeries(r, d), runtimeDriverColor(ri, di, drivers.length)] as const))),
    [names, drivers],
  );
  const colorOfSeries = useCallback((name: string) => seriesColors.get(name) ?? driverColor(0, 1), [seriesColors]);
  const colorOfBar = useCallback((runtime: string, driver: string) => colorOfSeries(driverSeries(runtime, driver)), [colorOfSeries]);
  const colorOfDriver = useCallback((_: string, i: number) => driverColor(i, drivers.length), [drivers]);
  const valueOf = useCallback(
    (runtime: string, driver: string): BarValue | null => {
      const s = index.get(runtime, null, driver);
      if (!s || s.median === null) return null;
      return {
        value: s.median,
        ...(s.medianCi ? { low: s.medianCi.low, high: s.medianCi.high } : {}),
        detail: [`   n = ${s.n}${s.failures ? ` · ${s.failures} failed` : ''} · p95 ${formatMs(s.p95)}`],
      };
    },
    [index],
  );
  const rows: MatrixRow[] = drivers.map((d, i) => ({ key: d, label: d, color: driverColor(i, drivers.length), summaryOf: (r: string) => index.get(r, null, d) }));

  return (
    <div className="run-analysis" data-testid="drivers-analysis">
      <ChartCard
        title="Startup per storage driver"
        subtitle="median per runtime and driver; whiskers: 95% CI of the median"
        icon="chart"
        testId="drivers-card"
        chart={barsChart}
        pngName={`${pngBase}-storage-drivers`}
        footer={
          <div className="chart-legend">
            <CategoryLegendItems names={drivers} testId="driver-legend" dataName="driver" colorOf={colorOfDriver} />
            <span className="chart-legend__item muted small">colour: runtime · shade: driver</span>
            <span className="chart-legend__sep" />
            <span className="chart-legend__item muted">
              <span className="legend-whisker" /> 95% CI of the median
            </span>
          </div>
        }
      >
        <GroupedBarChart
          groups={names}
          bars={bars}
          colorOf={colorOfBar}
          valueOf={valueOf}
          yTitle="docker run, median (ms)"
          format={formatTick}
          chartRef={barsChart}
          showValues
          testId="drivers-chart"
          ariaLabel="Median startup time per runtime and storage driver, with confidence intervals"
          height={320}
        />
      </ChartCard>

      {run.plan ? <DaemonUsageCard run={run} live={live} pngBase={pngBase} /> : null}

      <ChartCard
        title="Every iteration"
        subtitle="per runtime and storage driver, in the order measured"
        icon="activity"
        testId="drivers-iterations-card"
        chart={iterationChart}
        pngName={`${pngBase}-iterations`}
        tools={
          <>
            <ToolToggle label="Warm-ups" on={showWarmups} onChange={setShowWarmups} />
            <ToolToggle label="Log scale" on={logScale} onChange={setLogScale} />
          </>
        }
        footer={
          <div className="chart-legend">
            <RuntimeLegendItems names={series} colorOf={colorOfSeries} />
          </div>
        }
      >
        <IterationChart
          key={series.join('\n')}
          samples={samples}
          rev={rev}
          epoch={epoch}
          runtimes={series}
          seriesOf={wholeIterationsByRuntimeAndDriver}
          colorOf={colorOfSeries}
          warmups={run.plan?.warmups ?? 0}
          iterations={live ? (run.plan?.iterations ?? null) : null}
          showWarmups={showWarmups}
          logScale={logScale}
          chartRef={iterationChart}
        />
      </ChartCard>

      <section className="card summary-card" data-testid="drivers-table-card">
        <header className="card__header">
          <Icon name="list" size={16} />
          <h3>Runtime × driver</h3>
          <span className="card__badge muted small">median, 95% CI, n; measured, successful iterations only</span>
        </header>
        <MedianMatrix rows={rows} runtimes={names} testId="drivers-table" corner="driver · median, ms" />
      </section>
      <div className={aside ? 'run-analysis__pair' : 'run-analysis__single'}>
        <ChartCard title="Distribution" subtitle="CDF per runtime and driver" icon="distribution" testId="drivers-cdf-card" chart={cdfChart} pngName={`${pngBase}-cdf`}>
          <CdfChart key={series.join('\n')} samples={samples} rev={rev} runtimes={series} seriesOf={wholeIterationsByRuntimeAndDriver} colorOf={colorOfSeries} logScale={logScale} chartRef={cdfChart} />
        </ChartCard>
        {aside}
      </div>
    </div>
  );
}
