import { useMemo, useRef, useState, type ReactNode } from 'react';
import type { Chart } from 'chart.js';
import type { DaemonUsageReading } from '../../../shared/model/run-record.ts';
import { isTerminal, type LiveRun } from '../../store/runs-store.ts';
import { asLabError, call } from '../../lab-client.ts';
import { CdfChart } from '../charts/CdfChart.tsx';
import { ChartCard, ToolToggle } from '../charts/ChartCard.tsx';
import { DaemonUsageChart, formatPeakRss, processColor, usageSeries } from '../charts/DaemonUsageChart.tsx';
import { IterationChart } from '../charts/IterationChart.tsx';
import { FAILURE_COLOR, runtimeColor } from '../charts/palette.ts';
import { SummaryChart } from '../charts/SummaryChart.tsx';
import { Icon } from '../Icon.tsx';
import { downloadText } from './download.ts';
import { useRunExtras } from './run-extras.ts';
import { orderedSummaries } from './run-summaries.ts';
import { SummaryNote, SummaryTable } from './SummaryTable.tsx';

// A run's charts and numbers, the same live (Benchmarks) and afterwards (Results): every
// iteration, the per-runtime summary with its spread, the distribution, and the table.

/** Runtime names in plan order, then any a sample names that the plan does not. */
export function runtimeNames(run: LiveRun): string[] {
  const names = run.plan?.runtimes.map((r) => r.name) ?? [];
  for (const name of Object.keys(run.counts)) if (!names.includes(name)) names.push(name);
  return names;
}

export function RunAnalysis({ run, pngBase, aside }: { run: LiveRun; pngBase: string; aside?: ReactNode }) {
  const [showWarmups, setShowWarmups] = useState(true);
  const [logScale, setLogScale] = useState(false);
  const iterationChart = useRef<Chart | null>(null);
  const summaryChart = useRef<Chart | null>(null);
  const cdfChart = useRef<Chart | null>(null);
  const runtimes = runtimeNames(run);
  const runtimesKey = runtimes.join('\n');
  const { samples, rev, epoch } = run;
  // While measuring, the x axis spans the whole plan so the lines fill it as they come.
  const live = run.phase !== null && !isTerminal(run.phase) && run.phase !== 'detached';

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
            {runtimes.map((name, i) => (
              <span key={name} className="chart-legend__item">
                <span className="legend-line" style={{ background: runtimeColor(i) }} />
                <span className="mono">{name}</span>
              </span>
            ))}
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
              {runtimes.map((name, i) => (
                <span key={name} className="chart-legend__item">
                  <span className="legend-line" style={{ background: runtimeColor(i) }} />
                  <span className="mono">{name}</span>
                </span>
              ))}
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

const NO_READINGS: DaemonUsageReading[] = [];

/** Daemon and shim CPU/RSS over the run (methods ctr and docker), with its CSV. */
function DaemonUsageCard({ run, live, pngBase }: { run: LiveRun; live: boolean; pngBase: string }) {
  const chart = useRef<Chart | null>(null);
  const extras = useRunExtras(run.runId, live, `${run.phase ?? ''}\n${run.meta?.finishedAt ?? ''}`);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const readings = extras?.daemonUsage ?? NO_READINGS;
  // The clock's origin: when measuring began (the first reading or the first sample, whichever
  // came first), the same live and afterwards, without the deploy time before it.
  const firstSample = run.samples[0]?.startedAt;
  const origin = Math.min(readings[0] ? Date.parse(readings[0].at) : Infinity, firstSample ? Date.parse(firstSample) : Infinity);
  const startedAt = Number.isFinite(origin) ? new Date(origin).toISOString() : (run.meta?.startedAt ?? new Date(run.firstSeenAt).toISOString());
  const series = useMemo(() => usageSeries(readings, Date.parse(startedAt)), [readings, startedAt]);
  const sampleMs = run.plan?.daemonSampleMs;

  async function exportCsv() {
    setExporting(true);
    setExportError(null);
    try {
      const file = await call('runs:export', { runId: run.runId, kind: 'daemon-usage-csv' });
      downloadText(file.filename, file.mimeType, file.content);
    } catch (err) {
      setExportError(asLabError(err).message);
    } finally {
      setExporting(false);
    }
  }

  return (
    <ChartCard
      title="Daemon CPU and memory"
      subtitle={`${run.plan?.method === 'docker' ? 'dockerd, containerd' : 'containerd'} and the shims, on the iterations’ clock`}
      icon="cpu"
      testId="daemon-usage-card"
      chart={chart}
      pngName={`${pngBase}-daemon-usage`}
      tools={
        <button type="button" className="btn btn--small" title="Every reading of every daemon and shim process as CSV" data-testid="export-daemon-usage-csv" disabled={exporting || readings.length === 0} onClick={() => void exportCsv()}>
          <Icon name="file" size={14} /> CSV
        </button>
      }
      footer={
        <div className="chart-legend" data-testid="daemon-usage-legend">
          {series.map((s, i) => (
            <span key={s.process} className="chart-legend__item" data-testid="daemon-usage-process" data-process={s.process} data-peak-cpu={s.peakCpu.toFixed(1)}>
              <span className="legend-line" style={{ background: processColor(s.process, i) }} />
              <span className="mono">{s.process}</span>
              <span className="muted small">
                CPU mean {s.meanCpu.toFixed(1)} % · peak {s.peakCpu.toFixed(0)} % · RSS peak {formatPeakRss(s.peakRssBytes)}
              </span>
            </span>
          ))}
          <span className="chart-legend__sep" />
          <span className="chart-legend__item muted">
            <span className="legend-line" /> CPU (left)
          </span>
          <span className="chart-legend__item muted">
            <span className="legend-dashed" /> RSS (right)
          </span>
          {readings.length === 0 ? (
            <span className="chart-legend__item muted small" data-testid="daemon-usage-empty">
              {sampleMs === 0 ? 'Daemon sampling was off for this run.' : live ? 'Waiting for the first readings…' : 'No daemon readings were recorded for this run.'}
            </span>
          ) : null}
          {exportError ? <span className="chart-legend__item bad-text small">{exportError}</span> : null}
        </div>
      }
    >
      <DaemonUsageChart readings={readings} startedAt={startedAt} samples={run.samples} rev={run.rev} chartRef={chart} />
    </ChartCard>
  );
}
