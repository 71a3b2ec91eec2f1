import { useMemo, useRef, useState } from 'react';
import type { Chart } from 'chart.js';
import { CdfChart } from '../charts/CdfChart.tsx';
import { ChartCard, ToolToggle } from '../charts/ChartCard.tsx';
import { IterationChart } from '../charts/IterationChart.tsx';
import { RuntimeLegendItems } from '../charts/LegendItems.tsx';
import { FAILURE_COLOR } from '../charts/palette.ts';
import { SummaryChart } from '../charts/SummaryChart.tsx';
import { Icon } from '../Icon.tsx';
import { CriAnalysis } from './CriAnalysis.tsx';
import { DaemonUsageCard } from './DaemonUsageCard.tsx';
import { MemoryAnalysis } from './MemoryAnalysis.tsx';
import { PerfAnalysis } from './PerfAnalysis.tsx';
import { isLive, runtimeNames, type AnalysisProps } from './run-view.ts';
import { kindOf } from './run-kind.ts';
import { StorageDriverAnalysis } from './StorageDriverAnalysis.tsx';
import { orderedSummaries } from './run-summaries.ts';
import { SummaryNote, SummaryTable } from './SummaryTable.tsx';

// A run's charts and numbers, the same live (Benchmarks) and afterwards (Results), chosen
// by what the run measured (its plan): plain startup — every iteration, the per-runtime
// summary with its spread, the distribution, the table — or the CRI, storage-driver,
// memory and perf views, each in its own file.

export function RunAnalysis(props: AnalysisProps) {
  const kind = kindOf(props.run.plan);
  if (kind === 'cri') return <CriAnalysis {...props} />;
  if (kind === 'memory') return <MemoryAnalysis {...props} />;
  if (kind === 'storage-drivers') return <StorageDriverAnalysis {...props} />;
  if (kind === 'perf') return <PerfAnalysis {...props} />;
  return <StartupAnalysis {...props} />;
}

function StartupAnalysis({ run, pngBase, aside }: AnalysisProps) {
  const [showWarmups, setShowWarmups] = useState(true);
  const [logScale, setLogScale] = useState(false);
  const iterationChart = useRef<Chart | null>(null);
  const summaryChart = useRef<Chart | null>(null);
  const cdfChart = useRef<Chart | null>(null);
  const runtimes = runtimeNames(run);
  const runtimesKey = runtimes.join('\n');
  const { samples, rev, epoch } = run;
  // While measuring, the x axis spans the whole plan so the lines fill it as they come.
  const live = isLive(run);

  const summaries = useMemo(
    () => orderedSummaries(samples, runtimesKey.split('\n').filter(Boolean)),
    // rev/epoch: the samples array grows in place, so its identity alone says nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [samples, rev, epoch, runtimesKey],
  );
  const failures = Object.values(run.counts).reduce((n, c) => n + c.failed, 0);
  const warmupFailures = Object.values(run.counts).reduce((n, c) => n + c.warmupFailed, 0);
  const warmups = run.plan?.warmups ?? Math.max(0, ...Object.values(run.counts).map((c) => c.warmups));

  return (
    <div className="run-analysis">
      <ChartCard
        title="Every iteration"
        subtitle="startup time, runtimes interleaved as they ran"
        icon="activity"
        testId="iteration-chart-card"
        chart={iterationChart}
        pngName={`${pngBase}-iterations`}
        tools={
          <>
            <ToolToggle label="Warm-ups" on={showWarmups} onChange={setShowWarmups} testId="toggle-warmups" title="Show the warm-up iterations (never in the statistics)" />
            <ToolToggle label="Log scale" on={logScale} onChange={setLogScale} testId="toggle-log" />
          </>
        }
        footer={
          <div className="chart-legend">
            <RuntimeLegendItems names={runtimes} />
            <span className="chart-legend__sep" />
            {warmups > 0 ? (
              <span className="chart-legend__item muted">
                <span className="legend-dashed" /> warm-up{showWarmups ? '' : ' (hidden)'}
              </span>
            ) : null}
            <span className={failures + warmupFailures > 0 ? 'chart-legend__item bad-text' : 'chart-legend__item muted'} data-testid="legend-failures" data-failures={failures + warmupFailures}>
              <span className="legend-cross" style={{ color: FAILURE_COLOR }}>
                ✕
              </span>{' '}
              failed: {failures + warmupFailures}
            </span>
            {samples.length > 2000 ? <span className="chart-legend__item muted small">min-max decimated to the chart’s width</span> : null}
          </div>
        }
      >
        <IterationChart
          samples={samples}
          rev={rev}
          epoch={epoch}
          runtimes={runtimes}
          warmups={warmups}
          iterations={live ? (run.plan?.iterations ?? null) : null}
          showWarmups={showWarmups}
          logScale={logScale}
          chartRef={iterationChart}
        />
      </ChartCard>

      {run.plan && run.plan.method !== 'oci-direct' ? <DaemonUsageCard run={run} live={live} pngBase={pngBase} /> : null}

      <div className="run-analysis__pair">
        <ChartCard
          title="Median and spread"
          icon="chart"
          testId="summary-chart-card"
          chart={summaryChart}
          pngName={`${pngBase}-summary`}
          footer={
            <div className="chart-legend">
              <span className="chart-legend__item">
                <span className="legend-median" /> median
              </span>
              <span className="chart-legend__item">
                <span className="legend-ci" /> {Math.round((summaries.find((s) => s.medianCi)?.medianCi?.confidence ?? 0.95) * 100)}% CI of the median
              </span>
              <span className="chart-legend__item">
                <span className="legend-whisker" /> p5–p95
              </span>
            </div>
          }
        >
          <SummaryChart summaries={summaries} runtimes={runtimes} chartRef={summaryChart} height={340} />
        </ChartCard>
        <section className="card summary-card" data-testid="summary-card">
          <header className="card__header">
            <Icon name="list" size={16} />
            <h3>Summary</h3>
            <span className="card__badge muted small">{live ? 'updates as samples arrive' : `from ${samples.length.toLocaleString('en-US')} samples`}</span>
          </header>
          <SummaryTable summaries={summaries} runtimes={runtimes} />
          <footer className="summary-card__footer">
            <SummaryNote summaries={summaries} />
          </footer>
        </section>
      </div>

      <div className={aside ? 'run-analysis__pair' : 'run-analysis__single'}>
        <ChartCard
          title="Distribution"
          subtitle="CDF of measured iterations"
          icon="distribution"
          testId="cdf-chart-card"
          chart={cdfChart}
          pngName={`${pngBase}-cdf`}
          footer={
            <div className="chart-legend">
              <RuntimeLegendItems names={runtimes} />
            </div>
          }
        >
          <CdfChart samples={samples} rev={rev} runtimes={runtimes} logScale={logScale} chartRef={cdfChart} />
        </ChartCard>
        {aside}
      </div>
    </div>
  );
}
