import { useRef, type FormEvent } from 'react';
import { describeTarget } from '../../shared/model/host.ts';
import { useHosts } from '../store/hosts-store.ts';
import { Icon } from './Icon.tsx';
import { Modal } from './Modal.tsx';

// The questions the connect flow asks: trust an unknown host key, or type a secret.

export function ConnectDialogs() {
  const prompt = useHosts((s) => s.prompt);
  if (!prompt) return null;
  return prompt.kind === 'host-key' ? <HostKeyDialog /> : <SecretDialog />;
}

function HostKeyDialog() {
  const prompt = useHosts((s) => s.prompt);
  const host = useHosts((s) => s.hosts.find((h) => h.id === s.prompt?.hostId));
  const accept = useHosts((s) => s.acceptHostKey);
  const reject = useHosts((s) => s.rejectHostKey);
  if (prompt?.kind !== 'host-key') return null;
  const target = host ? describeTarget(host.target) : '';

  return (
    <Modal
      title="Verify the host key"
      testId="hostkey-dialog"
      tone="warning"
      icon={<Icon name="key" size={18} />}
      onDismiss={prompt.busy ? undefined : reject}
      footer={
        <>
          <button type="button" className="btn" data-testid="hostkey-reject" onClick={reject} disabled={prompt.busy}>
            Reject
          </button>
          <button
            type="button"
            className="btn btn--primary"
            data-testid="hostkey-accept"
            onClick={() => void accept()}
            disabled={prompt.busy}
          >
            {prompt.busy ? 'Trusting…' : 'Accept and connect'}
          </button>
        </>
      }
    >
      <p>
        This is the first connection to <strong>{host?.name ?? 'this host'}</strong>
        {target ? <span className="mono muted"> ({target})</span> : null}. Its identity cannot be confirmed yet.
      </p>
      <dl className="fingerprint">
        <dt>Key type</dt>
        <dd className="mono" data-testid="hostkey-type">
          {prompt.keyType}
        </dd>
        <dt>Fingerprint</dt>
        <dd className="mono fingerprint__value" data-testid="hostkey-fingerprint">
          {prompt.fingerprint}
        </dd>
      </dl>
      <p className="muted small">
        Compare it with the key on the host itself, e.g. <span className="mono">ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</span>.
        Accept only if they match: Runtime Lab will then refuse any other key from this host.
      </p>
      {prompt.error ? (
        <div className="callout callout--bad" data-testid="hostkey-error">
          <Icon name="alert" size={16} />
          <span>{prompt.error}</span>
        </div>
      ) : null}
    </Modal>
  );
}

function SecretDialog() {
  const prompt = useHosts((s) => s.prompt);
  const host = useHosts((s) => s.hosts.find((h) => h.id === s.prompt?.hostId));
  const submit = useHosts((s) => s.submitSecret);
  const cancel = useHosts((s) => s.cancelSecret);
  // Uncontrolled: the secret goes from the input to the call, and the input is cleared.
  const input = useRef<HTMLInputElement>(null);
  if (prompt?.kind !== 'secret') return null;

  const isPassword = host?.target.kind === 'ssh' && host.target.ssh.auth.method === 'password';
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const el = input.current;
    if (!el) return;
    const secret = el.value;
    el.value = '';
    void submit(secret);
  };

  return (
    <Modal
      title={isPassword ? 'Password required' : 'Passphrase required'}
      testId="secret-dialog"
      icon={<Icon name="lock" size={18} />}
      width="narrow"
      onDismiss={prompt.busy ? undefined : cancel}
    >
      <form className="form" onSubmit={onSubmit}>
        <p data-testid="secret-prompt">{prompt.prompt}</p>
        <label className="field">
          <span className="field__label">{isPassword ? 'Password' : 'Passphrase'}</span>
          <input ref={input} type="password" data-testid="secret-input" autoComplete="off" disabled={prompt.busy} data-autofocus />
        </label>
        {prompt.error ? (
          <div className="callout callout--bad" data-testid="secret-error">
            <Icon name="alert" size={16} />
            <span>{prompt.error}</span>
          </div>
        ) : null}
        <p className="muted small">Used for this connection only; it is not saved.</p>
        <div className="form__actions">
          <button type="button" className="btn" data-testid="secret-cancel" onClick={cancel} disabled={prompt.busy}>
            Cancel
          </button>
          <button type="submit" className="btn btn--primary" data-testid="secret-submit" disabled={prompt.busy}>
            {prompt.busy ? 'Connecting…' : 'Connect'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function ConfirmDialog(props: {
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  error?: string | null;
}) {
  const { title, message, confirmLabel, onConfirm, onCancel, busy = false, error } = props;
  return (
    <Modal
      title={title}
      testId="confirm-dialog"
      tone="danger"
      width="narrow"
      icon={<Icon name="trash" size={18} />}
      onDismiss={busy ? undefined : onCancel}
      footer={
        <>
          <button type="button" className="btn" data-testid="confirm-cancel" onClick={onCancel} disabled={busy} data-autofocus>
            Cancel
          </button>
          <button type="button" className="btn btn--danger" data-testid="confirm-ok" onClick={onConfirm} disabled={busy}>
            {confirmLabel}
          </button>
        </>
      }
    >
      <p>{message}</p>
      {error ? (
        <div className="callout callout--bad">
          <Icon name="alert" size={16} />
          <span>{error}</span>
        </div>
      ) : null}
    </Modal>
  );
}
