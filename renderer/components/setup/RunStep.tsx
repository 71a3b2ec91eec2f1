import { useState } from 'react';
import type { RunState, RunStepState, RunStepStatus } from '../../store/setup-store.ts';
import { CopyButton } from './CopyButton.tsx';
import { DiagnosisPanel } from './DiagnosisPanel.tsx';
import { Icon, type IconName } from '../Icon.tsx';
import { logText, TerminalLog } from './TerminalLog.tsx';

// Step 4: the setup running. Every step with its status; the chosen one's live log (the
// running step unless you pick another), copyable; a recognised failure's meaning and fix
// beside the log, with the auto-fix that was applied; Cancel kills the running command
// and runs the step's cleanup.

const STATUS: Record<RunStepStatus, { icon: IconName | null; label: string }> = {
  pending: { icon: 'circle', label: 'waiting' },
  running: { icon: null, label: 'running' },
  applied: { icon: 'check', label: 'done' },
  'already-done': { icon: 'check', label: 'already done' },
  skipped: { icon: 'skip', label: 'skipped' },
  resumed: { icon: 'check', label: 'done earlier' },
  failed: { icon: 'x', label: 'failed' },
  cancelled: { icon: 'stop', label: 'cancelled' },
};

function StepItem({ step, active, onPick }: { step: RunStepState; active: boolean; onPick: () => void }) {
  const s = STATUS[step.status];
  return (
    <li>
      <button
        type="button"
        className={`su-rstep su-rstep--${step.status}${active ? ' su-rstep--active' : ''}`}
        data-testid="run-step"
        data-key={step.key}
        data-status={step.status}
        aria-current={active ? 'true' : undefined}
        onClick={onPick}
        title={step.detail || step.why}
      >
        <span className="su-rstep__icon" aria-hidden="true">
          {s.icon ? <Icon name={s.icon} size={13} /> : <span className="su-spin" />}
        </span>
        <span className="su-rstep__text">
          <span className="su-rstep__title">{step.title}</span>
          <span className="su-rstep__key mono">{step.key}</span>
        </span>
        {step.autoFix ? (
          <span className="su-rstep__badge" title={`auto-fixed: ${step.autoFix}`}>
            <Icon name="wrench" size={11} />
          </span>
        ) : step.diagnosis && step.status === 'failed' ? (
          <span className="su-rstep__badge su-rstep__badge--bad" title={step.diagnosis.signatureId}>
            <Icon name="alert" size={11} />
          </span>
        ) : null}
      </button>
    </li>
  );
}

function Banner({ run, onCancel }: { run: RunState; onCancel: () => void }) {
  const steps = run.order.map((k) => run.steps[k]).filter((s) => s !== undefined);
  const finished = steps.filter((s) => s.status !== 'pending' && s.status !== 'running').length;
  const current = run.currentKey ? run.steps[run.currentKey] : undefined;
  const count = (st: RunStepStatus) => steps.filter((s) => s.status === st).length;
  if (run.status === 'starting' || run.status === 'running') {
    return (
      <div className="su-banner su-banner--running" data-testid="run-banner" data-status={run.status}>
        <span className="su-spin" />
        <div className="su-banner__text">
          <strong>{run.status === 'starting' ? 'Starting the setup…' : `Running step ${Math.min(finished + 1, steps.length)} of ${steps.length}`}</strong>
          <span>{current ? current.title : 'Connecting, checking the sudo password and reading the journal.'}</span>
        </div>
        <button type="button" className="btn btn--danger-ghost" onClick={onCancel} disabled={run.cancelling || !run.setupId} data-testid="run-cancel">
          <Icon name="stop" size={14} /> {run.cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      </div>
    );
  }
  if (run.status === 'complete') {
    return (
      <div className="su-banner su-banner--ok" data-testid="run-banner" data-status="complete">
        <Icon name="check" size={18} />
        <div className="su-banner__text">
          <strong>Setup complete</strong>
          <span>
            {count('applied')} done, {count('already-done')} already done, {count('skipped')} skipped
            {run.autoFixes.length > 0 ? ` · auto-fixed: ${run.autoFixes.map((f) => f.description).join('; ')}` : ''}
          </span>
        </div>
      </div>
    );
  }
  if (run.status === 'cancelled') {
    return (
      <div className="su-banner su-banner--neutral" data-testid="run-banner" data-status="cancelled">
        <Icon name="stop" size={18} />
        <div className="su-banner__text">
          <strong>Cancelled</strong>
          <span>{run.error ?? 'The running command was killed and the step\'s cleanup ran. Run again to resume: finished steps are skipped.'}</span>
        </div>
      </div>
    );
  }
  const failure = run.failure;
  return (
    <div className="su-banner su-banner--bad" data-testid="run-banner" data-status="failed">
      <Icon name="alert" size={18} />
      <div className="su-banner__text">
        <strong>{failure ? `Failed at “${failure.title}”` : 'The setup could not run'}</strong>
        <span data-testid="run-failure">
          {failure ? (
            failure.diagnosis ? (
              <>
                <span className="mono">{failure.diagnosis.excerpt}</span> — recognised as <strong className="su-banner__sig">{failure.diagnosis.signatureId}</strong>: what it means and how to fix it are beside the log.
              </>
            ) : (
              `${failure.message}. Not a known failure: read the step's log.`
            )
          ) : (
            run.error
          )}
        </span>
      </div>
    </div>
  );
}

export function RunStep({ run, onCancel }: { run: RunState | null; onCancel: () => void }) {
  const [picked, setPicked] = useState<string | null>(null);
  if (!run) {
    return (
      <div className="su-run" data-testid="run-step-view">
        <div className="empty">
          <Icon name="terminal" size={30} />
          <h2>Nothing has run yet</h2>
          <p className="muted">Start the setup from the plan: you see every command there first.</p>
        </div>
      </div>
    );
  }
  const live = run.status === 'running' || run.status === 'starting';
  const follow = live ? run.currentKey : (run.failure?.key ?? run.currentKey);
  const shownKey = (picked && run.steps[picked] ? picked : null) ?? follow ?? run.order.find((k) => run.steps[k]?.status !== 'skipped') ?? run.order[0] ?? null;
  const shown = shownKey ? run.steps[shownKey] : undefined;
  const showDiagnosis = shown !== undefined && (shown.diagnosis !== null || shown.status === 'failed');

  return (
    <div className="su-run" data-testid="run-step-view" data-status={run.status}>
      <Banner run={run} onCancel={onCancel} />
      <div className={`su-run__grid${showDiagnosis ? ' su-run__grid--diag' : ''}`}>
        <nav className="su-run__steps" aria-label="Setup steps">
          <ol>
            {run.order.map((key) => {
              const step = run.steps[key];
              return step ? <StepItem key={key} step={step} active={key === shownKey} onPick={() => setPicked(key === follow ? null : key)} /> : null;
            })}
          </ol>
        </nav>
        <section className="su-logpanel" data-testid="log-panel" data-key={shownKey ?? ''}>
          {shown ? (
            <>
              <header className="su-logpanel__head">
                <div className="su-logpanel__title">
                  <strong data-testid="log-title">{shown.title}</strong>
                  <span className="mono small muted">{shown.key}</span>
                </div>
                <span className={`su-tag su-tag--st-${shown.status}`} data-testid="log-status">
                  {STATUS[shown.status].label}
                  {shown.attempts > 1 ? ` · ${shown.attempts} attempts` : ''}
                </span>
                {picked && picked !== follow && live ? (
                  <button type="button" className="btn btn--xs" onClick={() => setPicked(null)}>
                    Follow the run
                  </button>
                ) : null}
                <CopyButton text={logText(shown.log)} label="Copy log" testId="log-copy" />
              </header>
              {shown.why ? <p className="su-logpanel__why small">{shown.why}</p> : null}
              <TerminalLog
                chunks={shown.log}
                empty={shown.status === 'skipped' ? `Skipped: ${shown.detail}` : shown.status === 'pending' ? 'Not started yet.' : shown.status === 'already-done' ? 'Already done: its check passed and nothing needed changing.' : 'No output.'}
              />
              {shown.detail && shown.status !== 'skipped' ? <p className="su-logpanel__detail small muted">{shown.detail}</p> : null}
            </>
          ) : null}
        </section>
        {showDiagnosis && shown ? <DiagnosisPanel diagnosis={shown.diagnosis} autoFix={shown.autoFix} outcome={shown.status} /> : null}
      </div>
    </div>
  );
}
