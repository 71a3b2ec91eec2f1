import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnTimed } from './spawn-timed.ts';

// Finding, stopping and starting the dockerd a run talks to. Without systemd, dockerd is
// started again with the argv, environment and working folder it had (read from /proc
// once, before the first stop: after a failed start there is no process left to read).
// Under systemd, systemctl does it. A dockerd that cannot start (a storage driver its
// backing filesystem refuses) is reported with dockerd's own reason.

export interface DockerdContext {
  /** `docker -H HOST` and the rest of the client's argv prefix. */
  docker: readonly string[];
  dockerHost: string;
  runDir: string;
  scratchDir: string;
  /** Bound of every docker command. */
  timeoutMs: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** How dockerd was started, so it can be started again the same way. */
export type DockerdLaunch =
  | { kind: 'systemd'; unit: string }
  | { kind: 'process'; argv: string[]; env: Record<string, string>; cwd: string };

/** How long dockerd may take to stop, or to answer after a start. */
export const DAEMON_WAIT_MS = 60_000;
export const POLL_MS = 200;
const SYSTEMD_UNIT = 'docker.service';

export function dockerdLaunch(pid: number): DockerdLaunch {
  const cgroup = readText(`/proc/${pid}/cgroup`) ?? '';
  if (existsSync('/run/systemd/system') && cgroup.includes(`/${SYSTEMD_UNIT}`)) return { kind: 'systemd', unit: SYSTEMD_UNIT };
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (argv.at(-1) === '') argv.pop();
  if (argv.length === 0) throw new Error(`cannot read how dockerd (pid ${pid}) was started`);
  const env = Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { kind: 'process', argv, env, cwd: readlinkSync(`/proc/${pid}/cwd`) };
}

/** Stops dockerd and starts it again the way it was started. */
export async function restartDockerd(ctx: DockerdContext, pid: number): Promise<void> {
  const launch = dockerdLaunch(pid);
  if (launch.kind === 'process') await stopDockerd(ctx, pid, launch);
  await startDockerd(ctx, launch);
}

/** Stops dockerd: `systemctl stop` for a unit (which would restart a dockerd killed behind its back), else SIGTERM; then a bounded wait for it to be gone. */
export async function stopDockerd(ctx: Pick<DockerdContext, 'scratchDir'>, pid: number, launch: DockerdLaunch): Promise<void> {
  if (launch.kind === 'systemd') {
    const stopped = await spawnTimed(['systemctl', 'stop', launch.unit], { timeoutMs: DAEMON_WAIT_MS, scratchDir: ctx.scratchDir });
    if (stopped.exitCode !== 0) throw new Error(`systemctl stop ${launch.unit} failed: ${stopped.stderr.trim() || stopped.stdout.trim()}`);
  } else {
    process.kill(pid, 'SIGTERM');
  }
  const deadline = Date.now() + DAEMON_WAIT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`dockerd (pid ${pid}) did not stop within ${DAEMON_WAIT_MS / 1000} s of SIGTERM`);
    await sleep(POLL_MS);
  }
}

/**
 * Starts dockerd (systemd: restarts its unit) and waits until it answers. Throws with
 * dockerd's own reason when it exits instead ("failed to start daemon: …").
 */
export async function startDockerd(ctx: DockerdContext, launch: DockerdLaunch): Promise<void> {
  const options = { timeoutMs: DAEMON_WAIT_MS, scratchDir: ctx.scratchDir };
  if (launch.kind === 'systemd') {
    // A loop of restarts would otherwise hit the unit's start limit.
    await spawnTimed(['systemctl', 'reset-failed', launch.unit], options);
    const result = await spawnTimed(['systemctl', 'restart', launch.unit], options);
    if (result.exitCode !== 0) {
      const journal = await spawnTimed(['journalctl', '-u', launch.unit, '-n', '50', '--no-pager', '-o', 'cat'], options);
      throw new Error(startFailure(journal.stdout) ?? `systemctl restart ${launch.unit} failed: ${result.stderr.trim() || result.stdout.trim()}`);
    }
    await waitForAnswer(ctx, () => null);
    return;
  }
  const logFile = path.join(ctx.runDir, 'daemon-json', 'dockerd-restart.log');
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'a');
  const logStart = statSync(logFile).size;
  const [command, ...args] = launch.argv;
  const child = spawn(command!, args, { cwd: launch.cwd, env: launch.env, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: string | null = null;
  child.once('exit', (code, signal) => { exited = `exited with ${signal ?? String(code)}`; });
  child.once('error', (err) => { exited = err.message; });
  child.unref();
  ctx.log('info', `restarted dockerd (${launch.argv.join(' ')}) as pid ${String(child.pid)}; its output goes to daemon-json/dockerd-restart.log`);
  await waitForAnswer(ctx, () => {
    if (exited === null) return null;
    const said = readFrom(logFile, logStart);
    return startFailure(said) ?? `the started dockerd ${exited}: ${lastLines(said, 5) || `see ${logFile}`}`;
  });
}

async function waitForAnswer(ctx: DockerdContext, failed: () => string | null): Promise<void> {
  const deadline = Date.now() + DAEMON_WAIT_MS;
  for (;;) {
    const version = await spawnTimed([...ctx.docker, 'version', '--format', '{{.Server.Version}}'], { timeoutMs: ctx.timeoutMs, scratchDir: ctx.scratchDir });
    if (version.exitCode === 0) return;
    const reason = failed();
    if (reason !== null) throw new Error(reason);
    if (Date.now() > deadline) throw new Error(`the started dockerd does not answer on ${ctx.dockerHost} after ${DAEMON_WAIT_MS / 1000} s`);
    await sleep(POLL_MS);
  }
}

/** dockerd's own last word when it gives up starting, from its log. */
export function startFailure(log: string): string | null {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const fatal = lines.findLast((l) => l.startsWith('failed to start daemon'));
  if (fatal) return fatal;
  const logged = lines.findLast((l) => /level=fatal/.test(l));
  return logged ? (/msg="((?:[^"\\]|\\.)*)"/.exec(logged)?.[1] ?? logged) : null;
}

/**
 * The dockerd serving `ctx.dockerHost`, checked to read `target`. A unix socket is traced
 * to the process listening on it; otherwise the only dockerd on the host is taken.
 */
export function findDockerd(ctx: Pick<DockerdContext, 'dockerHost'>, target: string): number {
  const pid = runningDockerd(ctx, target);
  if (pid === null) throw new Error(`no dockerd serves ${ctx.dockerHost}`);
  return pid;
}

/** As findDockerd, but null when no dockerd serves the socket (stopped, or failed to start). */
export function runningDockerd(ctx: Pick<DockerdContext, 'dockerHost'>, target: string): number | null {
  const pid = dockerdServing(ctx.dockerHost);
  if (pid === null) return null;
  const reads = daemonJsonOf(pid);
  if (resolveTarget(reads) !== target) {
    throw new Error(`the dockerd serving ${ctx.dockerHost} (pid ${pid}) reads ${reads}, not ${target}: set the plan's docker.daemonJson to ${reads}`);
  }
  return pid;
}

/**
 * The daemon.json the dockerd serving `dockerHost` reads (its --config-file, else the
 * default); null when no dockerd serves it. A plan that names no daemon.json uses this one.
 */
export function daemonJsonReadBy(dockerHost: string): string | null {
  const pid = dockerdServing(dockerHost);
  return pid === null ? null : daemonJsonOf(pid);
}

function dockerdServing(dockerHost: string): number | null {
  const socket = dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : null;
  if (socket !== null) {
    // Under systemd socket activation PID 1 holds the socket too: only a dockerd counts.
    // One still starting has not bound it yet but names it; other dockerds are not this one.
    return listeningPids(socket).find((p) => commOf(p) === 'dockerd') ?? pidsNamed('dockerd').find((p) => namesSocket(p, socket)) ?? null;
  }
  const candidates = pidsNamed('dockerd');
  if (candidates.length > 1) throw new Error(`cannot tell which dockerd serves ${dockerHost} (dockerd pids ${candidates.join(', ')})`);
  return candidates[0] ?? null;
}

function daemonJsonOf(pid: number): string {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  return path.resolve(cwd, configFileArgument(argv) ?? '/etc/docker/daemon.json');
}

/** Whether dockerd's -H (default /var/run/docker.sock) names this socket. */
function namesSocket(pid: number, socket: string): boolean {
  const argv = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0');
  const hosts = argv.flatMap((arg, i) => (arg === '-H' || arg === '--host' ? [argv[i + 1] ?? ''] : arg.startsWith('--host=') ? [arg.slice(7)] : []));
  const named = hosts.length > 0 ? hosts.map((h) => h.replace(/^unix:\/\//, '')) : ['/var/run/docker.sock'];
  return named.some((h) => safeRealpath(h) === safeRealpath(socket));
}

function configFileArgument(argv: string[]): string | null {
  for (const [i, arg] of argv.entries()) {
    if (arg === '--config-file') return argv[i + 1] ?? null;
    if (arg.startsWith('--config-file=')) return arg.slice('--config-file='.length);
  }
  return null;
}

/** dockerd's --exec-root: its argv, else daemon.json's "exec-root", else the default. */
export function dockerdExecRoot(pid: number, daemonJson: string): string {
  const argv = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0');
  const flag = argv.findIndex((arg) => arg === '--exec-root' || arg.startsWith('--exec-root='));
  if (flag > 0) return argv[flag]!.includes('=') ? argv[flag]!.slice('--exec-root='.length) : (argv[flag + 1] ?? '/var/run/docker');
  try {
    const config = JSON.parse(readText(daemonJson) ?? '{}') as { 'exec-root'?: unknown };
    if (typeof config['exec-root'] === 'string') return config['exec-root'];
  } catch {
    // unreadable: the default
  }
  return '/var/run/docker';
}

/** `-s`/`--storage-driver` on dockerd's command line: daemon.json may not say it too (dockerd refuses to start). */
export function storageDriverFlag(launch: DockerdLaunch): string | null {
  if (launch.kind !== 'process') return null;
  return launch.argv.find((arg, i) => i > 0 && (arg === '-s' || arg === '--storage-driver' || arg.startsWith('--storage-driver=') || /^-s\S/.test(arg))) ?? null;
}

/** The processes holding a listening unix socket at `socketPath`, from /proc/net/unix and every process's fds. */
export function listeningPids(socketPath: string): number[] {
  const wanted = new Set([socketPath, safeRealpath(socketPath)]);
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = __SO_ACCEPTCON (listening).
    if (fields.length >= 8 && fields[3] === '00010000' && wanted.has(fields.slice(7).join(' '))) inodes.add(`socket:[${fields[6]}]`);
  }
  const pids: number[] = [];
  if (inodes.size === 0) return pids;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return inodes.has(readlinkSync(`/proc/${name}/fd/${fd}`));
      } catch {
        return false; // closed meanwhile
      }
    });
    if (holds) pids.push(Number(name));
  }
  return pids;
}

/** A symlinked daemon.json is edited where it points, so the link itself stays. */
export function resolveTarget(file: string): string {
  return safeRealpath(path.resolve(file));
}

function commOf(pid: number): string | null {
  return readText(`/proc/${pid}/comm`)?.trim() ?? null;
}

function pidsNamed(comm: string): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => commOf(pid) === comm && isAlive(pid));
}

/** Alive and not a zombie (without systemd, PID 1 may be slow to reap). */
function isAlive(pid: number): boolean {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

function safeRealpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function readFrom(file: string, offset: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const buffer = Buffer.alloc(Math.max(0, Math.min(size - offset, 1 << 20)));
    readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
