import type { DiagnosisView } from '../../../shared/model/setup.ts';
import { Icon } from '../Icon.tsx';

// A recognised failure, next to the log it came from: the line that matched, what it
// means, how to fix it, and whether the safe fix was applied by itself.

export function DiagnosisPanel({ diagnosis, autoFix, outcome }: { diagnosis: DiagnosisView | null; autoFix: string | null; outcome: string }) {
  if (!diagnosis) {
    return (
      <aside className="su-diag su-diag--unknown" data-testid="diagnosis-panel" data-signature="">
        <header className="su-diag__head">
          <Icon name="info" size={16} />
          <h3>Not a known failure</h3>
        </header>
        <p className="small">The output did not match any failure signature of the knowledge base. Read the log: the runtime's own error is usually its last lines.</p>
      </aside>
    );
  }
  const fixed = autoFix !== null;
  const resolved = fixed && outcome !== 'failed';
  return (
    <aside className={`su-diag${resolved ? ' su-diag--fixed' : ''}`} data-testid="diagnosis-panel" data-signature={diagnosis.signatureId}>
      <header className="su-diag__head">
        <Icon name={resolved ? 'wrench' : 'alert'} size={16} />
        <h3>{resolved ? 'Recognised and fixed' : 'Recognised failure'}</h3>
        <span className="mono small su-diag__id">{diagnosis.signatureId}</span>
      </header>
      <div className="su-diag__seen">
        <span className="su-diag__label">Seen</span>
        <code data-testid="diagnosis-excerpt">{diagnosis.excerpt}</code>
      </div>
      <div className="su-diag__block">
        <span className="su-diag__label">What it means</span>
        <p data-testid="diagnosis-meaning">{diagnosis.meaning}</p>
      </div>
      <div className="su-diag__block">
        <span className="su-diag__label">How to fix it</span>
        <p data-testid="diagnosis-fix">{diagnosis.fix}</p>
      </div>
      {fixed ? (
        <p className="su-diag__auto su-diag__auto--applied" data-testid="diagnosis-autofix">
          <Icon name="check" size={13} /> Auto-fix applied: {autoFix}
        </p>
      ) : diagnosis.autoFix ? (
        <p className="su-diag__auto">Safe auto-fix available: {diagnosis.autoFix}</p>
      ) : (
        <p className="su-diag__auto su-diag__auto--manual" data-testid="diagnosis-manual">
          <Icon name="shield" size={13} /> Not applied automatically: this fix is yours to decide.
        </p>
      )}
      <p className="su-diag__source small muted">Source: {diagnosis.source}</p>
    </aside>
  );
}
