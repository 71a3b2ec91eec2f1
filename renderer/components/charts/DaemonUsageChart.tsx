import { useEffect, useMemo, useRef, type RefObject } from 'react';
import type { Chart, ChartDataset, Plugin, TooltipItem } from 'chart.js';
import type { DaemonUsageReading, Sample } from '../../../shared/model/run-record.ts';
import { formatBytes } from '../format.ts';
import { withAlpha } from './palette.ts';
import { useChart } from './use-chart.ts';

// The daemons' and shims' CPU and memory while the containers were started: CPU % of one
// CPU per process (solid, left axis) and RSS (dashed, right axis), against seconds since
// the run started — the same clock as the iterations, whose warm-up spans (one per pass of
// a storage-driver loop) are shaded and whose measured span is marked, so "containerd at
// 20 %" reads next to the latency series. Processes of one kind (every
// containerd-shim-runc-v2, one per container) are summed at each reading; a line breaks
// where its kind was not read (no shim between containers, dockerd restarting), rather
// than drawing usage across a time nothing of that kind ran.

export interface UsagePoint {
  x: number;
  y: number;
}

type UsageDataset = ChartDataset<'line', UsagePoint[]> & { rlabProcess: string; rlabKind: 'cpu' | 'rss' };

/** One colour per process kind, apart from the runtime palette (these are not runtimes). */
const PROCESS_COLORS: Record<string, string> = {
  containerd: '#0f766e',
  dockerd: '#6d28d9',
  crio: '#1d4ed8',
  conmon: '#475569',
  'runsc-sandbox': '#be123c',
  'runsc-gofer': '#db2777',
  runsc: '#4d7c0f',
};
const SHIM_COLOR = '#b45309';
const OTHER_COLORS = ['#0369a1', '#65a30d', '#a16207', '#7c3aed'];

export function processColor(process: string, index: number): string {
  if (PROCESS_COLORS[process]) return PROCESS_COLORS[process];
  if (process.startsWith('containerd-shim')) return SHIM_COLOR;
  return OTHER_COLORS[index % OTHER_COLORS.length] ?? '#0369a1';
}

/** The processes in a stable order: daemons first, then shims, then the rest, by name. */
export function usageProcesses(readings: readonly DaemonUsageReading[]): string[] {
  const rank = (p: string) => (p === 'containerd' || p === 'dockerd' || p === 'crio' ? 0 : p.startsWith('containerd-shim') || p === 'conmon' ? 1 : 2);
  return [...new Set(readings.map((r) => r.process))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export interface UsageSeries {
  process: string;
  cpu: UsagePoint[];
  /** MiB. */
  rss: UsagePoint[];
  peakCpu: number;
  meanCpu: number;
  peakRssBytes: number;
}

/** Per process kind: readings at the same instant summed over its pids, x in seconds since `startMs`. */
export function usageSeries(readings: readonly DaemonUsageReading[], startMs: number): UsageSeries[] {
  const byProcess = new Map<string, Map<string, { cpu: number; rss: number }>>();
  for (const r of readings) {
    let at = byProcess.get(r.process);
    if (!at) byProcess.set(r.process, (at = new Map()));
    const cell = at.get(r.at) ?? { cpu: 0, rss: 0 };
    cell.cpu += r.cpuPercent;
    cell.rss += r.rssBytes;
    at.set(r.at, cell);
  }
  return usageProcesses(readings).map((process) => {
    const points = [...(byProcess.get(process) ?? new Map<string, { cpu: number; rss: number }>()).entries()]
      .map(([at, v]) => ({ x: (Date.parse(at) - startMs) / 1000, ...v }))
      .filter((p) => Number.isFinite(p.x))
      .sort((a, b) => a.x - b.x);
    const cpu = points.map((p) => ({ x: p.x, y: p.cpu }));
    return {
      process,
      cpu,
      rss: points.map((p) => ({ x: p.x, y: p.rss / (1024 * 1024) })),
      peakCpu: Math.max(0, ...points.map((p) => p.cpu)),
      meanCpu: points.length > 0 ? points.reduce((n, p) => n + p.cpu, 0) / points.length : 0,
      peakRssBytes: Math.max(0, ...points.map((p) => p.rss)),
    };
  });
}

/**
 * The sampler's period in seconds (the median step between its readings), or null under
 * two readings: a process's line breaks where its readings are further apart than 1.5 of it.
 */
function readingPeriod(readings: readonly DaemonUsageReading[]): number | null {
  const instants = [...new Set(readings.map((r) => Date.parse(r.at)))].filter(Number.isFinite).sort((a, b) => a - b);
  const steps = instants.slice(1).map((t, i) => t - (instants[i] ?? t)).sort((a, b) => a - b);
  const median = steps[Math.floor(steps.length / 2)];
  return median === undefined ? null : median / 1000;
}

interface Phases {
  /** Seconds since the start: each run of warm-ups up to the next measured sample, the first measured sample, the end of the last sample. */
  warmups: { from: number; to: number }[];
  measured: number | null;
  last: number | null;
}

function phasesOf(samples: readonly Sample[], startMs: number): Phases {
  const timed = samples.map((s) => ({ s, t: (Date.parse(s.startedAt) - startMs) / 1000 })).filter((x) => Number.isFinite(x.t)).sort((a, b) => a.t - b.t);
  const warmups: Phases['warmups'] = [];
  let open: { from: number; to: number } | null = null;
  let measured: number | null = null;
  let last: number | null = null;
  for (const { s, t } of timed) {
    const end = t + s.durationMs / 1000;
    if (last === null || end > last) last = end;
    if (s.warmup) {
      open = open ? { from: open.from, to: Math.max(open.to, end) } : { from: t, to: end };
      continue;
    }
    measured ??= t;
    if (open) warmups.push({ from: open.from, to: t });
    open = null;
  }
  if (open) warmups.push(open);
  return { warmups, measured, last };
}

/** Writes a span's label at its top left, only where it fits inside the span with room to spare. */
function label(ctx: CanvasRenderingContext2D, text: string, left: number, right: number, top: number): void {
  if (ctx.measureText(text).width + 12 <= right - left) ctx.fillText(text, left + 6, top + 6);
}

/** Shades the warm-up spans and marks the measured span, on the iterations' own clock. */
function phaseBands(phases: RefObject<Phases>): Plugin<'line'> {
  return {
    id: 'rlabUsagePhases',
    beforeDatasetsDraw(chart) {
      const x = chart.scales.x;
      const area = chart.chartArea;
      const { warmups, measured, last } = phases.current;
      if (!x || !area) return;
      const px = (v: number) => Math.min(area.right, Math.max(area.left, x.getPixelForValue(v)));
      const { ctx } = chart;
      ctx.save();
      ctx.font = '600 10.5px system-ui, sans-serif';
      ctx.textBaseline = 'top';
      ctx.textAlign = 'left';
      for (const span of warmups) {
        const left = px(span.from);
        const right = px(span.to);
        ctx.fillStyle = 'rgba(107, 114, 128, 0.07)';
        ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
        ctx.fillStyle = 'rgba(107, 114, 128, 0.75)';
        label(ctx, 'WARM-UP', left, right, area.top);
      }
      if (measured !== null) {
        const left = px(measured);
        const right = px(last ?? measured);
        ctx.strokeStyle = 'rgba(51, 85, 209, 0.35)';
        ctx.setLineDash([3, 3]);
        ctx.lineWidth = 1;
        for (const at of [left, right]) {
          ctx.beginPath();
          ctx.moveTo(at, area.top);
          ctx.lineTo(at, area.bottom);
          ctx.stroke();
        }
        ctx.fillStyle = 'rgba(51, 85, 209, 0.7)';
        label(ctx, 'MEASURED', left, right, area.top);
      }
      ctx.restore();
    },
  };
}

export interface DaemonUsageChartProps {
  readings: readonly DaemonUsageReading[];
  /** The clock's origin (ISO): x = seconds since then. */
  startedAt: string;
  /** The run's samples, for the warm-up and measured spans (read with `rev`). */
  samples: readonly Sample[];
  rev: number;
  chartRef: RefObject<Chart | null>;
  height?: number;
}

export function DaemonUsageChart(props: DaemonUsageChartProps) {
  const { readings, startedAt, samples, rev, chartRef, height = 260 } = props;
  const startMs = Date.parse(startedAt);
  const phases = useRef<Phases>({ warmups: [], measured: null, last: null });
  const series = useMemo(() => usageSeries(readings, startMs), [readings, startMs]);
  const period = useMemo(() => readingPeriod(readings), [readings]);
  const processesKey = series.map((s) => s.process).join('\n');

  const { canvasRef, ownRef } = useChart<'line', UsagePoint[]>(chartRef, () => ({
    type: 'line',
    data: { datasets: [] },
    plugins: [phaseBands(phases)],
    options: {
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false, axis: 'x' },
      layout: { padding: { top: 4, right: 8 } },
      elements: { line: { tension: 0 }, point: { radius: 0, hitRadius: 5, hoverRadius: 3 } },
      scales: {
        x: { type: 'linear', min: 0, title: { display: true, text: 'seconds since measuring began' }, grid: { display: false } },
        cpu: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'CPU (% of one CPU)' }, ticks: { callback: (v) => `${Number(v)} %` } },
        rss: {
          type: 'linear',
          position: 'right',
          beginAtZero: true,
          title: { display: true, text: 'RSS (MiB)' },
          grid: { drawOnChartArea: false },
        },
      },
      plugins: {
        legend: { display: false },
        decimation: { enabled: true, algorithm: 'min-max' },
        tooltip: {
          callbacks: {
            title: (items) => {
              const item = items[0];
              return item ? `${(item.raw as UsagePoint).x.toFixed(2)} s` : '';
            },
            label: (item: TooltipItem<'line'>) => {
              const ds = item.dataset as UsageDataset;
              const p = item.raw as UsagePoint;
              return ds.rlabKind === 'cpu' ? ` ${ds.rlabProcess}: ${p.y.toFixed(1)} % CPU` : ` ${ds.rlabProcess}: ${p.y.toFixed(1)} MiB RSS`;
            },
          },
        },
      },
    },
  }));

  // The series: rebuilt on each new batch of readings (a few thousand points at most per process).
  useEffect(() => {
    const chart = ownRef.current;
    if (!chart) return;
    const datasets: UsageDataset[] = [];
    const maxGap = period === null ? Infinity : period * 1.5;
    // A reading with a gap on both sides has no line to be drawn on: a dot shows it.
    const dotAlone = (data: readonly UsagePoint[]) => (ctx: { dataIndex: number }) => {
      const at = data[ctx.dataIndex]?.x ?? 0;
      const before = data[ctx.dataIndex - 1]?.x ?? -Infinity;
      const after = data[ctx.dataIndex + 1]?.x ?? Infinity;
      return at - before > maxGap && after - at > maxGap ? 2 : 0;
    };
    series.forEach((s, i) => {
      const color = processColor(s.process, i);
      datasets.push({ label: `${s.process} CPU`, data: s.cpu, yAxisID: 'cpu', borderColor: color, backgroundColor: withAlpha(color, 0.12), borderWidth: 1.75, fill: false, rlabProcess: s.process, rlabKind: 'cpu', order: 1, spanGaps: maxGap, pointRadius: dotAlone(s.cpu) });
      datasets.push({ label: `${s.process} RSS`, data: s.rss, yAxisID: 'rss', borderColor: withAlpha(color, 0.75), backgroundColor: color, borderDash: [5, 4], borderWidth: 1.25, rlabProcess: s.process, rlabKind: 'rss', order: 2, spanGaps: maxGap, pointRadius: dotAlone(s.rss) });
    });
    chart.data.datasets = datasets;
    chart.update('none');
  }, [series, period, ownRef]);

  // The iterations' spans, on the same clock.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- rev: the samples array grows in place.
  const spans = useMemo(() => phasesOf(samples, startMs), [samples, rev, startMs]);
  useEffect(() => {
    phases.current = spans;
    ownRef.current?.update('none');
  }, [spans, ownRef]);

  return (
    <div className="chart-box" style={{ height }} data-testid="daemon-usage-chart" data-processes={processesKey.split('\n').filter(Boolean).join(',')} data-readings={readings.length} data-warmup-spans={spans.warmups.length}>
      <canvas ref={canvasRef} role="img" aria-label="CPU and memory of the daemons and shims over the run" />
    </div>
  );
}

/** Peak RSS as text, for the legend. */
export function formatPeakRss(bytes: number): string {
  return formatBytes(bytes);
}
