import { useEffect, useMemo, useState } from 'react';
import {
  CTR_RUNC_SHIM,
  DEFAULT_CONTAINERD_ADDRESS,
  DEFAULT_CONTAINERD_NAMESPACE,
  DEFAULT_CRI_ADDRESS,
  DEFAULT_DAEMON_SAMPLE_MS,
  DEFAULT_MEMORY_SETTLE_MS,
  DEFAULT_PERF,
  DEFAULT_DOCKER_HOST,
  DEFAULT_SNAPSHOTTER,
  MEASUREMENT_METHODS,
  PERF_KERNELS,
  type Plan,
  type RuntimeSpec,
} from '../../shared/model/plan.ts';
import { describeTarget } from '../../shared/model/host.ts';
import { Icon } from '../components/Icon.tsx';
import { formatDate } from '../components/bench/bench-format.ts';
import { buildPlan, flagsText, isPicked, MEASUREMENTS, METHOD_LABELS, STORAGE_DRIVERS, useMethodDraft, type DraftErrors, type Measurement, type MethodDraft } from '../components/bench/plan-draft.ts';
import { RunAnalysis } from '../components/bench/RunAnalysis.tsx';
import { runtimeNames } from '../components/bench/run-view.ts';
import { RunLog } from '../components/bench/RunLog.tsx';
import { RunProgress } from '../components/bench/RunProgress.tsx';
import { ConnectionPill } from '../components/ConnectionPill.tsx';
import { asLabError, call } from '../lab-client.ts';
import { useApp } from '../store/app-store.ts';
import { useHosts } from '../store/hosts-store.ts';
import { isTerminal, plannedTotal, useRuns, type LiveRun } from '../store/runs-store.ts';


// Benchmarks: on a connected host, pick the runtimes found there, press Run, and watch
// container startup time being measured — each runtime called directly on the same OCI
// bundle, interleaved, every sample stored (and drawn) the moment it exists.

const NO_SPECS: RuntimeSpec[] = [];

type Presets = { hostId: string; specs: RuntimeSpec[] } | { hostId: string; error: string } | null;

export function BenchmarksPage() {
  const hosts = useHosts((s) => s.hosts);
  const hostsLoaded = useHosts((s) => s.loaded);
  const facts = useHosts((s) => s.facts);
  const conn = useHosts((s) => s.conn);
  const draft = useRuns((s) => s.draft);
  const setDraft = useRuns((s) => s.setDraft);
  const methodDraft = useMethodDraft((s) => s.draft);
  const setMethod = useMethodDraft((s) => s.set);
  const activeRunId = useRuns((s) => s.activeRunId);
  const activeRun = useRuns((s) => (s.activeRunId ? s.runs[s.activeRunId] : undefined));
  const runs = useRuns((s) => s.runs);
  const list = useRuns((s) => s.list);
  const [presets, setPresets] = useState<Presets>(null);
  const starting = useRuns((s) => s.starting);
  const startError = useRuns((s) => s.startError);

  // Hosts and what is known about them this session (inspection facts live in main).
  useEffect(() => {
    if (!hostsLoaded) void useHosts.getState().load();
    void useRuns.getState().loadList();
  }, [hostsLoaded]);
  useEffect(() => {
    for (const h of hosts) if (!useHosts.getState().facts[h.id]) void useHosts.getState().loadFacts(h.id);
  }, [hosts]);

  const ready = hosts.filter((h) => facts[h.id]);
  const notReady = hosts.filter((h) => !facts[h.id]);
  const hostId = draft.hostId && facts[draft.hostId] ? draft.hostId : (ready.find((h) => conn[h.id]?.state === 'connected') ?? ready[0])?.id ?? null;
  const host = hosts.find((h) => h.id === hostId) ?? null;
  const hostFacts = hostId ? facts[hostId] : undefined;
  const collectedAt = hostFacts?.collectedAt;

  // The runtimes this host has, with the flags oci-direct uses by default.
  useEffect(() => {
    if (!hostId || !collectedAt) return;
    let live = true;
    call('hosts:runtimePresets', { id: hostId }).then(
      (specs) => live && setPresets({ hostId, specs }),
      (err: unknown) => live && setPresets({ hostId, error: asLabError(err).message }),
    );
    return () => {
      live = false;
    };
  }, [hostId, collectedAt]);

  const specs = presets && presets.hostId === hostId && 'specs' in presets ? presets.specs : NO_SPECS;
  const presetError = presets && presets.hostId === hostId && 'error' in presets ? presets.error : null;
  const { plan, errors } = useMemo(() => buildPlan(draft, specs, methodDraft), [draft, specs, methodDraft]);
  const running = activeRun !== undefined && !isTerminal(activeRun.phase);
  const busy = starting !== null || running;
  const otherRunning = list.filter((r) => r.status === 'running' && r.id !== activeRunId);

  // While runs:start is on its way, the run's first events (deploying…) arrive under an id
  // we do not know yet: the newest run first heard of since the click is ours.
  const pending: LiveRun | undefined = starting
    ? Object.values(runs)
        .filter((r) => !starting.known.has(r.runId))
        .sort((a, b) => b.firstSeenAt - a.firstSeenAt)[0]
    : undefined;

  function run() {
    if (plan && host) void useRuns.getState().start(host.id, host.name, plan);
  }

  return (
    <div className="page page--bench" data-testid="benchmarks-page">
      <header className="page__header">
        <div>
          <h1>Benchmarks</h1>
          <p className="muted">
            {pageIntro(methodDraft)}
          </p>
        </div>
      </header>

      <div className="bench-layout">
        <aside className="plan-panel" data-testid="bench-plan">
          {ready.length === 0 ? (
            <NoHost notReady={notReady.map((h) => ({ id: h.id, name: h.name, target: describeTarget(h.target) }))} loaded={hostsLoaded} />
          ) : (
            <>
              <div className="plan-panel__body">
                <section className="plan-section">
                  <h2 className="plan-section__title">Host</h2>
                  <div className="host-pick">
                    <select
                      data-testid="bench-host-select"
                      value={hostId ?? ''}
                      disabled={busy}
                      onChange={(e) => setDraft({ hostId: e.target.value, picked: {}, flags: {} })}
                    >
                      {ready.map((h) => (
                        <option key={h.id} value={h.id}>
                          {h.name}
                        </option>
                      ))}
                    </select>
                    {host ? <ConnectionPill conn={conn[host.id]} compact /> : null}
                  </div>
                  {host && hostFacts ? (
                    <p className="host-pick__facts muted small" data-testid="bench-host-facts">
                      <span className="mono">{describeTarget(host.target)}</span>
                      <br />
                      {hostFacts.os.prettyName || hostFacts.os.distroId} · kernel <span className="mono">{hostFacts.os.kernel}</span> · cgroup {hostFacts.cgroup.mode} ·{' '}
                      {hostFacts.cpu.cores} cores
                    </p>
                  ) : null}
                  {notReady.length > 0 ? (
                    <p className="muted small plan-section__hint">
                      {notReady.length} more {notReady.length === 1 ? 'host is' : 'hosts are'} not connected.{' '}
                      <button type="button" className="link-btn" onClick={() => useApp.getState().setPage('hosts')}>
                        Connect on Hosts
                      </button>
                    </p>
                  ) : null}
                </section>

                <MethodSection draft={methodDraft} errors={errors} disabled={busy} onChange={setMethod} />

                <MeasurementSection draft={methodDraft} errors={errors} disabled={busy} onChange={setMethod} />

                <section className="plan-section">
                  <h2 className="plan-section__title">
                    Runtimes <span className="plan-section__aside">method: {METHOD_LABELS[methodDraft.method].label}</span>
                  </h2>
                  {presetError ? (
                    <div className="callout callout--bad small" data-testid="bench-presets-error">
                      <Icon name="alert" size={15} />
                      <span>{presetError}</span>
                    </div>
                  ) : presets === null || presets.hostId !== hostId ? (
                    <p className="muted small">Reading the runtimes found on this host…</p>
                  ) : specs.length === 0 ? (
                    <p className="muted small" data-testid="bench-no-runtimes">
                      No runtime this method can call was found on the host (runc, crun, youki, runsc, kata-runtime, runnc). Install one, then re-inspect the host.
                    </p>
                  ) : (
                    <ul className="rt-picks">
                      {specs.map((spec) => {
                        const picked = isPicked(draft, spec.name);
                        const flagError = errors.flags?.[spec.name];
                        return (
                          <li key={spec.name} className={picked ? 'rt-pick rt-pick--on' : 'rt-pick'} data-testid="bench-runtime" data-runtime={spec.name}>
                            <label className="rt-pick__head">
                              <input
                                type="checkbox"
                                checked={picked}
                                disabled={busy}
                                data-testid="bench-runtime-check"
                                onChange={(e) => setDraft({ picked: { ...draft.picked, [spec.name]: e.target.checked } })}
                              />
                              <span className="mono strong">{spec.name}</span>
                              {spec.lifecycle !== 'run' ? <span className="tag" title="This runtime has no `run`: it is created, then started">{spec.lifecycle}</span> : null}
                              <span className="rt-pick__binary mono muted" title={spec.binary}>
                                {spec.binary}
                              </span>
                            </label>
                            <div className="rt-pick__flags">
                              <input
                                className="mono"
                                aria-label={`Global flags for ${spec.name}`}
                                placeholder="no global flags"
                                spellCheck={false}
                                disabled={busy || !picked}
                                value={flagsText(draft, spec)}
                                data-testid="bench-runtime-flags"
                                onChange={(e) => setDraft({ flags: { ...draft.flags, [spec.name]: e.target.value } })}
                              />
                              {flagError ? <span className="field__error">{flagError}</span> : null}
                              <RuntimeMethodChoice spec={spec} draft={methodDraft} error={errors.methodRuntime?.[spec.name]} disabled={busy || !picked} onChange={setMethod} />
                            </div>
                          </li>
                        );
                      })}
                    </ul>
                  )}
                  {errors.runtimes && specs.length > 0 ? <p className="field__error">{errors.runtimes}</p> : null}
                </section>

                {methodDraft.measurement === 'memory' ? null : (
                <section className="plan-section">
                  <h2 className="plan-section__title">Iterations</h2>
                  <div className="num-grid">
                    <NumField label="Measured" unit="per runtime" testId="bench-iterations" value={draft.iterations} error={errors.iterations} disabled={busy} onChange={(v) => setDraft({ iterations: v })} />
                    <NumField label="Warm-ups" unit="not in stats" testId="bench-warmups" value={draft.warmups} error={errors.warmups} disabled={busy} onChange={(v) => setDraft({ warmups: v })} />
                    <NumField label="Timeout" unit="s / iteration" testId="bench-timeout" value={draft.timeoutSec} error={errors.timeout} disabled={busy} step="any" onChange={(v) => setDraft({ timeoutSec: v })} />
                  </div>
                  <div className="field">
                    <span className="field__label">Order</span>
                    <div className="order-line">
                      <div className="segmented" role="radiogroup" aria-label="Order">
                        {(['round-robin', 'random'] as const).map((o) => (
                          <button
                            key={o}
                            type="button"
                            role="radio"
                            aria-checked={draft.order === o}
                            className={draft.order === o ? 'segmented__item segmented__item--on' : 'segmented__item'}
                            data-testid={`bench-order-${o}`}
                            disabled={busy}
                            onClick={() => setDraft({ order: o })}
                          >
                            <Icon name={o === 'random' ? 'shuffle' : 'repeat'} size={14} />
                            {o === 'random' ? 'Random' : 'Round-robin'}
                          </button>
                        ))}
                      </div>
                      {draft.order === 'random' ? (
                        <input
                          className="seed-input mono"
                          aria-label="Seed"
                          placeholder="seed (auto)"
                          inputMode="numeric"
                          value={draft.seed}
                          disabled={busy}
                          data-testid="bench-seed"
                          onChange={(e) => setDraft({ seed: e.target.value })}
                        />
                      ) : null}
                    </div>
                    {errors.seed ? <span className="field__error">{errors.seed}</span> : null}
                    <span className="field__hint">
                      {draft.order === 'random'
                        ? 'Each round runs the runtimes in a shuffled order; the seed is recorded so the order can be reproduced.'
                        : 'Each round runs every runtime once, in turn: drift on the host hits all of them alike.'}
                    </span>
                  </div>
                </section>
                )}
              </div>

              <footer className="plan-panel__footer">
                {errors.plan ? <p className="field__error">{errors.plan}</p> : null}
                {startError ? (
                  <div className="callout callout--bad small" data-testid="bench-start-error">
                    <Icon name="alert" size={15} />
                    <span>{startError}</span>
                  </div>
                ) : null}
                <div className="plan-total muted small" data-testid="bench-total">
                  {plan ? <PlanTotal plan={plan} /> : 'Complete the plan to run it.'}
                </div>
                <button type="button" className="btn btn--primary btn--run" data-testid="bench-run" disabled={!plan || busy || !host} onClick={run}>
                  {starting ? <span className="spinner" aria-hidden="true" /> : <Icon name="play" size={15} />}
                  {starting ? 'Starting…' : running ? 'Running…' : 'Run benchmark'}
                </button>
              </footer>
            </>
          )}
        </aside>

        <main className="run-area" data-testid="bench-run-area">
          {starting ? (
            <StartingCard run={pending} hostName={starting.hostName} />
          ) : activeRun ? (
            <ActiveRun run={activeRun} />
          ) : (
            <Intro title={introTitle(methodDraft)} otherRunning={otherRunning.map((r) => ({ id: r.id, hostName: r.hostName, startedAt: r.startedAt }))} />
          )}
        </main>
      </div>
    </div>
  );
}

function MethodSection(props: { draft: MethodDraft; errors: DraftErrors; disabled: boolean; onChange: (patch: Partial<MethodDraft>) => void }) {
  const { draft, errors, disabled, onChange } = props;
  const text = (label: string, testId: string, key: 'containerdAddress' | 'containerdNamespace' | 'snapshotter' | 'dockerHost' | 'storageDriver' | 'criAddress', placeholder: string) => (
    <label className="field field--grow">
      <span className="field__label">{label}</span>
      <input className="mono" spellCheck={false} placeholder={placeholder} value={draft[key]} disabled={disabled} data-testid={testId} onChange={(e) => onChange({ [key]: e.target.value })} />
    </label>
  );
  return (
    <section className="plan-section" data-testid="bench-method" data-method={draft.method}>
      <h2 className="plan-section__title">Method</h2>
      <div className="segmented segmented--compact" role="radiogroup" aria-label="Method">
        {MEASUREMENT_METHODS.map((m) => (
          <button
            key={m}
            type="button"
            role="radio"
            aria-checked={draft.method === m}
            className={draft.method === m ? 'segmented__item segmented__item--on' : 'segmented__item'}
            data-testid={`bench-method-${m}`}
            disabled={disabled}
            onClick={() => onChange({ method: m })}
          >
            <Icon name={m === 'oci-direct' ? 'box' : m === 'ctr' ? 'layers' : m === 'cri' ? 'grid' : 'server'} size={14} />
            {METHOD_LABELS[m].label}
          </button>
        ))}
      </div>
      <span className="field__hint">{METHOD_LABELS[draft.method].hint}</span>
      {draft.method === 'ctr' ? (
        <div className="form" data-testid="bench-ctr-options">
          {text('containerd socket', 'bench-containerd-address', 'containerdAddress', DEFAULT_CONTAINERD_ADDRESS)}
          <div className="field-row">
            {text('Namespace', 'bench-containerd-namespace', 'containerdNamespace', DEFAULT_CONTAINERD_NAMESPACE)}
            {text('Snapshotter', 'bench-snapshotter', 'snapshotter', DEFAULT_SNAPSHOTTER)}
          </div>
          {errors.containerd ? <span className="field__error">{errors.containerd}</span> : null}
        </div>
      ) : null}
      {draft.method === 'docker' ? (
        <div className="form" data-testid="bench-docker-options">
          {text('Docker host', 'bench-docker-host', 'dockerHost', DEFAULT_DOCKER_HOST)}
          <div className="field">
            <span className="field__label">Storage drivers to compare</span>
            <div className="chip-picks" role="group" aria-label="Storage drivers" data-testid="bench-storage-drivers" data-picked={draft.storageDrivers.join(',')}>
              {STORAGE_DRIVERS.map((d) => {
                const on = draft.storageDrivers.includes(d);
                return (
                  <button
                    key={d}
                    type="button"
                    aria-pressed={on}
                    className={on ? 'chip-pick chip-pick--on mono' : 'chip-pick mono'}
                    data-testid="bench-storage-driver-option"
                    data-driver={d}
                    disabled={disabled}
                    onClick={() => onChange({ storageDrivers: on ? draft.storageDrivers.filter((x) => x !== d) : [...draft.storageDrivers, d] })}
                  >
                    {on ? <Icon name="check" size={12} /> : null}
                    {d}
                  </button>
                );
              })}
            </div>
            <span className="field__hint">
              {draft.storageDrivers.length > 0
                ? `The whole plan runs once per driver, in this order: ${draft.storageDrivers.join(' → ')}. daemon.json is backed up, switched per driver and restored.`
                : 'None picked: one pass on the driver dockerd already uses. Pick two or more to compare them.'}
            </span>
          </div>
          {draft.storageDrivers.length === 0 ? (
            <>
              {text('Expected storage driver', 'bench-storage-driver', 'storageDriver', 'any (recorded only)')}
              <span className="field__hint">When set, the run stops before measuring if dockerd uses another storage driver.</span>
            </>
          ) : null}
          {errors.docker ? <span className="field__error">{errors.docker}</span> : null}
        </div>
      ) : null}
      {draft.method === 'cri' ? (
        <div className="form" data-testid="bench-cri-options">
          {text('CRI socket', 'bench-cri-address', 'criAddress', DEFAULT_CRI_ADDRESS)}
          <span className="field__hint">containerd’s CRI plugin by default; cri-o listens on /var/run/crio/crio.sock. Each runtime’s handler is set below.</span>
          {errors.cri ? <span className="field__error">{errors.cri}</span> : null}
        </div>
      ) : null}
      {draft.method !== 'oci-direct' ? (
        <label className="field">
          <span className="field__label">Daemon sampling</span>
          <span className={errors.daemonSample ? 'num-input num-input--bad' : 'num-input'}>
            <input
              type="number"
              min={0}
              step={50}
              inputMode="numeric"
              placeholder={String(DEFAULT_DAEMON_SAMPLE_MS)}
              value={draft.daemonSampleMs}
              disabled={disabled}
              data-testid="bench-daemon-sample"
              onChange={(e) => onChange({ daemonSampleMs: e.target.value })}
            />
            <span className="num-input__unit">ms between CPU/RSS readings of the daemons and shims (0: off)</span>
          </span>
          {errors.daemonSample ? <span className="field__error">{errors.daemonSample}</span> : null}
        </label>
      ) : null}
    </section>
  );
}

/** The runtime's own choice under ctr (runtime type) or docker (runtime name); nothing for OCI direct. */
function RuntimeMethodChoice(props: { spec: RuntimeSpec; draft: MethodDraft; error: string | undefined; disabled: boolean; onChange: (patch: Partial<MethodDraft>) => void }) {
  const { spec, draft, error, disabled, onChange } = props;
  if (draft.method === 'oci-direct') return null;
  if (draft.method === 'cri') {
    return (
      <>
        <input
          className="mono"
          aria-label={`CRI runtime handler for ${spec.name}`}
          title="RunPodSandbox’s runtime_handler: a runtime the CRI endpoint’s configuration names"
          placeholder={`runtime handler: ${spec.name}`}
          spellCheck={false}
          disabled={disabled}
          value={draft.criHandler[spec.name] ?? ''}
          data-testid="bench-runtime-cri-handler"
          onChange={(e) => onChange({ criHandler: { ...draft.criHandler, [spec.name]: e.target.value } })}
        />
        {error ? <span className="field__error">{error}</span> : null}
      </>
    );
  }
  const ctr = draft.method === 'ctr';
  // As the agent names it (agent/docker-method.ts): plain runc is dockerd's built-in runtime.
  const dockerDefault = /(^|\/)runc$/.test(spec.binary) && spec.globalArgs.length === 0 ? 'runc' : `rlab-${spec.name}`;
  const value = ctr ? (draft.ctrRuntimeType[spec.name] ?? '') : (draft.dockerRuntime[spec.name] ?? '');
  return (
    <>
      <input
        className="mono"
        aria-label={ctr ? `containerd runtime type for ${spec.name}` : `Docker runtime name for ${spec.name}`}
        title={ctr ? `Empty: ${CTR_RUNC_SHIM} with --runc-binary ${spec.binary}` : `Empty: ${dockerDefault} ${dockerDefault === 'runc' ? '(built in)' : '(registered in daemon.json for the run only)'}`}
        placeholder={ctr ? `--runtime ${CTR_RUNC_SHIM} (runc shim → ${spec.binary})` : `--runtime ${dockerDefault}${dockerDefault === 'runc' ? '' : ' (registered for the run)'}`}
        spellCheck={false}
        disabled={disabled}
        value={value}
        data-testid={ctr ? 'bench-runtime-ctr-type' : 'bench-runtime-docker-name'}
        onChange={(e) =>
          ctr ? onChange({ ctrRuntimeType: { ...draft.ctrRuntimeType, [spec.name]: e.target.value } }) : onChange({ dockerRuntime: { ...draft.dockerRuntime, [spec.name]: e.target.value } })
        }
      />
      {spec.lifecycle === 'create-start' ? <span className="field__hint field__hint--warn">Has no `run`: under {draft.method} it needs a shim or daemon runtime that drives it.</span> : null}
      {error ? <span className="field__error">{error}</span> : null}
    </>
  );
}

function pageIntro(draft: MethodDraft): string {
  if (draft.measurement === 'memory') return 'Memory footprint: the seed’s loop.c kept running in N containers per runtime, N stepping up; PSS of every process the runtime added, per container.';
  if (draft.measurement === 'perf') return 'Performance inside the container: the same static binary times a CPU loop, a getpid loop and write + fsync in every runtime.';
  if (draft.method === 'cri') return 'The pod lifecycle through the CRI socket (RunPodSandbox … RemovePodSandbox), each call timed on its own, interleaved over many iterations.';
  if (draft.method === 'oci-direct') return 'Container startup time, each runtime called directly on the same OCI bundle, interleaved over many iterations.';
  return `Container startup time through ${draft.method === 'ctr' ? 'containerd (ctr run)' : 'Docker (docker run)'}, the same workload as an image, interleaved over many iterations, with the daemons’ CPU and memory.`;
}

const MEASUREMENT_LABELS: Record<Measurement, { label: string; icon: 'gauge' | 'layers' | 'cpu'; hint: string }> = {
  startup: { label: 'Startup', icon: 'gauge', hint: 'How long a container takes from start to exit (per CRI call for method CRI).' },
  memory: { label: 'Memory', icon: 'layers', hint: 'loop.c in N containers at once per runtime; per step, PSS of the runtime’s processes and the MemAvailable drop, per container.' },
  perf: { label: 'Perf', icon: 'cpu', hint: 'Fixed work timed inside each runtime’s container: CPU loop, getpid loop, write + fsync.' },
};

function MeasurementSection(props: { draft: MethodDraft; errors: DraftErrors; disabled: boolean; onChange: (patch: Partial<MethodDraft>) => void }) {
  const { draft, errors, disabled, onChange } = props;
  const field = (label: string, unit: string, testId: string, key: 'memoryContainers' | 'memorySettleMs' | 'perfCpuLoops' | 'perfSyscalls' | 'perfIoMiB', placeholder: string) => (
    <label className="field field--grow">
      <span className="field__label">{label}</span>
      <span className="num-input">
        <input className="mono" spellCheck={false} placeholder={placeholder} value={draft[key]} disabled={disabled} data-testid={testId} onChange={(e) => onChange({ [key]: e.target.value })} />
        <span className="num-input__unit">{unit}</span>
      </span>
    </label>
  );
  return (
    <section className="plan-section" data-testid="bench-measurement" data-measurement={draft.measurement}>
      <h2 className="plan-section__title">Measure</h2>
      <div className="segmented" role="radiogroup" aria-label="Measure">
        {MEASUREMENTS.map((m) => {
          const refused = m !== 'startup' && draft.method === 'cri';
          return (
            <button
              key={m}
              type="button"
              role="radio"
              aria-checked={draft.measurement === m}
              className={draft.measurement === m ? 'segmented__item segmented__item--on' : 'segmented__item'}
              data-testid={`bench-measure-${m}`}
              disabled={disabled || refused}
              title={refused ? 'Memory and perf plans run through OCI direct, ctr or docker' : MEASUREMENT_LABELS[m].hint}
              onClick={() => onChange({ measurement: m })}
            >
              <Icon name={MEASUREMENT_LABELS[m].icon} size={14} />
              {MEASUREMENT_LABELS[m].label}
            </button>
          );
        })}
      </div>
      <span className="field__hint">{MEASUREMENT_LABELS[draft.measurement].hint}</span>
      {draft.measurement === 'memory' ? (
        <div className="form" data-testid="bench-memory-options">
          <div className="field-row">
            {field('Containers per step', 'at once', 'bench-memory-containers', 'memoryContainers', '1, 5, 10, 20')}
            {field('Settle', 'ms', 'bench-memory-settle', 'memorySettleMs', String(DEFAULT_MEMORY_SETTLE_MS))}
          </div>
          <span className="field__hint">Steps stop before the host’s free memory would fall under max(512 MiB, 10% of RAM); everything is removed afterwards.</span>
          {errors.memory ? <span className="field__error">{errors.memory}</span> : null}
        </div>
      ) : null}
      {draft.measurement === 'perf' ? (
        <div className="form" data-testid="bench-perf-options">
          <div className="field-row">
            {field('CPU loop', 'iterations', 'bench-perf-cpu', 'perfCpuLoops', DEFAULT_PERF.cpuLoops.toLocaleString('en-US'))}
            {field('Syscalls', 'getpid calls', 'bench-perf-syscalls', 'perfSyscalls', DEFAULT_PERF.syscalls.toLocaleString('en-US'))}
          </div>
          {field('File I/O', 'MiB, write + fsync', 'bench-perf-io', 'perfIoMiB', String(DEFAULT_PERF.ioBytes / (1024 * 1024)))}
          {errors.perf ? <span className="field__error">{errors.perf}</span> : null}
        </div>
      ) : null}
    </section>
  );
}

/** How much the plan will measure, in its own unit. */
function PlanTotal({ plan }: { plan: Plan }) {
  const runtimes = `${plan.runtimes.length} runtime${plan.runtimes.length === 1 ? '' : 's'}`;
  if (plan.memory) {
    return (
      <>
        <strong>{plannedTotal(plan).toLocaleString('en-US')}</strong> memory steps · {runtimes} × {plan.memory.containers.join(', ')} containers
      </>
    );
  }
  const drivers = plan.docker?.storageDrivers?.length ?? 1;
  const starts = plan.runtimes.length * (plan.iterations + plan.warmups) * drivers;
  const what = plan.method === 'cri' ? 'pod lifecycles' : 'container starts';
  return (
    <>
      <strong>{starts.toLocaleString('en-US')}</strong> {what} · {runtimes} × {plan.iterations.toLocaleString('en-US')} + {plan.warmups} warm-up
      {drivers > 1 ? ` × ${drivers} storage drivers` : ''}
      {plan.perf ? ` · ${PERF_KERNELS.length} kernels each` : ''}
    </>
  );
}

function NumField(props: { label: string; unit: string; testId: string; value: string; error: string | undefined; disabled: boolean; step?: string; onChange: (v: string) => void }) {
  const { label, unit, testId, value, error, disabled, step, onChange } = props;
  return (
    <label className="field">
      <span className="field__label">{label}</span>
      <span className={error ? 'num-input num-input--bad' : 'num-input'}>
        <input type="number" min={0} step={step ?? 1} inputMode="numeric" value={value} disabled={disabled} data-testid={testId} onChange={(e) => onChange(e.target.value)} />
        <span className="num-input__unit">{unit}</span>
      </span>
      {error ? <span className="field__error">{error}</span> : null}
    </label>
  );
}

function NoHost({ notReady, loaded }: { notReady: { id: string; name: string; target: string }[]; loaded: boolean }) {
  const goConnect = (id: string | null) => {
    if (id) useHosts.getState().select(id);
    useApp.getState().setPage('hosts');
  };
  return (
    <div className="empty plan-panel__empty" data-testid="bench-no-host">
      <Icon name="plug" size={30} />
      <h2>No connected host</h2>
      <p className="muted">Benchmarks run on a host Runtime Lab has connected to and inspected: it measures there, never across the network.</p>
      {loaded && notReady.length > 0 ? (
        <ul className="connect-list">
          {notReady.map((h) => (
            <li key={h.id}>
              <span className="connect-list__text">
                <span className="strong">{h.name}</span>
                <span className="mono muted small">{h.target}</span>
              </span>
              <button type="button" className="btn btn--small" data-testid="bench-goto-connect" onClick={() => goConnect(h.id)}>
                <Icon name="plug" size={13} /> Connect
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <button type="button" className="btn btn--primary" data-testid="bench-goto-hosts" onClick={() => goConnect(null)}>
        <Icon name="server" size={15} /> {notReady.length > 0 ? 'Go to Hosts' : 'Add a host'}
      </button>
    </div>
  );
}

function StartingCard({ run, hostName }: { run: LiveRun | undefined; hostName: string }) {
  return (
    <section className="card starting" data-testid="run-starting">
      <span className="spinner spinner--dark spinner--big" aria-hidden="true" />
      <div>
        <h2>Preparing {hostName}</h2>
        <p className="muted" data-testid="run-starting-message">
          {run?.message ?? 'Checking that every runtime is installed, taking the host’s facts, uploading the measuring agent…'}
        </p>
        {run && run.logs.length > 0 ? <RunLog lines={run.logs} /> : null}
      </div>
    </section>
  );
}

function ActiveRun({ run }: { run: LiveRun }) {
  const [aborting, setAborting] = useState(false);
  const [abortError, setAbortError] = useState<string | null>(null);
  const runtimes = runtimeNames(run);
  const done = isTerminal(run.phase);

  async function abort() {
    setAborting(true);
    setAbortError(null);
    try {
      await useRuns.getState().abort(run.runId);
    } catch (err) {
      setAbortError(asLabError(err).message);
      setAborting(false);
    }
  }

  function openInResults() {
    useRuns.getState().select(run.runId);
    useApp.getState().setPage('results');
  }

  return (
    <div className="active-run" data-testid="run-monitor" data-run-id={run.runId} data-phase={run.phase ?? ''}>
      <RunProgress
        run={run}
        runtimes={runtimes}
        onAbort={() => void abort()}
        aborting={aborting && !done}
        actions={
          done ? (
            <>
              <button type="button" className="btn" data-testid="run-new" onClick={() => useRuns.getState().setActive(null)}>
                <Icon name="plus" size={14} /> New run
              </button>
              <button type="button" className="btn btn--primary" data-testid="run-open-results" onClick={openInResults}>
                <Icon name="chart" size={14} /> Open in Results
              </button>
            </>
          ) : null
        }
      />
      {abortError ? (
        <div className="callout callout--bad" data-testid="run-abort-error">
          <Icon name="alert" size={16} />
          <span>{abortError}</span>
        </div>
      ) : null}
      <RunAnalysis
        run={run}
        pngBase={`runtime-lab-${run.runId}`}
        aside={
          <section className="card log-card" data-testid="run-log-card">
            <header className="card__header">
              <Icon name="scroll" size={16} />
              <h3>Log</h3>
              <span className="card__badge muted small">
                {run.logs.length} line{run.logs.length === 1 ? '' : 's'} from the agent and the runner
              </span>
            </header>
            <RunLog lines={run.logs} />
          </section>
        }
      />
    </div>
  );
}

function introTitle(draft: MethodDraft): string {
  if (draft.measurement === 'memory') return 'Measure memory per container';
  if (draft.measurement === 'perf') return 'Measure work inside the container';
  if (draft.method === 'cri') return 'Time the pod lifecycle, call by call';
  return draft.method !== 'docker' || draft.storageDrivers.length < 2 ? 'Measure container startup time' : 'Compare storage drivers';
}

function Intro({ title, otherRunning }: { title: string; otherRunning: { id: string; hostName: string; startedAt: string }[] }) {
  return (
    <div className="intro" data-testid="bench-intro">
      {otherRunning.map((r) => (
        <div key={r.id} className="callout callout--info" data-testid="bench-other-running">
          <Icon name="activity" size={16} />
          <span className="callout__content">
            A run started {formatDate(r.startedAt)} is still measuring on <strong>{r.hostName}</strong>.
          </span>
          <button
            type="button"
            className="btn btn--small"
            onClick={() => {
              useRuns.getState().setActive(r.id);
              void useRuns.getState().open(r.id);
            }}
          >
            Show it here
          </button>
        </div>
      ))}
      <div className="intro__hero">
        <span className="intro__icon">
          <Icon name="gauge" size={28} />
        </span>
        <h2>{title}</h2>
        <p className="muted">
          Pick the runtimes on the left and press <strong>Run benchmark</strong>. The live charts and the summary appear here as the samples arrive.
        </p>
      </div>
      <ol className="intro__steps">
        <li>
          <Icon name="box" size={18} />
          <div>
            <strong>Same bundle, no layers in between</strong>
            <span className="muted">One OCI bundle (a static hello) is built on the host; each runtime runs it directly, as in <span className="mono">time runc run</span>.</span>
          </div>
        </li>
        <li>
          <Icon name="repeat" size={18} />
          <div>
            <strong>Interleaved, with warm-ups</strong>
            <span className="muted">Runtimes take turns (round-robin or seeded random) so drift hits all alike; warm-ups are kept and shown, but not counted.</span>
          </div>
        </li>
        <li>
          <Icon name="activity" size={18} />
          <div>
            <strong>Every sample kept</strong>
            <span className="muted">Stored the moment it exists; failures stay visible; a dropped connection or an app restart loses nothing.</span>
          </div>
        </li>
        <li>
          <Icon name="chart" size={18} />
          <div>
            <strong>Median with a confidence interval</strong>
            <span className="muted">Plus p5–p95 spread, the full distribution, and CSV to take away from Results.</span>
          </div>
        </li>
      </ol>
    </div>
  );
}
