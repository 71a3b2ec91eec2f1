import { useState } from 'react';
import { SETUP_METHODS, type DoctorReportView, type RecipeInfo, type SetupMethod, type VerifyCell } from '../../../shared/model/setup.ts';
import type { VerifyState } from '../../store/setup-store.ts';
import { CopyButton } from './CopyButton.tsx';
import { Icon } from '../Icon.tsx';

// Step 5: the hello workload through every method of each chosen runtime, on the host,
// and the runtime × method matrix filled from what really happened. Colour says works /
// fails / unknown; hover for the reason, click a cell for the runtime's own error, the
// recognised failure's meaning and fix, and the commands and output behind it.

const METHOD_HELP: Record<SetupMethod, string> = {
  'oci-direct': 'RUNTIME run on the test bundle: the fewest layers',
  ctr: 'containerd through ctr run',
  docker: 'docker run with --runtime',
  cri: 'a pod lifecycle through CRI (Runtime Lab’s own client)',
};

const STATUS_LABEL = { works: 'works', fails: 'fails', unknown: 'unknown' } as const;

function Cell({ runtime, method, cell, running, predicted, open, onOpen }: {
  runtime: string;
  method: SetupMethod;
  cell: VerifyCell | undefined;
  running: boolean;
  predicted: { status: string; reason: string } | undefined;
  open: boolean;
  onOpen: () => void;
}) {
  if (!cell) {
    return (
      <td className="su-mcell-td">
        <div
          className={`su-mcell su-mcell--${running ? 'pending' : 'none'}`}
          data-testid="matrix-cell"
          data-runtime={runtime}
          data-method={method}
          data-status={running ? 'pending' : 'none'}
          title={predicted ? `Not verified yet. The doctor expects: ${predicted.status} — ${predicted.reason}` : 'Not verified yet'}
        >
          {running ? <span className="su-spin" /> : <Icon name="minus" size={13} />}
          <span className="su-mcell__status">{running ? 'running…' : 'not run'}</span>
          {predicted && !running ? <span className="su-mcell__reason">doctor: {predicted.status}</span> : null}
        </div>
      </td>
    );
  }
  const icon = cell.status === 'works' ? 'check' : cell.status === 'fails' ? 'x' : 'info';
  return (
    <td className="su-mcell-td">
      <button
        type="button"
        className={`su-mcell su-mcell--${cell.status}${open ? ' su-mcell--open' : ''}`}
        data-testid="matrix-cell"
        data-runtime={runtime}
        data-method={method}
        data-status={cell.status}
        title={`${cell.reason}${cell.meaning ? `\n\n${cell.meaning}` : ''}`}
        aria-expanded={open}
        onClick={onOpen}
      >
        <Icon name={icon} size={14} />
        <span className="su-mcell__status">{STATUS_LABEL[cell.status]}{cell.autoFixed ? ' (auto-fixed)' : ''}</span>
        <span className="su-mcell__reason">{cell.reason}</span>
      </button>
    </td>
  );
}

function CellDetail({ title, method, cell }: { title: string; method: SetupMethod; cell: VerifyCell }) {
  const evidence = cell.evidence;
  return (
    <section className={`su-mdetail su-mdetail--${cell.status}`} data-testid="matrix-detail">
      <header className="su-mdetail__head">
        <strong>
          {title} · {method}
        </strong>
        <span className={`su-verdict su-verdict--${cell.status === 'works' ? 'ok' : cell.status === 'fails' ? 'fail' : 'warn'}`}>{cell.status}</span>
        {evidence ? <span className="small muted">exit {evidence.exitCode ?? 'killed'} · {(evidence.durationMs / 1000).toFixed(2)} s</span> : null}
      </header>
      <p className="su-mdetail__reason" data-testid="matrix-detail-reason">{cell.reason}</p>
      {cell.meaning ? (
        <div className="su-mdetail__grid">
          <div>
            <span className="su-diag__label">What it means{cell.signatureId ? ` (${cell.signatureId})` : ''}</span>
            <p data-testid="matrix-detail-meaning">{cell.meaning}</p>
          </div>
          <div>
            <span className="su-diag__label">How to fix it</span>
            <p>{cell.fix}</p>
          </div>
        </div>
      ) : cell.fix ? (
        <p className="small">
          <Icon name="wrench" size={12} /> {cell.fix}
        </p>
      ) : null}
      {cell.autoFixed ? (
        <p className="su-diag__auto su-diag__auto--applied">
          <Icon name="check" size={13} /> Auto-fix applied for this run: {cell.autoFixed}
        </p>
      ) : null}
      {evidence ? (
        <div className="su-mdetail__evidence">
          <div className="su-mdetail__evhead">
            <span className="su-diag__label">Ran</span>
            <CopyButton text={`${evidence.commands.map((c) => `$ ${c}`).join('\n')}\n${evidence.output}`} compact label="Copy" />
          </div>
          <pre className="su-term su-term--short">
            {evidence.commands.map((c, i) => (
              <span key={i} className="su-term__command">{`$ ${c}\n`}</span>
            ))}
            <span className="su-term__stdout">{evidence.output || '(no output)'}</span>
          </pre>
        </div>
      ) : null}
    </section>
  );
}

export function VerifyStep(props: {
  verify: VerifyState | null;
  runtimes: string[];
  recipes: RecipeInfo[];
  doctor: DoctorReportView | null;
  hostLabel: string;
  onVerify: () => void;
}) {
  const { verify, runtimes, recipes, doctor, hostLabel, onVerify } = props;
  const [open, setOpen] = useState<{ runtime: string; method: SetupMethod } | null>(null);
  const rows = verify?.runtimes ?? runtimes;
  const title = (id: string) => recipes.find((r) => r.id === id)?.title ?? id;
  const cells = verify?.cells ?? {};
  const all = rows.flatMap((r) => SETUP_METHODS.map((m) => cells[r]?.[m])).filter((c) => c !== undefined);
  const tally = { works: all.filter((c) => c.status === 'works').length, fails: all.filter((c) => c.status === 'fails').length, unknown: all.filter((c) => c.status === 'unknown').length };
  const openCell = open ? cells[open.runtime]?.[open.method] : undefined;

  return (
    <div className="su-verify" data-testid="verify-step-view" data-running={verify?.running ? 'true' : 'false'}>
      <div className="su-toolbar">
        <p className="su-verify__intro">
          Runs the hello workload through every method each runtime supports on <span className="mono">{hostLabel}</span>: the runtime itself on the test bundle, ctr and
          docker when their daemons answer, a whole pod lifecycle through containerd’s CRI with Runtime Lab’s own client. Containers run as root.
        </p>
        <button type="button" className="btn btn--primary" onClick={onVerify} disabled={verify?.running || runtimes.length === 0} data-testid="verify-run">
          {verify?.running ? <span className="spinner" /> : <Icon name="play" size={14} />}
          {verify?.running ? 'Verifying…' : verify ? 'Verify again' : 'Run the hello workload'}
        </button>
      </div>
      {verify?.error ? (
        <div className="callout callout--bad" data-testid="verify-error">
          <Icon name="alert" size={16} />
          <span>{verify.error}</span>
        </div>
      ) : null}
      <div className="card su-matrix-card">
        <table className="su-matrix" data-testid="verify-matrix">
          <colgroup>
            <col className="su-matrix__col-rt" />
            {SETUP_METHODS.map((m) => (
              <col key={m} />
            ))}
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Runtime</th>
              {SETUP_METHODS.map((m) => (
                <th key={m} scope="col" title={METHOD_HELP[m]}>
                  <span className="mono">{m}</span>
                  <span className="su-matrix__help">{METHOD_HELP[m]}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((runtime) => {
              const predicted = doctor?.matrix.find((m) => m.runtime === runtime)?.cells;
              return (
                <tr key={runtime} data-testid="matrix-row" data-runtime={runtime}>
                  <th scope="row">
                    <span className="su-matrix__rt">{title(runtime)}</span>
                    <span className="mono small muted">{runtime}</span>
                  </th>
                  {SETUP_METHODS.map((m) => (
                    <Cell
                      key={m}
                      runtime={runtime}
                      method={m}
                      cell={cells[runtime]?.[m]}
                      running={verify?.running === true}
                      predicted={predicted?.[m]}
                      open={open?.runtime === runtime && open.method === m}
                      onOpen={() => setOpen(open?.runtime === runtime && open.method === m ? null : { runtime, method: m })}
                    />
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
        <footer className="su-matrix__legend small">
          <span className="su-legend su-legend--works">works {all.length ? tally.works : ''}</span>
          <span className="su-legend su-legend--fails">fails {all.length ? tally.fails : ''}</span>
          <span className="su-legend su-legend--unknown">unknown {all.length ? tally.unknown : ''}</span>
          <span className="muted">Hover a cell for the reason; click it for the error, its meaning and fix, and the output.</span>
        </footer>
      </div>
      {open && openCell ? <CellDetail title={title(open.runtime)} method={open.method} cell={openCell} /> : null}
    </div>
  );
}
