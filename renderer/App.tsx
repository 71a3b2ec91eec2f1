import { useEffect, useState } from 'react';
import { Icon } from './components/Icon.tsx';
import { Sidebar } from './components/Sidebar.tsx';
import { hasBridge, onLabEvent } from './lab-client.ts';
import { BenchmarksPage } from './pages/BenchmarksPage.tsx';
import { HostsPage } from './pages/HostsPage.tsx';
import { ResultsPage } from './pages/ResultsPage.tsx';
import { SetupPage } from './pages/SetupPage.tsx';
import { useApp } from './store/app-store.ts';
import { useHosts } from './store/hosts-store.ts';
import { useRuns } from './store/runs-store.ts';
import { useSetup } from './store/setup-store.ts';

const NO_NOTICES: readonly string[] = [];

export function App() {
  const page = useApp((s) => s.page);
  const loadInfo = useApp((s) => s.loadInfo);
  const infoError = useApp((s) => s.infoError);
  const notices = useApp((s) => s.info?.notices ?? NO_NOTICES);
  const [dismissed, setDismissed] = useState<string[]>([]);
  const bridged = hasBridge();

  useEffect(() => {
    if (!bridged) return;
    void loadInfo();
    return onLabEvent((event) => {
      useHosts.getState().applyEvent(event);
      useRuns.getState().applyEvent(event);
      useSetup.getState().applyEvent(event);
    });
  }, [bridged, loadInfo]);

  if (!bridged) {
    return (
      <div className="fatal" data-testid="no-bridge">
        <Icon name="alert" size={28} />
        <h1>Runtime Lab cannot reach its services</h1>
        <p className="muted">The preload bridge (window.lab) is missing. Start the app through Electron.</p>
      </div>
    );
  }

  return (
    <div className="app">
      <Sidebar />
      <div className="app__main">
        {infoError ? (
          <div className="banner banner--bad" data-testid="app-info-error">
            <Icon name="alert" size={15} /> {infoError}
          </div>
        ) : null}
        {notices
          .filter((n) => !dismissed.includes(n))
          .map((notice) => (
            <div key={notice} className="banner banner--warn" data-testid="app-notice">
              <Icon name="info" size={15} />
              <span>{notice}</span>
              <button type="button" className="btn btn--ghost btn--icon banner__close" aria-label="Dismiss" onClick={() => setDismissed((d) => [...d, notice])}>
                <Icon name="x" size={14} />
              </button>
            </div>
          ))}
        {page === 'hosts' ? <HostsPage /> : null}
        {page === 'setup' ? <SetupPage /> : null}
        {page === 'benchmarks' ? <BenchmarksPage /> : null}
        {page === 'results' ? <ResultsPage /> : null}
      </div>
    </div>
  );
}
