import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostFacts, TOOL_IDS, type ToolId } from '../shared/model/host-facts.ts';
import { quoteArg } from '../shared/shell-quote.ts';
import { inspectHost } from '../services/inspect/inspect-host.ts';
import { buildInspectionScript } from '../services/inspect/inspection-script.ts';
import { parseInspection } from '../services/inspect/parse-inspection.ts';
import { TOOL_PROBES, type VersionProbe } from '../services/inspect/tool-probes.ts';
import { createLocalTransport } from '../services/transport/local-transport.ts';
import { execScript, type Transport } from '../services/transport/transport.ts';

const transport = createLocalTransport();
afterAll(() => transport.close());

/** One record as the inspection script frames it. */
function record(key: string, value: string): string {
  return `${key}\t${Buffer.from(value).toString('base64')}\n`;
}

function toolFact(facts: HostFacts, id: ToolId) {
  return facts.tools.find((tool) => tool.id === id)!;
}

// Facts about this machine, found here without the inspection code.
const EXTRA_PATH = '/usr/local/sbin:/usr/sbin:/sbin:/opt/kata/bin:/usr/local/bin';
function which(name: string): string | null {
  try {
    return execFileSync('sh', ['-c', `PATH="$PATH:${EXTRA_PATH}" command -v ${quoteArg(name)}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
function firstLineOf(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!;
}
const STATFS = { tmpfs: 0x01021994, cgroup2: 0x63677270, cgroup: 0x27e0eb };
function expectedCgroupMode(): string {
  const root = statfsSync('/sys/fs/cgroup').type;
  if (root === STATFS.cgroup2) return 'v2';
  if (root === STATFS.cgroup) return 'v1';
  if (root !== STATFS.tmpfs) return 'unknown';
  const unified = existsSync('/sys/fs/cgroup/unified') && statfsSync('/sys/fs/cgroup/unified').type === STATFS.cgroup2;
  return unified ? 'hybrid' : 'v1';
}

describe('inspectHost on this computer', () => {
  let facts: HostFacts;
  beforeAll(async () => { facts = await inspectHost(transport); });

  it('lists every tool, found exactly where command -v finds it', () => {
    expect(facts.tools.map((tool) => tool.id)).toEqual([...TOOL_IDS]);
    for (const tool of facts.tools) {
      const path = which(tool.id);
      expect({ id: tool.id, found: tool.found, path: tool.path }).toEqual({ id: tool.id, found: path !== null, path });
      if (!tool.found) expect(tool.version).toBeNull();
    }
    expect(toolFact(facts, 'crio').found).toBe(false);
  });

  it('reads versions that the tools really print', () => {
    const runc = toolFact(facts, 'runc');
    expect(runc.found).toBe(true);
    expect(firstLineOf([runc.path!, '--version'])).toBe(`runc version ${runc.version}`);
    for (const tool of facts.tools.filter((t) => t.found)) {
      expect(tool.error, tool.id).toBeNull();
      expect(tool.version, tool.id).not.toBeNull();
      expect(firstLineOf([tool.path!, '--version']), tool.id).toContain(tool.version!);
    }
  });

  it('describes the system as the kernel and /proc do', () => {
    expect(facts.os.kernel).toBe(os.release());
    expect(facts.os.arch).toBe(os.machine());
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    expect(facts.os.distroId).toBe(/^ID="?([^"\n]+)/m.exec(osRelease)![1]);
    expect(facts.cpu.cores).toBe(Number(firstLineOf(['nproc'])));
    expect(facts.cpu.cores).toBe(os.availableParallelism());
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    expect(facts.cpu.model).toBe(/^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? facts.cpu.model);
    expect(facts.cpu.virtFlag).toBe(/\bvmx\b/.test(cpuinfo) ? 'vmx' : /\bsvm\b/.test(cpuinfo) ? 'svm' : null);
    expect(facts.memory.totalBytes).toBe(os.totalmem());
    expect(facts.memory.availableBytes).toBeGreaterThan(0);
    const disk = statfsSync('/');
    expect(Math.abs(facts.diskFreeBytes! - disk.bavail * disk.bsize)).toBeLessThan(512 * 1024 * 1024);
  });

  it('classifies cgroups as statfs does', () => {
    expect(facts.cgroup.mode).toBe(expectedCgroupMode());
  });

  it('reports KVM and vsock devices as they exist', () => {
    const kvm = existsSync('/dev/kvm');
    expect(facts.kvm.devicePresent).toBe(kvm);
    if (kvm) {
      let readWrite = true;
      try { accessSync('/dev/kvm', constants.R_OK | constants.W_OK); } catch { readWrite = false; }
      expect(facts.kvm.readWrite).toBe(readWrite);
      // Decided by KVM_CREATE_VM whenever python3 can run it, never left to cpuinfo.
      expect(facts.kvm.usable === null).toBe(which('python3') === null);
    } else {
      expect(facts.kvm.usable).toBe(false);
    }
    expect(facts.vsock.vhostVsockDevice).toBe(existsSync('/dev/vhost-vsock'));
    const detectVirt = which('systemd-detect-virt');
    if (detectVirt) {
      let answer: string;
      try { answer = firstLineOf([detectVirt, '--vm']); } catch (err) { answer = String((err as { stdout: string }).stdout).trim(); }
      expect(facts.hypervisor).toBe(answer);
    } else {
      expect(facts.hypervisor).toBeNull();
    }
  });

  it('reports the user and the Node on the host', () => {
    expect(facts.user.uid).toBe(process.getuid!());
    expect(facts.user.name).toBe(os.userInfo().username);
    if (facts.user.uid === 0) expect(facts.user.passwordlessSudo).toBe(true);
    const node = which('node') ?? which('nodejs');
    expect(facts.node?.path ?? null).toBe(node);
    if (node) expect(`v${facts.node!.version}`).toBe(firstLineOf([node, '--version']));
  });

  it('refuses a timed-out or cut-off inspection', async () => {
    await expect(inspectHost(transport, { timeoutMs: 5 })).rejects.toMatchObject({ code: 'timeout' });
    const cutOff: Transport = {
      ...transport,
      async exec(argv, options) {
        const result = await transport.exec(argv, options);
        return { ...result, stdout: result.stdout.slice(0, result.stdout.length / 2) };
      },
    };
    await expect(inspectHost(cutOff)).rejects.toMatchObject({ code: 'command-failed' });
  });
});

// Version outputs of real tools, framed as the script frames them: runc, crun, runsc,
// containerd, ctr, dockerd, docker and the broken youki were captured on this Debian 12
// machine; the Kata lines come from published install reports; Firecracker, cri-o and
// crictl follow the banners their projects document. Only runnc's hang is made up.
const CAPTURED: Partial<Record<ToolId, { path: string; exit: number; output: string }>> = {
  runc: { path: '/usr/sbin/runc', exit: 0, output: 'runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4' },
  crun: { path: '/usr/bin/crun', exit: 0, output: 'crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +YAJL' },
  // A binary built here whose shared library was then deleted: the loader's words, exit 127.
  youki: { path: '/usr/local/bin/youki', exit: 127, output: '/usr/local/bin/youki: error while loading shared libraries: libgone.so: cannot open shared object file: No such file or directory' },
  runsc: { path: '/usr/bin/runsc', exit: 0, output: 'runsc version 0.0~20221219.0\nspec: 1.0.2-dev' },
  'kata-runtime': { path: '/usr/bin/kata-runtime', exit: 0, output: 'kata-runtime  : 1.12.0-rc0\n   commit   : <<unknown>>\n   OCI specs: 1.0.1-dev' },
  'containerd-shim-kata-v2': {
    path: '/opt/kata/bin/containerd-shim-kata-v2',
    exit: 0,
    output: 'Kata Containers containerd shim (Golang): id: "io.containerd.kata.v2", version: 3.3.0, commit: 19eb45a27d5b666f8f012c13ba6b504cee4b97b1',
  },
  firecracker: { path: '/usr/local/bin/firecracker', exit: 0, output: 'Firecracker v1.10.1' },
  // Hung until timeout(1) stopped it.
  runnc: { path: '/usr/local/bin/runnc', exit: 124, output: '' },
  containerd: { path: '/usr/bin/containerd', exit: 0, output: 'containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3' },
  ctr: { path: '/usr/bin/ctr', exit: 0, output: 'ctr github.com/containerd/containerd 1.6.20~ds1' },
  dockerd: { path: '/usr/sbin/dockerd', exit: 0, output: 'Docker version 20.10.24+dfsg1, build 5d6db84' },
  docker: { path: '/usr/local/bin/docker', exit: 0, output: 'Docker version 28.2.2, build e6534b4' },
  crio: { path: '/usr/bin/crio', exit: 0, output: 'Version:        1.29.1' },
  crictl: { path: '/usr/local/bin/crictl', exit: 0, output: 'crictl version v1.28.0' },
};

function capturedOutput(): string {
  return Object.entries(CAPTURED).map(([id, probe]) =>
    record(`probe.${id}.path`, probe.path) + record(`probe.${id}.exit`, String(probe.exit)) + record(`probe.${id}.output`, probe.output)).join('');
}

describe('parseInspection', () => {
  it('reads the versions of real tools and the failures of broken ones', () => {
    const facts = HostFacts.parse(parseInspection(capturedOutput(), '2026-01-01T00:00:00.000Z'));
    const versions = Object.fromEntries(facts.tools.map((tool) => [tool.id, tool.version]));
    expect(versions).toEqual({
      runc: '1.1.5+ds1', crun: '1.8.1', youki: null, runsc: '0.0~20221219.0', 'kata-runtime': '1.12.0-rc0',
      'containerd-shim-kata-v2': '3.3.0', firecracker: '1.10.1', runnc: null, containerd: '1.6.20~ds1', ctr: '1.6.20~ds1',
      dockerd: '20.10.24+dfsg1', docker: '28.2.2', crio: '1.29.1', crictl: '1.28.0',
    });
    expect(toolFact(facts, 'youki')).toEqual({
      id: 'youki', found: true, path: '/usr/local/bin/youki', version: null, error: CAPTURED.youki!.output,
    });
    expect(toolFact(facts, 'runnc').error).toBe('no answer within 10 s');
  });

  it('reads other banners the probes must recognise', () => {
    const parse = (id: ToolId, output: string) =>
      toolFact(parseInspection(record(`probe.${id}.path`, '/x') + record(`probe.${id}.exit`, '0') + record(`probe.${id}.output`, output)), id).version;
    expect(parse('runsc', 'runsc version release-20221219.0\nspec: 1.0.2-dev')).toBe('release-20221219.0');
    expect(parse('kata-runtime', 'kata-runtime  : 3.2.0\n   commit : abc\n   OCI specs: 1.0.2-dev')).toBe('3.2.0');
    expect(parse('crio', 'crio version 1.17.0\ncommit: "abc"')).toBe('1.17.0');
    expect(parse('containerd', 'containerd github.com/containerd/containerd/v2 v2.0.0 207ad711eabd375a01713109a8a197d197ff6542')).toBe('2.0.0');
    // A build without a version string must not report the OCI spec's version instead.
    expect(parse('runnc', 'runnc version commit: 0f1e2d\nspec: 1.0.1')).toBeNull();
  });

  it('reads the system records', () => {
    const output = [
      record('os.release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian'),
      record('kernel', '6.1.0-18-amd64\n'),
      record('arch', 'x86_64'),
      record('cpu.model', 'Intel(R) Xeon(R) Platinum 8488C'),
      record('cpu.cores', '4'),
      record('cpu.virt', 'vmx'),
      record('meminfo', 'MemTotal:       16303512 kB\nMemAvailable:   15001236 kB'),
      record('df.root', '/dev/mapper/vg root  61611820 5110056  53339380       9% /'),
      record('cgroup.root', 'cgroup2fs'),
      record('cgroup.controllers', 'cpuset cpu io memory pids'),
      record('virt', 'amazon'),
      record('kvm.device', '1'), record('kvm.rw', '0'), record('kvm.python', '/usr/bin/python3'),
      record('kvm.test', 'open-failed Permission denied'), record('kvm.nested', 'Y'),
      record('vsock.device', '0'), record('vsock.module', '1'), record('vsock.loaded', 'vmw_vsock_virtio_transport_common\nvmw_vsock_vmci_transport\nvsock'),
      record('user.uid', '1000'), record('user.name', 'admin'), record('user.sudo', 'yes'),
      record('probe.node.path', '/usr/bin/node'), record('probe.node.exit', '0'), record('probe.node.output', 'v18.19.0'),
    ].join('');
    const facts = HostFacts.parse(parseInspection(output));
    expect(facts.os).toEqual({ prettyName: 'Debian GNU/Linux 12 (bookworm)', distroId: 'debian', distroVersion: '12', kernel: '6.1.0-18-amd64', arch: 'x86_64' });
    expect(facts.cpu).toEqual({ model: 'Intel(R) Xeon(R) Platinum 8488C', cores: 4, virtFlag: 'vmx' });
    expect(facts.memory).toEqual({ totalBytes: 16303512 * 1024, availableBytes: 15001236 * 1024 });
    expect(facts.diskFreeBytes).toBe(53339380 * 1024);
    expect(facts.cgroup.mode).toBe('v2');
    expect(facts.hypervisor).toBe('amazon');
    expect(facts.kvm).toMatchObject({ devicePresent: true, readWrite: false, usable: false, nested: true });
    expect(facts.kvm.detail).toContain('Permission denied');
    expect(facts.vsock).toMatchObject({ vhostVsockDevice: false, moduleAvailable: true, blockedBy: 'vmw_vsock_vmci_transport' });
    expect(facts.user).toEqual({ uid: 1000, name: 'admin', passwordlessSudo: true });
    expect(facts.node).toEqual({ path: '/usr/bin/node', version: '18.19.0' });
  });

  it('tells hybrid, v1 and BusyBox-reported cgroups apart', () => {
    const mode = (...records: string[]) => parseInspection(records.join('')).cgroup.mode;
    expect(mode(record('cgroup.root', 'tmpfs'), record('cgroup.unified', 'cgroup2fs'))).toBe('hybrid');
    expect(mode(record('cgroup.root', 'tmpfs'), record('cgroup.unified', 'tmpfs'))).toBe('v1');
    expect(mode(record('cgroup.root', 'tmpfs'))).toBe('v1');
    // BusyBox stat says "UNKNOWN" for cgroup2: the mount table decides.
    expect(mode(record('cgroup.root', 'tmpfs'), record('cgroup.unified', 'UNKNOWN'),
      record('cgroup.mounts', '/sys/fs/cgroup tmpfs\n/sys/fs/cgroup/unified cgroup2'))).toBe('hybrid');
    expect(mode(record('cgroup.root', 'UNKNOWN'), record('cgroup.mounts', '/sys/fs/cgroup cgroup2'))).toBe('v2');
    expect(mode(record('cgroup.root', 'nfs'))).toBe('unknown');
  });

  it('says why KVM could not be tried and never trusts cpuinfo', () => {
    const kvm = (...records: string[]) => parseInspection(records.join('')).kvm;
    const noPython = kvm(record('kvm.device', '1'), record('kvm.rw', '1'), record('kvm.python', ''), record('cpu.virt', 'vmx'));
    expect(noPython.usable).toBeNull();
    expect(noPython.detail).toContain('python3 is not installed');
    expect(kvm(record('cpu.virt', 'vmx'))).toMatchObject({ devicePresent: false, usable: false });
    expect(kvm(record('kvm.device', '1'), record('kvm.rw', '1'), record('kvm.python', '/usr/bin/python3'), record('kvm.test', 'ok 12')).usable).toBe(true);
    expect(kvm(record('kvm.device', '1'), record('kvm.python', '/usr/bin/python3'), record('kvm.test', 'Traceback (most recent call last):')).usable).toBeNull();
  });

  it('never throws on odd or missing records', () => {
    const odd = [
      '',
      'garbage without a tab',
      '\tno key',
      'kernel\tnot base64 !!!',
      'cpu.cores\t' + Buffer.from('many').toString('base64'),
      'probe.runc.path\t' + Buffer.from('/usr/sbin/runc').toString('base64'),
      'probe.docker.path\t' + Buffer.from('/usr/bin/docker').toString('base64') + '\r',
      'meminfo\t' + Buffer.from('MemTotal: lots').toString('base64'),
      'df.root\t' + Buffer.from('Filesystem 1024-blocks Used Available Capacity Mounted on').toString('base64'),
      'user.uid\t',
      'probe.crun.pa',
    ];
    for (const output of [odd.join('\n'), '', '\0\0\0', 'x'.repeat(10_000)]) {
      const facts = HostFacts.parse(parseInspection(output));
      expect(facts.tools).toHaveLength(TOOL_IDS.length);
      expect(facts.os.kernel).toBe('unknown');
      expect(facts.cpu.cores).toBe(0);
      expect(facts.diskFreeBytes).toBeNull();
      expect(facts.cgroup.mode).toBe('unknown');
      expect(facts.node).toBeNull();
    }
    const facts = parseInspection(odd.join('\n'));
    // Found, but the version command's answer never arrived.
    expect(toolFact(facts, 'runc')).toMatchObject({ found: true, version: null, error: expect.stringContaining('exited with code unknown') });
    expect(toolFact(facts, 'docker').path).toBe('/usr/bin/docker');
    expect(toolFact(facts, 'crun').found).toBe(false);
  });
});

describe('inspection script against hostile tools', () => {
  // A PATH directory and a binary whose names hold spaces, quotes and $(…), and output
  // full of tabs, newlines and lines that look like records.
  const dir = mkdtempSync(join(os.tmpdir(), `fake tools 'it''s' "q" $(id) `));
  const runcName = `it's a "runc" $(touch pwned) ;`;
  const probes: Record<ToolId, VersionProbe> = {
    ...TOOL_PROBES,
    runc: { binaries: ['no-such-runc', runcName], versionArgs: ['--version', 'two words', `it's`], versionPattern: /^fake version (\S+)/m },
  };
  beforeAll(() => {
    writeFileSync(join(dir, runcName), [
      '#!/bin/sh',
      `printf 'probe.runc.path\\tL2V2aWw=\\ninspection-complete\\n\\tkernel\\t\\n'`,
      `printf 'fake version 9.9.9\\targs=[%s][%s][%s]\\n' "$1" "$2" "$3"`,
    ].join('\n'), { mode: 0o755 });
    writeFileSync(join(dir, 'crun'), `#!/bin/sh\nprintf 'crun: cannot start\\tat all\\nsecond line\\n' >&2\nexit 3\n`, { mode: 0o755 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its framing and passes names and arguments verbatim', async () => {
    const script = `PATH=${quoteArg(dir)}:"$PATH"; export PATH\n${buildInspectionScript(probes)}`;
    const result = await execScript(transport, script, { timeoutMs: 60_000 });
    expect(result.exitCode).toBe(0);
    const facts = HostFacts.parse(parseInspection(result.stdout, undefined, probes));
    expect(toolFact(facts, 'runc')).toEqual({ id: 'runc', found: true, path: join(dir, runcName), version: '9.9.9', error: null });
    expect(toolFact(facts, 'crun')).toEqual({
      id: 'crun', found: true, path: join(dir, 'crun'), version: null, error: 'crun: cannot start\tat all\nsecond line',
    });
    expect(facts.os.kernel).toBe(os.release());
    expect(existsSync('pwned') || existsSync(join(dir, 'pwned'))).toBe(false);
    const runcOutput = new Map(result.stdout.split('\n').map((line) => line.split('\t') as [string, string])).get('probe.runc.output')!;
    expect(Buffer.from(runcOutput, 'base64').toString()).toContain('args=[--version][two words][it\'s]');
  });
});
