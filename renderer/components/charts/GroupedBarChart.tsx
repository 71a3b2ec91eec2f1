import { useEffect, useRef, type RefObject } from 'react';
import type { Chart, Plugin, TooltipItem } from 'chart.js';
import { logTicks, roundDown, roundUp } from './log-ticks.ts';
import { withAlpha } from './palette.ts';
import { useChart } from './use-chart.ts';

// Grouped bars with an interval whisker on each: runtime × storage driver (the talk's
// chart), or perf kernel × runtime. A bar is a median; its whisker the median's bootstrap
// CI, so "is this difference real" reads off the picture.

export interface BarValue {
  value: number;
  /** The interval drawn as a whisker (e.g. the median's CI); absent: none. */
  low?: number;
  high?: number;
  /** Extra tooltip lines (n, failures, absolute figures). */
  detail?: string[];
}

export interface BarSeries {
  name: string;
  /** The bar's colour in every group, unless the chart's `colorOf` says otherwise. */
  color: string;
}

interface Whiskers {
  /** [dataset][group] */
  ranges: ([number, number] | null)[][];
  /** Value labels above the bars, already formatted ([dataset][group]); empty: none. */
  labels: (string | null)[][];
}

/** Draws each bar's interval as a capped whisker, and its value above it when asked. */
function whiskerPlugin(whiskers: RefObject<Whiskers>): Plugin<'bar'> {
  return {
    id: 'rlabBarWhiskers',
    afterDatasetsDraw(chart) {
      const y = chart.scales.y;
      if (!y) return;
      const { ctx } = chart;
      ctx.save();
      ctx.strokeStyle = '#1c1f24';
      ctx.lineWidth = 1.5;
      whiskers.current.ranges.forEach((ranges, d) => {
        const meta = chart.getDatasetMeta(d);
        if (meta.hidden) return;
        ranges.forEach((range, g) => {
          const el = meta.data[g];
          if (!range || !el) return;
          const { x, width } = el.getProps(['x', 'width'], true) as { x: number; width: number };
          const top = y.getPixelForValue(range[1]);
          const bottom = y.getPixelForValue(range[0]);
          const cap = Math.min(6, width / 3);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, bottom);
          ctx.moveTo(x - cap, top);
          ctx.lineTo(x + cap, top);
          ctx.moveTo(x - cap, bottom);
          ctx.lineTo(x + cap, bottom);
          ctx.stroke();
        });
      });
      ctx.font = '600 10.5px system-ui, sans-serif';
      ctx.fillStyle = '#3d434b';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      whiskers.current.labels.forEach((labels, d) => {
        const meta = chart.getDatasetMeta(d);
        if (meta.hidden) return;
        labels.forEach((label, g) => {
          const el = meta.data[g];
          if (!label || !el) return;
          const { x, y: top } = el.getProps(['x', 'y'], true) as { x: number; y: number };
          const range = whiskers.current.ranges[d]?.[g];
          const above = Math.min(top, range ? y.getPixelForValue(range[1]) : top);
          ctx.fillText(label, x, above - 3);
        });
      });
      ctx.restore();
    },
  };
}

/**
 * Scale type, bounds and title of the value axis (chart.js options are mutable by design).
 * `range`: the smallest and largest of every bar and whisker end, so whiskers stay inside.
 * On a log axis a bar starts at the axis' minimum: a round figure at most half the smallest
 * keeps the shortest bar (a 1× on a relative chart) visible.
 */
function applyYAxis(chart: Chart<'bar', (number | null)[], string>, logScale: boolean, title: string, range: [number, number] | null): void {
  const y = chart.options.scales?.y;
  if (!y) return;
  y.type = logScale ? 'logarithmic' : 'linear';
  (y as { beginAtZero?: boolean }).beginAtZero = !logScale;
  y.min = logScale && range ? roundDown(range[0] / 2) : undefined;
  y.max = logScale && range ? roundUp(range[1]) : undefined;
  (y as { suggestedMax?: number }).suggestedMax = !logScale && range ? range[1] : undefined;
  if (y.title) y.title.text = title;
}

export interface GroupedBarChartProps {
  groups: readonly string[];
  bars: readonly BarSeries[];
  /** A bar's colour within one group (runtime × driver: hue by group, shade by bar); default: the bar's own. */
  colorOf?: (group: string, bar: string) => string;
  valueOf: (group: string, bar: string) => BarValue | null;
  yTitle: string;
  /** Axis tick and tooltip text of a value. */
  format: (v: number) => string;
  logScale?: boolean;
  /** A horizontal reference line (e.g. 1× on a normalised chart). */
  reference?: number;
  /** Write each bar's value above it. */
  showValues?: boolean;
  chartRef: RefObject<Chart | null>;
  testId: string;
  ariaLabel: string;
  height?: number;
}

export function GroupedBarChart(props: GroupedBarChartProps) {
  const { groups, bars, colorOf, valueOf, yTitle, format, logScale = false, reference, showValues = false, chartRef, testId, ariaLabel, height = 300 } = props;
  const box = useRef<HTMLDivElement>(null);
  const whiskers = useRef<Whiskers>({ ranges: [], labels: [] });
  const details = useRef<(string[] | undefined)[][]>([]);
  const formatRef = useRef(format);
  const referenceRef = useRef(reference);

  const { canvasRef, ownRef } = useChart<'bar', (number | null)[], string>(chartRef, () => {
    const referenceLine: Plugin<'bar'> = {
      id: 'rlabReferenceLine',
      beforeDatasetsDraw(chart) {
        const value = referenceRef.current;
        const y = chart.scales.y;
        const area = chart.chartArea;
        if (value === undefined || !y || !area) return;
        const py = y.getPixelForValue(value);
        const { ctx } = chart;
        ctx.save();
        ctx.strokeStyle = 'rgba(28, 31, 36, 0.45)';
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(area.left, py);
        ctx.lineTo(area.right, py);
        ctx.stroke();
        ctx.restore();
      },
    };
    return {
      type: 'bar',
      data: { labels: [], datasets: [] },
      plugins: [referenceLine, whiskerPlugin(whiskers)],
      options: {
        layout: { padding: { top: 18, right: 8, left: 4 } },
        interaction: { mode: 'nearest', intersect: true },
        scales: {
          x: { type: 'category', grid: { display: false }, ticks: { font: { weight: 600, size: 12 }, color: '#3d434b' } },
          y: {
            type: 'linear',
            beginAtZero: true,
            title: { display: true, text: '' },
            ticks: { callback: (v) => formatRef.current(Number(v)) },
            afterBuildTicks: (axis) => {
              if (axis.type === 'logarithmic') axis.ticks = logTicks(axis.min, axis.max).map((value) => ({ value }));
            },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => (items[0] ? `${items[0].label} · ${items[0].dataset.label ?? ''}` : ''),
              label: (item: TooltipItem<'bar'>) => {
                const range = whiskers.current.ranges[item.datasetIndex]?.[item.dataIndex];
                const value = ` ${formatRef.current(Number(item.raw))}`;
                return range ? `${value}  (CI ${formatRef.current(range[0])} – ${formatRef.current(range[1])})` : value;
              },
              afterLabel: (item: TooltipItem<'bar'>) => details.current[item.datasetIndex]?.[item.dataIndex]?.join('\n') ?? '',
            },
          },
        },
      },
    };
  });

  useEffect(() => {
    const chart = ownRef.current;
    if (!chart) return;
    formatRef.current = format;
    referenceRef.current = reference;
    const values = bars.map((bar) => groups.map((group) => valueOf(group, bar.name)));
    const colors = bars.map((bar) => groups.map((group) => colorOf?.(group, bar.name) ?? bar.color));
    chart.data.labels = [...groups];
    chart.data.datasets = bars.map((bar, d) => ({
      label: bar.name,
      data: (values[d] ?? []).map((v) => v?.value ?? null),
      backgroundColor: (colors[d] ?? []).map((c) => withAlpha(c, 0.8)),
      borderColor: colors[d] ?? [],
      borderWidth: 1.25,
      borderRadius: 3,
      maxBarThickness: 46,
      categoryPercentage: 0.72,
      barPercentage: 0.9,
    }));
    whiskers.current = {
      ranges: values.map((row) => row.map((v) => (v && v.low !== undefined && v.high !== undefined ? [v.low, v.high] : null))),
      labels: showValues ? values.map((row) => row.map((v) => (v ? format(v.value) : null))) : [],
    };
    details.current = values.map((row) => row.map((v) => v?.detail));
    const ends = values.flat().flatMap((v) => (v && v.value > 0 ? [v.low ?? v.value, v.value, v.high ?? v.value] : [])).filter((n) => n > 0);
    applyYAxis(chart, logScale, yTitle, ends.length > 0 ? [Math.min(...ends), Math.max(...ends)] : null);
    chart.update('none');
    const el = box.current;
    if (el) {
      el.dataset.groups = groups.join(',');
      el.dataset.bars = bars.map((b) => b.name).join(',');
      el.dataset.colors = groups.flatMap((group, g) => bars.map((bar, d) => `${group} · ${bar.name}=${colors[d]?.[g] ?? ''}`)).join(';');
      el.dataset.values = String(values.flat().filter((v) => v !== null).length);
      el.dataset.whiskers = String(whiskers.current.ranges.flat().filter((r) => r !== null).length);
    }
  }, [groups, bars, colorOf, valueOf, yTitle, format, logScale, reference, showValues, ownRef]);

  return (
    <div className="chart-box" ref={box} style={{ height }} data-testid={testId} data-groups="" data-bars="" data-colors="" data-values="0" data-whiskers="0">
      <canvas ref={canvasRef} role="img" aria-label={ariaLabel} />
    </div>
  );
}
