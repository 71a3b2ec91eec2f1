import { useEffect, useRef, type RefObject } from 'react';
import type { Chart, Plugin, TooltipItem } from 'chart.js';
import { formatMs, formatTick } from '../bench/bench-format.ts';
import type { SummaryIndex } from '../bench/summary-index.ts';
import { categoryColor } from './palette.ts';
import { useChart } from './use-chart.ts';

// The pod lifecycle of one iteration, per runtime: one horizontal bar made of the median of
// each CRI call, stacked in call order (RunPodSandbox first), and a black tick at the median
// of the whole loop, timed on its own — so where the time goes, and whether the steps add
// up to the loop, read at a glance. Medians of different calls are not a median of their
// sum: the tick is the loop's own figure, not the bar's end.

interface Marks {
  /** Per runtime (bar index): median of the whole loop, or null. */
  loop: (number | null)[];
}

/** Draws each runtime's whole-loop median as a tick across its bar, with its value. */
function loopTicks(marks: RefObject<Marks>): Plugin<'bar'> {
  return {
    id: 'rlabCriLoopTicks',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x;
      const y = chart.scales.y;
      if (!x || !y) return;
      const { ctx } = chart;
      ctx.save();
      ctx.font = '600 11.5px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'left';
      marks.current.loop.forEach((value, i) => {
        const stackEnd = chart.data.datasets.reduce((sum, ds) => sum + (typeof ds.data[i] === 'number' ? (ds.data[i] as number) : 0), 0);
        const cy = y.getPixelForValue(i);
        const half = 17;
        if (value !== null) {
          const px = x.getPixelForValue(value);
          ctx.strokeStyle = '#1c1f24';
          ctx.lineWidth = 2.5;
          ctx.beginPath();
          ctx.moveTo(px, cy - half);
          ctx.lineTo(px, cy + half);
          ctx.stroke();
        }
        const right = Math.max(x.getPixelForValue(stackEnd), value === null ? -Infinity : x.getPixelForValue(value));
        ctx.fillStyle = '#1c1f24';
        const label = value === null ? `Σ ${formatMs(stackEnd)}` : `loop ${formatMs(value)}`;
        ctx.fillText(label, right + 8, cy);
      });
      ctx.restore();
    },
  };
}

export function CriStepsChart(props: { index: SummaryIndex; runtimes: readonly string[]; steps: readonly string[]; chartRef: RefObject<Chart | null>; height?: number }) {
  const { index, runtimes, steps, chartRef } = props;
  const height = props.height ?? Math.max(180, 70 + runtimes.length * 62);
  const box = useRef<HTMLDivElement>(null);
  const marks = useRef<Marks>({ loop: [] });
  const indexRef = useRef(index);

  const { canvasRef, ownRef } = useChart<'bar', (number | null)[], string>(chartRef, () => ({
    type: 'bar',
    data: { labels: [], datasets: [] },
    plugins: [loopTicks(marks)],
    options: {
      indexAxis: 'y',
      layout: { padding: { top: 4, right: 110, left: 4 } },
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: { type: 'linear', stacked: true, beginAtZero: true, title: { display: true, text: 'median per call, stacked in call order (ms)' }, ticks: { callback: (v) => formatTick(Number(v)) } },
        y: { type: 'category', stacked: true, grid: { display: false }, ticks: { font: { weight: 600, size: 12 }, color: '#3d434b' } },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => (items[0] ? `${items[0].label} · ${items[0].dataset.label ?? ''}` : ''),
            label: (item: TooltipItem<'bar'>) => {
              const runtime = String(item.label);
              const s = indexRef.current.get(runtime, item.dataset.label ?? null);
              if (!s) return '';
              const ci = s.medianCi ? ` (CI ${formatMs(s.medianCi.low)} – ${formatMs(s.medianCi.high)})` : '';
              return ` median ${formatMs(s.median)}${ci}`;
            },
            footer: (items) => {
              const item = items[0];
              const s = item ? indexRef.current.get(String(item.label), item.dataset.label ?? null) : undefined;
              const loop = item ? indexRef.current.get(String(item.label), null)?.median : null;
              if (!s) return '';
              const share = loop && s.median !== null ? ` · ${Math.round((s.median / loop) * 100)}% of the loop` : '';
              return `n = ${s.n}${s.failures ? ` · ${s.failures} failed` : ''} · p95 ${formatMs(s.p95)}${share}`;
            },
          },
        },
      },
    },
  }));

  useEffect(() => {
    const chart = ownRef.current;
    if (!chart) return;
    indexRef.current = index;
    chart.data.labels = [...runtimes];
    chart.data.datasets = steps.map((step, i) => ({
      label: step,
      data: runtimes.map((r) => index.get(r, step)?.median ?? null),
      backgroundColor: categoryColor(i),
      borderColor: '#ffffff',
      borderWidth: { right: 1.5 },
      borderSkipped: false,
      barThickness: 28,
      stack: 'steps',
    }));
    marks.current = { loop: runtimes.map((r) => index.get(r, null)?.median ?? null) };
    chart.update('none');
    const el = box.current;
    if (el) {
      el.dataset.runtimes = runtimes.join(',');
      el.dataset.steps = steps.filter((step) => runtimes.some((r) => index.get(r, step)?.median != null)).join(',');
      el.dataset.loopMarks = String(marks.current.loop.filter((v) => v !== null).length);
    }
  }, [index, runtimes, steps, ownRef]);

  return (
    <div className="chart-box" ref={box} style={{ height }} data-testid="cri-steps-chart" data-runtimes="" data-steps="" data-loop-marks="0">
      <canvas ref={canvasRef} role="img" aria-label="Median of each CRI call per runtime, stacked in call order, with the whole loop's median" />
    </div>
  );
}
