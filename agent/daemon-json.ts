import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  DAEMON_WAIT_MS, POLL_MS, dockerdLaunch, findDockerd, resolveTarget, restartDockerd, runningDockerd, startDockerd, stopDockerd, storageDriverFlag,
  type DockerdContext, type DockerdLaunch,
} from './dockerd-process.ts';
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
// A storage-driver loop (editStorageDriver) follows the same steps, rewriting the file once
// per driver (every hash it wrote is journalled) and always restarting dockerd — from the
// launch recorded in the journal, since a driver dockerd refuses leaves no dockerd to read.

export interface RuntimeRegistration {
  path: string;
  runtimeArgs: string[];
}

export interface DaemonJsonContext extends DockerdContext {
  /** The daemon.json dockerd reads. */
  file: string;
  apply: 'reload' | 'restart';
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
  /** Earlier contents this run wrote (a storage-driver loop writes one per driver). */
  writtenBefore?: string[];
  registered: string[];
  restarted: boolean;
  /** A storage-driver loop: how dockerd was started, to start it on the original file even when it is down. */
  launch?: DockerdLaunch;
  /** A storage-driver loop: the driver stores it created, removed while dockerd is stopped, before it starts on the original file. */
  createdStores?: string[];
}

export const PENDING_SUFFIX = '.runtime-lab-pending';

/** A reload is handled in milliseconds; longer than this, it did not take. */
const RELOAD_WAIT_MS = 10_000;

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
  // This very run's edit (a storage-driver loop prepares dockerd once per driver): not a leftover.
  if (owner === process.pid && path.resolve(journal.runDir) === path.resolve(ctx.runDir)) return;
  if (owner !== null && owner !== process.pid) {
    throw new Error(`${target} is edited by the Runtime Lab run in ${journal.runDir} (agent pid ${owner}); wait for it to end or stop it`);
  }
  const current = readOptional(target);
  const original = journal.original === null ? null : Buffer.from(journal.original, 'base64');
  if (current !== null && !wroteIt(journal, current)) {
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
  const { existing, added } = runtimesToAdd(target, config, registrations);
  const names = Object.keys(added);
  if (names.length === 0) return null;

  // Before touching anything: dockerd must be there, and must read this very file.
  const dockerd = findDockerd(ctx, target);
  const content = Buffer.from(`${JSON.stringify({ ...config, runtimes: { ...existing, ...added } }, null, 2)}\n`);
  const mode = original === null ? null : statSync(target).mode & 0o7777;
  const { journal, backup, saveJournal } = openJournal(ctx, target, original, mode, names);
  journal.writtenSha256 = sha256(content);
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

export interface StorageDriverEdit {
  /** Runtime names added for this run (written with every driver). */
  registered: string[];
  /**
   * Writes daemon.json with "storage-driver": `driver` (and the run's runtimes), restarts
   * dockerd on it and waits until `docker info` shows that driver and those runtimes.
   * Throws dockerd's own reason when it cannot start with the driver (dockerd is down then;
   * the next switchTo or restore starts it again).
   */
  switchTo(driver: string): Promise<void>;
  /** Puts the original back and starts dockerd on it. Never throws. */
  restore(): Promise<void>;
}

/**
 * Prepares a storage-driver loop's edits of daemon.json: nothing is written until the first
 * switchTo. Refuses a dockerd given its driver on the command line (dockerd will not start
 * with a directive both there and in daemon.json). The stores the loop creates under
 * `dataRoot` (DATA_ROOT/DRIVER and DATA_ROOT/image/DRIVER) are removed before dockerd starts
 * on the original file: a dockerd choosing its driver by itself refuses to start when it
 * finds several ("contains several valid graphdrivers"), and they hold only the run's image.
 */
export function editStorageDriver(ctx: DaemonJsonContext, registrations: Readonly<Record<string, RuntimeRegistration>>, dataRoot: string): StorageDriverEdit {
  const target = resolveTarget(ctx.file);
  const original = readOptional(target);
  const config = parseConfig(target, original);
  const { existing, added } = runtimesToAdd(target, config, registrations);
  const names = Object.keys(added);
  const launch = dockerdLaunch(findDockerd(ctx, target));
  const flag = storageDriverFlag(launch);
  if (flag !== null) {
    throw new Error(`dockerd is started with ${flag} on its command line; dockerd refuses "storage-driver" in daemon.json then, so a storage-driver loop cannot switch it — move the driver into ${target}`);
  }
  const mode = original === null ? null : statSync(target).mode & 0o7777;
  // storage-opts belong to one driver (overlay2.size makes vfs refuse to start): kept for that driver only.
  const optsDriver = typeof config['storage-driver'] === 'string' ? config['storage-driver'] : null;
  let opened: ReturnType<typeof openJournal> | null = null;
  let restored = false;
  return {
    registered: names,
    async switchTo(driver) {
      const { ['storage-opts']: opts, ...rest } = config;
      const keepOpts = opts !== undefined && driver === optsDriver;
      if (opts !== undefined && !keepOpts) ctx.log('info', `"storage-opts" of ${target} left out while dockerd runs ${driver}: they are ${optsDriver ?? 'another driver'}'s`);
      const content = Buffer.from(`${JSON.stringify({
        ...rest,
        ...(keepOpts ? { 'storage-opts': opts } : {}),
        ...(names.length > 0 ? { runtimes: { ...existing, ...added } } : {}),
        'storage-driver': driver,
      }, null, 2)}\n`);
      if (opened === null) {
        opened = openJournal(ctx, target, original, mode, names);
        opened.journal.restarted = true;
        opened.journal.launch = launch;
        opened.journal.writtenBefore = [];
        opened.journal.createdStores = [];
      } else {
        opened.journal.writtenBefore!.push(opened.journal.writtenSha256);
      }
      opened.journal.writtenSha256 = sha256(content);
      for (const store of [path.join(dataRoot, driver), path.join(dataRoot, 'image', driver)]) {
        if (!existsSync(store) && !opened.journal.createdStores!.includes(store)) opened.journal.createdStores!.push(store);
      }
      opened.saveJournal();
      writeDurably(target, content, mode ?? 0o644);
      ctx.log('info', `set "storage-driver": "${driver}" in ${target}${names.length > 0 ? ` with ${names.join(', ')} registered` : ''} (original kept in ${opened.backup ?? 'the journal: there was no file'}); restarting dockerd`);
      const running = runningDockerd(ctx, target);
      if (running !== null && launch.kind === 'process') await stopDockerd(ctx, running, launch);
      await startDockerd(ctx, launch);
      const present = (runtimes: Record<string, unknown>) => names.every((name) => sameRegistration(runtimes[name], added[name]!));
      const shown = await waitForDriver(ctx, driver, present);
      if (shown !== driver) throw new Error(`dockerd started but uses the storage driver ${shown ?? '(unknown)'}, not ${driver}`);
    },
    async restore() {
      if (restored || opened === null) return;
      restored = true;
      await restoreFile(ctx, target, opened.journal, original, mode);
    },
  };
}

/** The storage driver `docker info` shows once the runtimes are there too (what it shows at the deadline otherwise). */
async function waitForDriver(ctx: DaemonJsonContext, driver: string, accepted: (runtimes: Record<string, unknown>) => boolean): Promise<string | null> {
  const { info } = await waitForInfo(ctx, (i) => i.driver === driver && i.runtimes !== null && accepted(i.runtimes), DAEMON_WAIT_MS);
  return info?.driver ?? null;
}

/** The registrations daemon.json lacks; throws when it registers one of the names differently. */
function runtimesToAdd(target: string, config: Record<string, unknown>, registrations: Readonly<Record<string, RuntimeRegistration>>): { existing: Record<string, unknown>; added: Record<string, RuntimeRegistration> } {
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
  return { existing, added };
}

/** Keeps the original in the run folder; `saveJournal` writes the journal there and beside the file (set writtenSha256 first). */
function openJournal(ctx: DaemonJsonContext, target: string, original: Buffer | null, mode: number | null, registered: string[]): { journal: Journal; backup: string | null; saveJournal: () => void } {
  const journal: Journal = {
    version: 1,
    file: target,
    runDir: ctx.runDir,
    agentPid: process.pid,
    createdAt: new Date().toISOString(),
    original: original === null ? null : original.toString('base64'),
    originalMode: mode,
    writtenSha256: '',
    registered,
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
  return { journal, backup, saveJournal };
}

async function restoreFile(ctx: DaemonJsonContext, target: string, journal: Journal, original: Buffer | null, mode: number | null): Promise<void> {
  try {
    const current = readOptional(target);
    if (current !== null && !wroteIt(journal, current)) {
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
  const gone = (runtimes: Record<string, unknown>) => journal.registered.every((name) => !(name in runtimes));
  if (journal.launch) {
    // A storage-driver loop: dockerd may be down (a driver it refused); it is started from the journal.
    const running = runningDockerd(ctx, target);
    if (running !== null) await stopDockerd(ctx, running, journal.launch);
    const removed = removeStores(ctx, journal.createdStores ?? []);
    await startDockerd(ctx, journal.launch);
    if (!(await waitForRuntimes(ctx, gone, DAEMON_WAIT_MS))) throw new Error('dockerd was restarted but still lists the runtimes added for the run');
    return `restarted dockerd on it${removed.length > 0 ? ` after removing the driver stores the run created (${removed.join(', ')})` : ''}`;
  }
  const dockerd = findDockerd(ctx, target);
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

/**
 * Removes the stores a storage-driver loop created, dockerd stopped. A store with anything
 * still mounted under it is left (removing through a mount would delete what it shows).
 * Returns what was removed.
 */
function removeStores(ctx: DaemonJsonContext, stores: readonly string[]): string[] {
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4] ?? '');
  const removed: string[] = [];
  for (const store of stores.filter((s) => existsSync(s))) {
    if (mountPoints.some((point) => point === store || point.startsWith(`${store}/`))) {
      ctx.log('warn', `${store} was created by the run but still has mounts under it; left in place`);
      continue;
    }
    try {
      rmSync(store, { recursive: true, force: true });
      removed.push(store);
    } catch (err) {
      ctx.log('warn', `could not remove ${store}, created by the run: ${describe(err)}`);
    }
  }
  return removed;
}

/** The runtimes dockerd knows (`docker info`), or null when it does not answer. */
interface DockerInfo {
  driver: string | null;
  runtimes: Record<string, unknown> | null;
}

/** The parts of `docker info` the edits wait for; null while dockerd does not answer. */
async function dockerInfo(ctx: DaemonJsonContext): Promise<DockerInfo | null> {
  const result = await spawnTimed([...ctx.docker, 'info', '--format', '{{json .}}'], { timeoutMs: ctx.timeoutMs, scratchDir: ctx.scratchDir });
  if (result.exitCode !== 0) return null;
  let info: { Driver?: unknown; Runtimes?: unknown };
  try {
    info = JSON.parse(result.stdout) as typeof info;
  } catch {
    return null;
  }
  return {
    driver: typeof info.Driver === 'string' ? info.Driver : null,
    runtimes: info.Runtimes !== null && typeof info.Runtimes === 'object' ? (info.Runtimes as Record<string, unknown>) : null,
  };
}

/** Polls `docker info` until `done` holds of it or `waitMs` passes; the last info read. */
async function waitForInfo(ctx: DaemonJsonContext, done: (info: DockerInfo) => boolean, waitMs: number): Promise<{ info: DockerInfo | null; done: boolean }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const info = await dockerInfo(ctx);
    if (info && done(info)) return { info, done: true };
    if (Date.now() >= deadline) return { info, done: false };
    await sleep(POLL_MS);
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
  return (await waitForInfo(ctx, (i) => i.runtimes !== null && accepted(i.runtimes), waitMs)).done;
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

/** Whether `content` is what the journal's run wrote (not someone's later edit). */
function wroteIt(journal: Journal, content: Buffer): boolean {
  const hash = sha256(content);
  return hash === journal.writtenSha256 || (journal.writtenBefore ?? []).includes(hash);
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
