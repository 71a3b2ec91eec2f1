import type { HostProblem } from '../store/hosts-store.ts';
import { Icon } from './Icon.tsx';

const FINGERPRINT = /SHA256:[A-Za-z0-9+/]{43}=?/g;

/** The message with every fingerprint it names set apart, so they can be compared. */
function WithFingerprints({ text }: { text: string }) {
  const parts: (string | { fp: string })[] = [];
  let last = 0;
  for (const m of text.matchAll(FINGERPRINT)) {
    const at = m.index ?? 0;
    if (at > last) parts.push(text.slice(last, at));
    parts.push({ fp: m[0] });
    last = at + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return (
    <>
      {parts.map((p, i) =>
        typeof p === 'string' ? (
          <span key={i}>{p}</span>
        ) : (
          <code key={i} className="fp">
            {p.fp}
          </code>
        ),
      )}
    </>
  );
}

const DETAIL_LABELS: Record<string, string> = {
  expected: 'Trusted key',
  presented: 'Presented now',
  keyType: 'Key type',
  knownHostsPath: 'Known hosts file',
};

export function HostKeyChangedPanel({ problem }: { problem: Extract<HostProblem, { kind: 'host-key-changed' }> }) {
  const details = Object.entries(problem.details ?? {}).filter(([, v]) => v !== null && v !== '');
  return (
    <section className="refusal" role="alert" data-testid="hostkey-changed-panel">
      <div className="refusal__banner">
        <Icon name="shieldAlert" size={30} />
        <div>
          <h2>Connection refused: the host key has changed</h2>
          <p>
            This host presented a different key from the one you trusted. Someone could be intercepting the connection,
            or the host was reinstalled and its keys regenerated. Runtime Lab will not connect to it until this is resolved.
          </p>
        </div>
      </div>
      <div className="refusal__body">
        {details.length > 0 ? (
          <dl className="refusal__details" data-testid="hostkey-changed-details">
            {details.map(([k, v]) => (
              <div key={k} className={k === 'expected' || k === 'presented' ? `refusal__fp refusal__fp--${k}` : undefined}>
                <dt>{DETAIL_LABELS[k] ?? k}</dt>
                <dd className="mono" data-testid={`hostkey-changed-${k}`}>
                  {String(v)}
                </dd>
              </div>
            ))}
          </dl>
        ) : null}
        <p className="refusal__message" data-testid="hostkey-changed-message">
          <WithFingerprints text={problem.message} />
        </p>
        <p className="refusal__advice">
          Do not type passwords for this host until the new key is confirmed. Facts gathered earlier from it have been set aside.
        </p>
      </div>
    </section>
  );
}

export function ConnectErrorPanel({ problem, onDismiss }: { problem: Extract<HostProblem, { kind: 'error' }>; onDismiss: () => void }) {
  return (
    <section className="callout callout--bad callout--panel" role="alert" data-testid="connect-error" data-code={problem.code}>
      <Icon name="alert" size={18} />
      <div className="callout__content">
        <strong>Could not connect</strong>
        <p data-testid="connect-error-message">{problem.message}</p>
      </div>
      <button type="button" className="btn btn--ghost btn--icon" aria-label="Dismiss" onClick={onDismiss}>
        <Icon name="x" size={15} />
      </button>
    </section>
  );
}
