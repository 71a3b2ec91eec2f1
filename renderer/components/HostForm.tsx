import { useRef, useState, type FormEvent } from 'react';
import { HostDraft, type HostView } from '../../shared/model/host.ts';
import { asLabError } from '../lab-client.ts';
import { useApp } from '../store/app-store.ts';
import { useHosts } from '../store/hosts-store.ts';
import { Icon } from './Icon.tsx';
import { Modal } from './Modal.tsx';

type Kind = 'ssh' | 'local';
type AuthMethod = 'key' | 'agent' | 'password';

interface Fields {
  name: string;
  kind: Kind;
  host: string;
  port: string;
  user: string;
  method: AuthMethod;
  keyPath: string;
  remember: boolean;
  proxyJump: string;
}

function fieldsFrom(host: HostView | null): Fields {
  const empty: Fields = {
    name: '',
    kind: 'ssh',
    host: '',
    port: '22',
    user: '',
    method: 'key',
    keyPath: '~/.ssh/id_ed25519',
    remember: false,
    proxyJump: '',
  };
  if (!host) return empty;
  if (host.target.kind === 'local') return { ...empty, name: host.name, kind: 'local' };
  const { ssh } = host.target;
  return {
    ...empty,
    name: host.name,
    host: ssh.host,
    port: String(ssh.port),
    user: ssh.user,
    method: ssh.auth.method,
    keyPath: ssh.auth.method === 'key' ? ssh.auth.keyPath : empty.keyPath,
    remember: ssh.auth.method !== 'agent' && ssh.auth.rememberSecret,
    proxyJump: ssh.proxyJump ?? '',
  };
}

function draftFrom(f: Fields, secret: string): unknown {
  if (f.kind === 'local') return { name: f.name, target: { kind: 'local' } };
  const auth =
    f.method === 'key'
      ? { method: 'key', keyPath: f.keyPath.trim(), rememberSecret: f.remember }
      : f.method === 'password'
        ? { method: 'password', rememberSecret: f.remember }
        : { method: 'agent' };
  const port = f.port.trim() === '' ? 22 : Number(f.port);
  return {
    name: f.name,
    target: {
      kind: 'ssh',
      ssh: {
        host: f.host.trim(),
        port,
        user: f.user.trim(),
        auth,
        ...(f.proxyJump.trim() ? { proxyJump: f.proxyJump.trim() } : {}),
      },
    },
    // Only a secret the user asked us to remember leaves the form; otherwise it is asked
    // for at connect time and never stored.
    ...(f.method !== 'agent' && f.remember && secret ? { secret } : {}),
  };
}

// Zod issue paths → the form field that shows the message.
function fieldOf(path: readonly PropertyKey[]): keyof Fields | 'form' {
  const last = String(path[path.length - 1] ?? '');
  if (path[0] === 'name') return 'name';
  if (last === 'host') return 'host';
  if (last === 'port') return 'port';
  if (last === 'user') return 'user';
  if (last === 'keyPath') return 'keyPath';
  if (last === 'proxyJump') return 'proxyJump';
  return 'form';
}

export function HostForm({ host, onClose }: { host: HostView | null; onClose: () => void }) {
  const info = useApp((s) => s.info);
  const add = useHosts((s) => s.add);
  const update = useHosts((s) => s.update);
  const [f, setF] = useState<Fields>(() => fieldsFrom(host));
  const [errors, setErrors] = useState<Partial<Record<keyof Fields | 'form', string>>>({});
  const [busy, setBusy] = useState(false);
  // The password/passphrase lives only in the DOM input, never in React state.
  const secretRef = useRef<HTMLInputElement>(null);

  const localSupported = info?.localHostSupported ?? false;
  const storageAvailable = info?.secretStorageAvailable ?? false;
  const editing = host !== null;
  const set = <K extends keyof Fields>(key: K, value: Fields[K]) => setF((prev) => ({ ...prev, [key]: value }));

  const needsSecretField = f.kind === 'ssh' && f.method !== 'agent' && f.remember && storageAvailable;
  const secretLabel = f.method === 'password' ? 'Password' : 'Key passphrase';
  const hasStored = editing && host.hasStoredSecret;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const secret = secretRef.current?.value ?? '';
    const next: typeof errors = {};
    if (f.kind === 'ssh' && f.port.trim() !== '' && !/^\d+$/.test(f.port.trim())) next.port = 'A port number, 1–65535.';
    if (needsSecretField && f.method === 'password' && !secret && !hasStored) {
      next.form = 'Enter the password to remember, or untick “Remember”.';
    }
    const parsed = HostDraft.safeParse(draftFrom(f, secret));
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = fieldOf(issue.path);
        next[key] ??= issue.message;
      }
    }
    setErrors(next);
    if (Object.keys(next).length > 0 || !parsed.success) return;
    setBusy(true);
    try {
      if (editing) await update(host.id, parsed.data);
      else await add(parsed.data);
      if (secretRef.current) secretRef.current.value = '';
      onClose();
    } catch (err) {
      setErrors({ form: asLabError(err).message });
      setBusy(false);
    }
  }

  const fieldError = (key: keyof Fields) =>
    errors[key] ? (
      <span className="field__error" data-testid={`host-form-error-${key}`}>
        {errors[key]}
      </span>
    ) : null;

  return (
    <Modal
      title={editing ? `Edit “${host.name}”` : 'Add host'}
      testId="host-form-dialog"
      onDismiss={busy ? undefined : onClose}
      icon={<Icon name={editing ? 'edit' : 'plus'} size={18} />}
    >
      <form className="form" data-testid="host-form" onSubmit={onSubmit} noValidate>
        <label className="field">
          <span className="field__label">Name</span>
          <input
            data-testid="host-form-name"
            value={f.name}
            placeholder="e.g. bench-01"
            onChange={(e) => set('name', e.target.value)}
            autoComplete="off"
            data-autofocus
          />
          {fieldError('name')}
        </label>

        <div className="field">
          <span className="field__label">Kind</span>
          <div className="segmented" role="radiogroup" aria-label="Kind">
            <button
              type="button"
              role="radio"
              aria-checked={f.kind === 'ssh'}
              className={f.kind === 'ssh' ? 'segmented__item segmented__item--on' : 'segmented__item'}
              data-testid="host-form-kind-ssh"
              onClick={() => set('kind', 'ssh')}
            >
              <Icon name="server" size={15} /> SSH
            </button>
            {localSupported ? (
              <button
                type="button"
                role="radio"
                aria-checked={f.kind === 'local'}
                className={f.kind === 'local' ? 'segmented__item segmented__item--on' : 'segmented__item'}
                data-testid="host-form-kind-local"
                onClick={() => set('kind', 'local')}
              >
                <Icon name="monitor" size={15} /> This computer
              </button>
            ) : null}
          </div>
          {f.kind === 'local' ? (
            <span className="field__hint">Benchmarks run directly on this machine, without SSH.</span>
          ) : null}
        </div>

        {f.kind === 'ssh' ? (
          <>
            <div className="field-row">
              <label className="field field--grow">
                <span className="field__label">Host</span>
                <input
                  data-testid="host-form-host"
                  value={f.host}
                  placeholder="hostname or IP address"
                  onChange={(e) => set('host', e.target.value)}
                  autoComplete="off"
                  spellCheck={false}
                />
                {fieldError('host')}
              </label>
              <label className="field field--port">
                <span className="field__label">Port</span>
                <input
                  data-testid="host-form-port"
                  value={f.port}
                  inputMode="numeric"
                  onChange={(e) => set('port', e.target.value)}
                />
                {fieldError('port')}
              </label>
            </div>
            <label className="field">
              <span className="field__label">User</span>
              <input
                data-testid="host-form-user"
                value={f.user}
                placeholder="e.g. root"
                onChange={(e) => set('user', e.target.value)}
                autoComplete="off"
                spellCheck={false}
              />
              {fieldError('user')}
            </label>

            <label className="field">
              <span className="field__label">Authentication</span>
              <select data-testid="host-form-auth" value={f.method} onChange={(e) => set('method', e.target.value as AuthMethod)}>
                <option value="key">Key file</option>
                <option value="agent">SSH agent</option>
                <option value="password">Password</option>
              </select>
            </label>

            {f.method === 'key' ? (
              <label className="field">
                <span className="field__label">Private key</span>
                <input
                  data-testid="host-form-key-path"
                  className="mono"
                  value={f.keyPath}
                  onChange={(e) => set('keyPath', e.target.value)}
                  spellCheck={false}
                />
                {fieldError('keyPath')}
              </label>
            ) : null}

            {f.method === 'agent' ? (
              <p className="field__hint">Uses the keys loaded in your running ssh-agent (SSH_AUTH_SOCK).</p>
            ) : (
              <div className="field">
                <label className={storageAvailable ? 'check' : 'check check--disabled'}>
                  <input
                    type="checkbox"
                    data-testid="host-form-remember"
                    checked={f.remember && storageAvailable}
                    disabled={!storageAvailable}
                    onChange={(e) => set('remember', e.target.checked)}
                  />
                  <span>Remember {f.method === 'password' ? 'the password' : 'the key passphrase'}</span>
                </label>
                {storageAvailable ? (
                  <span className="field__hint">
                    {f.remember
                      ? 'Stored encrypted with your system’s secret storage.'
                      : f.method === 'password'
                        ? 'You will be asked for it when connecting; nothing is stored.'
                        : 'If the key has a passphrase, you will be asked for it when connecting; nothing is stored.'}
                  </span>
                ) : (
                  <span className="field__hint field__hint--warn" data-testid="host-form-remember-unavailable">
                    This system offers no secret storage (no keyring), so secrets cannot be remembered: you
                    will be asked each time you connect.
                  </span>
                )}
              </div>
            )}

            {needsSecretField ? (
              <label className="field">
                <span className="field__label">{secretLabel}</span>
                <input
                  ref={secretRef}
                  type="password"
                  data-testid="host-form-secret"
                  autoComplete="new-password"
                  placeholder={hasStored ? 'Saved: leave empty to keep it' : f.method === 'key' ? 'empty if the key has none' : ''}
                />
              </label>
            ) : null}

            <details className="advanced">
              <summary>Advanced</summary>
              <label className="field">
                <span className="field__label">Jump host (ProxyJump)</span>
                <input
                  data-testid="host-form-proxy-jump"
                  className="mono"
                  value={f.proxyJump}
                  placeholder="user@bastion:22"
                  onChange={(e) => set('proxyJump', e.target.value)}
                  spellCheck={false}
                />
                {fieldError('proxyJump')}
              </label>
            </details>
          </>
        ) : null}

        {errors.form ? (
          <div className="callout callout--bad" data-testid="host-form-error">
            <Icon name="alert" size={16} />
            <span>{errors.form}</span>
          </div>
        ) : null}

        <div className="form__actions">
          <button type="button" className="btn" data-testid="host-form-cancel" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="btn btn--primary" data-testid="host-form-submit" disabled={busy}>
            {busy ? 'Saving…' : editing ? 'Save changes' : 'Add host'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
