import type { ReactNode } from 'react';
import { TOOL_IDS, type HostFacts, type ToolFact } from '../../shared/model/host-facts.ts';
import { formatBytes, formatTime } from './format.ts';
import { Icon, type IconName } from './Icon.tsx';
import { StatusPill, type Tone } from './StatusPill.tsx';
import { KeyValue } from './KeyValue.tsx';

// What the inspection found on a host: one card per concern, problems called out with the
// reason they matter, and every runtime tool Runtime Lab knows about.

function Card(props: { title: string; icon: IconName; testId: string; tone?: Tone; badge?: ReactNode; children: ReactNode; wide?: boolean }) {
  const { title, icon, testId, tone = 'neutral', badge, children, wide } = props;
  return (
    <section className={`card card--${tone}${wide ? ' card--wide' : ''}`} data-testid={testId}>
      <header className="card__header">
        <Icon name={icon} size={16} />
        <h3>{title}</h3>
        {badge ? <span className="card__badge">{badge}</span> : null}
      </header>
      <div className="card__body">{children}</div>
    </section>
  );
}

function Note({ tone, children, testId }: { tone: Tone; children: ReactNode; testId?: string }) {
  return (
    <div className={`note note--${tone}`} data-testid={testId}>
      <Icon name={tone === 'bad' || tone === 'warn' ? 'alert' : 'info'} size={15} />
      <div>{children}</div>
    </div>
  );
}

function Check({ ok, label }: { ok: boolean | null; label: string }) {
  const cls = ok === null ? 'check-chip check-chip--unknown' : ok ? 'check-chip check-chip--ok' : 'check-chip check-chip--bad';
  return (
    <span className={cls}>
      <Icon name={ok === null ? 'info' : ok ? 'check' : 'x'} size={12} />
      {label}
    </span>
  );
}

function kvmStatus(kvm: HostFacts['kvm']): [Tone, string, string | null] {
  if (!kvm.devicePresent) return ['bad', 'not available', 'There is no /dev/kvm: VM-based runtimes (Kata Containers, Firecracker, gVisor’s KVM platform) cannot run on this host.'];
  if (!kvm.readWrite) return ['bad', 'no access', '/dev/kvm exists but is not read-write for this user: add the user to the kvm group, or connect as root.'];
  if (kvm.usable === false) return ['bad', 'unusable', 'Creating a VM (KVM_CREATE_VM) failed, so VM-based runtimes will not start.'];
  if (kvm.usable === null) return ['warn', 'untested', 'Whether a VM can be created could not be tried.'];
  return ['ok', 'usable', null];
}

function vsockStatus(v: HostFacts['vsock']): [Tone, string, string | null] {
  if (v.vhostVsockDevice) return ['ok', 'present', null];
  const why = 'Kata Containers 2 and later talk to their guest agent over vhost-vsock; without /dev/vhost-vsock they cannot start.';
  if (v.blockedBy) return ['bad', `blocked by ${v.blockedBy}`, `${why} The module ${v.blockedBy} holds vsock and keeps vhost_vsock from loading (typical of VMware guests).`];
  if (v.moduleAvailable === false) return ['bad', 'module missing', `${why} This kernel has no vhost_vsock module.`];
  if (v.moduleAvailable === true) return ['warn', 'module not loaded', `${why} Loading it (modprobe vhost_vsock) should create the device.`];
  return ['warn', 'missing', why];
}

function cgroupStatus(mode: HostFacts['cgroup']['mode']): [Tone, string, string | null] {
  switch (mode) {
    case 'v2':
      return ['ok', 'v2 (unified)', null];
    case 'hybrid':
      return ['warn', 'hybrid', 'v1 controllers with a v2 “unified” mount: some runtimes refuse this mode (crun 1.8: “cgroups in hybrid mode not supported”).'];
    case 'v1':
      return ['warn', 'v1 (legacy)', 'Legacy cgroup v1: newer runtimes and tools expect v2; memory figures differ between the two.'];
    default:
      return ['neutral', 'unknown', null];
  }
}

function toolStatus(t: ToolFact): [Tone, string] {
  if (!t.found) return ['neutral', 'not found'];
  if (t.error) return ['warn', 'error'];
  return ['ok', 'found'];
}

function worst(...tones: Tone[]): Tone {
  if (tones.includes('bad')) return 'bad';
  if (tones.includes('warn')) return 'warn';
  return 'neutral';
}

export function FactsView({ facts }: { facts: HostFacts }) {
  const [kvmTone, kvmLabel, kvmWhy] = kvmStatus(facts.kvm);
  const [vsockTone, vsockLabel, vsockWhy] = vsockStatus(facts.vsock);
  const [cgTone, cgLabel, cgWhy] = cgroupStatus(facts.cgroup.mode);
  const usedBytes = Math.max(0, facts.memory.totalBytes - facts.memory.availableBytes);
  const usedPct = facts.memory.totalBytes > 0 ? Math.round((usedBytes / facts.memory.totalBytes) * 100) : 0;
  const toolsById = new Map(facts.tools.map((t) => [t.id, t]));
  const foundCount = facts.tools.filter((t) => t.found).length;
  const sudo = facts.user.uid === 0 ? ['ok', 'root'] as const
    : facts.user.passwordlessSudo === true ? ['ok', 'passwordless'] as const
    : facts.user.passwordlessSudo === false ? ['warn', 'needs a password'] as const
    : ['neutral', 'unknown'] as const;

  return (
    <div className="facts" data-testid="facts-view" data-collected-at={facts.collectedAt}>
      <div className="facts__meta muted small">
        <Icon name="refresh" size={13} /> Inspected <span data-testid="facts-collected-at">{formatTime(facts.collectedAt)}</span>
      </div>

      <div className="cards">
        <div className="cards__col">
          <Card title="System" icon="cpu" testId="card-system">
            <dl className="kv-list">
              <KeyValue label="Distribution" testId="fact-distro">
                {facts.os.prettyName || `${facts.os.distroId} ${facts.os.distroVersion}`}
              </KeyValue>
              <KeyValue label="Kernel" testId="fact-kernel" mono>
                {facts.os.kernel}
              </KeyValue>
              <KeyValue label="Architecture" testId="fact-arch" mono>
                {facts.os.arch}
              </KeyValue>
              <KeyValue label="CPU" testId="fact-cpu">
                {facts.cpu.model} <span className="muted">× {facts.cpu.cores} {facts.cpu.cores === 1 ? 'core' : 'cores'}</span>
              </KeyValue>
              <KeyValue label="Memory" testId="fact-memory">
                <span>
                  {formatBytes(facts.memory.totalBytes)} <span className="muted">· {formatBytes(facts.memory.availableBytes)} available</span>
                </span>
                <span className="meter" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={usedPct} aria-label="Memory in use">
                  <span className="meter__fill" style={{ width: `${usedPct}%` }} />
                </span>
              </KeyValue>
              <KeyValue label="Free disk" testId="fact-disk">
                {facts.diskFreeBytes === null ? <span className="muted">unknown</span> : formatBytes(facts.diskFreeBytes)}
              </KeyValue>
            </dl>
          </Card>

          <Card title="User" icon="user" testId="card-user" tone={sudo[0] === 'warn' ? 'warn' : 'neutral'}>
            <dl className="kv-list">
              <KeyValue label="Logged in as" testId="fact-user">
                <span className="mono">{facts.user.name}</span> <span className="muted">(uid {facts.user.uid})</span>
              </KeyValue>
              <KeyValue label="sudo" testId="fact-sudo">
                <StatusPill tone={sudo[0]}>{sudo[1]}</StatusPill>
              </KeyValue>
            </dl>
            {sudo[0] === 'warn' ? <Note tone="warn">Setting up runtimes needs root: connect as root or allow passwordless sudo for this user.</Note> : null}
          </Card>
        </div>
        <div className="cards__col">
          <Card title="cgroups" icon="box" testId="card-cgroup" tone={cgTone === 'ok' ? 'neutral' : cgTone}>
            <dl className="kv-list">
              <KeyValue label="Mode" testId="fact-cgroup">
                <StatusPill tone={cgTone}>{cgLabel}</StatusPill>
              </KeyValue>
            </dl>
            {cgWhy ? <Note tone={cgTone}>{cgWhy}</Note> : null}
            {facts.cgroup.detail ? <p className="detail mono small muted">{facts.cgroup.detail}</p> : null}
          </Card>

          <Card title="Node on host" icon="terminal" testId="card-node" tone={facts.node ? 'neutral' : 'warn'}>
            {facts.node ? (
              <dl className="kv-list">
                <KeyValue label="Version" testId="fact-node" mono>
                  {facts.node.version}
                </KeyValue>
                <KeyValue label="Path" mono>
                  {facts.node.path}
                </KeyValue>
              </dl>
            ) : (
              <>
                <dl className="kv-list">
                  <KeyValue label="Version" testId="fact-node">
                    <StatusPill tone="warn">not installed</StatusPill>
                  </KeyValue>
                </dl>
                <Note tone="warn">The benchmark agent runs on Node; the setup step installs one (distro package or the official tarball).</Note>
              </>
            )}
          </Card>

        </div>
      </div>

      <Card title="Virtualization" icon="layers" testId="card-virtualization" tone={worst(kvmTone, vsockTone)}>
        <div className="virt">
          <div className="virt__half">
            <dl className="kv-list">
              <KeyValue label="KVM" testId="fact-kvm">
                <span className="status-line" data-tone={kvmTone}>
                  <StatusPill tone={kvmTone}>{kvmLabel}</StatusPill>
                  <span className="checks">
                    <Check ok={facts.kvm.devicePresent} label="/dev/kvm" />
                    <Check ok={facts.kvm.devicePresent ? facts.kvm.readWrite : null} label="rw" />
                    <Check ok={facts.kvm.usable} label="create VM" />
                  </span>
                </span>
              </KeyValue>
              <KeyValue label="Nested" testId="fact-nested">
                {facts.kvm.nested === null ? <span className="muted">unknown</span> : facts.kvm.nested ? 'enabled' : 'disabled'}
              </KeyValue>
              <KeyValue label="Hypervisor" testId="fact-hypervisor">
                {facts.hypervisor === null ? (
                  <span className="muted">unknown (no systemd-detect-virt)</span>
                ) : facts.hypervisor === 'none' ? (
                  'none (bare metal)'
                ) : (
                  <span className="mono">{facts.hypervisor}</span>
                )}
              </KeyValue>
            </dl>
            {kvmWhy ? (
              <Note tone={kvmTone} testId="note-kvm">
                <strong>KVM: </strong>
                {kvmWhy}
                {facts.kvm.detail ? <div className="note__detail mono">{facts.kvm.detail}</div> : null}
              </Note>
            ) : facts.kvm.detail ? (
              <p className="detail muted small" data-testid="note-kvm">
                {facts.kvm.detail}
              </p>
            ) : null}
          </div>
          <div className="virt__half">
            <dl className="kv-list">
              <KeyValue label="vhost-vsock" testId="fact-vsock">
                <span className="status-line" data-tone={vsockTone}>
                  <StatusPill tone={vsockTone}>{vsockLabel}</StatusPill>
                  <span className="checks">
                    <Check ok={facts.vsock.vhostVsockDevice} label="/dev/vhost-vsock" />
                    <Check ok={facts.vsock.moduleAvailable} label="module" />
                  </span>
                </span>
              </KeyValue>
              <KeyValue label="Blocked by" testId="fact-vsock-blocked">
                {facts.vsock.blockedBy ? <span className="mono bad-text">{facts.vsock.blockedBy}</span> : <span className="muted">nothing</span>}
              </KeyValue>
            </dl>
            {vsockWhy ? (
              <Note tone={vsockTone} testId="note-vsock">
                <strong>vhost-vsock: </strong>
                {vsockWhy}
                {facts.vsock.detail ? <div className="note__detail mono">{facts.vsock.detail}</div> : null}
              </Note>
            ) : facts.vsock.detail ? (
              <p className="detail muted small" data-testid="note-vsock">
                {facts.vsock.detail}
              </p>
            ) : null}
          </div>
        </div>
      </Card>

      <section className="card card--wide" data-testid="card-runtimes">
        <header className="card__header">
          <Icon name="box" size={16} />
          <h3>Runtimes and tools</h3>
          <span className="card__badge muted small">
            {foundCount} of {TOOL_IDS.length} found
          </span>
        </header>
        <table className="table" data-testid="tools-table">
          <thead>
            <tr>
              <th>Tool</th>
              <th>Status</th>
              <th>Version</th>
              <th>Path</th>
            </tr>
          </thead>
          <tbody>
            {TOOL_IDS.map((id) => {
              const t: ToolFact = toolsById.get(id) ?? { id, found: false, path: null, version: null, error: null };
              const [tone, label] = toolStatus(t);
              return (
                <tr key={id} data-testid="tool-row" data-tool={id} data-found={String(t.found)} className={t.found ? undefined : 'row--dim'}>
                  <td className="mono strong">{id}</td>
                  <td>
                    <StatusPill tone={tone}>{label}</StatusPill>
                  </td>
                  <td data-testid="tool-version">
                    {t.version ? <span className="mono">{t.version}</span> : null}
                    {t.error ? (
                      <span className="tool-error" data-testid="tool-error">
                        {t.error}
                      </span>
                    ) : null}
                    {!t.version && !t.error ? <span className="muted">—</span> : null}
                  </td>
                  <td className="mono muted" data-testid="tool-path">
                    {t.path ?? '—'}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </div>
  );
}
