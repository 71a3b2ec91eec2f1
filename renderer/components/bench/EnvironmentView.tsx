import type { ReactNode } from 'react';
import type { RunMeta } from '../../../shared/model/run.ts';
import type { EnvironmentInfo } from '../../../shared/model/run-record.ts';
import { formatBytes } from '../format.ts';
import { runtimeColor } from '../charts/palette.ts';
import { Icon, type IconName } from '../Icon.tsx';
import { criHandler, DEFAULT_MEMORY_SETTLE_MS, DEFAULT_PERF } from '../../../shared/model/plan.ts';
import { formatDate, formatDuration, joinArgs } from './bench-format.ts';
import { useRunExtras } from './run-extras.ts';
import { KeyValue } from '../KeyValue.tsx';

// Where and with what a run measured: the host as inspected at its start, the runtimes'
// versions and flags, the workload bundle, and the plan (order and seed included) —
// what a reader needs to trust a number, or to tell two runs apart.

function EnvCard({ title, icon, children, testId }: { title: string; icon: IconName; children: ReactNode; testId: string }) {
  return (
    <section className="card env-card" data-testid={testId}>
      <header className="card__header">
        <Icon name={icon} size={16} />
        <h3>{title}</h3>
      </header>
      <div className="card__body">{children}</div>
    </section>
  );
}

export function EnvironmentView({ meta }: { meta: RunMeta }) {
  const { facts, plan, bundle } = meta;
  const extras = useRunExtras(meta.id);
  const environment = extras?.environment ?? null;
  const duration = meta.finishedAt ? Date.parse(meta.finishedAt) - Date.parse(meta.startedAt) : Number.NaN;
  return (
    <div className="env" data-testid="run-environment">
      <EnvCard title="Host" icon="cpu" testId="env-host">
        <dl className="kv-list">
          <KeyValue label="Host">{meta.hostName}</KeyValue>
          <KeyValue label="System">{facts.os.prettyName || `${facts.os.distroId} ${facts.os.distroVersion}`}</KeyValue>
          <KeyValue label="Kernel" mono testId="env-kernel">
            {facts.os.kernel} <span className="muted">({facts.os.arch})</span>
          </KeyValue>
          <KeyValue label="cgroups" testId="env-cgroup">
            {facts.cgroup.mode}
          </KeyValue>
          <KeyValue label="CPU" testId="env-cpu">
            {facts.cpu.model} <span className="muted">× {facts.cpu.cores}</span>
          </KeyValue>
          <KeyValue label="Memory">
            {formatBytes(facts.memory.totalBytes)} <span className="muted">· {formatBytes(facts.memory.availableBytes)} available at start</span>
          </KeyValue>
          <KeyValue label="Virtualization">
            {facts.hypervisor === null ? 'unknown' : facts.hypervisor === 'none' ? 'bare metal' : facts.hypervisor}
            <span className="muted"> · KVM {facts.kvm.usable ? 'usable' : facts.kvm.devicePresent ? 'present' : 'absent'}</span>
          </KeyValue>
          <KeyValue label="Inspected">{formatDate(facts.collectedAt)}</KeyValue>
        </dl>
      </EnvCard>

      <EnvCard title="Plan" icon="clock" testId="env-plan">
        <dl className="kv-list">
          <KeyValue label="Method" mono>
            {plan.method}
          </KeyValue>
          {plan.memory ? (
            <KeyValue label="Memory steps" testId="env-memory-steps">
              {plan.memory.containers.join(', ')} containers <span className="muted">· settle {(plan.memory.settleMs ?? DEFAULT_MEMORY_SETTLE_MS).toLocaleString('en-US')} ms</span>
            </KeyValue>
          ) : (
            <KeyValue label="Iterations" testId="env-iterations">
              {plan.iterations} per runtime <span className="muted">+ {plan.warmups} warm-up</span>
            </KeyValue>
          )}
          {plan.perf ? (
            <KeyValue label="Perf kernels" testId="env-perf">
              cpu {(plan.perf.cpuLoops ?? DEFAULT_PERF.cpuLoops).toLocaleString('en-US')} loops · syscalls {(plan.perf.syscalls ?? DEFAULT_PERF.syscalls).toLocaleString('en-US')} getpid ·
              io {formatBytes(plan.perf.ioBytes ?? DEFAULT_PERF.ioBytes)}
            </KeyValue>
          ) : null}
          {plan.docker?.storageDrivers ? (
            <KeyValue label="Storage drivers" mono testId="env-storage-drivers">
              {plan.docker.storageDrivers.join(' → ')}
            </KeyValue>
          ) : null}
          {plan.method === 'cri' ? (
            <KeyValue label="CRI handlers" mono testId="env-cri-handlers">
              {plan.runtimes.map((r) => `${r.name} → ${criHandler(r) || '(default)'}`).join(', ')}
            </KeyValue>
          ) : null}
          <KeyValue label="Order" testId="env-order">
            {plan.order === 'random' ? (
              <>
                random, seed <span className="mono">{plan.seed ?? '—'}</span>
              </>
            ) : (
              'round-robin (interleaved)'
            )}
          </KeyValue>
          {plan.memory ? null : <KeyValue label="Timeout">{(plan.timeoutMs / 1000).toLocaleString('en-US')} s per iteration</KeyValue>}
          <KeyValue label="Started">{formatDate(meta.startedAt)}</KeyValue>
          <KeyValue label="Finished">
            {meta.finishedAt ? (
              <>
                {formatDate(meta.finishedAt)} {Number.isFinite(duration) ? <span className="muted">· took {formatDuration(duration)}</span> : null}
              </>
            ) : (
              <span className="muted">not yet</span>
            )}
          </KeyValue>
          <KeyValue label="Run id" mono>
            {meta.id}
          </KeyValue>
        </dl>
      </EnvCard>

      <EnvCard title="Workload bundle" icon="box" testId="env-bundle">
        {bundle ? (
          <dl className="kv-list">
            <KeyValue label="Workload" mono>
              {bundle.workload}
            </KeyValue>
            <KeyValue label="Built with" mono testId="env-bundle-built">
              {bundle.builtWith}
            </KeyValue>
            <KeyValue label="Digest" mono testId="env-bundle-digest">
              <span className="digest">{bundle.digest}</span>
            </KeyValue>
            <KeyValue label="Path" mono>
              {bundle.path}
            </KeyValue>
          </dl>
        ) : (
          <p className="muted small">The agent has not reported its bundle yet.</p>
        )}
      </EnvCard>

      <section className="card env-card env-card--wide" data-testid="env-runtimes">
        <header className="card__header">
          <Icon name="layers" size={16} />
          <h3>Runtimes</h3>
        </header>
        <table className="data-table">
          <thead>
            <tr>
              <th>Runtime</th>
              <th>Version</th>
              <th>Binary</th>
              <th>Global flags</th>
              <th>Lifecycle</th>
            </tr>
          </thead>
          <tbody>
            {plan.runtimes.map((r, i) => {
              const version = meta.versions.find((v) => v.runtime === r.name);
              return (
                <tr key={r.name} data-testid="env-runtime" data-runtime={r.name}>
                  <td>
                    <span className="rt-name">
                      <span className="swatch" style={{ background: runtimeColor(i) }} />
                      <span className="mono strong">{r.name}</span>
                    </span>
                  </td>
                  <td className="mono" data-testid="env-runtime-version">
                    {version?.version ?? <span className="muted">{version ? 'unknown' : 'not reported yet'}</span>}
                  </td>
                  <td className="mono">{version?.binary ?? r.binary}</td>
                  <td className="mono">{r.globalArgs.length > 0 ? joinArgs(r.globalArgs) : <span className="muted">none</span>}</td>
                  <td className="mono">{r.lifecycle}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>

      {environment ? (
        <RecordedEnvironment environment={environment} />
      ) : plan.method !== 'oci-direct' ? (
        <p className="muted small env-card--wide" data-testid="env-recorded-missing">
          {meta.status === 'running' ? 'The agent has not reported the run’s environment yet.' : 'No environment was recorded for this run (an older agent, or the run ended before measuring).'}
        </p>
      ) : null}
    </div>
  );
}

function Status({ value }: { value: string | null }) {
  if (value === null) return <span className="muted">unknown</span>;
  return value === 'ok' ? <span className="muted">({value})</span> : <span className="bad-text">({value})</span>;
}

/** The agent's `environment` event: what the run depended on besides the runtimes' binaries, as found on the host. */
function RecordedEnvironment({ environment: env }: { environment: EnvironmentInfo }) {
  const { containerd, docker, image } = env;
  return (
    <>
      <EnvCard title={`Method: ${env.method}`} icon="layers" testId="env-method">
        <dl className="kv-list">
          <KeyValue label="Kernel" mono>
            {env.kernel ?? <span className="muted">unknown</span>}
          </KeyValue>
          <KeyValue label="cgroups" testId="env-cgroup-recorded">
            {env.cgroup.mode} <span className="muted">· driver</span> <span className="mono">{env.cgroup.driver ?? 'unknown'}</span>
          </KeyValue>
          {env.timing ? (
            <KeyValue label="Timer" testId="env-timing">
              {env.timing}
            </KeyValue>
          ) : null}
          {containerd ? (
            <>
              <KeyValue label="Snapshotter" mono testId="env-snapshotter">
                {containerd.snapshotter} <Status value={containerd.snapshotterStatus} />
                {containerd.snapshotterError ? <span className="bad-text small"> {containerd.snapshotterError}</span> : null}
              </KeyValue>
              <KeyValue label="Namespace" mono>
                {containerd.namespace}
              </KeyValue>
              <KeyValue label="Address" mono>
                {containerd.address}
              </KeyValue>
              <KeyValue label="Snapshotters" mono testId="env-snapshotters">
                {Object.entries(containerd.snapshotters).length > 0
                  ? Object.entries(containerd.snapshotters)
                      .map(([name, status]) => `${name} (${status})`)
                      .join(', ')
                  : '—'}
              </KeyValue>
              <KeyValue label="Shim v1" mono>
                {containerd.legacyRuntimeV1 ?? <span className="muted">not present</span>}
              </KeyValue>
            </>
          ) : null}
          {docker ? (
            <>
              <KeyValue label="Storage" mono testId="env-storage-driver">
                {docker.storageDrivers ? docker.storageDrivers.join(' → ') : (docker.storageDriver ?? 'unknown')}
                {docker.expectedStorageDriver ? <span className="muted"> (expected {docker.expectedStorageDriver})</span> : null}
              </KeyValue>
              <KeyValue label="dockerd" mono>
                {docker.serverVersion ?? 'unknown'}
              </KeyValue>
              <KeyValue label="Host" mono>
                {docker.host}
              </KeyValue>
              <KeyValue label="daemon.json" mono>
                {docker.daemonJson}
              </KeyValue>
              <KeyValue label="cgroups" mono>
                {docker.cgroupDriver ?? 'unknown'} · v{docker.cgroupVersion ?? '?'}
              </KeyValue>
              <KeyValue label="Default rt" mono>
                {docker.defaultRuntime ?? 'unknown'}
              </KeyValue>
              <KeyValue label="Network" mono>
                {docker.network}
              </KeyValue>
            </>
          ) : null}
          {env.cri ? (
            <>
              <KeyValue label="CRI" mono testId="env-cri-runtime">
                {env.cri.runtimeName ?? 'unknown'} {env.cri.runtimeVersion ?? ''} <span className="muted">· API {env.cri.runtimeApiVersion ?? '?'}</span>
              </KeyValue>
              <KeyValue label="Socket" mono>
                {env.cri.address}
              </KeyValue>
              <KeyValue label="Sandbox" mono>
                {env.cri.sandboxImage ?? 'unknown'}
              </KeyValue>
              <KeyValue label="Network" mono>
                {env.cri.network}
                {env.cri.cniConfig ? <span className="muted"> · {env.cri.cniConfig}</span> : null}
              </KeyValue>
              <KeyValue label="Handlers" mono testId="env-cri-handlers-known">
                {env.cri.handlers.join(', ') || '—'}
              </KeyValue>
              {env.cri.snapshotter ? (
                <KeyValue label="Snapshotter" mono>
                  {env.cri.snapshotter}
                </KeyValue>
              ) : null}
            </>
          ) : null}
        </dl>
      </EnvCard>

      <section className="card env-card" data-testid="env-components">
        <header className="card__header">
          <Icon name="list" size={16} />
          <h3>Components</h3>
        </header>
        <table className="data-table">
          <thead>
            <tr>
              <th>Component</th>
              <th>Version</th>
            </tr>
          </thead>
          <tbody>
            {env.components.map((c) => (
              <tr key={`${c.component}\n${c.detail ?? ''}`} data-testid="env-component" data-component={c.component}>
                <td className="mono strong">{c.component}</td>
                <td className="mono">
                  {c.version ?? <span className="muted">did not answer</span>}
                  {c.detail ? <div className="muted small">{c.detail}</div> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {image ? (
        <EnvCard title="Workload image" icon="box" testId="env-image">
          <dl className="kv-list">
            <KeyValue label="Ref" mono>
              {image.ref}
            </KeyValue>
            <KeyValue label="Config" mono testId="env-image-config">
              <span className="digest">{image.configDigest}</span>
            </KeyValue>
            <KeyValue label="Layer" mono>
              <span className="digest">{image.layerDiffId}</span>
            </KeyValue>
            {image.manifestDigest ? (
              <KeyValue label="Manifest" mono>
                <span className="digest">{image.manifestDigest}</span>
              </KeyValue>
            ) : null}
            <KeyValue label="Archive" mono>
              <span className="digest">{image.archiveSha256}</span>
            </KeyValue>
            <KeyValue label="Imported" mono>
              {image.importedWith}
            </KeyValue>
            <KeyValue label="Command" mono>
              {joinArgs(image.command)}
            </KeyValue>
          </dl>
        </EnvCard>
      ) : (
        <span />
      )}

      <section className="card env-card env-card--wide" data-testid="env-invocations">
        <header className="card__header">
          <Icon name="terminal" size={16} />
          <h3>Exact commands</h3>
          <span className="card__badge muted small">one measured iteration per runtime, the container id shown as &lt;id&gt;</span>
        </header>
        <table className="data-table">
          <thead>
            <tr>
              <th>Runtime</th>
              <th>Command</th>
              <th>{env.method === 'docker' ? 'Runtime name' : 'Runtime type'}</th>
              <th>OCI binary and flags</th>
              <th>cgroup driver</th>
            </tr>
          </thead>
          <tbody>
            {env.runtimes.map((r) => (
              <tr key={r.runtime} data-testid="env-invocation" data-runtime={r.runtime}>
                <td className="mono strong">{r.runtime}</td>
                <td className="mono small" data-testid="env-invocation-argv">
                  {joinArgs(r.argv)}
                </td>
                <td className="mono">
                  {r.runtimeType}
                  {r.registeredByRuntimeLab ? <span className="muted small"> (registered for this run)</span> : null}
                </td>
                <td className="mono">
                  {r.ociBinary ?? <span className="muted">—</span>} {r.ociArgs.length > 0 ? joinArgs(r.ociArgs) : null}
                </td>
                <td className="mono">{r.cgroupDriver ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
