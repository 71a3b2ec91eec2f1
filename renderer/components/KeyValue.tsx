import type { ReactNode } from 'react';

/** One labelled value in a `<dl>` of facts: host facts, a run's environment. */
export function KeyValue({ label, children, mono, testId }: { label: string; children: ReactNode; mono?: boolean; testId?: string }) {
  return (
    <div className="kv">
      <dt>{label}</dt>
      <dd className={mono ? 'mono' : undefined} data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}
