import type { ReactNode } from 'react';

export type Tone = 'neutral' | 'info' | 'ok' | 'warn' | 'bad';

export function StatusPill(props: { tone: Tone; children: ReactNode; testId?: string; title?: string; compact?: boolean }) {
  const { tone, children, testId, title, compact = false } = props;
  return (
    <span className={`pill pill--${tone}${compact ? ' pill--compact' : ''}`} data-testid={testId} title={title}>
      <span className="pill__dot" aria-hidden="true" />
      {children}
    </span>
  );
}
