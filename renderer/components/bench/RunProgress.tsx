import { useEffect, useState, type ReactNode } from 'react';
import type { MemoryStep } from '../../../shared/model/run-record.ts';
import { isTerminal, plannedTotal, type LiveRun, type RuntimeCounts } from '../../store/runs-store.ts';
import { runtimeColor } from '../charts/palette.ts';
import { StatusPill } from '../StatusPill.tsx';
import { Icon } from '../Icon.tsx';
import { formatDuration, PHASE_LABELS } from './bench-format.ts';
import { useRunExtras } from './run-extras.ts';

// Where a run is: its phase and what the runner said about it, samples done out of the
// plan's total (a memory plan: steps of N containers), per runtime how many measured,
// failed and warmed up, and an Abort button.

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [active]);
  return now;
}

export function RunProgress(props: { run: LiveRun; runtimes: readonly string[]; onAbort?: () => void; aborting?: boolean; actions?: ReactNode }) {
  const { run, runtimes, onAbort, aborting = false, actions } = props;
  const phase = run.phase ?? 'deploying';
  const [label, tone] = PHASE_LABELS[phase];
  const live = !isTerminal(phase);
  const now = useNow(live);
  const memory = run.plan?.memory;
  // A memory plan has no samples: its unit is the step, read with the run's other records.
  const steps = useRunExtras(run.runId, memory !== undefined)?.memorySteps;
  const total = plannedTotal(run.plan);
  const done = memory ? (steps?.length ?? 0) : run.samples.length;
  const unit = memory ? 'steps' : 'samples';
  const pct = total > 0 ? Math.min(100, (done / total) * 100) : 0;
  const firstAt = run.samples[0] ? Date.parse(run.samples[0].startedAt) : Number.NaN;
  const lastSample = run.samples[run.samples.length - 1];
  const lastAt = lastSample ? Date.parse(lastSample.startedAt) + lastSample.durationMs : Number.NaN;
  const measuring = phase === 'running';
  const elapsed = Number.isFinite(firstAt) ? (measuring ? Math.max(now, lastAt) : lastAt) - firstAt : Number.NaN;
  const eta = measuring && done > 2 && total > done && Number.isFinite(elapsed) ? (elapsed / done) * (total - done) : Number.NaN;
  const failedTotal = memory ? (steps ?? []).filter((st) => !st.ok).length : Object.values(run.counts).reduce((n, c) => n + c.failed + c.warmupFailed, 0);
  const plan = run.plan;
  const fillClass = phase === 'failed' ? 'progress__fill progress__fill--bad' : phase === 'aborted' ? 'progress__fill progress__fill--warn' : phase === 'completed' ? 'progress__fill progress__fill--ok' : 'progress__fill';

  return (
    <section className="card run-progress" data-testid="run-progress" data-phase={phase} data-done={done} data-total={total}>
      <div className="run-progress__head">
        <span data-testid="run-phase" data-phase={phase}>
          <StatusPill tone={tone}>{label}</StatusPill>
        </span>
        <div className="run-progress__message" data-testid="run-phase-message">
          {run.message ?? (phase === 'running' ? 'Measuring on the host; samples are stored the moment they exist.' : phase === 'deploying' ? 'Checking the runtimes, taking the host’s facts and uploading the agent…' : '')}
        </div>
        <div className="run-progress__actions">
          {actions}
          {live && onAbort ? (
            <button type="button" className="btn btn--danger-outline" data-testid="run-abort" onClick={onAbort} disabled={aborting || phase === 'deploying'}>
              {aborting ? <span className="spinner spinner--dark" aria-hidden="true" /> : <Icon name="stop" size={14} />}
              {aborting ? 'Aborting…' : 'Abort'}
            </button>
          ) : null}
        </div>
      </div>

      <div className="run-progress__bar-line">
        <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={total} aria-valuenow={done} aria-label="Samples done">
          <div className={`${fillClass}${live && phase !== 'deploying' ? ' progress__fill--live' : ''}`} style={{ width: `${pct}%` }} />
        </div>
        <div className="run-progress__numbers">
          <strong data-testid="run-done">{done.toLocaleString('en-US')}</strong>
          <span className="muted"> / {total > 0 ? total.toLocaleString('en-US') : '—'} {unit}</span>
          {failedTotal > 0 ? <span className="bad-text"> · {failedTotal} failed</span> : null}
          {Number.isFinite(elapsed) ? <span className="muted"> · {formatDuration(elapsed)}</span> : null}
          {Number.isFinite(eta) ? <span className="muted"> · ~{formatDuration(eta)} left</span> : null}
        </div>
      </div>

      <ul className="rt-counts" data-testid="run-counts">
        {runtimes.map((name, i) => {
          const c = memory ? stepCounts(steps ?? [], name) : (run.counts[name] ?? { ok: 0, failed: 0, warmups: 0, warmupFailed: 0 });
          return (
            <li key={name} className="rt-count" data-testid="run-count" data-runtime={name} data-ok={c.ok} data-failed={c.failed} data-warmups={c.warmups}>
              <span className="swatch" style={{ background: runtimeColor(i) }} />
              <span className="mono strong">{name}</span>
              <span className="rt-count__nums">
                <span title="Measured iterations that succeeded">
                  {c.ok}
                  {memory ? <span className="muted">/{memory.containers.length} steps</span> : plan ? <span className="muted">/{plan.iterations}</span> : null} ok
                </span>
                <span className={c.failed > 0 ? 'bad-text' : 'muted'} title="Measured iterations that failed">
                  {c.failed} failed
                </span>
                {memory || (plan?.warmups === 0 && c.warmups === 0) ? null : (
                  <span className="muted" title="Warm-up iterations (not in the statistics)">
                    {c.warmups}
                    {plan ? `/${plan.warmups}` : ''} warm-up{c.warmupFailed > 0 ? ` (${c.warmupFailed} failed)` : ''}
                  </span>
                )}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** A memory run's per-runtime counts: its steps, not samples (no warm-ups). */
function stepCounts(steps: readonly MemoryStep[], runtime: string): RuntimeCounts {
  const mine = steps.filter((s) => s.runtime === runtime);
  return { ok: mine.filter((s) => s.ok).length, failed: mine.filter((s) => !s.ok).length, warmups: 0, warmupFailed: 0 };
}
