import { useEffect, useRef, type RefObject } from 'react';
import type { Chart, ChartDataset, Plugin, TooltipItem } from 'chart.js';
import type { Sample } from '../../../shared/model/run-record.ts';
import { formatMs, formatTick } from '../bench/bench-format.ts';
import { FAILURE_COLOR, runtimeColor, withAlpha } from './palette.ts';
import { registerCharts } from './register.ts';
import { wholeIterationsByRuntime } from './sample-series.ts';

// Every iteration of every runtime, as it arrives. Built for runs of 10k+ samples: chart.js
// parses nothing (points are {x, y} already, sorted by x), animates nothing, and its
// decimation plugin (min-max, which keeps the spikes a latency chart is about) draws at
// most a few points per pixel. New samples are appended to the datasets' arrays in place
// and drawn at most once per frame.
//
// x is the iteration within the runtime (1…N); warm-ups sit left of 1 (w1…wK) in a shaded
// band, dashed; failures are red crosses at the time the failed attempt took.

export interface IterationPoint {
  x: number;
  y: number;
  /** Present on failure points: the runtime's own words. */
  error?: string | null;
  timedOut?: boolean;
}

type Kind = 'measured' | 'warmup' | 'failed' | 'warmup-failed';
type PointDataset = ChartDataset<'line', IterationPoint[]> & { rlabRuntime: string; rlabKind: Kind };

interface Source {
  /** Dataset index by runtime and kind. */
  index: Map<string, number>;
  consumed: number;
  epoch: number;
  runtimes: string[];
}

const SMALL = 400;

function pointRadiusFor(count: number): number {
  return count <= 60 ? 3 : count <= SMALL ? 2 : 0;
}

/** Shades the warm-up band (x < 0.5) so warm-ups read as "before the measurement". */
const warmupBand: Plugin<'line'> = {
  id: 'rlabWarmupBand',
  beforeDatasetsDraw(chart) {
    const x = chart.scales.x;
    const area = chart.chartArea;
    if (!x || !area) return;
    const left = Math.max(area.left, x.getPixelForValue(x.min));
    const right = Math.min(area.right, x.getPixelForValue(0.5));
    if (x.min >= 0.5 || right <= left) return;
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = 'rgba(107, 114, 128, 0.07)';
    ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
    ctx.fillStyle = 'rgba(107, 114, 128, 0.75)';
    ctx.font = '600 10.5px system-ui, sans-serif';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    if (right - left > 46) ctx.fillText('WARM-UP', left + 6, area.top + 6);
    ctx.restore();
  },
};

/** Axis ranges, scale type and warm-up visibility (chart.js options are mutable by design). */
function applyView(chart: Chart<'line', IterationPoint[]>, view: { warmups: number; iterations: number | null; showWarmups: boolean; logScale: boolean }): void {
  const { warmups, iterations, showWarmups, logScale } = view;
  const opts = chart.options;
  const x = opts.scales?.x;
  if (x) {
    x.min = showWarmups && warmups > 0 ? 0.5 - warmups : 0.5;
    x.max = iterations !== null && iterations > 0 ? iterations + 0.5 : undefined;
  }
  const y = opts.scales?.y;
  if (y) {
    y.type = logScale ? 'logarithmic' : 'linear';
    (y as { beginAtZero?: boolean }).beginAtZero = !logScale;
  }
  for (const ds of chart.data.datasets as PointDataset[]) {
    if (ds.rlabKind === 'warmup' || ds.rlabKind === 'warmup-failed') ds.hidden = !showWarmups;
  }
}

export interface IterationChartProps {
  samples: readonly Sample[];
  rev: number;
  epoch: number;
  /** Series names in plan order (colours follow it): runtime names unless `seriesOf` says otherwise. */
  runtimes: readonly string[];
  /** A series' colour; default: runtimeColor by position. Read when the chart is made, like `seriesOf`. */
  colorOf?: (series: string, index: number) => string;
  /**
   * The series a sample belongs to, or null to leave it out; default: whole iterations by
   * runtime. Read when samples arrive: remount the chart (React key) to change it.
   */
  seriesOf?: (s: Sample) => string | null;
  yTitle?: string;
  warmups: number;
  /** Planned iterations: the x axis spans them from the start, so a live run fills it left to right. */
  iterations: number | null;
  showWarmups: boolean;
  logScale: boolean;
  chartRef: RefObject<Chart | null>;
  height?: number;
}

export function IterationChart(props: IterationChartProps) {
  const { samples, rev, epoch, runtimes, warmups, iterations, showWarmups, logScale, chartRef, height = 300, yTitle = 'startup time (ms)' } = props;
  const seriesOf = useRef(props.seriesOf ?? wholeIterationsByRuntime);
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const source = useRef<Source | null>(null);
  // The chart this component draws; chartRef hands it to the card (Save PNG).
  const own = useRef<Chart<'line', IterationPoint[]> | null>(null);
  const frame = useRef<number>(0);
  const warmupsRef = useRef(warmups);
  const runtimesKey = runtimes.join('\n');

  // Create the chart (and again when the runtimes change).
  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const ChartJs = registerCharts();
    const names = runtimesKey.split('\n').filter(Boolean);
    const datasets: PointDataset[] = [];
    const index = new Map<string, number>();
    const add = (runtime: string, kind: Kind, ds: Omit<PointDataset, 'rlabRuntime' | 'rlabKind' | 'data'>) => {
      index.set(`${kind}\n${runtime}`, datasets.length);
      datasets.push({ ...ds, data: [], rlabRuntime: runtime, rlabKind: kind } as PointDataset);
    };
    const colorOf = props.colorOf ?? ((_: string, i: number) => runtimeColor(i));
    const colors = names.map((runtime, i) => colorOf(runtime, i));
    names.forEach((runtime, i) => {
      const color = colors[i] ?? runtimeColor(i);
      add(runtime, 'measured', {
        label: runtime,
        borderColor: color,
        backgroundColor: color,
        borderWidth: 1.5,
        pointRadius: 3,
        pointHoverRadius: 4,
        pointHitRadius: 5,
        order: 2,
      });
      add(runtime, 'warmup', {
        label: `${runtime} warm-up`,
        borderColor: withAlpha(color, 0.7),
        backgroundColor: '#ffffff',
        borderDash: [4, 3],
        borderWidth: 1.25,
        pointRadius: 3.5,
        pointBorderWidth: 1.5,
        pointHoverRadius: 4.5,
        order: 3,
      });
    });
    names.forEach((runtime) => {
      for (const kind of ['failed', 'warmup-failed'] as const) {
        add(runtime, kind, {
          label: kind === 'failed' ? `${runtime} failed` : `${runtime} warm-up failed`,
          showLine: false,
          borderColor: FAILURE_COLOR,
          backgroundColor: FAILURE_COLOR,
          pointStyle: 'crossRot',
          pointRadius: 6,
          pointBorderWidth: 2.5,
          pointHoverRadius: 7,
          pointHitRadius: 6,
          order: 0,
        });
      }
    });

    const chart = new ChartJs<'line', IterationPoint[]>(el, {
      type: 'line',
      data: { datasets },
      plugins: [warmupBand],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        parsing: false,
        normalized: true,
        spanGaps: true,
        interaction: { mode: 'nearest', intersect: false, axis: 'x' },
        layout: { padding: { top: 4, right: 8 } },
        elements: { line: { tension: 0 } },
        scales: {
          x: {
            type: 'linear',
            title: { display: true, text: 'iteration' },
            ticks: {
              precision: 0,
              callback: (value) => {
                const v = Number(value);
                if (!Number.isInteger(v)) return '';
                return v <= 0 ? `w${v + warmupsRef.current}` : String(v);
              },
            },
            grid: { display: false },
          },
          y: {
            type: 'linear',
            beginAtZero: true,
            title: { display: true, text: yTitle },
            ticks: { callback: (value) => formatTick(Number(value)) },
          },
        },
        plugins: {
          legend: { display: false },
          decimation: { enabled: true, algorithm: 'min-max' },
          tooltip: {
            callbacks: {
              title: (items) => {
                const item = items[0];
                if (!item) return '';
                const x = (item.raw as IterationPoint).x;
                return x <= 0 ? `Warm-up ${x + warmupsRef.current}` : `Iteration ${x}`;
              },
              label: (item: TooltipItem<'line'>) => {
                const ds = item.dataset as PointDataset;
                const p = item.raw as IterationPoint;
                const what = ds.rlabKind === 'failed' || ds.rlabKind === 'warmup-failed' ? (p.timedOut ? ' — timed out' : ' — failed') : '';
                return ` ${ds.rlabRuntime}: ${formatMs(p.y)}${what}`;
              },
              afterLabel: (item: TooltipItem<'line'>) => {
                const p = item.raw as IterationPoint;
                return p.error ? `   ${p.error.length > 140 ? `${p.error.slice(0, 140)}…` : p.error}` : '';
              },
            },
          },
        },
      },
    });
    own.current = chart;
    chartRef.current = chart as unknown as Chart;
    source.current = { index, consumed: 0, epoch: -1, runtimes: names };
    if (box.current) box.current.dataset.colors = names.map((n, i) => `${n}=${colors[i] ?? ''}`).join(';');
    return () => {
      cancelAnimationFrame(frame.current);
      chart.destroy();
      own.current = null;
      if (chartRef.current === (chart as unknown as Chart)) chartRef.current = null;
      source.current = null;
    };
    // yTitle and colorOf: fixed for a chart's life, like seriesOf.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runtimesKey, chartRef]);

  // Axis and visibility options.
  useEffect(() => {
    const chart = own.current;
    if (!chart) return;
    warmupsRef.current = warmups;
    applyView(chart, { warmups, iterations, showWarmups, logScale });
    chart.update('none');
  }, [runtimesKey, warmups, iterations, showWarmups, logScale]);

  // Samples: append what is new, or rebuild on a new epoch.
  useEffect(() => {
    const chart = own.current;
    const src = source.current;
    if (!chart || !src) return;
    const datasets = chart.data.datasets as PointDataset[];
    const dataOf = (ds: PointDataset): IterationPoint[] => ((ds as unknown as { _data?: IterationPoint[] })._data ?? ds.data);
    if (src.epoch !== epoch || src.consumed > samples.length) {
      for (const ds of datasets) dataOf(ds).length = 0;
      src.consumed = 0;
      src.epoch = epoch;
    }
    const sets = datasets.map(dataOf);
    for (let i = src.consumed; i < samples.length; i++) {
      const s = samples[i];
      if (!s) continue;
      const kind: Kind = s.warmup ? (s.ok ? 'warmup' : 'warmup-failed') : s.ok ? 'measured' : 'failed';
      const series = seriesOf.current(s);
      if (series === null) continue;
      const at = src.index.get(`${kind}\n${series}`);
      if (at === undefined) continue;
      const x = s.warmup ? s.iteration + 1 - warmups : s.iteration + 1;
      const target = sets[at];
      if (!target) continue;
      // Keep x ascending (decimation and `normalized` rely on it), even if a sample came late.
      const last = target[target.length - 1];
      const point: IterationPoint = s.ok ? { x, y: s.durationMs } : { x, y: s.durationMs, error: s.error, timedOut: s.timedOut };
      if (!last || last.x < x) target.push(point);
      else {
        let j = target.length;
        while (j > 0 && (target[j - 1]?.x ?? -Infinity) > x) j--;
        if (target[j - 1]?.x !== x) target.splice(j, 0, point);
      }
    }
    src.consumed = samples.length;

    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => {
      let total = 0;
      let decimated = false;
      let restyled = false;
      for (const ds of datasets) {
        const data = dataOf(ds);
        total += data.length;
        if (ds.rlabKind === 'measured' || ds.rlabKind === 'warmup') {
          const r = ds.rlabKind === 'warmup' ? Math.max(pointRadiusFor(data.length), 2.5) : pointRadiusFor(data.length);
          if (ds.pointRadius !== r) {
            ds.pointRadius = r;
            restyled = true;
          }
        }
      }
      // 'none' reuses the elements' shared options, so a new point size needs a full
      // update (animations are off, so that costs nothing more).
      if (restyled) chart.update();
      else chart.update('none');
      for (const ds of datasets) if ((ds as unknown as { _decimated?: unknown })._decimated) decimated = true;
      const el = box.current;
      if (el) {
        el.dataset.points = String(total);
        el.dataset.decimated = String(decimated);
        el.dataset.rev = String(rev);
        el.dataset.series = datasets.filter((ds) => ds.rlabKind === 'measured' && dataOf(ds).length > 0).map((ds) => ds.rlabRuntime).join(',');
        el.dataset.failed = String(datasets.filter((ds) => ds.rlabKind === 'failed').reduce((n, ds) => n + dataOf(ds).length, 0));
        // What is plotted, summed: tells one part of the iteration (a CRI call, a kernel) from another.
        el.dataset.sumMs = datasets.reduce((n, ds) => n + dataOf(ds).reduce((m, p) => m + p.y, 0), 0).toFixed(3);
      }
    });
  }, [samples, rev, epoch, runtimesKey, warmups]);

  return (
    <div className="chart-box" ref={box} style={{ height }} data-testid="iteration-chart" data-points="0" data-series="" data-failed="0" data-sum-ms="0" data-colors="">
      <canvas ref={canvas} role="img" aria-label="Startup time of every iteration, per runtime" />
    </div>
  );
}
