import type { ReactNode } from 'react';
import type { RunMeta } from '../../../shared/model/run.ts';
import { formatBytes } from '../format.ts';
import { runtimeColor } from '../charts/palette.ts';
import { Icon, type IconName } from '../Icon.tsx';
import { formatDate, formatDuration, joinArgs } from './bench-format.ts';

// Where and with what a run measured: the host as inspected at its start, the runtimes'
// versions and flags, the workload bundle, and the plan (order and seed included) —
// what a reader needs to trust a number, or to tell two runs apart.

function Kv({ label, children, mono, testId }: { label: string; children: ReactNode; mono?: boolean; testId?: string }) {
  return (
    <div className="kv">
      <dt>{label}</dt>
      <dd className={mono ? 'mono' : undefined} data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

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
  const duration = meta.finishedAt ? Date.parse(meta.finishedAt) - Date.parse(meta.startedAt) : Number.NaN;
  return (
    <div className="env" data-testid="run-environment">
      <EnvCard title="Host" icon="cpu" testId="env-host">
        <dl className="kv-list">
          <Kv label="Host">{meta.hostName}</Kv>
          <Kv label="System">{facts.os.prettyName || `${facts.os.distroId} ${facts.os.distroVersion}`}</Kv>
          <Kv label="Kernel" mono testId="env-kernel">
            {facts.os.kernel} <span className="muted">({facts.os.arch})</span>
          </Kv>
          <Kv label="cgroups" testId="env-cgroup">
            {facts.cgroup.mode}
          </Kv>
          <Kv label="CPU" testId="env-cpu">
            {facts.cpu.model} <span className="muted">× {facts.cpu.cores}</span>
          </Kv>
          <Kv label="Memory">
            {formatBytes(facts.memory.totalBytes)} <span className="muted">· {formatBytes(facts.memory.availableBytes)} available at start</span>
          </Kv>
          <Kv label="Virtualization">
            {facts.hypervisor === null ? 'unknown' : facts.hypervisor === 'none' ? 'bare metal' : facts.hypervisor}
            <span className="muted"> · KVM {facts.kvm.usable ? 'usable' : facts.kvm.devicePresent ? 'present' : 'absent'}</span>
          </Kv>
          <Kv label="Inspected">{formatDate(facts.collectedAt)}</Kv>
        </dl>
      </EnvCard>

      <EnvCard title="Plan" icon="clock" testId="env-plan">
        <dl className="kv-list">
          <Kv label="Method" mono>
            {plan.method}
          </Kv>
          <Kv label="Iterations" testId="env-iterations">
            {plan.iterations} per runtime <span className="muted">+ {plan.warmups} warm-up</span>
          </Kv>
          <Kv label="Order" testId="env-order">
            {plan.order === 'random' ? (
              <>
                random, seed <span className="mono">{plan.seed ?? '—'}</span>
              </>
            ) : (
              'round-robin (interleaved)'
            )}
          </Kv>
          <Kv label="Timeout">{(plan.timeoutMs / 1000).toLocaleString('en-US')} s per iteration</Kv>
          <Kv label="Started">{formatDate(meta.startedAt)}</Kv>
          <Kv label="Finished">
            {meta.finishedAt ? (
              <>
                {formatDate(meta.finishedAt)} {Number.isFinite(duration) ? <span className="muted">· took {formatDuration(duration)}</span> : null}
              </>
            ) : (
              <span className="muted">not yet</span>
            )}
          </Kv>
          <Kv label="Run id" mono>
            {meta.id}
          </Kv>
        </dl>
      </EnvCard>

      <EnvCard title="Workload bundle" icon="box" testId="env-bundle">
        {bundle ? (
          <dl className="kv-list">
            <Kv label="Workload" mono>
              {bundle.workload}
            </Kv>
            <Kv label="Built with" mono testId="env-bundle-built">
              {bundle.builtWith}
            </Kv>
            <Kv label="Digest" mono testId="env-bundle-digest">
              <span className="digest">{bundle.digest}</span>
            </Kv>
            <Kv label="Path" mono>
              {bundle.path}
            </Kv>
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
    </div>
  );
}
