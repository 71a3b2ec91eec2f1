import { useEffect, useRef, type RefObject } from 'react';
import type { Chart, TooltipItem } from 'chart.js';
import type { Sample } from '../../../shared/model/run-record.ts';
import { formatMs, formatTick } from '../bench/bench-format.ts';
import { runtimeColor } from './palette.ts';
import { useChart } from './use-chart.ts';
import { wholeIterationsByRuntime } from './sample-series.ts';

// The distribution as a CDF (Kuasar's way of showing startup latency): for each runtime,
// the share of measured, successful iterations at or below a time. Long runs are drawn
// through at most MAX_POINTS quantiles, which is indistinguishable at chart size.

const MAX_POINTS = 600;

interface CdfPoint {
  x: number;
  y: number;
}

function cdfOf(values: Float64Array): CdfPoint[] {
  const n = values.length;
  if (n === 0) return [];
  values.sort();
  const points: CdfPoint[] = [];
  const step = n <= MAX_POINTS ? 1 : n / MAX_POINTS;
  for (let k = 0; k < Math.min(n, MAX_POINTS); k++) {
    const i = Math.min(n - 1, Math.floor(k * step));
    points.push({ x: values[i] ?? 0, y: (i + 1) / n });
  }
  const last = values[n - 1] ?? 0;
  if (points[points.length - 1]?.y !== 1) points.push({ x: last, y: 1 });
  return points;
}

function setScaleType(chart: Chart<'line', CdfPoint[]>, log: boolean): void {
  const x = chart.options.scales?.x;
  if (x) x.type = log ? 'logarithmic' : 'linear';
}

export function CdfChart(props: {
  samples: readonly Sample[];
  rev: number;
  runtimes: readonly string[];
  logScale: boolean;
  chartRef: RefObject<Chart | null>;
  height?: number;
  /** The series a sample belongs to, or null to leave it out; default: whole iterations by runtime. Fixed for the chart's life. */
  seriesOf?: (s: Sample) => string | null;
  /** A series' colour; default: runtimeColor by position. Fixed for the chart's life. */
  colorOf?: (series: string, index: number) => string;
  xTitle?: string;
}) {
  const { samples, rev, runtimes, logScale, chartRef, height = 280, xTitle = 'startup time (ms)' } = props;
  const seriesOf = useRef(props.seriesOf ?? wholeIterationsByRuntime);
  const box = useRef<HTMLDivElement>(null);
  const runtimesKey = runtimes.join('\n');

  // xTitle and colorOf: fixed for a chart's life, like seriesOf.
  const { canvasRef, ownRef } = useChart<'line', CdfPoint[]>(chartRef, () => {
    const names = runtimesKey.split('\n').filter(Boolean);
    const colorOf = props.colorOf ?? ((_: string, i: number) => runtimeColor(i));
    return {
      type: 'line',
      data: {
        datasets: names.map((name, i) => ({
          label: name,
          data: [],
          borderColor: colorOf(name, i),
          backgroundColor: colorOf(name, i),
          borderWidth: 2,
          pointRadius: 0,
          pointHitRadius: 4,
          stepped: 'after' as const,
        })),
      },
      options: {
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false },
        layout: { padding: { top: 4, right: 8 } },
        scales: {
          x: { type: 'linear', title: { display: true, text: xTitle }, ticks: { callback: (v) => formatTick(Number(v)) } },
          y: {
            type: 'linear',
            min: 0,
            max: 1,
            title: { display: true, text: 'share of iterations' },
            ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: () => '',
              label: (item: TooltipItem<'line'>) => {
                const p = item.raw as CdfPoint;
                return ` ${item.dataset.label ?? ''}: ${Math.round(p.y * 1000) / 10}% ≤ ${formatMs(p.x)}`;
              },
            },
          },
        },
      },
    };
  }, runtimesKey);

  useEffect(() => {
    const chart = ownRef.current;
    if (!chart) return;
    const names = runtimesKey.split('\n').filter(Boolean);
    const values = new Map<string, number[]>(names.map((n) => [n, []]));
    for (const s of samples) {
      const series = s.warmup || !s.ok ? null : seriesOf.current(s);
      if (series !== null) values.get(series)?.push(s.durationMs);
    }
    chart.data.datasets.forEach((ds, i) => {
      ds.data = cdfOf(Float64Array.from(values.get(names[i] ?? '') ?? []));
    });
    setScaleType(chart, logScale);
    chart.update('none');
    if (box.current) {
      box.current.dataset.rev = String(rev);
      box.current.dataset.colors = chart.data.datasets.map((ds) => `${ds.label ?? ''}=${String(ds.borderColor)}`).join(';');
    }
  }, [samples, rev, runtimesKey, logScale, ownRef]);

  return (
    <div className="chart-box" ref={box} style={{ height }} data-testid="cdf-chart" data-colors="">
      <canvas ref={canvasRef} role="img" aria-label="Cumulative distribution of startup times per runtime" />
    </div>
  );
}
