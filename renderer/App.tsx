import { useEffect, useState } from 'react';
import { Icon, type IconName } from './components/Icon.tsx';
import { Sidebar } from './components/Sidebar.tsx';
import { hasBridge, onLabEvent } from './lab-client.ts';
import { HostsPage } from './pages/HostsPage.tsx';
import { useApp } from './store/app-store.ts';
import { useHosts } from './store/hosts-store.ts';

const NO_NOTICES: readonly string[] = [];

function ComingSoon({ title, icon, testId, text }: { title: string; icon: IconName; testId: string; text: string }) {
  return (
    <div className="page" data-testid={testId}>
      <header className="page__header">
        <div>
          <h1>{title}</h1>
        </div>
      </header>
      <div className="empty empty--page">
        <Icon name={icon} size={34} />
        <h2>Comes with the benchmark feature</h2>
        <p className="muted">{text}</p>
      </div>
    </div>
  );
}

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
    return onLabEvent((event) => useHosts.getState().applyEvent(event));
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
        {page === 'benchmarks' ? (
          <ComingSoon
            title="Benchmarks"
            icon="gauge"
            testId="benchmarks-page"
            text="Plan startup, memory and throughput runs across runtimes on a connected host. This page arrives with the benchmark runner."
          />
        ) : null}
        {page === 'results' ? (
          <ComingSoon
            title="Results"
            icon="chart"
            testId="results-page"
            text="Charts, summaries (median, p95, p99, confidence intervals) and CSV export of past runs. This page arrives with the benchmark runner."
          />
        ) : null}
      </div>
    </div>
  );
}
