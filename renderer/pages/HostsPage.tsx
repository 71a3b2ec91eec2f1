import { useEffect, useState } from 'react';
import type { HostView } from '../../shared/model/host.ts';
import { ConnectDialogs } from '../components/ConnectDialogs.tsx';
import { HostDetail } from '../components/HostDetail.tsx';
import { HostForm } from '../components/HostForm.tsx';
import { HostList } from '../components/HostList.tsx';
import { Icon } from '../components/Icon.tsx';
import { SshImportDialog } from '../components/SshImportDialog.tsx';
import { useHosts } from '../store/hosts-store.ts';

type Editor = { mode: 'add' } | { mode: 'edit'; host: HostView } | null;

export function HostsPage() {
  const hosts = useHosts((s) => s.hosts);
  const loaded = useHosts((s) => s.loaded);
  const loadError = useHosts((s) => s.loadError);
  const load = useHosts((s) => s.load);
  const selected = useHosts((s) => s.hosts.find((h) => h.id === s.selectedId) ?? null);
  const [editor, setEditor] = useState<Editor>(null);
  const [importing, setImporting] = useState(false);

  useEffect(() => {
    if (!loaded) void load();
  }, [loaded, load]);

  return (
    <div className="page page--hosts" data-testid="hosts-page">
      <header className="page__header">
        <div>
          <h1>Hosts</h1>
          <p className="muted">Lab machines to set up and benchmark, reached over SSH or run locally.</p>
        </div>
        <div className="page__actions">
          <button type="button" className="btn" data-testid="ssh-import-open" onClick={() => setImporting(true)}>
            <Icon name="download" size={15} /> Import from ~/.ssh/config
          </button>
          <button type="button" className="btn btn--primary" data-testid="host-add" onClick={() => setEditor({ mode: 'add' })}>
            <Icon name="plus" size={15} /> Add host
          </button>
        </div>
      </header>

      {loadError ? (
        <div className="callout callout--bad" data-testid="hosts-load-error">
          <Icon name="alert" size={16} />
          <span>Could not load hosts: {loadError}</span>
        </div>
      ) : null}

      <div className="split">
        <aside className="split__list">
          <div className="split__list-head">
            <span>Saved hosts</span>
            <span className="count">{hosts.length}</span>
          </div>
          <HostList />
        </aside>
        <main className="split__detail">
          {selected ? (
            <HostDetail key={selected.id} host={selected} onEdit={() => setEditor({ mode: 'edit', host: selected })} />
          ) : (
            <div className="empty empty--page">
              <Icon name="server" size={34} />
              <h2>No host selected</h2>
              <p className="muted">Add a host to inspect it: kernel, KVM and vsock support, cgroup mode and installed runtimes.</p>
              <button type="button" className="btn btn--primary" onClick={() => setEditor({ mode: 'add' })}>
                <Icon name="plus" size={15} /> Add host
              </button>
            </div>
          )}
        </main>
      </div>

      {editor ? <HostForm host={editor.mode === 'edit' ? editor.host : null} onClose={() => setEditor(null)} /> : null}
      {importing ? <SshImportDialog onClose={() => setImporting(false)} /> : null}
      <ConnectDialogs />
    </div>
  );
}
