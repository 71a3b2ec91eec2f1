import { useEffect, useState } from 'react';
import type { SshConfigCandidate } from '../../shared/contract/ipc-contract.ts';
import { describeTarget } from '../../shared/model/host.ts';
import { asLabError } from '../lab-client.ts';
import { useHosts } from '../store/hosts-store.ts';
import { Icon } from './Icon.tsx';
import { Modal } from './Modal.tsx';

function authLabel(c: SshConfigCandidate): string {
  const t = c.draft.target;
  if (t.kind !== 'ssh') return 'this computer';
  const a = t.ssh.auth;
  return a.method === 'key' ? `key ${a.keyPath}` : a.method === 'agent' ? 'ssh-agent' : 'password';
}

export function SshImportDialog({ onClose }: { onClose: () => void }) {
  const importSshConfig = useHosts((s) => s.importSshConfig);
  const add = useHosts((s) => s.add);
  const existing = useHosts((s) => s.hosts);
  const [path, setPath] = useState('');
  const [candidates, setCandidates] = useState<SshConfigCandidate[] | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  // Busy from the start: the default file is read as the dialog opens.
  const [busy, setBusy] = useState(true);
  const [added, setAdded] = useState<string[]>([]);

  async function read(from: string) {
    setBusy(true);
    setError(null);
    try {
      const list = await importSshConfig(from.trim() || undefined);
      setCandidates(list);
      setPicked(new Set());
    } catch (err) {
      setCandidates(null);
      setError(asLabError(err).message);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    let live = true;
    importSshConfig().then(
      (list) => live && setCandidates(list),
      (err: unknown) => live && setError(asLabError(err).message),
    ).finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [importSshConfig]);

  const toggle = (alias: string) =>
    setPicked((prev) => {
      const next = new Set(prev);
      if (next.has(alias)) next.delete(alias);
      else next.add(alias);
      return next;
    });

  async function addPicked() {
    if (!candidates) return;
    setBusy(true);
    setError(null);
    const done: string[] = [];
    for (const c of candidates) {
      if (!picked.has(c.alias)) continue;
      try {
        await add(c.draft);
        done.push(c.alias);
      } catch (err) {
        setError(`${c.alias}: ${asLabError(err).message}`);
        break;
      }
    }
    setAdded((prev) => [...prev, ...done]);
    setPicked((prev) => new Set([...prev].filter((a) => !done.includes(a))));
    setBusy(false);
    if (done.length > 0 && done.length === picked.size) onClose();
  }

  const existingTargets = new Set(existing.map((h) => describeTarget(h.target)));

  return (
    <Modal
      title="Import from SSH config"
      testId="ssh-import-dialog"
      width="wide"
      icon={<Icon name="download" size={18} />}
      onDismiss={busy ? undefined : onClose}
      footer={
        <>
          <span className="muted small modal__footer-note">{picked.size > 0 ? `${picked.size} selected` : 'Pick the entries to add'}</span>
          <button type="button" className="btn" data-testid="ssh-import-cancel" onClick={onClose} disabled={busy}>
            Close
          </button>
          <button
            type="button"
            className="btn btn--primary"
            data-testid="ssh-import-add"
            disabled={busy || picked.size === 0}
            onClick={() => void addPicked()}
          >
            Add {picked.size > 0 ? picked.size : ''} host{picked.size === 1 ? '' : 's'}
          </button>
        </>
      }
    >
      <form
        className="import-path"
        onSubmit={(e) => {
          e.preventDefault();
          void read(path);
        }}
      >
        <input
          className="mono"
          data-testid="ssh-import-path"
          value={path}
          placeholder="~/.ssh/config"
          onChange={(e) => setPath(e.target.value)}
          spellCheck={false}
        />
        <button type="submit" className="btn" disabled={busy} data-testid="ssh-import-read">
          <Icon name="refresh" size={15} /> Read
        </button>
      </form>

      {error ? (
        <div className="callout callout--bad" data-testid="ssh-import-error">
          <Icon name="alert" size={16} />
          <span>{error}</span>
        </div>
      ) : null}

      {candidates === null ? (
        busy ? <p className="muted">Reading…</p> : null
      ) : candidates.length === 0 ? (
        <p className="muted" data-testid="ssh-import-empty">
          No usable Host entries found (wildcard patterns such as <span className="mono">Host *</span> are skipped).
        </p>
      ) : (
        <ul className="candidates" data-testid="ssh-import-list">
          {candidates.map((c) => {
            const target = describeTarget(c.draft.target);
            const isAdded = added.includes(c.alias);
            const duplicate = existingTargets.has(target) && !isAdded;
            return (
              <li key={c.alias} className={picked.has(c.alias) ? 'candidate candidate--picked' : 'candidate'} data-testid="ssh-candidate" data-alias={c.alias}>
                <label className="candidate__main">
                  <input
                    type="checkbox"
                    checked={picked.has(c.alias)}
                    disabled={busy || isAdded}
                    onChange={() => toggle(c.alias)}
                    data-testid="ssh-candidate-pick"
                  />
                  <span className="candidate__text">
                    <span className="candidate__alias">{c.alias}</span>
                    <span className="mono muted small">
                      {target} · {authLabel(c)}
                      {c.draft.target.kind === 'ssh' && c.draft.target.ssh.proxyJump ? ` · via ${c.draft.target.ssh.proxyJump}` : ''}
                    </span>
                  </span>
                  {isAdded ? <span className="tag tag--ok">added</span> : duplicate ? <span className="tag">already in list</span> : null}
                </label>
                {c.warnings.length > 0 ? (
                  <ul className="candidate__warnings" data-testid="ssh-candidate-warnings">
                    {c.warnings.map((w, i) => (
                      <li key={i}>
                        <Icon name="alert" size={14} /> {w}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
    </Modal>
  );
}
