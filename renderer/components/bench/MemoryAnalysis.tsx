import { useRef, useState } from 'react';
import type { Chart } from 'chart.js';
import type { MemoryStep } from '../../../shared/model/run-record.ts';
import { ChartCard } from '../charts/ChartCard.tsx';
import { RuntimeLegendItems } from '../charts/LegendItems.tsx';
import { MemoryChart, rolesOf, type MemoryMetric } from '../charts/MemoryChart.tsx';
import { countedRoles, largestSteps, MEMORY_ROLES, MemoryRolesChart } from '../charts/MemoryRolesChart.tsx';
import { categoryColor, runtimeColor } from '../charts/palette.ts';
import { formatBytes } from '../format.ts';
import { Icon } from '../Icon.tsx';
import { DaemonUsageCard } from './DaemonUsageCard.tsx';
import { useRunExtras } from './run-extras.ts';
import { isLive, runtimeNames, type AnalysisProps } from './run-view.ts';
import { SegmentedPicker } from './SegmentedPicker.tsx';
import { useRunExport } from './use-run-export.ts';

// A memory plan: loop.c kept running in N containers per runtime, N stepping up. What one
// more container costs as N grows (a line per runtime), where that memory sits (the
// processes counted, by role), and every step as measured, failures and refusals included.

const NO_STEPS: MemoryStep[] = [];

export function MemoryAnalysis({ run, pngBase, aside }: AnalysisProps) {
  const memoryChart = useRef<Chart | null>(null);
  const rolesChart = useRef<Chart | null>(null);
  const [metric, setMetric] = useState<MemoryMetric>('pss');
  const live = isLive(run);
  const extras = useRunExtras(run.runId);
  const steps = extras?.memorySteps ?? NO_STEPS;
  const runtimes = runtimeNames(run);
  const planned = run.plan?.memory?.containers ?? [];
  const chosen = largestSteps(steps, runtimes);
  const roles = countedRoles(chosen);
  const { exporting, exportError, exportFile } = useRunExport(run.runId);

  return (
    <div className="run-analysis" data-testid="memory-analysis" data-steps={steps.length}>
      <ChartCard
        title="Memory per container"
        subtitle={metric === 'pss' ? 'PSS of every process the runtime added, divided by the containers running' : 'the host’s MemAvailable drop, divided by the containers running'}
        icon="layers"
        testId="memory-card"
        chart={memoryChart}
        pngName={`${pngBase}-memory-${metric}`}
        tools={
          <>
            <SegmentedPicker
              ariaLabel="Measure"
              options={['pss', 'drop'] as const}
              value={metric}
              onChange={setMetric}
              labelOf={(m) => (m === 'pss' ? 'PSS' : 'MemAvailable drop')}
              testId="memory-metric"
              dataName="metric"
            />
            <button type="button" className="btn btn--small" title="Every step as CSV: PSS, MemAvailable, the processes counted" data-testid="export-memory-steps-csv-card" disabled={exporting !== null || steps.length === 0} onClick={() => void exportFile('memory-steps-csv')}>
              <Icon name="file" size={14} /> CSV
            </button>
          </>
        }
        footer={
          <div className="chart-legend">
            <RuntimeLegendItems names={runtimes} />
            <span className="chart-legend__sep" />
            <span className="chart-legend__item muted small">
              steps planned: {planned.join(', ') || '—'} containers · settle {run.plan?.memory?.settleMs ?? 2000} ms
            </span>
            {steps.length === 0 ? <span className="chart-legend__item muted small">{live ? 'Waiting for the first step…' : 'No step was recorded.'}</span> : null}
            {exportError ? <span className="chart-legend__item bad-text small">{exportError}</span> : null}
          </div>
        }
      >
        <MemoryChart steps={steps} runtimes={runtimes} metric={metric} chartRef={memoryChart} />
      </ChartCard>

      <div className={aside ? 'run-analysis__pair' : 'run-analysis__single'}>
        <ChartCard
          title="Where the memory goes"
          subtitle="PSS per container by process role, at each runtime’s largest step"
          icon="box"
          testId="memory-roles-card"
          chart={rolesChart}
          pngName={`${pngBase}-memory-roles`}
          footer={
            <div className="chart-legend">
              {roles.map((role) => (
                <span key={role} className="chart-legend__item">
                  <span className="swatch" style={{ background: categoryColor(MEMORY_ROLES.indexOf(role)) }} />
                  {role}
                </span>
              ))}
            </div>
          }
        >
          <MemoryRolesChart chosen={chosen} roles={roles} runtimes={runtimes} chartRef={rolesChart} />
        </ChartCard>
        {aside}
      </div>

      {run.plan && run.plan.method !== 'oci-direct' ? <DaemonUsageCard run={run} live={live} pngBase={pngBase} /> : null}

      <section className="card" data-testid="memory-steps-card">
        <header className="card__header">
          <Icon name="list" size={16} />
          <h3>Steps</h3>
          <span className="card__badge muted small">in the order measured; hover “counted” for every process</span>
        </header>
        <MemoryStepsTable steps={steps} runtimes={runtimes} />
      </section>
    </div>
  );
}

/** A shared daemon's RSS change over a step, e.g. "containerd +1.2 MiB": shown, never in the totals. */
function daemonGrowth(step: MemoryStep): string {
  return (step.daemons ?? [])
    .map((d) => {
      if (d.rssBeforeBytes === null || d.rssAfterBytes === null) return `${d.process} ?`;
      const delta = d.rssAfterBytes - d.rssBeforeBytes;
      return `${d.process} ${delta < 0 ? '−' : '+'}${formatBytes(Math.abs(delta))}`;
    })
    .join(' · ');
}

function MemoryStepsTable({ steps, runtimes }: { steps: readonly MemoryStep[]; runtimes: readonly string[] }) {
  if (steps.length === 0) return <p className="muted small data-table__note">No step yet.</p>;
  const daemons = steps.some((s) => (s.daemons ?? []).length > 0);
  return (
    <div className="data-table-wrap">
      <table className="data-table" data-testid="memory-steps-table">
        <thead>
          <tr>
            <th>runtime</th>
            <th className="num">containers</th>
            <th className="num">running</th>
            <th className="num">PSS / container</th>
            <th className="num">PSS total</th>
            <th className="num">MemAvailable drop / container</th>
            <th>counted</th>
            {daemons ? <th title="The shared daemons' RSS change over the step: they serve every container, so they are not in the totals">daemons (not counted)</th> : null}
            <th>status</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((s) => (
            <tr key={s.seq} data-testid="memory-step-row" data-runtime={s.runtime} data-containers={s.containers} data-ok={String(s.ok)} data-processes={s.processes.length}>
              <td>
                <span className="rt-name">
                  <span className="swatch" style={{ background: runtimeColor(runtimes.indexOf(s.runtime)) }} />
                  <span className="mono">{s.runtime}</span>
                </span>
              </td>
              <td className="num">{s.containers}</td>
              <td className="num">{s.running}</td>
              <td className="num strong">{formatBytes(s.perContainerPssBytes)}</td>
              <td className="num">{formatBytes(s.totalPssBytes)}</td>
              <td className="num">{formatBytes(s.perContainerMemAvailableDropBytes)}</td>
              <td className="small memory-step__counted" title={s.processes.map((p) => `${p.pid} ${p.comm} (${p.role}) ${formatBytes(p.pssBytes)}`).join('\n')}>
                {s.processes.length} · {rolesOf(s)}
              </td>
              {daemons ? <td className="small muted">{daemonGrowth(s) || '—'}</td> : null}
              <td className={s.ok ? 'ok-text small' : 'bad-text small memory-step__error'} title={s.error ?? undefined}>
                {s.ok ? 'ok' : (s.error ?? 'failed')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
