import { useEffect, useRef, type RefObject } from 'react';
import type { Chart, ChartDataset, TooltipItem } from 'chart.js';
import type { MemoryStep } from '../../../shared/model/run-record.ts';
import { formatBytes } from '../format.ts';
import { FAILURE_COLOR, runtimeColor } from './palette.ts';
import { useChart } from './use-chart.ts';

// A memory plan's answer: what one more container costs, per runtime, as the number of
// containers grows — PSS of every process the runtime added, per container (or the host's
// MemAvailable drop per container). One line per runtime; a step that failed or was
// refused is a red cross on the x axis, its reason in the tooltip and the table.

export type MemoryMetric = 'pss' | 'drop';

interface MemoryPoint {
  x: number;
  y: number;
  step: MemoryStep;
}

type MemoryDataset = ChartDataset<'line', MemoryPoint[]> & { rlabRuntime: string; rlabFailed: boolean };

const MIB = 1024 * 1024;

/** Processes counted in a step, by role: "2 container · 1 shim". */
export function rolesOf(step: MemoryStep): string {
  const counts = new Map<string, number>();
  for (const p of step.processes) counts.set(p.role, (counts.get(p.role) ?? 0) + 1);
  return [...counts.entries()].map(([role, n]) => `${n} ${role}`).join(' · ') || 'none';
}

function metricOf(step: MemoryStep, metric: MemoryMetric): number | null {
  return metric === 'pss' ? step.perContainerPssBytes : step.perContainerMemAvailableDropBytes;
}

/** chart.js options are mutable by design. */
function setYTitle(chart: Chart<'line', MemoryPoint[]>, text: string): void {
  const y = chart.options.scales?.y;
  if (y?.title) y.title.text = text;
}

export function MemoryChart(props: { steps: readonly MemoryStep[]; runtimes: readonly string[]; metric: MemoryMetric; chartRef: RefObject<Chart | null>; height?: number }) {
  const { steps, runtimes, metric, chartRef, height = 320 } = props;
  const box = useRef<HTMLDivElement>(null);
  const metricRef = useRef(metric);

  const { canvasRef, ownRef } = useChart<'line', MemoryPoint[]>(chartRef, () => ({
    type: 'line',
    data: { datasets: [] },
    options: {
      parsing: false,
      interaction: { mode: 'nearest', intersect: false },
      layout: { padding: { top: 8, right: 12 } },
      elements: { line: { tension: 0 } },
      scales: {
        x: { type: 'linear', beginAtZero: true, title: { display: true, text: 'containers running at once' }, ticks: { precision: 0 }, grid: { display: false } },
        y: { type: 'linear', beginAtZero: true, title: { display: true, text: '' }, ticks: { callback: (v) => `${Number(v).toLocaleString('en-US', { maximumFractionDigits: 1 })}` } },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => {
              const p = items[0]?.raw as MemoryPoint | undefined;
              return p ? `${(items[0]?.dataset as MemoryDataset).rlabRuntime} · ${p.step.containers} container${p.step.containers === 1 ? '' : 's'}` : '';
            },
            label: (item: TooltipItem<'line'>) => {
              const { step } = item.raw as MemoryPoint;
              if (!step.ok) return ` failed: ${(step.error ?? '').slice(0, 140)}`;
              return metricRef.current === 'pss'
                ? ` PSS ${formatBytes(step.perContainerPssBytes)} per container (total ${formatBytes(step.totalPssBytes)})`
                : ` MemAvailable −${formatBytes(step.perContainerMemAvailableDropBytes)} per container (total −${formatBytes(step.memAvailableDropBytes)})`;
            },
            afterLabel: (item: TooltipItem<'line'>) => {
              const { step } = item.raw as MemoryPoint;
              return step.ok ? `   ${step.running}/${step.containers} running · counted: ${rolesOf(step)}` : '';
            },
          },
        },
      },
    },
  }));

  useEffect(() => {
    const chart = ownRef.current;
    if (!chart) return;
    metricRef.current = metric;
    const datasets: MemoryDataset[] = [];
    let points = 0;
    runtimes.forEach((runtime, i) => {
      const mine = steps.filter((s) => s.runtime === runtime).sort((a, b) => a.containers - b.containers);
      const measured = mine.flatMap((step) => {
        const v = metricOf(step, metric);
        return step.ok && v !== null ? [{ x: step.containers, y: v / MIB, step }] : [];
      });
      const failed = mine.filter((s) => !s.ok).map((step) => ({ x: step.containers, y: 0, step }));
      points += measured.length;
      const color = runtimeColor(i);
      datasets.push({ label: runtime, data: measured, borderColor: color, backgroundColor: color, borderWidth: 2.25, pointRadius: 4.5, pointHoverRadius: 6, rlabRuntime: runtime, rlabFailed: false });
      if (failed.length > 0) {
        datasets.push({ label: `${runtime} failed`, data: failed, showLine: false, borderColor: FAILURE_COLOR, backgroundColor: FAILURE_COLOR, pointStyle: 'crossRot', pointRadius: 7, pointBorderWidth: 2.5, rlabRuntime: runtime, rlabFailed: true });
      }
    });
    chart.data.datasets = datasets;
    setYTitle(chart, metric === 'pss' ? 'PSS per container (MiB)' : 'MemAvailable drop per container (MiB)');
    chart.update('none');
    const el = box.current;
    if (el) {
      el.dataset.runtimes = datasets.filter((d) => !d.rlabFailed && d.data.length > 0).map((d) => d.rlabRuntime).join(',');
      el.dataset.metric = metric;
      el.dataset.points = String(points);
      el.dataset.failed = String(datasets.filter((d) => d.rlabFailed).reduce((n, d) => n + d.data.length, 0));
    }
  }, [steps, runtimes, metric, ownRef]);

  return (
    <div className="chart-box" ref={box} style={{ height }} data-testid="memory-chart" data-runtimes="" data-metric={metric} data-points="0" data-failed="0">
      <canvas ref={canvasRef} role="img" aria-label="Memory per container against the number of containers, one line per runtime" />
    </div>
  );
}
