import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PENDING_SUFFIX } from '../agent/daemon-json.ts';
import { startFailure } from '../agent/dockerd-process.ts';
import type { AgentEvent } from '../shared/model/run-record.ts';
import { startDaemons, type TestDaemons } from './lab/daemons.ts';
import { createAgentWorkspace, logs, median, readEvents, samplesOf, waitFor, type AgentWorkspace } from './lab/agent-process.ts';

// The storage-driver loop (issue 4 point 6) as it runs on a lab host: the bundled agent
// against a real dockerd started for this file in a temp folder on ext4, where overlay2, vfs
// and fuse-overlayfs (Debian's package, /dev/fuse) work and btrfs cannot (its data root is
// not on btrfs). dockerd is restarted for each
// driver; the user's daemon.json must come back byte for byte, and dockerd onto its
// original driver, whether the loop completes, is aborted or crashes.

// Odd spacing on purpose: a restore must give back these exact bytes, not a re-serialised JSON.
const ORIGINAL_DAEMON_JSON = '{ "log-level" :"warn",\n\t"debug": false }\n';
const RUNC = { name: 'runc', binary: 'runc' };
const RUNSC = { name: 'runsc', binary: 'runsc', globalArgs: ['--network=none', '--platform=ptrace'] };
// dockerd's own words for a driver its backing filesystem cannot hold.
const BTRFS_REFUSED = 'error initializing graphdriver: prerequisites for driver not satisfied (wrong filesystem?)';

let ws: AgentWorkspace;
let daemons: TestDaemons;
/** The driver dockerd picks by itself here (no "storage-driver" in the original file). */
let originalDriver = '';

beforeAll(async () => {
  ws = await createAgentWorkspace('rlab-storage-');
  daemons = startDaemons(path.join(ws.work, 'lab'), ORIGINAL_DAEMON_JSON, ['rlab-test-storage']);
  originalDriver = docker('info', '--format', '{{.Driver}}').stdout.trim();
}, 180_000);

afterAll(() => {
  daemons?.stop();
  ws?.remove();
}, 180_000);

function loopPlan(runtimes: object[], storageDrivers: string[], extra: object = {}) {
  return {
    method: 'docker', runtimes, iterations: 3, warmups: 1,
    docker: { host: daemons.dockerHost, daemonJson: daemons.daemonJson, storageDrivers },
    ...extra,
  };
}

function docker(...args: string[]) {
  return spawnSync('docker', ['-H', daemons.dockerHost, ...args], { encoding: 'utf8', timeout: 60_000 });
}

function environments(events: AgentEvent[]) {
  return events.flatMap((e) => (e.type === 'environment' ? [e.environment] : []));
}

/**
 * dockerd bind-mounts its data root on itself at start and, having made that mount, drops
 * this marker to unmount it at shutdown. One that finds the mount already there (left by a
 * dockerd that gave up) leaves it for good.
 */
function ownsRootMount(): boolean {
  return existsSync(path.join(daemons.root, 'docker', 'exec', 'unmount-on-shutdown'));
}

/** The driver stores in dockerd's data root (DATA_ROOT/DRIVER) and image metadata (DATA_ROOT/image/DRIVER). */
function driverStores(): { stores: string[]; images: string[] } {
  const dataRoot = path.join(daemons.root, 'docker', 'data');
  const drivers = new Set(['overlay2', 'vfs', 'fuse-overlayfs', 'btrfs', 'zfs', 'devicemapper', 'aufs']);
  return { stores: readdirSync(dataRoot).filter((d) => drivers.has(d)), images: readdirSync(path.join(dataRoot, 'image')) };
}

/**
 * The file, the journal beside it and dockerd's driver are all the user's again, and the
 * stores the loop made are gone: left there, a dockerd choosing its driver by itself
 * refuses to start ("contains several valid graphdrivers").
 */
function expectGivenBack(): void {
  expect(readFileSync(daemons.daemonJson, 'utf8')).toBe(ORIGINAL_DAEMON_JSON);
  expect(existsSync(daemons.daemonJson + PENDING_SUFFIX)).toBe(false);
  expect(docker('info', '--format', '{{.Driver}}').stdout.trim()).toBe(originalDriver);
  expect(Object.keys(JSON.parse(docker('info', '--format', '{{json .Runtimes}}').stdout) as object).filter((n) => n.startsWith('rlab-'))).toEqual([]);
  expect(ownsRootMount(), 'dockerd owns its data root mount again').toBe(true);
  expect(driverStores()).toEqual({ stores: [originalDriver], images: [originalDriver] });
}

describe('docker storage-driver loop against a real dockerd', () => {
  it('finds overlay2 as the driver dockerd uses by itself here', () => {
    expect(originalDriver).toBe('overlay2');
    expect(ownsRootMount()).toBe(true);
    expect(driverStores()).toEqual({ stores: ['overlay2'], images: ['overlay2'] });
  });

  it('measures runc and runsc on vfs, fuse-overlayfs and overlay2, records btrfs as refused with dockerd\'s reason, and gives everything back', async () => {
    const drivers = ['vfs', 'btrfs', 'fuse-overlayfs', 'overlay2'];
    const dir = ws.runDirWith('loop', loopPlan([RUNC, RUNSC], drivers));
    const pidBefore = daemons.dockerdPid();
    const result = await ws.run('run', '--run-dir', dir);
    expect(result.code, result.stderr).toBe(0);
    const events = readEvents(dir);
    expect(events.at(-1), JSON.stringify(events.at(-1))).toMatchObject({ type: 'finished', status: 'completed' });

    // Per driver: 1 warm-up round and 3 measured rounds of 2 runtimes; seq unique and increasing across drivers.
    const samples = samplesOf(events);
    expect(samples.map((s) => s.seq)).toEqual([...Array(32).keys()]);
    expect(samples.map((s) => s.storageDriver)).toEqual(drivers.flatMap((d) => Array<string>(8).fill(d)));
    for (const driver of drivers) {
      const own = samples.filter((s) => s.storageDriver === driver);
      // Warm-ups per driver, first.
      expect(own.map((s) => [s.runtime, s.warmup])).toEqual([['runc', true], ['runsc', true], ...Array(3).fill([['runc', false], ['runsc', false]]).flat()]);
    }
    for (const sample of samples.filter((s) => s.storageDriver !== 'btrfs')) {
      expect(sample, JSON.stringify(sample)).toMatchObject({ ok: true, exitCode: 0, error: null });
      expect(sample.durationMs).toBeGreaterThan(0);
    }
    for (const sample of samples.filter((s) => s.storageDriver === 'btrfs')) {
      expect(sample).toMatchObject({ ok: false, exitCode: null, timedOut: false, durationMs: 0 });
      expect(sample.error).toContain('dockerd cannot run with the storage driver btrfs');
      expect(sample.error).toContain(BTRFS_REFUSED);
    }
    expect(logs(events).filter((l) => l.startsWith('error: ') && l.includes(BTRFS_REFUSED))).toHaveLength(1);
    const medians = Object.fromEntries(['vfs', 'fuse-overlayfs', 'overlay2'].map((d) => [d, Object.fromEntries(['runc', 'runsc'].map((r) => [
      r, median(samples.filter((x) => x.storageDriver === d && x.runtime === r && !x.warmup).map((x) => x.durationMs)),
    ]))]));
    console.log(`docker run medians per driver (ms): ${JSON.stringify(medians)}`);
    expect(logs(events).some((l) => l.includes('bind-mounted on itself when it gave up; unmounted, as it would have at shutdown'))).toBe(true);
    expect(logs(events).some((l) => l.includes('after removing the driver stores the run created') && l.includes('fuse-overlayfs'))).toBe(true);

    // dockerd confirmed each measured driver; the last environment (the one stored) lists them in order.
    const last = environments(events).at(-1)!;
    expect(last.docker).toMatchObject({ storageDrivers: ['vfs', 'fuse-overlayfs', 'overlay2'], storageDriver: 'mixed', expectedStorageDriver: null });
    expect(environments(events).map((e) => e.docker?.storageDrivers)).toEqual([['vfs'], ['vfs', 'fuse-overlayfs'], ['vfs', 'fuse-overlayfs', 'overlay2']]);
    expect(last.runtimes.find((r) => r.runtime === 'runsc')).toMatchObject({ runtimeType: 'rlab-runsc', registeredByRuntimeLab: true, ociArgs: RUNSC.globalArgs });
    // The image went into each measured driver's own store, with the same ID.
    expect(events.filter((e) => e.type === 'environment').every((e) => e.type === 'environment' && e.environment.image?.configDigest === last.image?.configDigest)).toBe(true);

    expectGivenBack();
    expect(daemons.dockerdPid()).not.toBe(pidBefore);
    expect(logs(events)).toContain(`info: dockerd is back on its storage driver ${originalDriver}`);
    expect(JSON.parse(readFileSync(path.join(dir, 'daemon-json', 'journal.json'), 'utf8'))).toMatchObject({ registered: ['rlab-runsc'], restoredAt: expect.any(String) });
    expect(docker('ps', '-aq').stdout.trim()).toBe('');
  }, 400_000);

  it('gives daemon.json and the original driver back when the loop is aborted mid-driver', async () => {
    const dir = ws.runDirWith('loop-abort', loopPlan([RUNC], ['vfs', 'overlay2'], { iterations: 500, warmups: 0 }));
    const running = ws.start('run', '--run-dir', dir, '--run-id', 'storageabort');
    await waitFor('a sample on vfs', () => samplesOf(readEvents(dir)).some((s) => s.storageDriver === 'vfs'), 180_000);
    expect(docker('info', '--format', '{{.Driver}}').stdout.trim()).toBe('vfs');
    expect(readFileSync(daemons.daemonJson, 'utf8')).toContain('"storage-driver": "vfs"');

    const stopped = await ws.run('stop', '--run-dir', dir);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect((await running.done).code).toBe(0);
    const events = readEvents(dir);
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'aborted' });
    const samples = samplesOf(events);
    expect(samples.length).toBeLessThan(500);
    expect(samples.every((s) => s.storageDriver === 'vfs' && s.ok)).toBe(true);
    expectGivenBack();
    await waitFor('no container of the aborted run', () => docker('ps', '-aq', '--filter', 'name=rlab-storageab').stdout.trim() === '', 30_000);
  }, 300_000);

  it('after a crash (SIGKILL) on vfs, the next run restores daemon.json and puts dockerd back on its driver', async () => {
    const dir = ws.runDirWith('loop-crash', loopPlan([RUNC], ['vfs'], { iterations: 500, warmups: 0 }));
    const running = ws.start('run', '--run-dir', dir, '--run-id', 'storagecrash');
    await waitFor('a sample on vfs', () => samplesOf(readEvents(dir)).length > 0, 180_000);
    running.child.kill('SIGKILL');
    await running.done;
    expect(docker('info', '--format', '{{.Driver}}').stdout.trim()).toBe('vfs');
    expect(existsSync(daemons.daemonJson + PENDING_SUFFIX)).toBe(true);

    const next = ws.runDirWith('after-loop-crash', { method: 'docker', runtimes: [RUNC], iterations: 1, warmups: 0, docker: { host: daemons.dockerHost, daemonJson: daemons.daemonJson } });
    const result = await ws.run('run', '--run-dir', next);
    expect(result.code, result.stderr).toBe(0);
    const events = readEvents(next);
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'completed' });
    expect(logs(events).some((l) => l.includes('left edited by the interrupted run') && l.includes('restarted dockerd'))).toBe(true);
    // The run after the crash measured on the user's driver, not on the crashed loop's.
    const environment = environments(events).at(-1)!;
    expect(environment.docker?.storageDriver).toBe(originalDriver);
    expectGivenBack();
    await waitFor('no container of the crashed run', () => docker('ps', '-aq', '--filter', 'name=rlab-storagecr').stdout.trim() === '', 30_000);
  }, 300_000);

  it('refuses a plan that both expects a driver and loops over drivers, before touching anything', async () => {
    const dir = ws.runDirWith('loop-and-expectation', {
      ...loopPlan([RUNC], ['vfs']),
      docker: { host: daemons.dockerHost, daemonJson: daemons.daemonJson, storageDriver: 'overlay2', storageDrivers: ['vfs'] },
    });
    expect((await ws.run('run', '--run-dir', dir)).code).toBe(1);
    const finished = readEvents(dir).at(-1);
    expect(finished?.type === 'finished' && finished.message).toMatch(/exclude each other/);
    expect(existsSync(path.join(dir, 'daemon-json'))).toBe(false);
    expectGivenBack();
  }, 60_000);
});

describe('pieces', () => {
  it('reads dockerd\'s reason from its log: the final "failed to start daemon", else a fatal entry', () => {
    const log = 'time="x" level=info msg="Starting up"\nfailed to start daemon: error initializing graphdriver: driver not supported\n';
    expect(startFailure(log)).toBe('failed to start daemon: error initializing graphdriver: driver not supported');
    expect(startFailure('time="x" level=fatal msg="bad \\"config\\" here"\n')).toBe('bad \\"config\\" here');
    expect(startFailure('time="x" level=info msg="fine"\n')).toBeNull();
  });
});
