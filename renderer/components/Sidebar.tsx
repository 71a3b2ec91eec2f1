import { useApp, type PageId } from '../store/app-store.ts';
import { Icon, type IconName } from './Icon.tsx';

const ITEMS: { id: PageId; label: string; icon: IconName }[] = [
  { id: 'hosts', label: 'Hosts', icon: 'server' },
  { id: 'setup', label: 'Setup', icon: 'layers' },
  { id: 'benchmarks', label: 'Benchmarks', icon: 'gauge' },
  { id: 'results', label: 'Results', icon: 'chart' },
];

export function Sidebar() {
  const page = useApp((s) => s.page);
  const setPage = useApp((s) => s.setPage);
  const info = useApp((s) => s.info);

  return (
    <nav className="sidebar" aria-label="Main" data-testid="sidebar">
      <div className="sidebar__brand">
        <span className="brand-mark" aria-hidden="true">
          <Icon name="flask" size={18} />
        </span>
        <div>
          <div className="brand-name">Runtime Lab</div>
          <div className="brand-sub">container runtime bench</div>
        </div>
      </div>
      <ul className="sidebar__nav">
        {ITEMS.map((item) => (
          <li key={item.id}>
            <button
              type="button"
              className={page === item.id ? 'nav-item nav-item--active' : 'nav-item'}
              aria-current={page === item.id ? 'page' : undefined}
              data-testid={`nav-${item.id}`}
              onClick={() => setPage(item.id)}
            >
              <Icon name={item.icon} size={17} />
              <span>{item.label}</span>
            </button>
          </li>
        ))}
      </ul>
      <div className="sidebar__footer" data-testid="app-version">
        {info ? (
          <>
            <span>v{info.version}</span>
            <span className="dot-sep">·</span>
            <span>{info.platform}</span>
          </>
        ) : null}
      </div>
    </nav>
  );
}
