import type { WizardStep } from '../../store/setup-store.ts';
import { Icon } from '../Icon.tsx';

export type StepMark = 'todo' | 'current' | 'done' | 'bad' | 'busy';

const LABELS: Record<WizardStep, { title: string; sub: string }> = {
  runtimes: { title: 'Runtimes', sub: 'what to set up' },
  checks: { title: 'Checks', sub: 'prerequisites' },
  plan: { title: 'Plan', sub: 'every command, first' },
  run: { title: 'Run', sub: 'live, cancellable' },
  verify: { title: 'Verify', sub: 'runtime × method' },
};

export function Stepper(props: {
  steps: readonly WizardStep[];
  current: WizardStep;
  marks: Record<WizardStep, StepMark>;
  enabled: Record<WizardStep, boolean>;
  onPick: (step: WizardStep) => void;
}) {
  const { steps, current, marks, enabled, onPick } = props;
  return (
    <ol className="su-stepper" data-testid="setup-stepper">
      {steps.map((step, i) => {
        const mark = step === current ? (marks[step] === 'busy' ? 'busy' : 'current') : marks[step];
        return (
          <li key={step} className={`su-stepper__item su-stepper__item--${mark}`}>
            <button
              type="button"
              className="su-stepper__btn"
              data-testid={`setup-step-${step}`}
              data-mark={marks[step]}
              aria-current={step === current ? 'step' : undefined}
              disabled={!enabled[step]}
              onClick={() => onPick(step)}
            >
              <span className="su-stepper__num" aria-hidden="true">
                {marks[step] === 'done' ? <Icon name="check" size={13} /> : marks[step] === 'bad' ? <Icon name="x" size={13} /> : marks[step] === 'busy' ? <span className="su-spin" /> : i + 1}
              </span>
              <span className="su-stepper__text">
                <span className="su-stepper__title">{LABELS[step].title}</span>
                <span className="su-stepper__sub">{LABELS[step].sub}</span>
              </span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}
