import { useMemo, useRef } from 'react';
import type { Chart } from 'chart.js';
import type { DaemonUsageReading } from '../../../shared/model/run-record.ts';
import type { LiveRun } from '../../store/runs-store.ts';
import { ChartCard } from '../charts/ChartCard.tsx';
import { DaemonUsageChart, formatPeakRss, processColor, usageSeries } from '../charts/DaemonUsageChart.tsx';
import { Icon } from '../Icon.tsx';
import { useRunExtras } from './run-extras.ts';
import { useRunExport } from './use-run-export.ts';

// The daemons' and shims' CPU and RSS beside the latency series (methods ctr, docker, cri):
// the talk's "cri-o at 100% CPU, containerd at 20%" at a glance, with the readings as CSV.

const NO_READINGS: DaemonUsageReading[] = [];

/** Daemon and shim CPU/RSS over the run (methods ctr, docker and cri), with its CSV. */
export function DaemonUsageCard({ run, live, pngBase }: { run: LiveRun; live: boolean; pngBase: string }) {
  const chart = useRef<Chart | null>(null);
  const extras = useRunExtras(run.runId);
  const { exporting, exportError, exportFile } = useRunExport(run.runId);
  const readings = extras?.daemonUsage ?? NO_READINGS;
  // The clock's origin: when measuring began (the first reading or the first sample, whichever
  // came first), the same live and afterwards, without the deploy time before it.
  const firstSample = run.samples[0]?.startedAt;
  const origin = Math.min(readings[0] ? Date.parse(readings[0].at) : Infinity, firstSample ? Date.parse(firstSample) : Infinity);
  const startedAt = Number.isFinite(origin) ? new Date(origin).toISOString() : (run.meta?.startedAt ?? new Date(run.firstSeenAt).toISOString());
  const series = useMemo(() => usageSeries(readings, Date.parse(startedAt)), [readings, startedAt]);
  const sampleMs = run.plan?.daemonSampleMs;

  return (
    <ChartCard
      title="Daemon CPU and memory"
      subtitle={`${run.plan?.method === 'docker' ? 'dockerd, containerd' : run.plan?.method === 'cri' ? 'the CRI endpoint' : 'containerd'} and the shims, on the iterations’ clock`}
      icon="cpu"
      testId="daemon-usage-card"
      chart={chart}
      pngName={`${pngBase}-daemon-usage`}
      tools={
        <button type="button" className="btn btn--small" title="Every reading of every daemon and shim process as CSV" data-testid="export-daemon-usage-csv" disabled={exporting !== null || readings.length === 0} onClick={() => void exportFile('daemon-usage-csv')}>
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
