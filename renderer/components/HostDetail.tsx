import { useState } from 'react';
import { describeTarget, type HostView } from '../../shared/model/host.ts';
import { asLabError } from '../lab-client.ts';
import { useHosts } from '../store/hosts-store.ts';
import { ConfirmDialog } from './ConnectDialogs.tsx';
import { ConnectionPill } from './ConnectionPill.tsx';
import { FactsView } from './FactsView.tsx';
import { Icon } from './Icon.tsx';
import { ConnectErrorPanel, HostKeyChangedPanel } from './ProblemPanels.tsx';

function authSummary(host: HostView): string {
  if (host.target.kind === 'local') return 'runs commands directly, no SSH';
  const { auth, proxyJump } = host.target.ssh;
  const how =
    auth.method === 'key' ? `key ${auth.keyPath}` : auth.method === 'agent' ? 'ssh-agent' : 'password';
  const remembered = auth.method !== 'agent' && auth.rememberSecret ? (host.hasStoredSecret ? ' · secret remembered' : ' · secret not saved yet') : '';
  return `${how}${remembered}${proxyJump ? ` · via ${proxyJump}` : ''}`;
}

export function HostDetail({ host, onEdit }: { host: HostView; onEdit: () => void }) {
  const conn = useHosts((s) => s.conn[host.id]);
  const facts = useHosts((s) => s.facts[host.id]);
  const problem = useHosts((s) => s.problems[host.id]);
  const connect = useHosts((s) => s.connect);
  const disconnect = useHosts((s) => s.disconnect);
  const remove = useHosts((s) => s.remove);
  const dismissProblem = useHosts((s) => s.dismissProblem);
  const [confirming, setConfirming] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);

  const state = conn?.state ?? 'idle';
  const busy = state === 'connecting';
  const connected = state === 'connected';

  async function doRemove() {
    setRemoving(true);
    setRemoveError(null);
    try {
      await remove(host.id);
    } catch (err) {
      setRemoveError(asLabError(err).message);
      setRemoving(false);
    }
  }

  return (
    <div className="detail" data-testid="host-detail" data-host-id={host.id}>
      <header className="detail__header">
        <span className="detail__icon" aria-hidden="true">
          <Icon name={host.target.kind === 'local' ? 'monitor' : 'server'} size={22} />
        </span>
        <div className="detail__title">
          <div className="detail__name-line">
            <h1 data-testid="host-detail-name">{host.name}</h1>
            <ConnectionPill conn={conn} />
          </div>
          <div className="detail__sub">
            <span className="mono" data-testid="host-detail-target">
              {describeTarget(host.target)}
            </span>
            <span className="dot-sep">·</span>
            <span className="muted">{authSummary(host)}</span>
          </div>
        </div>
        <div className="detail__actions">
          {connected ? (
            <button type="button" className="btn" data-testid="host-disconnect" onClick={() => void disconnect(host.id)}>
              <Icon name="unplug" size={15} /> Disconnect
            </button>
          ) : null}
          <button
            type="button"
            className="btn btn--primary"
            data-testid="host-connect"
            disabled={busy}
            onClick={() => void connect(host.id)}
          >
            {busy ? <span className="spinner" aria-hidden="true" /> : <Icon name={connected || facts ? 'refresh' : 'plug'} size={15} />}
            {busy ? 'Connecting…' : connected || facts ? 'Re-inspect' : 'Connect'}
          </button>
          <button type="button" className="btn btn--icon" title="Edit host" aria-label="Edit host" data-testid="host-edit" onClick={onEdit}>
            <Icon name="edit" size={15} />
          </button>
          <button
            type="button"
            className="btn btn--icon btn--danger-ghost"
            title="Remove host"
            aria-label="Remove host"
            data-testid="host-remove"
            onClick={() => setConfirming(true)}
          >
            <Icon name="trash" size={15} />
          </button>
        </div>
      </header>

      <div className="detail__body">
        {problem?.kind === 'host-key-changed' ? <HostKeyChangedPanel problem={problem} /> : null}
        {problem?.kind === 'error' ? <ConnectErrorPanel problem={problem} onDismiss={() => dismissProblem(host.id)} /> : null}

        {facts && problem?.kind !== 'host-key-changed' ? (
          <FactsView facts={facts} />
        ) : problem?.kind === 'host-key-changed' ? null : (
          <div className="empty" data-testid="facts-empty">
            <Icon name="cpu" size={30} />
            <h2>{busy ? 'Connecting and inspecting…' : 'Not inspected yet'}</h2>
            <p className="muted">
              {busy
                ? 'Checking the kernel, KVM, vsock, cgroups and the container runtimes installed.'
                : 'Connect to see this host’s system, virtualization support, cgroup mode and the runtimes it has.'}
            </p>
          </div>
        )}
      </div>

      {confirming ? (
        <ConfirmDialog
          title={`Remove “${host.name}”?`}
          message={`${describeTarget(host.target)} will be removed from Runtime Lab, with any password remembered for it. Nothing on the host itself is changed.`}
          confirmLabel="Remove host"
          busy={removing}
          error={removeError}
          onCancel={() => setConfirming(false)}
          onConfirm={() => void doRemove()}
        />
      ) : null}
    </div>
  );
}
