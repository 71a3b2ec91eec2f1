import { useMemo, useRef, useState } from 'react';
import type { Chart } from 'chart.js';
import type { Sample } from '../../../shared/model/run-record.ts';
import { ChartCard, ToolToggle } from '../charts/ChartCard.tsx';
import { IterationChart } from '../charts/IterationChart.tsx';
import { RuntimeLegendItems } from '../charts/LegendItems.tsx';
import { FAILURE_COLOR } from '../charts/palette.ts';
import { stepByRuntime } from '../charts/sample-series.ts';
import type { LiveRun } from '../../store/runs-store.ts';
import { isLive } from './run-view.ts';

// Every iteration of one part of the loop (a CRI call, a perf kernel, or the whole
// iteration), one line per runtime, with a picker for the part: drift in any single step
// shows here even when the whole loop looks steady.

export interface Part {
  /** Sample.step, or null for whole iterations. */
  step: string | null;
  label: string;
}

export function PartIterationCard(props: { run: LiveRun; runtimes: readonly string[]; parts: readonly Part[]; title: string; pngName: string; testId: string }) {
  const { run, runtimes, parts, title, pngName, testId } = props;
  const [picked, setPicked] = useState<string | null>(parts[0]?.step ?? null);
  const [showWarmups, setShowWarmups] = useState(true);
  const [logScale, setLogScale] = useState(false);
  const chart = useRef<Chart | null>(null);
  const seriesOf = useMemo(() => stepByRuntime(picked), [picked]);
  const warmups = run.plan?.warmups ?? 0;
  const failed = run.samples.filter((s: Sample) => !s.ok && (s.step ?? null) === picked).length;
  const label = parts.find((p) => p.step === picked)?.label ?? 'whole iteration';

  return (
    <ChartCard
      title={title}
      subtitle={`${label}: runtimes interleaved as they ran`}
      icon="activity"
      testId={testId}
      chart={chart}
      pngName={`${pngName}-${picked ?? 'whole'}`}
      tools={
        <>
          <ToolToggle label="Warm-ups" on={showWarmups} onChange={setShowWarmups} title="Show the warm-up iterations (never in the statistics)" />
          <ToolToggle label="Log scale" on={logScale} onChange={setLogScale} />
        </>
      }
      footer={
        <div className="part-card__footer">
          <div className="segmented segmented--wrap" role="radiogroup" aria-label="Part of the iteration" data-testid="part-picker" data-part={picked ?? 'whole'}>
            {parts.map((p) => (
              <button
                key={p.step ?? 'whole'}
                type="button"
                role="radio"
                aria-checked={p.step === picked}
                className={p.step === picked ? 'segmented__item segmented__item--on' : 'segmented__item'}
                data-testid="part-option"
                data-part={p.step ?? 'whole'}
                onClick={() => setPicked(p.step)}
              >
                {p.label}
              </button>
            ))}
          </div>
          <div className="chart-legend">
            <RuntimeLegendItems names={runtimes} />
            {warmups > 0 ? (
              <span className="chart-legend__item muted">
                <span className="legend-dashed" /> warm-up
              </span>
            ) : null}
            <span className={failed > 0 ? 'chart-legend__item bad-text' : 'chart-legend__item muted'}>
              <span className="legend-cross" style={{ color: FAILURE_COLOR }}>
                ✕
              </span>{' '}
              failed: {failed}
            </span>
          </div>
        </div>
      }
    >
      <IterationChart
        key={picked ?? 'whole'}
        samples={run.samples}
        rev={run.rev}
        epoch={run.epoch}
        runtimes={runtimes}
        seriesOf={seriesOf}
        yTitle={`${label} (ms)`}
        warmups={warmups}
        iterations={isLive(run) ? (run.plan?.iterations ?? null) : null}
        showWarmups={showWarmups}
        logScale={logScale}
        chartRef={chart}
        height={280}
      />
    </ChartCard>
  );
}
