import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { runningAgentPid } from './pid-file.ts';
import { spawnTimed } from './spawn-timed.ts';

// Registering runtimes with Docker means editing the user's daemon.json, which Runtime Lab
// only ever does like this:
//   1. a journal first: the original bytes go to the run folder (daemon-json/) and, with
//      the hash of what is about to be written, to DAEMON_JSON.runtime-lab-pending beside
//      the file — written and fsynced before the file is touched;
//   2. the file is replaced atomically (same mode), dockerd reloads it (SIGHUP) and the new
//      runtimes are checked in `docker info`; when a reload is not enough, dockerd restarts;
//   3. when the run ends — completed, failed or aborted — the original bytes go back
//      (or the file is removed if there was none), dockerd reloads, the pending file goes;
//   4. after a crash (SIGKILL, power loss) the pending file is still there: the next run
//      restores the original before anything else, unless the file was changed by someone
//      since — then it is left alone and the backup's place is reported.
// The user's file is never lost: it is either in place, or in the journal.

export interface RuntimeRegistration {
  path: string;
  runtimeArgs: string[];
}

export type LogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface DaemonJsonContext {
  /** The daemon.json dockerd reads. */
  file: string;
  runDir: string;
  /** `docker -H HOST` and the rest of the client's argv prefix. */
  docker: readonly string[];
  dockerHost: string;
  apply: 'reload' | 'restart';
  scratchDir: string;
  /** Bound of every docker command and of each wait. */
  timeoutMs: number;
  log: LogFn;
}

export interface DaemonJsonEdit {
  /** Names added for this run. */
  registered: string[];
  /** Where the original bytes are kept in the run folder (null: there was no file). */
  backup: string | null;
  /** True when dockerd had to be restarted for the change. */
  restarted: boolean;
  /** Puts the original back and makes dockerd forget the added runtimes. Never throws. */
  restore(): Promise<void>;
}

interface Journal {
  version: 1;
  file: string;
  runDir: string;
  agentPid: number;
  createdAt: string;
  /** The original file, base64; null when there was none. */
  original: string | null;
  originalMode: number | null;
  writtenSha256: string;
  registered: string[];
  restarted: boolean;
}

export const PENDING_SUFFIX = '.runtime-lab-pending';

/** How long dockerd may take to show a reloaded config, to stop, or to answer after a restart. */
const DAEMON_WAIT_MS = 60_000;
/** A reload is handled in milliseconds; longer than this, it did not take. */
const RELOAD_WAIT_MS = 10_000;
const POLL_MS = 200;

export function pendingFile(file: string): string {
  return `${file}${PENDING_SUFFIX}`;
}

/**
 * Finishes what an interrupted run left: restores the original daemon.json from a leftover
 * journal. Refuses (throws) while the run that wrote it is still going.
 */
export async function recoverLeftoverEdit(ctx: DaemonJsonContext): Promise<void> {
  const target = resolveTarget(ctx.file);
  const pending = pendingFile(target);
  if (!existsSync(pending)) return;
  let journal: Journal;
  try {
    journal = JSON.parse(readFileSync(pending, 'utf8')) as Journal;
  } catch (err) {
    throw new Error(`${pending} is left from an earlier run but cannot be read (${describe(err)}); check ${target} by hand and remove ${pending}`, { cause: err });
  }
  const owner = runningAgentPid(journal.runDir);
  if (owner !== null && owner !== process.pid) {
    throw new Error(`${target} is edited by the Runtime Lab run in ${journal.runDir} (agent pid ${owner}); wait for it to end or stop it`);
  }
  const current = readOptional(target);
  const original = journal.original === null ? null : Buffer.from(journal.original, 'base64');
  if (current !== null && sha256(current) !== journal.writtenSha256) {
    const kept = keepOriginalSomewhere(journal, original, target);
    ctx.log('warn', `${target} was edited by the interrupted run in ${journal.runDir} and changed since; left as it is. The file from before that run is in ${kept}.`);
    rmSync(pending, { force: true });
    return;
  }
  writeBack(target, original, journal.originalMode);
  try {
    ctx.log('info', `restored ${target} left edited by the interrupted run in ${journal.runDir}; ${await takeBack(ctx, target, journal, original)}`);
  } catch (err) {
    ctx.log('warn', `restored ${target} left edited by the interrupted run in ${journal.runDir}, but dockerd did not reload it: ${describe(err)}`);
  }
  rmSync(pending, { force: true });
}

/**
 * Registers `registrations` in daemon.json for this run. Returns null when dockerd's
 * daemon.json already has every one of them exactly (nothing is touched then).
 */
export async function registerRuntimes(ctx: DaemonJsonContext, registrations: Readonly<Record<string, RuntimeRegistration>>): Promise<DaemonJsonEdit | null> {
  const target = resolveTarget(ctx.file);
  const original = readOptional(target);
  const config = parseConfig(target, original);
  const existing = (config.runtimes ?? {}) as Record<string, unknown>;
  if (typeof existing !== 'object' || existing === null || Array.isArray(existing)) throw new Error(`"runtimes" in ${target} is not an object`);
  const added: Record<string, RuntimeRegistration> = {};
  for (const [name, wanted] of Object.entries(registrations)) {
    const have = existing[name];
    if (have === undefined) added[name] = wanted;
    else if (!sameRegistration(have, wanted)) {
      throw new Error(`${target} already registers a runtime "${name}" differently (${JSON.stringify(have)}); Runtime Lab will not change it — give the runtime another docker name, or register: false to use it as it is`);
    }
  }
  const names = Object.keys(added);
  if (names.length === 0) return null;

  // Before touching anything: dockerd must be there, and must read this very file.
  const dockerd = findDockerd(ctx, target);
  const content = Buffer.from(`${JSON.stringify({ ...config, runtimes: { ...existing, ...added } }, null, 2)}\n`);
  const mode = original === null ? null : statSync(target).mode & 0o7777;
  const journal: Journal = {
    version: 1,
    file: target,
    runDir: ctx.runDir,
    agentPid: process.pid,
    createdAt: new Date().toISOString(),
    original: original === null ? null : original.toString('base64'),
    originalMode: mode,
    writtenSha256: sha256(content),
    registered: names,
    restarted: false,
  };
  const journalDir = path.join(ctx.runDir, 'daemon-json');
  mkdirSync(journalDir, { recursive: true });
  const backup = original === null ? null : path.join(journalDir, 'daemon.json.orig');
  if (backup && original) writeDurably(backup, original, 0o600);
  const saveJournal = () => {
    const text = Buffer.from(`${JSON.stringify(journal, null, 2)}\n`);
    writeDurably(path.join(journalDir, 'journal.json'), text, 0o600);
    writeDurably(pendingFile(target), text, 0o600);
  };
  saveJournal();
  writeDurably(target, content, mode ?? 0o644);
  ctx.log('info', `registered ${names.join(', ')} in ${target} for this run (original kept in ${backup ?? 'the journal: there was no file'})`);

  const present = (runtimes: Record<string, unknown>) => names.every((name) => sameRegistration(runtimes[name], added[name]!));
  let restarted: boolean;
  try {
    restarted = await applyChange(ctx, dockerd, ctx.apply, present);
  } catch (err) {
    journal.restarted = true;
    saveJournal();
    await restoreFile(ctx, target, journal, original, mode);
    throw err;
  }
  if (restarted) {
    journal.restarted = true;
    saveJournal();
  }
  let restored = false;
  return {
    registered: names,
    backup,
    restarted,
    async restore() {
      if (restored) return;
      restored = true;
      await restoreFile(ctx, target, journal, original, mode);
    },
  };
}

async function restoreFile(ctx: DaemonJsonContext, target: string, journal: Journal, original: Buffer | null, mode: number | null): Promise<void> {
  try {
    const current = readOptional(target);
    if (current !== null && sha256(current) !== journal.writtenSha256) {
      ctx.log('warn', `${target} was changed by someone else during the run; left as it is (the original is in ${keepOriginalSomewhere(journal, original, target)})`);
      rmSync(pendingFile(target), { force: true });
      return;
    }
    writeBack(target, original, mode);
  } catch (err) {
    // The pending file stays: the next run restores it.
    ctx.log('error', `could not restore ${target}: ${describe(err)}; the next run will retry from ${pendingFile(target)}`);
    return;
  }
  try {
    ctx.log('info', `restored ${target}; ${await takeBack(ctx, target, journal, original)}`);
  } catch (err) {
    ctx.log('warn', `restored ${target}, but dockerd did not take it back: ${describe(err)}`);
  }
  rmSync(pendingFile(target), { force: true });
  try {
    writeDurably(path.join(journal.runDir, 'daemon-json', 'journal.json'), Buffer.from(`${JSON.stringify({ ...journal, restoredAt: new Date().toISOString() }, null, 2)}\n`), 0o600);
  } catch {
    // The run folder may be gone (recovery of an old run): the file itself is what matters.
  }
}

/**
 * Makes dockerd read the restored file. A restart is only repeated when the edit needed
 * one: restarting the user's dockerd stops their containers. A reload replaces dockerd's
 * runtimes only when daemon.json has a "runtimes" key (Docker's reload semantics); without
 * one, the names added for the run stay in dockerd's memory, unused, until it restarts.
 * Returns what was done, for the log.
 */
async function takeBack(ctx: DaemonJsonContext, target: string, journal: Journal, original: Buffer | null): Promise<string> {
  const dockerd = findDockerd(ctx, target);
  const gone = (runtimes: Record<string, unknown>) => journal.registered.every((name) => !(name in runtimes));
  if (journal.restarted) {
    await applyChange(ctx, dockerd, 'restart', gone);
    return 'restarted dockerd, as the edit needed';
  }
  process.kill(dockerd, 'SIGHUP');
  let hasRuntimes: boolean;
  try {
    hasRuntimes = original !== null && parseConfig(target, original).runtimes !== undefined;
  } catch {
    hasRuntimes = false;
  }
  if (hasRuntimes) {
    return (await waitForRuntimes(ctx, gone, RELOAD_WAIT_MS))
      ? 'reloaded dockerd'
      : `reloaded dockerd, which still lists ${journal.registered.join(', ')}`;
  }
  return `reloaded dockerd; it keeps ${journal.registered.join(', ')} in memory until its next restart (a reload only replaces runtimes when daemon.json has a "runtimes" key): unused, and gone from the file`;
}

/** The runtimes dockerd knows (`docker info`), or null when it does not answer. */
export async function dockerRuntimes(ctx: Pick<DaemonJsonContext, 'docker' | 'scratchDir' | 'timeoutMs'>): Promise<Record<string, unknown> | null> {
  const result = await spawnTimed([...ctx.docker, 'info', '--format', '{{json .Runtimes}}'], { timeoutMs: ctx.timeoutMs, scratchDir: ctx.scratchDir });
  if (result.exitCode !== 0) return null;
  try {
    const parsed: unknown = JSON.parse(result.stdout);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Makes dockerd read daemon.json again: SIGHUP and wait for `accepted` to hold of its
 * runtimes; a restart when asked for, or when the reload did not take. Returns whether
 * dockerd was restarted.
 */
async function applyChange(ctx: DaemonJsonContext, pid: number, how: 'reload' | 'restart', accepted: (runtimes: Record<string, unknown>) => boolean): Promise<boolean> {
  if (how === 'reload') {
    process.kill(pid, 'SIGHUP');
    if (await waitForRuntimes(ctx, accepted, RELOAD_WAIT_MS)) return false;
    ctx.log('warn', 'dockerd did not take the daemon.json change on a reload (SIGHUP); restarting it');
  }
  await restartDockerd(ctx, pid);
  if (!(await waitForRuntimes(ctx, accepted, DAEMON_WAIT_MS))) throw new Error('dockerd was restarted but does not show the expected runtimes in docker info');
  return true;
}

async function waitForRuntimes(ctx: DaemonJsonContext, accepted: (runtimes: Record<string, unknown>) => boolean, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const runtimes = await dockerRuntimes(ctx);
    if (runtimes && accepted(runtimes)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/**
 * Stops dockerd and starts it again the way it was started: `systemctl restart` under
 * systemd, otherwise the same argv, environment and working folder, in its own session
 * (it must outlive the agent), output appended to the run folder's dockerd-restart.log.
 */
async function restartDockerd(ctx: DaemonJsonContext, pid: number): Promise<void> {
  const cgroup = readOptional(`/proc/${pid}/cgroup`)?.toString('utf8') ?? '';
  if (existsSync('/run/systemd/system') && /docker\.service/.test(cgroup)) {
    const result = await spawnTimed(['systemctl', 'restart', 'docker.service'], { timeoutMs: DAEMON_WAIT_MS, scratchDir: ctx.scratchDir });
    if (result.exitCode !== 0) throw new Error(`systemctl restart docker.service failed: ${result.stderr.trim() || result.stdout.trim()}`);
  } else {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.at(-1) === '') argv.pop();
    const env = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    const [command, ...args] = argv;
    if (!command) throw new Error(`cannot read how dockerd (pid ${pid}) was started`);
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + DAEMON_WAIT_MS;
    while (isAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`dockerd (pid ${pid}) did not stop within ${DAEMON_WAIT_MS / 1000} s of SIGTERM`);
      await sleep(POLL_MS);
    }
    mkdirSync(path.join(ctx.runDir, 'daemon-json'), { recursive: true });
    const log = openSync(path.join(ctx.runDir, 'daemon-json', 'dockerd-restart.log'), 'a');
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    let exited: string | null = null;
    child.once('exit', (code, signal) => { exited = `exited with ${signal ?? String(code)}`; });
    child.once('error', (err) => { exited = err.message; });
    child.unref();
    ctx.log('info', `restarted dockerd (${[command, ...args].join(' ')}) as pid ${String(child.pid)}; its output goes to daemon-json/dockerd-restart.log`);
    for (;;) {
      const version = await spawnTimed([...ctx.docker, 'version', '--format', '{{.Server.Version}}'], { timeoutMs: ctx.timeoutMs, scratchDir: ctx.scratchDir });
      if (version.exitCode === 0) break;
      if (exited !== null) throw new Error(`the restarted dockerd ${String(exited)}; see ${path.join(ctx.runDir, 'daemon-json', 'dockerd-restart.log')}`);
      if (Date.now() > deadline + DAEMON_WAIT_MS) throw new Error(`the restarted dockerd does not answer on ${ctx.dockerHost}`);
      await sleep(POLL_MS);
    }
  }
}

/**
 * The dockerd serving `ctx.dockerHost`, checked to read `target`. A unix socket is traced
 * to the process listening on it; otherwise the only dockerd on the host is taken.
 */
export function findDockerd(ctx: Pick<DaemonJsonContext, 'dockerHost'>, target: string): number {
  const socket = ctx.dockerHost.startsWith('unix://') ? ctx.dockerHost.slice('unix://'.length) : null;
  // Under systemd socket activation PID 1 holds the socket too: only a dockerd counts.
  let pid = socket ? (listeningPids(socket).find((p) => commOf(p) === 'dockerd') ?? null) : null;
  if (pid === null) {
    const candidates = pidsNamed('dockerd');
    if (candidates.length !== 1) {
      throw new Error(`cannot tell which dockerd serves ${ctx.dockerHost} (${candidates.length === 0 ? 'none is running' : `dockerd pids ${candidates.join(', ')}`})`);
    }
    pid = candidates[0]!;
  }
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  const reads = path.resolve(cwd, configFileArgument(argv) ?? '/etc/docker/daemon.json');
  if (resolveTarget(reads) !== target) {
    throw new Error(`the dockerd serving ${ctx.dockerHost} (pid ${pid}) reads ${reads}, not ${target}: set the plan's docker.daemonJson to ${reads}`);
  }
  return pid;
}

function configFileArgument(argv: string[]): string | null {
  for (const [i, arg] of argv.entries()) {
    if (arg === '--config-file') return argv[i + 1] ?? null;
    if (arg.startsWith('--config-file=')) return arg.slice('--config-file='.length);
  }
  return null;
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

function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

function pidsNamed(comm: string): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => commOf(pid) === comm && isAlive(pid));
}

/** Alive and not a zombie (without systemd, PID 1 may be slow to reap). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function parseConfig(target: string, content: Buffer | null): Record<string, unknown> {
  if (content === null || content.toString('utf8').trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw new Error(`${target} is not valid JSON (${describe(err)}); Runtime Lab does not rewrite a file it cannot read — fix it, or register the runtimes yourself and use register: false`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${target} does not hold a JSON object`);
  return parsed as Record<string, unknown>;
}

function sameRegistration(have: unknown, wanted: RuntimeRegistration): boolean {
  if (have === null || typeof have !== 'object') return false;
  const h = have as { path?: unknown; runtimeArgs?: unknown };
  const args = h.runtimeArgs ?? [];
  return h.path === wanted.path && isDeepStrictEqual(args, wanted.runtimeArgs);
}

/** A symlinked daemon.json is edited where it points, so the link itself stays. */
function resolveTarget(file: string): string {
  const absolute = path.resolve(file);
  try {
    return realpathSync(absolute);
  } catch {
    return absolute;
  }
}

function safeRealpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function readOptional(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function writeBack(target: string, original: Buffer | null, mode: number | null): void {
  if (original === null) {
    try {
      unlinkSync(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  } else {
    writeDurably(target, original, mode ?? 0o644);
  }
}

/** Written beside the file, fsynced, then renamed over it: a crash leaves the old or the new bytes, never half. */
function writeDurably(file: string, content: Buffer, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.runtime-lab-tmp-${process.pid}`;
  const fd = openSync(temp, 'w', mode);
  try {
    let written = 0;
    while (written < content.length) written += writeSync(fd, content, written, content.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  try {
    const dir = openSync(path.dirname(file), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // Some file systems refuse fsync on a folder; the rename is still atomic.
  }
}

/** Where the pre-run bytes can be found when they are not put back: the run's backup, or a copy beside the file. */
function keepOriginalSomewhere(journal: Journal, original: Buffer | null, target: string): string {
  if (original === null) return '(nowhere: there was no file before that run)';
  const backup = path.join(journal.runDir, 'daemon-json', 'daemon.json.orig');
  if (existsSync(backup) && readFileSync(backup).equals(original)) return backup;
  const copy = `${target}.runtime-lab-original-${journal.createdAt.replace(/[:.]/g, '-')}`;
  writeDurably(copy, original, 0o600);
  return copy;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
