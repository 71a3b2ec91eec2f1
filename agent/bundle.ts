import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, copyFileSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { BundleInfo } from '../shared/model/run-record.ts';

// The OCI bundle every runtime runs: the seed's `hello` (prints "Hello", exits), so that
// what is measured is the runtime, not the workload. The rootfs holds only the static
// binary — the runtimes create the mount points the spec asks for. config.json is written
// here, modelled on `runc spec`, so that a host needs no runc to measure crun or runsc.

export const HELLO_C = '#include <stdio.h>\nint main(){printf("Hello\\n");return 0;}\n';

export interface BundleOptions {
  /** The C compiler to try first; a host without it falls back to a static busybox. */
  gcc?: string;
}

interface Workload {
  /** process.args of the spec: the binary placed in the rootfs, and its arguments. */
  args: string[];
  builtWith: string;
}

export interface PreparedBundle {
  info: BundleInfo;
  /** Why a preferred way to build the workload was not used, for the run's log. */
  warnings: string[];
}

/** Builds the bundle in `bundleDir` (replacing whatever was there) and describes it. */
export function prepareBundle(bundleDir: string, options: BundleOptions = {}): PreparedBundle {
  const root = path.resolve(bundleDir);
  const rootfs = path.join(root, 'rootfs');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });

  const warnings: string[] = [];
  const workload = compileHello(root, rootfs, options.gcc ?? 'gcc', warnings) ?? copyBusybox(rootfs, warnings);
  if (!workload) throw new Error(`cannot make the hello workload: ${warnings.join('; ')}`);

  const config = JSON.stringify(ociSpec(rootfs, workload.args), null, 2);
  writeFileSync(path.join(root, 'config.json'), config);
  // The digest names the workload, not where it lives: it hashes the spec as if root.path
  // were "rootfs", so two runs of the same workload compare equal in any run folder.
  const portableConfig = JSON.stringify(ociSpec('rootfs', workload.args), null, 2);
  const info = { workload: 'hello', builtWith: workload.builtWith, digest: bundleDigest(portableConfig, rootfs), path: root };
  return { info, warnings };
}

/**
 * `gcc -static -O2` of one C source, written to `sourceFile`, into `binary`. Every workload
 * binary must be static: the rootfs has no libc. On failure, why (and the binary is gone).
 */
export function compileStatic(gcc: string, code: string, sourceFile: string, binary: string): { builtWith: string; failure: null } | { builtWith: null; failure: string } {
  writeFileSync(sourceFile, code);
  const result = spawnSync(gcc, ['-static', '-O2', '-o', binary, sourceFile], { encoding: 'utf8', timeout: 120_000 });
  let failure: string | null = null;
  if (result.error || result.status !== 0) failure = `${gcc} -static ${path.basename(sourceFile)} failed: ${result.error?.message ?? (result.stderr.trim() || `exit ${String(result.status)}`)}`;
  else if (!isStaticElf(binary)) failure = `${gcc} -static produced a dynamically linked binary (is libc6-dev's libc.a missing?)`;
  if (failure === null) return { builtWith: `${gcc} -static -O2 ${path.basename(sourceFile)}`, failure: null };
  rmSync(binary, { force: true });
  return { builtWith: null, failure };
}

function compileHello(root: string, rootfs: string, gcc: string, warnings: string[]): Workload | null {
  const compiled = compileStatic(gcc, HELLO_C, path.join(root, 'hello.c'), path.join(rootfs, 'hello'));
  if (compiled.failure !== null) {
    warnings.push(`${compiled.failure}; trying busybox`);
    return null;
  }
  return { args: ['/hello'], builtWith: compiled.builtWith };
}

function copyBusybox(rootfs: string, warnings: string[]): Workload | null {
  const candidates = ['/bin/busybox', ...pathCandidates('busybox')];
  const found = candidates.find((file) => isExecutable(file) && isStaticElf(file));
  if (!found) {
    warnings.push('no statically linked busybox found (Debian: busybox-static)');
    return null;
  }
  const target = path.join(rootfs, 'busybox');
  copyFileSync(found, target);
  chmodSync(target, 0o755);
  return { args: ['/busybox', 'echo', 'Hello'], builtWith: `busybox echo Hello (${found})` };
}

function pathCandidates(name: string): string[] {
  return (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, name));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * True for an ELF executable with no PT_INTERP program header, i.e. one that needs no
 * dynamic loader — it can run in a rootfs that holds nothing else. Read from the header
 * directly because `file` is not on every host.
 */
export function isStaticElf(file: string): boolean {
  const PT_INTERP = 3;
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(64);
    if (readSync(fd, header, 0, 64, 0) < 52 || header.readUInt32BE(0) !== 0x7f454c46) return false;
    const is64 = header[4] === 2;
    const little = header[5] === 1;
    const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
    const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
    const phoff = is64 ? Number(little ? header.readBigUInt64LE(32) : header.readBigUInt64BE(32)) : u32(header, 28);
    const phentsize = u16(header, is64 ? 54 : 42);
    const phnum = u16(header, is64 ? 56 : 44);
    if (phnum === 0 || phentsize < 4) return false;
    const table = Buffer.alloc(phentsize * phnum);
    if (readSync(fd, table, 0, table.length, phoff) < table.length) return false;
    for (let i = 0; i < phnum; i++) {
      if (u32(table, i * phentsize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/** sha256 over config.json and every rootfs file's relative path, size and content, in path order. */
export function bundleDigest(config: string, rootfs: string): string {
  const hash = createHash('sha256');
  const add = (name: string, content: Buffer) => {
    // Name and length delimit each entry, so no two different bundles hash the same stream.
    hash.update(`${name}\0${content.length}\0`);
    hash.update(content);
  };
  add('config.json', Buffer.from(config));
  for (const file of listFiles(rootfs)) add(`rootfs/${file}`, readFileSync(path.join(rootfs, file)));
  return hash.digest('hex');
}

function listFiles(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...listFiles(path.join(dir, entry.name), relative));
    else files.push(relative);
  }
  return files;
}

/**
 * The spec `runc spec` writes (runc 1.1), with the workload as the process, a read-only
 * root at an absolute path (runnc refuses a relative one) and no terminal (the agent
 * is not attached to one, and runtimes refuse `terminal: true` without a console socket).
 * `writableRoot`: for a workload that writes into its root filesystem (perf's io kernel).
 */
export function ociSpec(rootPath: string, args: string[], options: { writableRoot?: boolean } = {}): object {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootPath, readonly: !options.writableRoot },
    hostname: 'runtime-lab',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
        '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
