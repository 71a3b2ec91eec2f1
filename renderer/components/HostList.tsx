import { describeTarget } from '../../shared/model/host.ts';
import { useHosts } from '../store/hosts-store.ts';
import { ConnectionPill } from './ConnectionPill.tsx';
import { Icon } from './Icon.tsx';

export function HostList() {
  const hosts = useHosts((s) => s.hosts);
  const selectedId = useHosts((s) => s.selectedId);
  const conn = useHosts((s) => s.conn);
  const select = useHosts((s) => s.select);
  const loaded = useHosts((s) => s.loaded);

  if (!loaded) return <div className="host-list host-list--empty">Loading…</div>;
  if (hosts.length === 0) {
    return (
      <div className="host-list host-list--empty" data-testid="host-list-empty">
        <Icon name="server" size={28} />
        <p>No hosts yet.</p>
        <p className="muted">Add a lab host reachable over SSH, or import entries from your SSH config.</p>
      </div>
    );
  }

  return (
    <ul className="host-list" data-testid="host-list" role="listbox" aria-label="Hosts">
      {hosts.map((host) => (
        <li key={host.id}>
          <button
            type="button"
            role="option"
            aria-selected={host.id === selectedId}
            className={host.id === selectedId ? 'host-row host-row--selected' : 'host-row'}
            data-testid="host-row"
            data-host-id={host.id}
            data-host-name={host.name}
            onClick={() => select(host.id)}
          >
            <span className="host-row__icon" aria-hidden="true">
              <Icon name={host.target.kind === 'local' ? 'monitor' : 'server'} size={18} />
            </span>
            <span className="host-row__text">
              <span className="host-row__top">
                <span className="host-row__name" title={host.name}>
                  {host.name}
                </span>
                <ConnectionPill conn={conn[host.id]} compact />
              </span>
              <span className="host-row__target" data-testid="host-target">
                {describeTarget(host.target)}
              </span>
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
