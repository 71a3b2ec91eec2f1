import type { PlannedStepView, SetupPlanView } from '../../../shared/model/setup.ts';
import { CopyButton } from './CopyButton.tsx';
import { Icon } from '../Icon.tsx';

// Step 3: the dry run. Every step of every recipe in order, why it is there, whether it is
// done already, and each command exactly as the runner will execute it (sudo included),
// copyable one step at a time or as a whole.

function stepState(step: PlannedStepView): { tone: string; label: string } {
  if (step.skip !== null) return { tone: 'skip', label: 'skipped' };
  if (step.alreadyDone === true) return { tone: 'done', label: 'already done' };
  if (step.phase === 'verify') return { tone: 'verify', label: 'verification' };
  return { tone: 'run', label: 'will run' };
}

export function stepCommands(step: PlannedStepView): string {
  const lines: string[] = [`# ${step.key}: ${step.title}`];
  if (step.check) lines.push('# already done when this exits 0:', step.check);
  if (step.apply.length > 0) lines.push(step.check ? '# otherwise:' : '# runs:', ...step.apply);
  for (const e of step.edits) lines.push(`# edits ${e.path} (${e.kind}) when its content differs:`, e.read, ...(e.backup ? [e.backup] : []), `${e.write} < new content`);
  if (step.afterChange.length > 0) lines.push('# after a changed file:', ...step.afterChange);
  return `${lines.join('\n')}\n`;
}

function Commands({ label, commands }: { label: string; commands: string[] }) {
  if (commands.length === 0) return null;
  return (
    <div className="su-cmds">
      <div className="su-cmds__label">{label}</div>
      {commands.map((c, i) => (
        <pre key={i} className="su-code" data-testid="plan-command">
          {c}
        </pre>
      ))}
    </div>
  );
}

function PlanStepCard({ step, index }: { step: PlannedStepView; index: number }) {
  const state = stepState(step);
  return (
    <li className={`su-pstep su-pstep--${state.tone}`} data-testid="plan-step" data-key={step.key} data-state={state.tone}>
      <div className="su-pstep__rail" aria-hidden="true">
        <span className="su-pstep__num">{index + 1}</span>
      </div>
      <div className="su-pstep__main">
        <div className="su-pstep__head">
          <span className="su-pstep__title">{step.title}</span>
          <span className={`su-tag su-tag--${state.tone}`} data-testid="plan-step-state">
            {state.label}
          </span>
          <span className="mono small muted su-pstep__key">{step.key}</span>
          {step.skip === null ? <CopyButton text={stepCommands(step)} compact label="Copy" testId="plan-step-copy" title="Copy this step's commands" /> : null}
        </div>
        <p className="su-pstep__why">{step.why}</p>
        {step.skip !== null ? (
          <p className="su-pstep__skip small">
            <Icon name="skip" size={12} /> {step.skip}
          </p>
        ) : (
          <>
            {step.check ? <Commands label={step.alreadyDone ? 'Already done — this check exits 0:' : 'Already done when this exits 0:'} commands={[step.check]} /> : null}
            <Commands label={step.check ? 'Otherwise runs:' : 'Runs:'} commands={step.apply} />
            {step.edits.map((e) => (
              <Commands
                key={e.path}
                label={`Edits ${e.path} (${e.kind}) when its content differs — read, ${e.backup ? 'back up the original, ' : ''}write:`}
                commands={[e.read, ...(e.backup ? [e.backup] : []), `${e.write} < new content`]}
              />
            ))}
            <Commands label="After a changed file:" commands={step.afterChange} />
            {step.expectOutput !== null ? (
              <p className="small muted">
                Expects the output to contain <span className="mono">{step.expectOutput}</span> · time limit {Math.round(step.timeoutMs / 1000)} s
              </p>
            ) : null}
          </>
        )}
      </div>
    </li>
  );
}

export function PlanStep({ plan, loading, error, onRefresh }: { plan: SetupPlanView | null; loading: boolean; error: string | null; onRefresh: () => void }) {
  if (error) {
    return (
      <div className="su-plan" data-testid="plan-step-view">
        <div className="callout callout--bad" data-testid="plan-error">
          <Icon name="alert" size={16} />
          <span>{error}</span>
        </div>
      </div>
    );
  }
  if (!plan || loading) {
    return (
      <div className="su-plan" data-testid="plan-step-view">
        <div className="su-loading">
          <span className="su-spin su-spin--lg" /> Rendering every command and running the read-only checks…
        </div>
      </div>
    );
  }
  const groups = plan.recipes.map((r) => ({ recipe: r, steps: plan.steps.filter((s) => s.recipeId === r.id) }));
  const counts = {
    run: plan.steps.filter((s) => s.skip === null && s.alreadyDone !== true && s.phase === 'step').length,
    done: plan.steps.filter((s) => s.alreadyDone === true).length,
    verify: plan.steps.filter((s) => s.skip === null && s.phase === 'verify').length,
    skip: plan.steps.filter((s) => s.skip !== null).length,
  };
  const notes = Object.entries(plan.paramNotes);
  const fixes = Object.entries(plan.fixes);
  const position = new Map(plan.steps.map((s, i) => [s.key, i]));
  return (
    <div className="su-plan" data-testid="plan-step-view" data-plan-id={plan.planId}>
      <div className="su-toolbar">
        <span className="su-plan__summary">
          <span className="mono small">plan {plan.planId}</span>
          <span className="dot-sep">·</span>
          <span className="small">
            {counts.run} to run, {counts.done} already done, {counts.verify} verification{counts.verify === 1 ? '' : 's'}, {counts.skip} skipped
          </span>
        </span>
        <button type="button" className="btn btn--sm" onClick={onRefresh} data-testid="plan-refresh">
          <Icon name="refresh" size={13} /> Refresh
        </button>
        <CopyButton text={plan.text} label="Copy the whole plan" testId="plan-copy" />
      </div>
      {notes.length > 0 || fixes.length > 0 ? (
        <div className="su-notes" data-testid="plan-notes">
          {notes.map(([name, note]) => (
            <p key={name}>
              <Icon name="sparkle" size={13} /> Chosen for this host: <span className="mono">{name}={String(plan.params[name])}</span> — {note}
            </p>
          ))}
          {fixes.map(([name, value]) => (
            <p key={name}>
              <Icon name="wrench" size={13} /> Kept from an earlier run's auto-fix: <span className="mono">{name}={value}</span>
            </p>
          ))}
        </div>
      ) : null}
      {plan.needsSudoPassword ? (
        <div className="su-summary su-summary--warn">
          <Icon name="lock" size={16} />
          <div>
            <strong>Root is needed</strong>
            <p>The commands run through <span className="mono">sudo -S</span>: give the sudo password below the plan before running.</p>
          </div>
        </div>
      ) : null}
      {groups.map(({ recipe, steps }) => (
        <section key={recipe.id} className="su-pgroup" data-testid="plan-recipe" data-recipe={recipe.id}>
          <h3 className="su-pgroup__title">
            {recipe.title} <span className="mono small muted">{recipe.id}@{recipe.version}</span>
          </h3>
          <ol className="su-psteps">
            {steps.map((s) => (
              <PlanStepCard key={s.key} step={s} index={position.get(s.key) ?? 0} />
            ))}
          </ol>
        </section>
      ))}
    </div>
  );
}
