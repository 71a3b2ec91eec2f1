import type { HostFacts } from '../../../shared/model/host-facts.ts';
import { SETUP_METHODS, type DoctorReportView, type RecipeInfo } from '../../../shared/model/setup.ts';
import { withRequired } from '../../store/setup-store.ts';
import { Icon } from '../Icon.tsx';

// Step 1: which runtimes (and which plumbing: containerd, Docker, crictl) to set up, with
// what each one adds to the plan, the methods it enables, whether it is installed already,
// and the doctor's verdict on its prerequisites as soon as the host has been checked.

function verdictOf(doctor: DoctorReportView | null, id: string) {
  const checks = doctor?.recipes.find((r) => r.id === id)?.prerequisites ?? null;
  if (!checks) return null;
  const fails = checks.filter((c) => c.verdict === 'fail');
  const warns = checks.filter((c) => c.verdict === 'warn');
  if (fails.length > 0) return { tone: 'bad', text: `${fails.length} check${fails.length > 1 ? 's' : ''} fail${fails.length > 1 ? '' : 's'}`, title: fails.map((c) => `${c.title}: ${c.reason}`).join('\n') };
  if (warns.length > 0) return { tone: 'warn', text: `${warns.length} warning${warns.length > 1 ? 's' : ''}`, title: warns.map((c) => `${c.title}: ${c.reason}`).join('\n') };
  return { tone: 'ok', text: 'prerequisites met', title: checks.map((c) => `${c.title}: ${c.reason}`).join('\n') };
}

export function RuntimesStep(props: {
  recipes: RecipeInfo[];
  selected: string[];
  doctor: DoctorReportView | null;
  doctorLoading: boolean;
  facts: HostFacts | undefined;
  paramsText: string;
  paramErrors: string[];
  onToggle: (id: string) => void;
  onParamsText: (text: string) => void;
}) {
  const { recipes, selected, doctor, doctorLoading, facts, paramsText, paramErrors, onToggle, onParamsText } = props;
  const runtimes = recipes.filter((r) => r.kind === 'runtime');
  const components = recipes.filter((r) => r.kind === 'component');
  const implied = new Set(withRequired(selected, recipes).filter((id) => !selected.includes(id)));
  const byId = new Map(recipes.map((r) => [r.id, r]));
  const tool = (id: string | null) => (id ? facts?.tools.find((t) => t.id === id) : undefined);

  return (
    <div className="su-runtimes" data-testid="runtimes-step">
      <section className="su-section">
        <div className="su-section__head">
          <h2>Runtimes</h2>
          <p className="muted">Pick the runtimes to install and prove. Each adds what it needs to the plan; nothing runs before you have seen the plan.</p>
        </div>
        <ul className="su-recipe-grid">
          {runtimes.map((r) => {
            const on = selected.includes(r.id);
            const verdict = verdictOf(doctor, r.id);
            const installed = tool(r.tool);
            return (
              <li key={r.id}>
                <label className={`su-recipe${on ? ' su-recipe--on' : ''}`} data-testid="recipe-card" data-recipe={r.id}>
                  <span className="su-recipe__top">
                    <input type="checkbox" checked={on} onChange={() => onToggle(r.id)} data-testid="recipe-pick" />
                    <span className="su-recipe__title">{r.title}</span>
                    <span className="su-recipe__id mono">{r.id}</span>
                  </span>
                  <span className="su-recipe__facts">
                    {installed ? (
                      <span className={`su-chip ${installed.found ? 'su-chip--ok' : ''}`} title={installed.path ?? undefined}>
                        {installed.found ? `installed ${installed.version ?? ''}`.trim() : 'not installed'}
                      </span>
                    ) : null}
                    {verdict ? (
                      <span className={`su-chip su-chip--${verdict.tone}`} title={verdict.title} data-testid="recipe-verdict" data-tone={verdict.tone}>
                        {verdict.text}
                      </span>
                    ) : doctorLoading ? (
                      <span className="su-chip su-chip--muted">checking…</span>
                    ) : null}
                  </span>
                  <span className="su-recipe__methods">
                    {SETUP_METHODS.map((m) => {
                      const support = r.methods.find((x) => x.method === m);
                      const title = !support ? `no ${m} support` : support.unsupported ?? [support.note, support.recipes.length ? `needs ${support.recipes.join(' + ')}` : ''].filter(Boolean).join(' · ');
                      return (
                        <span key={m} className={`su-method${!support || support.unsupported ? ' su-method--off' : ''}`} title={title || m}>
                          {m}
                        </span>
                      );
                    })}
                  </span>
                  <span className="su-recipe__foot small">
                    <span className="su-recipe__adds" title={r.requires.length > 0 ? `Also sets up: ${r.requires.map((id) => byId.get(id)?.title ?? id).join(', ')}` : undefined}>
                      {r.requires.length > 0 ? <>adds <span className="mono">{r.requires.join(', ')}</span></> : 'needs nothing else'}
                    </span>
                    <span className={r.ran ? 'su-ran' : 'su-ran su-ran--no'} title={r.notRunWhy ?? 'ran end to end on a real Debian 12 host in the test suite'}>
                      <Icon name={r.ran ? 'check' : 'info'} size={12} /> {r.ran ? 'tested for real' : 'not yet run for real'}
                    </span>
                  </span>
                </label>
              </li>
            );
          })}
        </ul>
      </section>

      <section className="su-section">
        <div className="su-section__head">
          <h2>Wire into</h2>
          <p className="muted">The plumbing behind the other methods: ctr and CRI need containerd, docker run needs Docker Engine.</p>
        </div>
        <ul className="su-components">
          {components.map((r) => {
            const on = selected.includes(r.id);
            const auto = implied.has(r.id);
            return (
              <li key={r.id}>
                <label className={`su-component${on || auto ? ' su-component--on' : ''}${auto ? ' su-component--auto' : ''}`} data-testid="component-card" data-recipe={r.id} title={r.notRunWhy ?? undefined}>
                  <input type="checkbox" checked={on || auto} disabled={auto} onChange={() => onToggle(r.id)} />
                  <span className="su-component__text">
                    <span className="su-component__title">{r.title}</span>
                    <span className="small muted">{auto ? 'added: required by your choice' : r.ran ? r.id : `${r.id} · not yet run for real`}</span>
                  </span>
                </label>
              </li>
            );
          })}
        </ul>
      </section>

      <details className="su-section su-advanced" open={paramsText.trim() !== '' || undefined}>
        <summary>Parameters (optional)</summary>
        <p className="muted small">
          One <span className="mono">name=value</span> per line, as <span className="mono">runtime-lab setup --set</span> takes them: e.g. <span className="mono">labDir=/srv/lab</span>,{' '}
          <span className="mono">runscPlatform=systrap</span>. List parameters take values separated by spaces.
        </p>
        <textarea
          className="su-params mono"
          rows={4}
          spellCheck={false}
          value={paramsText}
          placeholder="labDir=/srv/runtime-lab"
          data-testid="setup-params"
          onChange={(e) => onParamsText(e.target.value)}
        />
        {paramErrors.length > 0 ? <p className="field__error">{paramErrors.join('; ')}</p> : null}
      </details>
    </div>
  );
}
