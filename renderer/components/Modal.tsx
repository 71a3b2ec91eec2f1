import { useEffect, useId, useRef, type ReactNode } from 'react';

// A modal dialog: dimmed backdrop, focus moved inside, Escape to dismiss (when allowed).
export function Modal(props: {
  title: ReactNode;
  testId: string;
  onDismiss?: () => void;
  tone?: 'default' | 'danger' | 'warning';
  width?: 'narrow' | 'normal' | 'wide';
  icon?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
}) {
  const { title, testId, onDismiss, tone = 'default', width = 'normal', icon, children, footer } = props;
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = panel.current;
    if (!el) return;
    const first =
      el.querySelector<HTMLElement>('[data-autofocus]:not([disabled])') ??
      el.querySelector<HTMLElement>('input:not([disabled]), select, textarea, button:not([disabled])');
    first?.focus();
  }, []);

  useEffect(() => {
    if (!onDismiss) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onDismiss();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onDismiss]);

  return (
    <div className="modal-backdrop">
      <div
        ref={panel}
        className={`modal modal--${width} modal--${tone}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid={testId}
      >
        <header className="modal__header">
          {icon ? <span className="modal__icon">{icon}</span> : null}
          <h2 id={titleId}>{title}</h2>
        </header>
        <div className="modal__body">{children}</div>
        {footer ? <footer className="modal__footer">{footer}</footer> : null}
      </div>
    </div>
  );
}
