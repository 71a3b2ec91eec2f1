import { useEffect, useState } from 'react';
import type { RunListItem } from '../../shared/model/run.ts';
import { Icon } from '../components/Icon.tsx';
import { formatDate, STATUS_LABELS } from '../components/bench/bench-format.ts';
import { exportsFor, kindOf, RUN_KIND_LABELS } from '../components/bench/run-kind.ts';
import { EnvironmentView } from '../components/bench/EnvironmentView.tsx';
import { RunAnalysis } from '../components/bench/RunAnalysis.tsx';
import { runtimeNames } from '../components/bench/run-view.ts';
import { useRunExport } from '../components/bench/use-run-export.ts';
import { RunLog } from '../components/bench/RunLog.tsx';
import { RunProgress } from '../components/bench/RunProgress.tsx';
import { ConfirmDialog } from '../components/ConnectDialogs.tsx';
import { StatusPill } from '../components/StatusPill.tsx';
import { asLabError } from '../lab-client.ts';
import { useApp } from '../store/app-store.ts';
import { isTerminal, useRuns, type LiveRun } from '../store/runs-store.ts';


// Results: every stored run (they survive restarts: the samples are in SQLite the moment
// they exist), and for the one opened its charts, summary, environment and exports. A run
// still measuring updates here live, as on the Benchmarks page.

export function ResultsPage() {
  const list = useRuns((s) => s.list);
  const listLoaded = useRuns((s) => s.listLoaded);
  const listError = useRuns((s) => s.listError);
  const selectedRunId = useRuns((s) => s.selectedRunId);

  useEffect(() => {
    void useRuns.getState().loadList();
  }, []);

  // Open the first run when none is chosen (or the chosen one is gone).
  useEffect(() => {
    if (!listLoaded) return;
    const state = useRuns.getState();
    // A run this session knows (just started, say) may not be in a list read before it.
    if (selectedRunId && (list.some((r) => r.id === selectedRunId) || state.runs[selectedRunId])) {
      if (!state.runs[selectedRunId]?.meta && !state.runs[selectedRunId]?.loading) void state.open(selectedRunId);
      return;
    }
    const first = list[0]?.id ?? null;
    if (first !== selectedRunId) state.select(first);
  }, [list, listLoaded, selectedRunId]);

  return (
    <div className="page page--results" data-testid="results-page">
      <header className="page__header">
        <div>
          <h1>Results</h1>
          <p className="muted">Every run with its samples, environment and statistics; charts to look at and files to take away.</p>
        </div>
        <div className="page__actions">
          <button type="button" className="btn" data-testid="results-refresh" onClick={() => void useRuns.getState().loadList()}>
            <Icon name="refresh" size={15} /> Refresh
          </button>
          <button type="button" className="btn btn--primary" data-testid="results-new-run" onClick={() => useApp.getState().setPage('benchmarks')}>
            <Icon name="gauge" size={15} /> New benchmark
          </button>
        </div>
      </header>

      {listError ? (
        <div className="callout callout--bad" data-testid="results-load-error">
          <Icon name="alert" size={16} />
          <span>Could not read the stored runs: {listError}</span>
        </div>
      ) : null}

      {listLoaded && list.length === 0 && !listError ? (
        <div className="empty empty--page" data-testid="results-empty">
          <Icon name="chart" size={34} />
          <h2>No runs yet</h2>
          <p className="muted">Runs you start on the Benchmarks page are listed here, kept across restarts, with charts, summaries and CSV export.</p>
          <button type="button" className="btn btn--primary" onClick={() => useApp.getState().setPage('benchmarks')}>
            <Icon name="gauge" size={15} /> Go to Benchmarks
          </button>
        </div>
      ) : (
        <div className="split split--results">
          <aside className="split__list">
            <div className="split__list-head">
              <span>Runs</span>
              <span className="count" data-testid="results-count">
                {list.length}
              </span>
            </div>
            <ul className="run-list" data-testid="run-list">
              {list.map((item) => (
                <RunRow key={item.id} item={item} selected={item.id === selectedRunId} />
              ))}
            </ul>
          </aside>
          <main className="split__detail">
            {selectedRunId ? <RunDetailView key={selectedRunId} runId={selectedRunId} /> : (
              <div className="empty empty--page">
                <Icon name="chart" size={34} />
                <h2>No run selected</h2>
              </div>
            )}
          </main>
        </div>
      )}
    </div>
  );
}

function RunRow({ item, selected }: { item: RunListItem; selected: boolean }) {
  const live = useRuns((s) => s.runs[item.id]);
  // A run measuring right now: its live counts are newer than the listed ones.
  const counts = live && live.samples.length > 0 && item.status === 'running' && item.kind !== 'memory' ? sumCounts(live) : item.counts;
  const [label, tone] = STATUS_LABELS[item.status];
  const unit = item.kind === 'memory' ? 'steps' : 'iterations';
  return (
    <li>
      <button
        type="button"
        className={selected ? 'run-row run-row--selected' : 'run-row'}
        data-testid="run-row"
        data-run-id={item.id}
        data-status={item.status}
        data-kind={item.kind}
        aria-current={selected ? 'true' : undefined}
        onClick={() => useRuns.getState().select(item.id)}
      >
        <span className="run-row__top">
          <span className="run-row__date">{formatDate(item.startedAt)}</span>
          <StatusPill tone={tone} compact testId="run-row-status">
            {label}
          </StatusPill>
        </span>
        <span className="run-row__meta">
          <span className="strong">{item.hostName}</span>
          <span className="dot-sep">·</span>
          <span className="mono">{item.method}</span>
          {item.kind === 'startup' ? null : (
            <>
              <span className="dot-sep">·</span>
              <span className="run-row__kind" data-testid="run-row-kind">
                {RUN_KIND_LABELS[item.kind].short}
              </span>
            </>
          )}
        </span>
        <span className="run-row__runtimes">
          {item.runtimes.map((r) => (
            <span key={r} className="rt-tag mono">
              {r}
            </span>
          ))}
        </span>
        <span className="run-row__counts small" data-testid="run-row-counts" data-ok={counts.ok} data-failed={counts.failed} data-warmups={counts.warmups} data-unit={unit}>
          <span title={`Measured ${unit} that succeeded`}>
            {counts.ok.toLocaleString('en-US')} {unit === 'steps' ? 'steps ok' : 'ok'}
          </span>
          <span className={counts.failed > 0 ? 'bad-text' : 'muted'}>{counts.failed.toLocaleString('en-US')} failed</span>
          {unit === 'steps' ? null : <span className="muted">{counts.warmups.toLocaleString('en-US')} warm-up</span>}
        </span>
      </button>
    </li>
  );
}

function sumCounts(run: LiveRun): RunListItem['counts'] {
  const all = Object.values(run.counts);
  return {
    ok: all.reduce((n, c) => n + c.ok, 0),
    failed: all.reduce((n, c) => n + c.failed, 0),
    warmups: all.reduce((n, c) => n + c.warmups, 0),
  };
}

function RunDetailView({ runId }: { runId: string }) {
  const run = useRuns((s) => s.runs[runId]);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const { exporting, exportError, exportFile } = useRunExport(runId);
  const [abortError, setAbortError] = useState<string | null>(null);
  const [aborting, setAborting] = useState(false);

  if (!run || (!run.meta && run.loading)) {
    return (
      <div className="empty empty--page" data-testid="run-detail-loading">
        <span className="spinner spinner--dark spinner--big" aria-hidden="true" />
        <h2>Reading the run…</h2>
      </div>
    );
  }
  if (!run.meta) {
    return (
      <div className="detail__body">
        <div className="callout callout--bad" data-testid="run-detail-error">
          <Icon name="alert" size={16} />
          <span>{run.loadError ?? 'This run could not be read.'}</span>
        </div>
      </div>
    );
  }

  const meta = run.meta;
  const runtimes = runtimeNames(run);
  const status = isTerminal(run.phase) ? (run.phase as 'completed' | 'aborted' | 'failed') : meta.status;
  const [label, tone] = STATUS_LABELS[status];
  const live = !isTerminal(run.phase);
  const kind = kindOf(meta.plan);

  async function doDelete() {
    setDeleting(true);
    setDeleteError(null);
    try {
      await useRuns.getState().remove(runId);
    } catch (err) {
      setDeleteError(asLabError(err).message);
      setDeleting(false);
    }
  }

  async function abort() {
    setAborting(true);
    setAbortError(null);
    try {
      await useRuns.getState().abort(runId);
    } catch (err) {
      setAbortError(asLabError(err).message);
      setAborting(false);
    }
  }

  return (
    <div className="detail" data-testid="run-detail" data-run-id={runId} data-status={status}>
      <header className="detail__header run-detail__header">
        <span className="detail__icon" aria-hidden="true">
          <Icon name="activity" size={22} />
        </span>
        <div className="detail__title">
          <div className="detail__name-line">
            <h1 className="run-detail__title" data-testid="run-detail-title" title={runtimes.join(' vs ')}>
              {runtimes.join(' vs ')}
            </h1>
            <StatusPill tone={tone} testId="run-detail-status">
              {label}
            </StatusPill>
          </div>
          <div className="detail__sub">
            <span data-testid="run-detail-kind" data-kind={kind}>
              {RUN_KIND_LABELS[kind].label}
            </span>
            <span className="dot-sep">·</span>
            <span className="strong">{meta.hostName}</span>
            <span className="dot-sep">·</span>
            <span>{formatDate(meta.startedAt)}</span>
            <span className="dot-sep">·</span>
            <span className="mono muted">{meta.method}</span>
          </div>
        </div>
        <div className="detail__actions">
          <div className="btn-group" role="group" aria-label="Export">
            {exportsFor(kind).map((choice) => (
              <button key={choice.kind} type="button" className="btn" data-testid={`export-${choice.kind}`} disabled={exporting !== null} onClick={() => void exportFile(choice.kind)} title={choice.title}>
                <Icon name={choice.kind === 'environment-json' ? 'cpu' : choice.kind === 'summary-csv' ? 'list' : 'file'} size={14} /> {choice.label}
              </button>
            ))}
          </div>
          <button
            type="button"
            className="btn btn--icon btn--danger-ghost"
            title={live ? 'Abort the run before deleting it' : 'Delete this run'}
            aria-label="Delete run"
            data-testid="run-delete"
            disabled={live && run.following}
            onClick={() => setConfirming(true)}
          >
            <Icon name="trash" size={15} />
          </button>
        </div>
      </header>

      <div className="detail__body">
        {exportError ? (
          <div className="callout callout--bad" data-testid="export-error">
            <Icon name="alert" size={16} />
            <span>{exportError}</span>
          </div>
        ) : null}
        {abortError ? (
          <div className="callout callout--bad" data-testid="abort-error">
            <Icon name="alert" size={16} />
            <span>{abortError}</span>
          </div>
        ) : null}
        {live ? (
          <RunProgress run={run} runtimes={runtimes} onAbort={() => void abort()} aborting={aborting} />
        ) : status !== 'completed' && meta.statusMessage ? (
          <div className={status === 'failed' ? 'callout callout--bad' : 'callout callout--warn'} data-testid="run-status-message">
            <Icon name="alert" size={16} />
            <span className="callout__content">
              <strong>{status === 'failed' ? 'The run failed' : 'The run was aborted'}</strong>
              <p>{meta.statusMessage}</p>
            </span>
          </div>
        ) : null}
        <RunAnalysis
          run={run}
          pngBase={`runtime-lab-${runId}`}
          aside={
            run.logs.length > 0 ? (
              <section className="card log-card" data-testid="run-log-card">
                <header className="card__header">
                  <Icon name="scroll" size={16} />
                  <h3>Log</h3>
                  <span className="card__badge muted small">heard during this session</span>
                </header>
                <RunLog lines={run.logs} />
              </section>
            ) : undefined
          }
        />
        <h2 className="section-title">Environment</h2>
        <EnvironmentView meta={meta} />
      </div>

      {confirming ? (
        <ConfirmDialog
          title="Delete this run?"
          message={`The run on ${meta.hostName} from ${formatDate(meta.startedAt)} and its ${kind === 'memory' ? 'memory steps' : `${run.samples.length.toLocaleString('en-US')} samples`} will be removed from Runtime Lab. Export it first if you want to keep the numbers.`}
          confirmLabel="Delete run"
          busy={deleting}
          error={deleteError}
          onCancel={() => {
            setConfirming(false);
            setDeleteError(null);
          }}
          onConfirm={() => void doDelete()}
        />
      ) : null}
    </div>
  );
}
