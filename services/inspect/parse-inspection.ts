import { TOOL_IDS, type CgroupMode, type HostFacts, type ToolFact, type ToolId } from '../../shared/model/host-facts.ts';
import { PROBE_TIMEOUT_SECONDS } from './inspection-script.ts';
import { extractVersion, NODE_PROBE, TOOL_PROBES, type VersionProbe } from './tool-probes.ts';

// Turns the inspection script's records into HostFacts. Hosts differ wildly (minimal
// images, BusyBox, old kernels), so every missing or odd piece becomes null, false or
// "unknown" instead of an exception: a half-known host is still worth showing.

type Records = ReadonlyMap<string, string>;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Lines that are not `key<TAB>base64` (stray output, a cut-off last line) are skipped. */
export function readRecords(output: string): Map<string, string> {
  const records = new Map<string, string>();
  for (const line of output.split(/\r?\n/)) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const encoded = line.slice(tab + 1);
    if (!BASE64.test(encoded)) continue;
    records.set(line.slice(0, tab), Buffer.from(encoded, 'base64').toString('utf8'));
  }
  return records;
}

export function parseInspection(
  output: string,
  collectedAt: string = new Date().toISOString(),
  tools: Readonly<Record<ToolId, VersionProbe>> = TOOL_PROBES,
): HostFacts {
  const r = readRecords(output);
  const osRelease = parseOsRelease(r.get('os.release') ?? '');
  const memory = parseMeminfo(r.get('meminfo') ?? '');
  return {
    collectedAt,
    os: {
      prettyName: osRelease.PRETTY_NAME || [osRelease.NAME, osRelease.VERSION].filter(Boolean).join(' ') || 'unknown',
      distroId: osRelease.ID || 'unknown',
      distroVersion: osRelease.VERSION_ID || 'unknown',
      kernel: text(r, 'kernel') ?? 'unknown',
      arch: text(r, 'arch') ?? 'unknown',
    },
    cpu: {
      model: text(r, 'cpu.model') ?? 'unknown',
      cores: integer(text(r, 'cpu.cores')) ?? 0,
      virtFlag: virtFlag(text(r, 'cpu.virt')),
    },
    memory: { totalBytes: memory.MemTotal ?? 0, availableBytes: memory.MemAvailable ?? 0 },
    diskFreeBytes: parseDfAvailable(text(r, 'df.root')),
    cgroup: parseCgroup(r),
    hypervisor: text(r, 'virt'),
    kvm: parseKvm(r),
    vsock: parseVsock(r),
    node: parseNode(r),
    user: {
      uid: integer(text(r, 'user.uid')) ?? -1,
      name: text(r, 'user.name') ?? 'unknown',
      passwordlessSudo: parseSudo(text(r, 'user.sudo')),
    },
    tools: TOOL_IDS.map((id) => parseTool(r, id, tools[id])),
  };
}

/** A record's trimmed value, or null when it is missing or blank. */
function text(r: Records, key: string): string | null {
  const value = r.get(key)?.trim();
  return value ? value : null;
}

function integer(value: string | null): number | null {
  return value !== null && /^-?\d+$/.test(value) ? Number(value) : null;
}

function virtFlag(value: string | null): 'vmx' | 'svm' | null {
  return value === 'vmx' || value === 'svm' ? value : null;
}

function parseOsRelease(content: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of content.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) fields[match[1]!] = match[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return fields;
}

function parseMeminfo(content: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const match of content.matchAll(/^(\w+):\s+(\d+)\s*kB/gm)) fields[match[1]!] = Number(match[2]) * 1024;
  return fields;
}

/** `df -Pk` data line: counted from the end, since the device name may contain spaces. */
function parseDfAvailable(line: string | null): number | null {
  const available = integer(line?.split(/\s+/).at(-3) ?? null);
  return available === null ? null : available * 1024;
}

function parseTool(r: Records, id: ToolId, probe: VersionProbe): ToolFact {
  const result = parseProbe(r, id, probe);
  return { id, found: result.path !== null, ...result };
}

function parseNode(r: Records): HostFacts['node'] {
  const { path, version } = parseProbe(r, 'node', NODE_PROBE);
  return path !== null && version !== null ? { path, version } : null;
}

function parseProbe(r: Records, name: string, probe: VersionProbe): Omit<ToolFact, 'id' | 'found'> {
  const path = text(r, `probe.${name}.path`);
  if (path === null) return { path: null, version: null, error: null };
  const exitCode = integer(text(r, `probe.${name}.exit`));
  const output = text(r, `probe.${name}.output`) ?? '';
  if (exitCode === 0) return { path, version: extractVersion(probe, output), error: null };
  // timeout(1) exits 124 when it had to stop the command.
  if (exitCode === 124) {
    return { path, version: null, error: `no answer within ${PROBE_TIMEOUT_SECONDS} s${output ? `: ${output}` : ''}` };
  }
  const command = [path, ...probe.versionArgs].join(' ');
  return { path, version: null, error: output || `${command} exited with code ${exitCode ?? 'unknown'}` };
}

const CGROUP_TYPES: Record<string, string> = { cgroup2: 'cgroup2fs', cgroup: 'cgroupfs', tmpfs: 'tmpfs' };

function parseCgroup(r: Records): HostFacts['cgroup'] {
  const mounts = new Map<string, string>();
  for (const line of (r.get('cgroup.mounts') ?? '').split('\n')) {
    const [path, type] = line.trim().split(/\s+/);
    if (path && type) mounts.set(path, CGROUP_TYPES[type] ?? type);
  }
  const known = new Set(Object.values(CGROUP_TYPES));
  const fsType = (key: string, path: string) => {
    const answer = text(r, key);
    return answer !== null && known.has(answer) ? answer : (mounts.get(path) ?? answer);
  };
  const root = fsType('cgroup.root', '/sys/fs/cgroup');
  const unified = fsType('cgroup.unified', '/sys/fs/cgroup/unified');
  const mode: CgroupMode = root === 'cgroup2fs' ? 'v2'
    : root === 'tmpfs' ? (unified === 'cgroup2fs' ? 'hybrid' : 'v1')
      : root === 'cgroupfs' ? 'v1'
        : 'unknown';
  return { mode, detail: cgroupDetail(mode, root, r) };
}

function cgroupDetail(mode: CgroupMode, root: string | null, r: Records): string {
  switch (mode) {
    case 'v2':
      return `unified cgroup v2 at /sys/fs/cgroup; controllers: ${text(r, 'cgroup.controllers') ?? 'none'}`;
    case 'hybrid': {
      const controllers = text(r, 'cgroup.unified.controllers');
      return 'cgroup v1 hierarchies plus a cgroup2 mount at /sys/fs/cgroup/unified (hybrid); '
        + (controllers
          ? `the v2 mount holds controllers (${controllers}), which crun rejects ("cgroups in hybrid mode not supported")`
          : 'the v2 mount holds no controllers');
    }
    case 'v1':
      return 'cgroup v1 hierarchies at /sys/fs/cgroup, no cgroup2 mount';
    case 'unknown':
      return root === null
        ? 'could not read the file system type of /sys/fs/cgroup'
        : `unrecognised file system type at /sys/fs/cgroup: ${root}`;
  }
}

function parseKvm(r: Records): HostFacts['kvm'] {
  const nestedFlag = text(r, 'kvm.nested');
  const nested = nestedFlag === null ? null : nestedFlag === 'Y' || nestedFlag === '1';
  if (text(r, 'kvm.device') !== '1') {
    return {
      devicePresent: false, readWrite: false, usable: false, nested,
      detail: '/dev/kvm is missing: the kvm module is not loaded or this machine exposes no hardware virtualization',
    };
  }
  const readWrite = text(r, 'kvm.rw') === '1';
  const access = readWrite ? '' : ' (this user lacks read-write access: add it to the kvm group)';
  const base = { devicePresent: true, readWrite, nested };
  if (text(r, 'kvm.python') === null) {
    return { ...base, usable: null, detail: `/dev/kvm exists${access}; python3 is not installed, so KVM_CREATE_VM could not be tried` };
  }
  const answer = text(r, 'kvm.test') ?? '';
  const [status, ...rest] = answer.split(' ');
  const reason = rest.join(' ');
  switch (status) {
    case 'ok':
      return { ...base, usable: true, detail: 'KVM_GET_API_VERSION returned 12 and KVM_CREATE_VM succeeded' };
    case 'open-failed':
      return { ...base, usable: false, detail: `opening /dev/kvm read-write failed: ${reason}${access}` };
    case 'api-failed':
      return { ...base, usable: false, detail: `KVM_GET_API_VERSION failed: ${reason}` };
    case 'bad-api':
      return { ...base, usable: false, detail: `KVM_GET_API_VERSION returned ${reason}, expected 12` };
    case 'create-vm-failed':
      return { ...base, usable: false, detail: `KVM_CREATE_VM failed: ${reason}` };
    default:
      return { ...base, usable: null, detail: `the KVM test with python3 gave no clear answer: ${answer || 'no output'}` };
  }
}

// VMware's VMCI transport owns the host side of vsock, so vhost_vsock cannot load beside it.
const VSOCK_BLOCKERS = ['vmw_vsock_vmci_transport'];

function parseVsock(r: Records): HostFacts['vsock'] {
  const vhostVsockDevice = text(r, 'vsock.device') === '1';
  const moduleFlag = text(r, 'vsock.module');
  const moduleAvailable = moduleFlag === null ? null : moduleFlag === '1';
  const loadedRecord = r.get('vsock.loaded');
  const loaded = (loadedRecord ?? '').split('\n').map((name) => name.trim());
  const blockedBy = VSOCK_BLOCKERS.find((name) => loaded.includes(name)) ?? null;
  return { vhostVsockDevice, moduleAvailable, blockedBy, detail: vsockDetail(vhostVsockDevice, moduleAvailable, blockedBy, loadedRecord !== undefined) };
}

function vsockDetail(device: boolean, moduleAvailable: boolean | null, blockedBy: string | null, modulesListed: boolean): string {
  if (device) return '/dev/vhost-vsock is present';
  const unlisted = modulesListed ? '' : '; loaded modules could not be listed (no /proc/modules or lsmod)';
  if (blockedBy) {
    return `/dev/vhost-vsock is missing and ${blockedBy} (VMware's VMCI vsock transport) is loaded, so "modprobe vhost_vsock" `
      + `fails with "Device or resource busy": stop open-vm-tools, "modprobe -r ${blockedBy}", then "modprobe vhost_vsock"`;
  }
  if (moduleAvailable === null) return `/dev/vhost-vsock is missing; modinfo is not installed, so whether a vhost_vsock module exists is unknown${unlisted}`;
  if (moduleAvailable) return `/dev/vhost-vsock is missing; the vhost_vsock module exists: "modprobe vhost_vsock" should create it${unlisted}`;
  return `/dev/vhost-vsock is missing and this kernel has no vhost_vsock module (install the extra modules package for the running kernel)${unlisted}`;
}

function parseSudo(answer: string | null): boolean | null {
  if (answer === 'root' || answer === 'yes') return true;
  if (answer === 'no') return false;
  return null;
}
