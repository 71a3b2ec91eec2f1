import { useEffect, useRef, type RefObject } from 'react';
import type { Chart, ChartConfiguration, ChartType, DefaultDataPoint } from 'chart.js';
import { registerCharts } from './register.ts';

// The life of one chart.js chart in a component: created on the canvas once mounted (and
// again when `rebuildKey` changes), handed to the card through `chartRef` (Save PNG), and
// destroyed on unmount. The component fills it in its own effects, declared after this
// hook so the chart exists when they run; `ownRef.current` is null before and after.
// Every chart fills its .chart-box (which sets the height) and draws without animation.

const FILL_THE_BOX = { responsive: true, maintainAspectRatio: false, animation: false } as const;

export interface ChartHandle<TType extends ChartType, TData, TLabel> {
  canvasRef: RefObject<HTMLCanvasElement | null>;
  ownRef: RefObject<Chart<TType, TData, TLabel> | null>;
}

/**
 * `configure` is called at creation only: what changes later is set by the component's
 * effects, and what callbacks read later is read through refs.
 */
export function useChart<TType extends ChartType, TData = DefaultDataPoint<TType>, TLabel = unknown>(
  chartRef: RefObject<Chart | null>,
  configure: () => ChartConfiguration<TType, TData, TLabel>,
  rebuildKey = '',
): ChartHandle<TType, TData, TLabel> {
  const canvas = useRef<HTMLCanvasElement>(null);
  const own = useRef<Chart<TType, TData, TLabel> | null>(null);

  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const ChartJs = registerCharts();
    const config = configure();
    // The spread of a generic chart type's options does not narrow back to it: asserted.
    const options = { ...FILL_THE_BOX, ...config.options } as ChartConfiguration<TType, TData, TLabel>['options'];
    const chart = new ChartJs<TType, TData, TLabel>(el, { ...config, options });
    own.current = chart;
    chartRef.current = chart as unknown as Chart;
    return () => {
      chart.destroy();
      own.current = null;
      if (chartRef.current === (chart as unknown as Chart)) chartRef.current = null;
    };
    // configure: read at creation only (see above); rebuildKey says when to read it again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [chartRef, rebuildKey]);

  return { canvasRef: canvas, ownRef: own };
}
