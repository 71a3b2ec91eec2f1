import type { HostFacts } from '../shared/model/host-facts.ts';

const GiB = 1024 ** 3;

function yesNo(value: boolean | null, unknown = 'unknown'): string {
  return value === null ? unknown : value ? 'yes' : 'no';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd()).join('\n');
}

// The terminal rendering of an inspection: what the host page shows, as text.
export function formatFacts(label: string, facts: HostFacts): string {
  const f = facts;
  const system = [
    ['host', label],
    ['distro', `${f.os.prettyName} (${f.os.distroId} ${f.os.distroVersion})`],
    ['kernel', `${f.os.kernel} ${f.os.arch}`],
    ['cpu', `${f.cpu.model} × ${f.cpu.cores}${f.cpu.virtFlag ? ` (${f.cpu.virtFlag})` : ''}`],
    ['memory', `${(f.memory.totalBytes / GiB).toFixed(1)} GiB total, ${(f.memory.availableBytes / GiB).toFixed(1)} GiB available`],
    ['disk free /', f.diskFreeBytes === null ? 'unknown' : `${(f.diskFreeBytes / GiB).toFixed(1)} GiB`],
    ['cgroup', `${f.cgroup.mode} — ${f.cgroup.detail}`],
    ['hypervisor', f.hypervisor ?? 'unknown (no systemd-detect-virt)'],
    ['kvm', `device ${yesNo(f.kvm.devicePresent)}, read-write ${yesNo(f.kvm.readWrite)}, usable ${yesNo(f.kvm.usable, 'not tested')}, nested ${yesNo(f.kvm.nested)} — ${f.kvm.detail}`],
    ['vhost-vsock', `device ${yesNo(f.vsock.vhostVsockDevice)}, module ${yesNo(f.vsock.moduleAvailable)}${f.vsock.blockedBy ? `, blocked by ${f.vsock.blockedBy}` : ''} — ${f.vsock.detail}`],
    ['node', f.node ? `${f.node.version} (${f.node.path})` : 'not found (the benchmark agent needs Node ≥ 18)'],
    ['user', `${f.user.name} (uid ${f.user.uid}), passwordless sudo ${yesNo(f.user.passwordlessSudo)}`],
  ];
  const tools = [['runtime', 'found', 'version', 'path / error']];
  for (const t of f.tools) {
    tools.push([t.id, t.found ? 'yes' : 'no', t.version ?? (t.found ? '?' : '-'), t.error ? `${t.path ?? ''} (${t.error.split('\n')[0]})` : (t.path ?? '')]);
  }
  return `${table(system)}\n\n${table(tools)}\n`;
}
