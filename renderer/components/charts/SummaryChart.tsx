import { useEffect, useRef, type RefObject } from 'react';
import type { Chart, Plugin, TooltipItem } from 'chart.js';
import { emptySummary, type RuntimeSummary } from '../../../shared/stats.ts';
import { formatMs, formatTick } from '../bench/bench-format.ts';
import { runtimeColor, withAlpha } from './palette.ts';
import { useChart } from './use-chart.ts';

// Per runtime: the median (a bold tick, labelled), its bootstrap confidence interval (a
// box) and the p5–p95 spread (a whisker with caps). Floating bars and one small plugin —
// no box-plot dependency. Only measured, successful iterations count (shared/stats.ts).

type Range = [number, number] | null;

const WHISKER = 0;
const CI = 1;
const MEDIAN = 2;

/** Draws the whisker caps and the median's value beside each runtime. */
const whiskerDecorations: Plugin<'bar'> = {
  id: 'rlabWhiskers',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const whiskers = chart.getDatasetMeta(WHISKER);
    const medians = chart.getDatasetMeta(MEDIAN);
    const ci = chart.getDatasetMeta(CI);
    ctx.save();
    if (!whiskers.hidden) {
      whiskers.data.forEach((el, i) => {
        const raw = chart.data.datasets[WHISKER]?.data[i];
        if (!raw) return;
        const { x, y, base } = el.getProps(['x', 'y', 'base'], true) as { x: number; y: number; base: number };
        ctx.strokeStyle = runtimeColor(i);
        ctx.lineWidth = 2;
        ctx.beginPath();
        for (const at of [y, base]) {
          ctx.moveTo(x - 9, at);
          ctx.lineTo(x + 9, at);
        }
        ctx.stroke();
      });
    }
    ctx.font = '600 11.5px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    medians.data.forEach((el, i) => {
      const value = chart.data.datasets[MEDIAN]?.data[i];
      if (typeof value !== 'number') return;
      const { x, y } = el.getProps(['x', 'y'], true) as { x: number; y: number };
      const boxWidth = (ci.data[i] as unknown as { width?: number } | undefined)?.width ?? 28;
      ctx.fillStyle = '#1c1f24';
      ctx.fillText(formatMs(value), x + boxWidth / 2 + 8, y);
    });
    ctx.restore();
  },
};

export function SummaryChart(props: { summaries: readonly RuntimeSummary[]; runtimes: readonly string[]; chartRef: RefObject<Chart | null>; height?: number }) {
  const { summaries, runtimes, chartRef, height = 280 } = props;
  const box = useRef<HTMLDivElement>(null);
  // What the tooltip reads: set with the data, in the effect below.
  const summariesRef = useRef<readonly RuntimeSummary[]>([]);

  const { canvasRef, ownRef } = useChart<'bar', (Range | number | null)[], string>(chartRef, () => {
    const stat = (i: number) => summariesRef.current[i];
    return {
      type: 'bar',
      data: {
        labels: [],
        datasets: [
          { label: 'p5–p95', data: [], grouped: false, barThickness: 2, borderSkipped: false, order: 3 },
          { label: 'median 95% CI', data: [], grouped: false, barThickness: 30, borderWidth: 1.5, borderSkipped: false, borderRadius: 3, order: 2 },
          {
            type: 'line',
            label: 'median',
            data: [],
            showLine: false,
            pointStyle: 'line',
            pointRadius: 19,
            pointHoverRadius: 19,
            pointBorderWidth: 3,
            pointHoverBorderWidth: 3,
            order: 1,
          } as never,
        ],
      },
      plugins: [whiskerDecorations],
      options: {
        layout: { padding: { top: 8, right: 70, left: 4 } },
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { type: 'category', grid: { display: false }, ticks: { font: { weight: 600, size: 12 }, color: '#3d434b' } },
          y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'startup time (ms)' }, ticks: { callback: (v) => formatTick(Number(v)) } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item: TooltipItem<'bar'>) => {
                const s = stat(item.dataIndex);
                if (!s) return '';
                if (item.datasetIndex === MEDIAN) return ` median ${formatMs(s.median)}`;
                if (item.datasetIndex === CI) {
                  return s.medianCi ? ` ${Math.round(s.medianCi.confidence * 100)}% CI ${formatMs(s.medianCi.low)} – ${formatMs(s.medianCi.high)}` : ' CI: needs 2+ samples';
                }
                return ` p5–p95 ${formatMs(s.p5)} – ${formatMs(s.p95)}`;
              },
              footer: (items) => {
                const s = items[0] ? stat(items[0].dataIndex) : undefined;
                if (!s) return '';
                return `n = ${s.n}${s.failures ? ` · ${s.failures} failed` : ''} · mean ${formatMs(s.mean)}`;
              },
            },
          },
        },
      },
    };
  });

  useEffect(() => {
    const chart = ownRef.current;
    if (!chart) return;
    const byName = new Map(summaries.map((s) => [s.runtime, s]));
    const names = [...runtimes, ...summaries.map((s) => s.runtime).filter((r) => !runtimes.includes(r))];
    const ordered = names.map((name) => byName.get(name));
    summariesRef.current = ordered.map((s, i) => s ?? emptySummary(names[i] ?? ''));
    const colors = names.map((_, i) => runtimeColor(i));
    const [whisker, ci, median] = chart.data.datasets;
    chart.data.labels = names;
    if (whisker && ci && median) {
      whisker.data = ordered.map((s) => (s && s.p5 !== null && s.p95 !== null ? [s.p5, s.p95] : null));
      whisker.backgroundColor = colors.map((c) => withAlpha(c, 0.85));
      ci.data = ordered.map((s) => (s?.medianCi ? [s.medianCi.low, s.medianCi.high] : s?.median != null ? [s.median, s.median] : null));
      ci.backgroundColor = colors.map((c) => withAlpha(c, 0.2));
      ci.borderColor = colors;
      median.data = ordered.map((s) => s?.median ?? null);
      const m = median as unknown as { pointBorderColor: string[]; pointBackgroundColor: string[]; borderColor: string[] };
      m.pointBorderColor = colors;
      m.pointBackgroundColor = colors;
      m.borderColor = colors;
    }
    chart.update('none');
    if (box.current) box.current.dataset.runtimes = String(ordered.filter((s) => s && s.n > 0).length);
  }, [summaries, runtimes, ownRef]);

  return (
    <div className="chart-box" ref={box} style={{ height }} data-testid="summary-chart" data-runtimes="0">
      <canvas ref={canvasRef} role="img" aria-label="Median startup time per runtime with confidence interval and p5–p95 spread" />
    </div>
  );
}


