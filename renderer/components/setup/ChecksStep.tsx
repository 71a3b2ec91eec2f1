import type { CheckResultView, DoctorReportView, RecipeInfo } from '../../../shared/model/setup.ts';
import { withRequired } from '../../store/setup-store.ts';
import { Icon } from '../Icon.tsx';

// Step 2: the doctor's verdicts, with the reason for each and the fix for what fails —
// the host as a whole, then each recipe of the plan. A failing check does not block the
// run (the CLI does not either): the step it concerns will fail with that reason.

const VERDICT = {
  ok: { icon: 'check', label: 'ok' },
  warn: { icon: 'alert', label: 'warning' },
  fail: { icon: 'x', label: 'fails' },
} as const;

export function CheckRow({ check, recipe }: { check: CheckResultView; recipe?: string }) {
  const v = VERDICT[check.verdict];
  return (
    <li className={`su-check su-check--${check.verdict}`} data-testid="check-row" data-check={check.id} data-verdict={check.verdict} data-recipe={recipe}>
      <span className="su-check__icon" aria-hidden="true">
        <Icon name={v.icon} size={14} />
      </span>
      <div className="su-check__body">
        <div className="su-check__line">
          <span className="su-check__title">{check.title}</span>
          <span className={`su-verdict su-verdict--${check.verdict}`}>{v.label}</span>
        </div>
        <p className="su-check__reason" data-testid="check-reason">{check.reason}</p>
        {check.fix && check.verdict !== 'ok' ? (
          <p className="su-check__fix" data-testid="check-fix">
            <Icon name="wrench" size={12} /> <span>{check.fix}</span>
          </p>
        ) : null}
      </div>
    </li>
  );
}

export function SudoPasswordField({ user, value, onChange }: { user: string; value: string; onChange: (v: string) => void }) {
  return (
    <div className="su-sudo" data-testid="sudo-password">
      <span className="su-sudo__icon" aria-hidden="true">
        <Icon name="lock" size={16} />
      </span>
      <div className="su-sudo__body">
        <label className="field">
          <span className="field__label">Sudo password for {user}</span>
          <input type="password" autoComplete="off" value={value} data-testid="sudo-password-input" onChange={(e) => onChange(e.target.value)} />
        </label>
        <p className="small muted">
          {user} is not root and has no passwordless sudo. The password is tried once before anything runs, kept in memory for this session only, written to sudo's input —
          never to a file, a log or the screen.
        </p>
      </div>
    </div>
  );
}

export function ChecksStep(props: {
  report: DoctorReportView | null;
  loading: boolean;
  error: string | null;
  recipes: RecipeInfo[];
  selected: string[];
  checkDownloads: boolean;
  sudoPassword: string;
  onSudoPassword: (v: string) => void;
  onCheckDownloads: (on: boolean) => void;
  onRecheck: () => void;
}) {
  const { report, loading, error, recipes, selected, checkDownloads, sudoPassword, onSudoPassword, onCheckDownloads, onRecheck } = props;
  const ids = withRequired(selected, recipes);
  const toolbar = (
    <div className="su-toolbar">
      <span className="muted small">{report ? <>Checked {new Date(report.collectedAt).toLocaleTimeString()} on <span className="mono">{report.host}</span></> : null}</span>
      <label className="check small" title="Probes the recipes' download hosts over HTTPS from the lab host: traffic to the internet">
        <input type="checkbox" checked={checkDownloads} onChange={(e) => onCheckDownloads(e.target.checked)} data-testid="check-downloads" />
        Also check download hosts (contacts the internet)
      </label>
      <button type="button" className="btn btn--sm" onClick={onRecheck} disabled={loading} data-testid="doctor-recheck">
        {loading ? <span className="su-spin" /> : <Icon name="refresh" size={13} />} Check again
      </button>
    </div>
  );
  if (error) {
    return (
      <div className="su-checks" data-testid="checks-step">
        {toolbar}
        <div className="callout callout--bad" data-testid="doctor-error">
          <Icon name="alert" size={16} />
          <span>{error}</span>
        </div>
      </div>
    );
  }
  if (!report) {
    return (
      <div className="su-checks" data-testid="checks-step">
        {toolbar}
        <div className="su-loading">
          <span className="su-spin su-spin--lg" /> Inspecting the host: kernel, KVM, vsock, cgroups, sudo, the runtimes installed…
        </div>
      </div>
    );
  }
  const rank = (r: DoctorReportView['recipes'][number]) => (r.prerequisites.some((p) => p.verdict === 'fail') ? 0 : r.prerequisites.some((p) => p.verdict === 'warn') ? 1 : 2);
  // What fails first, then what warns, then the rest (plan order within each).
  const planned = ids
    .map((id) => report.recipes.find((r) => r.id === id))
    .filter((r) => r !== undefined)
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i)
    .map(({ r }) => r);
  const failing = planned.flatMap((r) => r.prerequisites.filter((p) => p.verdict === 'fail').map((p) => ({ recipe: r, check: p })));

  return (
    <div className="su-checks" data-testid="checks-step">
      {toolbar}
      {report.access.mode === 'none' ? <SudoPasswordField user={report.access.user} value={sudoPassword} onChange={onSudoPassword} /> : null}
      {failing.length > 0 ? (
        <div className="su-summary su-summary--bad" data-testid="checks-summary">
          <Icon name="alert" size={16} />
          <div>
            <strong>{failing.length === 1 ? 'One prerequisite fails' : `${failing.length} prerequisites fail`}</strong>
            <p>
              {failing.map((f) => `${f.recipe.title}: ${f.check.title}`).join(' · ')}. You can still run the setup: the steps that depend on {failing.length === 1 ? 'it' : 'them'} will
              fail with this reason, and the verify step will show it in the matrix.
            </p>
          </div>
        </div>
      ) : (
        <div className="su-summary su-summary--ok" data-testid="checks-summary">
          <Icon name="check" size={16} />
          <div>
            <strong>Every required prerequisite is met</strong>
            <p>Warnings, if any, are limitations to know about; they do not stop the setup.</p>
          </div>
        </div>
      )}
      <div className="su-check-grid">
        {planned.map((r) => {
          const worst = r.prerequisites.some((p) => p.verdict === 'fail') ? 'bad' : r.prerequisites.some((p) => p.verdict === 'warn') ? 'warn' : 'ok';
          return (
            <section key={r.id} className={`card su-check-card${worst === 'bad' ? ' card--bad' : worst === 'warn' ? ' card--warn' : ''}`} data-testid="recipe-checks" data-recipe={r.id}>
              <header className="card__header">
                <Icon name="box" size={15} />
                <h3>{r.title}</h3>
                <span className="mono small muted">{r.id}</span>
              </header>
              <ul className="su-check-list">
                {r.prerequisites.map((c) => (
                  <CheckRow key={c.id} check={c} recipe={r.id} />
                ))}
              </ul>
            </section>
          );
        })}
        <section className="card su-check-card" data-testid="host-checks">
          <header className="card__header">
            <Icon name="server" size={15} />
            <h3>This host</h3>
            <span className="mono small muted">{report.access.user} · {report.access.mode === 'sudo-password' ? 'sudo with password' : report.access.mode}</span>
          </header>
          <ul className="su-check-list">
            {report.checks.map((c) => (
              <CheckRow key={c.id} check={c} />
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
