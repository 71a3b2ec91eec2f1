import { useEffect, useRef, useState } from 'react';
import { describeTarget } from '../../shared/model/host.ts';
import { ConnectionPill } from '../components/ConnectionPill.tsx';
import { Icon } from '../components/Icon.tsx';
import { Modal } from '../components/Modal.tsx';
import { ChecksStep, SudoPasswordField } from '../components/setup/ChecksStep.tsx';
import { PlanStep } from '../components/setup/PlanStep.tsx';
import { RunStep } from '../components/setup/RunStep.tsx';
import { RuntimesStep } from '../components/setup/RuntimesStep.tsx';
import { Stepper, type StepMark } from '../components/setup/Stepper.tsx';
import { VerifyStep } from '../components/setup/VerifyStep.tsx';
import { useApp } from '../store/app-store.ts';
import { useHosts } from '../store/hosts-store.ts';
import { parseParams, useSetup, WIZARD_STEPS, type WizardStep } from '../store/setup-store.ts';


// The setup wizard: choose a host and runtimes → the doctor's checks → the plan (every
// command, before anything runs) → the run (live log per step, recognised failures
// explained beside it, Cancel) → verify (the runtime × method matrix from real runs).
// Restore puts back every config file a setup changed.

export function SetupPage() {
  const hosts = useHosts((s) => s.hosts);
  const hostsLoaded = useHosts((s) => s.loaded);
  const conn = useHosts((s) => s.conn);
  const facts = useHosts((s) => s.facts);
  const s = useSetup();
  // What the user typed, until it goes out with setup:run: never in a store, never shown again.
  const [sudoPassword, setSudoPassword] = useState('');
  const [restoring, setRestoring] = useState(false);
  const body = useRef<HTMLDivElement>(null);

  // Each step starts at its top.
  useEffect(() => {
    body.current?.scrollTo({ top: 0 });
  }, [s.step]);

  useEffect(() => {
    if (!hostsLoaded) void useHosts.getState().load();
    if (!useSetup.getState().recipes) void useSetup.getState().loadRecipes();
  }, [hostsLoaded]);

  // A host by default: the connected one, else the first saved.
  useEffect(() => {
    const state = useSetup.getState();
    if (state.hostId && hosts.some((h) => h.id === state.hostId)) return;
    const pick = hosts.find((h) => useHosts.getState().conn[h.id]?.state === 'connected') ?? hosts[0];
    state.setHost(pick?.id ?? null);
    if (pick && !useHosts.getState().facts[pick.id]) void useHosts.getState().loadFacts(pick.id);
  }, [hosts]);

  const host = hosts.find((h) => h.id === s.hostId) ?? null;
  const recipes = s.recipes ?? [];
  const runtimes = s.selected.filter((id) => recipes.find((r) => r.id === id)?.kind === 'runtime');
  const { errors: paramErrors } = parseParams(s.paramsText, s.recipes);
  const doctor = s.doctor?.value ?? null;
  const plan = s.plan?.value ?? null;
  const run = s.run && s.run.hostId === s.hostId ? s.run : null;
  const verify = s.verify && s.verify.hostId === s.hostId ? s.verify : null;
  const running = run?.status === 'running' || run?.status === 'starting';
  const needsPassword = doctor?.access.mode === 'none' || plan?.needsSudoPassword === true;

  const chosen = host !== null && s.selected.length > 0 && paramErrors.length === 0;
  const enabled: Record<WizardStep, boolean> = {
    runtimes: !running,
    checks: chosen && !running,
    plan: chosen && !running,
    run: run !== null,
    verify: host !== null && runtimes.length > 0 && !running,
  };
  const checksBad = doctor ? doctor.recipes.some((r) => s.selected.includes(r.id) && r.prerequisites.some((p) => p.verdict === 'fail')) : false;
  const marks: Record<WizardStep, StepMark> = {
    runtimes: s.selected.length > 0 ? 'done' : 'todo',
    checks: s.doctor?.loading ? 'busy' : doctor ? (checksBad ? 'bad' : 'done') : 'todo',
    plan: s.plan?.loading ? 'busy' : plan ? 'done' : 'todo',
    run: running ? 'busy' : run?.status === 'complete' ? 'done' : run?.status === 'failed' ? 'bad' : 'todo',
    verify: verify?.running ? 'busy' : verify?.report ? (Object.values(verify.cells).some((c) => Object.values(c).some((x) => x?.status === 'fails')) ? 'bad' : 'done') : 'todo',
  };

  const go = (step: WizardStep) => s.setStep(step);
  const startRun = () => {
    const password = needsPassword && sudoPassword !== '' ? sudoPassword : undefined;
    setSudoPassword('');
    void s.startRun(password);
  };

  let footer: { back: WizardStep | null; next: { label: string; onClick: () => void; disabled: boolean; testId: string; primary?: boolean } | null };
  switch (s.step) {
    case 'runtimes':
      footer = { back: null, next: { label: 'Check prerequisites', onClick: () => go('checks'), disabled: !enabled.checks, testId: 'setup-next' } };
      break;
    case 'checks':
      footer = { back: 'runtimes', next: { label: 'Show the plan', onClick: () => go('plan'), disabled: !enabled.plan || !doctor, testId: 'setup-next' } };
      break;
    case 'plan':
      footer = {
        back: 'checks',
        next: { label: 'Run the setup', onClick: startRun, disabled: !plan || s.plan?.loading === true || (needsPassword && sudoPassword === ''), testId: 'setup-run', primary: true },
      };
      break;
    case 'run':
      footer = { back: running ? null : 'plan', next: { label: 'Verify', onClick: () => go('verify'), disabled: running || !enabled.verify, testId: 'setup-next', primary: run?.status === 'complete' || run?.status === 'failed' } };
      break;
    case 'verify':
      footer = { back: run ? 'run' : 'plan', next: null };
      break;
  }

  if (hostsLoaded && hosts.length === 0) {
    return (
      <div className="page su-page" data-testid="setup-page">
        <header className="page__header">
          <div>
            <h1>Setup</h1>
            <p className="muted">Install and wire container runtimes on a lab host, see every command first, and prove each method works.</p>
          </div>
        </header>
        <div className="empty empty--page">
          <Icon name="server" size={34} />
          <h2>No lab host yet</h2>
          <p className="muted">Add the machine to set up on the Hosts page: over SSH, or this computer.</p>
          <button type="button" className="btn btn--primary" onClick={() => useApp.getState().setPage('hosts')}>
            <Icon name="plus" size={15} /> Add a host
          </button>
        </div>
      </div>
    );
  }

  return (
    <div className="page su-page" data-testid="setup-page">
      <header className="page__header">
        <div>
          <h1>Setup</h1>
          <p className="muted">Install and wire container runtimes on a lab host, see every command first, and prove each method works.</p>
        </div>
        <div className="page__actions su-hostbar">
          <label className="su-hostpick">
            <span className="su-hostpick__label">Host</span>
            <select value={s.hostId ?? ''} disabled={running} onChange={(e) => s.setHost(e.target.value || null)} data-testid="setup-host">
              {hosts.map((h) => (
                <option key={h.id} value={h.id}>
                  {h.name} — {describeTarget(h.target)}
                </option>
              ))}
            </select>
          </label>
          {host ? <ConnectionPill conn={conn[host.id]} compact /> : null}
          <button type="button" className="btn" disabled={!host || running} onClick={() => setRestoring(true)} data-testid="restore-open" title="Put back every config file a setup changed on this host">
            <Icon name="restore" size={15} /> Restore configs
          </button>
        </div>
      </header>

      <Stepper steps={WIZARD_STEPS} current={s.step} marks={marks} enabled={enabled} onPick={go} />

      <div className="su-body" ref={body} data-testid="setup-body" data-step={s.step}>
        {s.recipesError ? (
          <div className="callout callout--bad">
            <Icon name="alert" size={16} />
            <span>{s.recipesError}</span>
          </div>
        ) : null}
        {s.step === 'runtimes' && s.recipes ? (
          <RuntimesStep
            recipes={recipes}
            selected={s.selected}
            doctor={doctor}
            doctorLoading={s.doctor?.loading === true}
            facts={host ? facts[host.id] : undefined}
            paramsText={s.paramsText}
            paramErrors={paramErrors}
            onToggle={s.toggle}
            onParamsText={s.setParamsText}
          />
        ) : null}
        {s.step === 'checks' ? (
          <ChecksStep
            report={doctor}
            loading={s.doctor?.loading === true}
            error={s.doctor?.error ?? null}
            recipes={recipes}
            selected={s.selected}
            checkDownloads={s.checkDownloads}
            sudoPassword={sudoPassword}
            onSudoPassword={setSudoPassword}
            onCheckDownloads={(on) => {
              s.setCheckDownloads(on);
              void useSetup.getState().loadDoctor(true);
            }}
            onRecheck={() => void s.loadDoctor(true)}
          />
        ) : null}
        {s.step === 'plan' ? (
          <>
            <PlanStep plan={plan} loading={s.plan?.loading === true} error={s.plan?.error ?? null} onRefresh={() => void s.loadPlan(true)} />
            {needsPassword && doctor ? <SudoPasswordField user={doctor.access.user} value={sudoPassword} onChange={setSudoPassword} /> : null}
          </>
        ) : null}
        {s.step === 'run' ? <RunStep run={run} onCancel={() => void s.cancelRun()} /> : null}
        {s.step === 'verify' ? (
          <>
            {doctor?.access.mode === 'none' ? <SudoPasswordField user={doctor.access.user} value={sudoPassword} onChange={setSudoPassword} /> : null}
            <VerifyStep
              verify={verify}
              runtimes={runtimes}
              recipes={recipes}
              doctor={doctor}
              hostLabel={host ? describeTarget(host.target) : ''}
              onVerify={() => {
                const password = doctor?.access.mode === 'none' && sudoPassword !== '' ? sudoPassword : undefined;
                setSudoPassword('');
                void s.startVerify(password);
              }}
            />
          </>
        ) : null}
      </div>

      <footer className="su-footer">
        {footer.back ? (
          <button type="button" className="btn" onClick={() => go(footer.back!)} data-testid="setup-back">
            <Icon name="chevronLeft" size={14} /> Back
          </button>
        ) : (
          <span />
        )}
        <span className="su-footer__summary small muted" data-testid="setup-selection">
          {host ? host.name : 'no host'} · {s.selected.length > 0 ? s.selected.join(', ') : 'nothing chosen yet'}
        </span>
        {footer.next ? (
          <button
            type="button"
            className={`btn${footer.next.primary || s.step !== 'run' ? ' btn--primary' : ''}`}
            onClick={footer.next.onClick}
            disabled={footer.next.disabled}
            data-testid={footer.next.testId}
          >
            {footer.next.testId === 'setup-run' ? <Icon name="play" size={14} /> : null}
            {footer.next.label}
            {footer.next.testId !== 'setup-run' ? <Icon name="chevronRight" size={14} /> : null}
          </button>
        ) : (
          <span />
        )}
      </footer>

      {restoring && host ? (
        <Modal
          title="Restore config files"
          testId="restore-dialog"
          tone="warning"
          icon={<Icon name="restore" size={18} />}
          onDismiss={s.restore?.running ? undefined : () => {
            setRestoring(false);
            s.clearRestore();
          }}
          footer={
            s.restore?.result ? (
              <button type="button" className="btn btn--primary" data-testid="restore-close" onClick={() => {
                setRestoring(false);
                s.clearRestore();
              }}>
                Close
              </button>
            ) : (
              <>
                <button type="button" className="btn" data-autofocus disabled={s.restore?.running} onClick={() => {
                  setRestoring(false);
                  s.clearRestore();
                }}>
                  Cancel
                </button>
                <button type="button" className="btn btn--primary" data-testid="restore-confirm" disabled={s.restore?.running} onClick={() => void s.restoreConfigs()}>
                  {s.restore?.running ? <span className="spinner" /> : <Icon name="restore" size={14} />} Restore
                </button>
              </>
            )
          }
        >
          {s.restore?.result ? (
            s.restore.result.length === 0 ? (
              <p data-testid="restore-result">Nothing to restore: no setup has changed a config file in this lab folder.</p>
            ) : (
              <>
                <p>Put back as they were before Runtime Lab touched them. Restart the daemons that read them (containerd, dockerd) to use them again.</p>
                <ul className="su-restored mono small" data-testid="restore-result">
                  {s.restore.result.map((line) => (
                    <li key={line}>{line}</li>
                  ))}
                </ul>
              </>
            )
          ) : (
            <p>
              Every config file a setup changed on <strong>{host.name}</strong> (daemon.json, containerd's config.toml, …) is put back byte for byte from its backup; files
              that did not exist before are removed. Daemons are not restarted.
            </p>
          )}
          {s.restore?.error ? (
            <div className="callout callout--bad" data-testid="restore-error">
              <Icon name="alert" size={16} />
              <span>{s.restore.error}</span>
            </div>
          ) : null}
        </Modal>
      ) : null}
    </div>
  );
}
