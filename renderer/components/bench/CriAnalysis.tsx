import { useMemo, useRef } from 'react';
import type { Chart } from 'chart.js';
import { CRI_STEPS } from '../../../shared/model/plan.ts';
import type { RuntimeSummary } from '../../../shared/stats.ts';
import { ChartCard } from '../charts/ChartCard.tsx';
import { CriStepsChart } from '../charts/CriStepsChart.tsx';
import { CategoryLegendItems } from '../charts/LegendItems.tsx';
import { categoryColor } from '../charts/palette.ts';
import { Icon } from '../Icon.tsx';
import { DaemonUsageCard } from './DaemonUsageCard.tsx';
import { MedianMatrix, type MatrixRow } from './MedianMatrix.tsx';
import { PartIterationCard } from './PartIterationCard.tsx';
import type { AnalysisProps } from './run-view.ts';
import { emptySummary } from '../../../shared/stats.ts';
import { useRunSummaries } from './use-run-summaries.ts';

// Method cri: the pod lifecycle of talk 2, each call timed on its own. Where the time goes
// per runtime (stacked step medians against the whole loop's median), the endpoint's CPU
// beside it, each step's iterations for drift, and the step table.

export function CriAnalysis({ run, pngBase, aside }: AnalysisProps) {
  const stepsChart = useRef<Chart | null>(null);
  const { names, index, live } = useRunSummaries(run);
  const steps = useMemo(() => index.steps(CRI_STEPS), [index]);
  const parts = useMemo(() => [{ step: null, label: 'whole loop' }, ...steps.map((s) => ({ step: s, label: s }))], [steps]);

  const sumOfMedians = (runtime: string): RuntimeSummary | undefined => {
    const medians = steps.map((s) => index.get(runtime, s)?.median ?? null);
    if (medians.some((m) => m === null)) return undefined;
    return { ...emptySummary(runtime), median: medians.reduce((n: number, m) => n + (m ?? 0), 0) };
  };
  const rows: MatrixRow[] = [
    ...steps.map((step, i) => ({ key: step, label: step, color: categoryColor(i), summaryOf: (r: string) => index.get(r, step) })),
    { key: 'sum', label: 'Σ step medians', derived: true, summaryOf: sumOfMedians },
    { key: 'loop', label: 'whole loop', strong: true, summaryOf: (r: string) => index.get(r, null) },
  ];

  return (
    <div className="run-analysis" data-testid="cri-analysis">
      <ChartCard
        title="Pod lifecycle"
        subtitle="median of each CRI call, stacked in call order; the tick is the whole loop’s median"
        icon="layers"
        testId="cri-steps-card"
        chart={stepsChart}
        pngName={`${pngBase}-cri-steps`}
        footer={
          <div className="chart-legend" data-testid="cri-steps-legend">
            <CategoryLegendItems names={steps} testId="cri-step-legend" dataName="step" />
            <span className="chart-legend__sep" />
            <span className="chart-legend__item muted">
              <span className="legend-tick" /> whole loop (median)
            </span>
            {steps.length === 0 ? <span className="chart-legend__item muted small">{live ? 'Waiting for the first pod…' : 'No step was recorded.'}</span> : null}
          </div>
        }
      >
        <CriStepsChart index={index} runtimes={names} steps={steps} chartRef={stepsChart} />
      </ChartCard>

      {run.plan ? <DaemonUsageCard run={run} live={live} pngBase={pngBase} /> : null}

      <PartIterationCard run={run} runtimes={names} parts={parts} title="Every iteration, per step" pngName={`${pngBase}-cri-iterations`} testId="cri-iterations-card" />

      <section className="card summary-card" data-testid="cri-step-table-card">
        <header className="card__header">
          <Icon name="list" size={16} />
          <h3>Steps</h3>
          <span className="card__badge muted small">median, its 95% CI and n per call; measured, successful pods only</span>
        </header>
        <MedianMatrix rows={rows} runtimes={names} testId="cri-step-table" />
      </section>
      {aside}
    </div>
  );
}
