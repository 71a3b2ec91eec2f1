import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, schemaVersion } from '../services/results/migrations.ts';
import { ResultsStore } from '../services/results/results-store.ts';
import { LabError } from '../shared/lab-error.ts';
import type { MemoryStep, Sample } from '../shared/model/run-record.ts';
import { RunMeta } from '../shared/model/run.ts';
import { hostFacts } from './lab/host-facts-fixture.ts';

let dir: string;
let dbPath: string;
const open: ResultsStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'results-store-'));
  dbPath = join(dir, 'results.sqlite');
});

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a store that the test closes itself (to reopen it) or leaves to afterEach. */
function openStore(options?: Parameters<typeof ResultsStore.open>[1]): ResultsStore {
  const store = ResultsStore.open(dbPath, options);
  open.push(store);
  return store;
}

function closeStore(store: ResultsStore): void {
  open.splice(open.indexOf(store), 1);
  store.close();
}

function runMeta(id: string, startedAt = '2025-01-01T00:00:00.000Z'): RunMeta {
  return RunMeta.parse({
    id,
    hostName: 'lab-1',
    method: 'oci-direct',
    plan: {
      method: 'oci-direct',
      runtimes: [{ name: 'runc', binary: 'runc' }, { name: 'crun', binary: 'crun' }],
      iterations: 2,
      warmups: 1,
    },
    facts: hostFacts({
      os: { prettyName: 'Debian GNU/Linux 13', distroId: 'debian', distroVersion: '13', kernel: '6.12.0-amd64', arch: 'x86_64' },
      cgroup: { mode: 'v2', detail: 'cgroup2fs' },
      user: { uid: 1000, name: 'lab', passwordlessSudo: null },
    }),
    versions: [],
    bundle: null,
    startedAt,
    finishedAt: null,
    status: 'running',
    statusMessage: null,
  });
}

function sample(seq: number, overrides: Partial<Sample> = {}): Sample {
  return {
    seq,
    runtime: seq % 2 === 0 ? 'runc' : 'crun',
    iteration: Math.max(0, Math.floor(seq / 2) - 1),
    warmup: seq < 2,
    startedAt: `2025-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
    durationMs: 20 + seq / 4,
    ok: true,
    exitCode: 0,
    timedOut: false,
    error: null,
    ...overrides,
  };
}

function sqlite(path = dbPath): DatabaseSync {
  return new DatabaseSync(path);
}

function expectLabError(fn: () => unknown, code: LabError['code'], message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(LabError);
  expect((thrown as LabError).code).toBe(code);
  if (message) expect((thrown as LabError).message).toMatch(message);
}

describe('ResultsStore', () => {
  it('keeps runs and samples across close and reopen, in WAL mode', () => {
    const store = openStore();
    expect(store.recovery).toBeNull();
    const meta = runMeta('run-a');
    store.createRun(meta);
    const bundle = { workload: 'hello', builtWith: 'gcc -static hello.c', digest: 'sha256:1', path: '/b' };
    store.setBundle('run-a', bundle);
    store.setVersions('run-a', [{ runtime: 'runc', binary: 'runc', version: '1.2.4' }]);
    const samples = [0, 1, 2, 3, 4, 5].map((seq) => sample(seq, seq === 5 ? { ok: false, exitCode: 1, error: 'oops,\n"bad"' } : {}));
    expect(store.appendSamples('run-a', samples)).toBe(6);
    store.finishRun('run-a', { status: 'failed', finishedAt: '2025-01-01T00:01:00.000Z', message: 'crun exited 1' });
    closeStore(store);

    const reopened = openStore();
    const { meta: stored, samples: storedSamples } = reopened.getRun('run-a');
    expect(stored).toEqual({
      ...meta,
      bundle,
      versions: [{ runtime: 'runc', binary: 'runc', version: '1.2.4' }],
      status: 'failed',
      finishedAt: '2025-01-01T00:01:00.000Z',
      statusMessage: 'crun exited 1',
    });
    expect(storedSamples).toEqual(samples);
    expect(reopened.listRuns()).toEqual([
      {
        id: 'run-a',
        hostName: 'lab-1',
        method: 'oci-direct',
        kind: 'startup',
        runtimes: ['runc', 'crun'],
        startedAt: meta.startedAt,
        finishedAt: '2025-01-01T00:01:00.000Z',
        status: 'failed',
        counts: { ok: 3, failed: 1, warmups: 2 },
      },
    ]);

    const db = sqlite();
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    db.close();
  });

  it('keeps CRI steps and storage drivers, and counts iterations, not their steps', () => {
    const store = openStore();
    store.createRun(runMeta('run-a'));
    const samples = [
      sample(0, { warmup: false, step: 'RunPodSandbox' }),
      sample(1, { warmup: false, step: 'StartContainer', ok: false, error: 'failed to start' }),
      sample(2, { warmup: false, ok: false, error: 'failed to start' }),
      sample(3, { warmup: false, storageDriver: 'vfs' }),
    ];
    store.appendSamples('run-a', samples);
    expect(store.getRun('run-a').samples).toEqual(samples);
    expect(store.listRuns()[0]?.counts).toEqual({ ok: 1, failed: 1, warmups: 0 });
  });

  it('keeps memory steps with the processes counted and the shared daemons beside them', () => {
    const store = openStore();
    store.createRun(runMeta('mem'));
    const base: MemoryStep = {
      seq: 0, runtime: 'runc', containers: 3, running: 3, at: '2025-01-01T00:00:00.000Z', ok: true, error: null,
      totalPssBytes: 3_000, perContainerPssBytes: 1_000, memAvailableDropBytes: 4_096, perContainerMemAvailableDropBytes: 1_365.3,
      memAvailableBeforeBytes: 1 << 30, settleMs: 2_000, output: '/dev/null',
      processes: [{ pid: 10, comm: 'containerd-shim', role: 'shim', pssBytes: 2_000 }, { pid: 11, comm: 'loop', role: 'container', pssBytes: 1_000 }],
    };
    const withDaemons: MemoryStep = {
      ...base, seq: 1,
      daemons: [{ process: 'containerd', pid: 5, rssBeforeBytes: 100, rssAfterBytes: 200, pssBeforeBytes: null, pssAfterBytes: null }],
    };
    store.appendMemorySteps('mem', [base, withDaemons]);
    expect(store.getMemorySteps('mem')).toEqual([base, withDaemons]);
  });

  it('lists runs newest first, with zero counts before any sample', () => {
    const store = openStore();
    store.createRun(runMeta('older', '2025-01-01T00:00:00.000Z'));
    store.createRun(runMeta('newer', '2025-02-01T00:00:00.000Z'));
    const list = store.listRuns();
    expect(list.map((r) => r.id)).toEqual(['newer', 'older']);
    expect(list[0]?.counts).toEqual({ ok: 0, failed: 0, warmups: 0 });
  });

  it('ignores samples sent again by a resumed tail', () => {
    const store = openStore();
    store.createRun(runMeta('run-a'));
    expect(store.lastSeq('run-a')).toBeNull();
    expect(store.appendSamples('run-a', [0, 1, 2, 3, 4].map((seq) => sample(seq)))).toBe(5);
    expect(store.lastSeq('run-a')).toBe(4);
    // The tail resumes a little before where it stopped: 3 and 4 come again.
    expect(store.appendSamples('run-a', [3, 4, 5, 6, 7].map((seq) => sample(seq)))).toBe(3);
    expect(store.appendSamples('run-a', [7].map((seq) => sample(seq)))).toBe(0);
    expect(store.lastSeq('run-a')).toBe(7);
    expect(store.getRun('run-a').samples.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('stores all of a batch or none of it', () => {
    const store = openStore();
    store.createRun(runMeta('run-a'));
    const bad = { ...sample(1), durationMs: -1 };
    expectLabError(() => store.appendSamples('run-a', [sample(0), bad]), 'invalid-input', /samples/);
    expect(store.lastSeq('run-a')).toBeNull();
  });

  it('deletes a run with its samples and leaves the others', () => {
    const store = openStore();
    store.createRun(runMeta('run-a'));
    store.createRun(runMeta('run-b'));
    store.appendSamples('run-a', [0, 1, 2].map((seq) => sample(seq)));
    store.appendSamples('run-b', [0, 1].map((seq) => sample(seq)));
    store.deleteRun('run-a');
    expectLabError(() => store.getRun('run-a'), 'not-found', /run-a/);
    expect(store.listRuns().map((r) => r.id)).toEqual(['run-b']);
    const db = sqlite();
    expect(db.prepare('SELECT run_id, COUNT(*) AS n FROM samples GROUP BY run_id').all()).toEqual([{ run_id: 'run-b', n: 2 }]);
    db.close();
    expectLabError(() => store.deleteRun('run-a'), 'not-found');
  });

  it('refuses unknown runs, duplicate ids and invalid records', () => {
    const store = openStore();
    expectLabError(() => store.appendSamples('nope', [sample(0)]), 'not-found', /nope/);
    expectLabError(() => store.lastSeq('nope'), 'not-found');
    expectLabError(() => store.finishRun('nope', { status: 'completed', finishedAt: '2025-01-01T00:00:00.000Z' }), 'not-found');
    store.createRun(runMeta('run-a'));
    expectLabError(() => store.createRun(runMeta('run-a')), 'invalid-input', /already exists/);
    expectLabError(() => store.createRun({ ...runMeta('run-b'), method: 'docker' as never }), 'invalid-input');
    expectLabError(() => store.finishRun('run-a', { status: 'running' as never, finishedAt: '2025-01-01T00:00:00.000Z' }), 'invalid-input');
  });

  it('reports a stored record that no longer validates, naming the run', () => {
    const store = openStore();
    store.createRun(runMeta('run-a'));
    const db = sqlite();
    db.prepare("UPDATE runs SET facts_json = '{\"os\": 1}' WHERE id = 'run-a'").run();
    db.close();
    expectLabError(() => store.getRun('run-a'), 'internal', /run-a.*results\.sqlite/s);
  });

  it('migrates a database made by the first schema version, keeping its data', () => {
    const old = sqlite();
    migrate(old, 1);
    expect(schemaVersion(old)).toBe(1);
    const meta = runMeta('old-run');
    old
      .prepare(
        `INSERT INTO runs (id, host_name, method, plan_json, facts_json, versions_json, bundle_json, started_at, finished_at, status)
         VALUES (?, ?, ?, ?, ?, '[]', NULL, ?, ?, 'completed')`,
      )
      .run(meta.id, meta.hostName, meta.method, JSON.stringify(meta.plan), JSON.stringify(meta.facts), meta.startedAt, '2025-01-01T00:02:00.000Z');
    old
      .prepare(
        `INSERT INTO samples (run_id, seq, runtime, iteration, warmup, started_at, duration_ms, ok, exit_code, timed_out, error)
         VALUES ('old-run', 0, 'runc', 0, 0, '2025-01-01T00:00:00.000Z', 21.5, 1, 0, 0, NULL)`,
      )
      .run();
    old.close();

    const store = openStore();
    const { meta: stored, samples } = store.getRun('old-run');
    expect(stored).toMatchObject({ id: 'old-run', status: 'completed', statusMessage: null });
    expect(samples).toEqual([sample(0, { warmup: false, durationMs: 21.5, startedAt: '2025-01-01T00:00:00.000Z' })]);
    store.finishRun('old-run', { status: 'aborted', finishedAt: '2025-01-01T00:03:00.000Z', message: 'stopped by user' });
    closeStore(store);

    const db = sqlite();
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    db.close();
    // Applied once: opening again must not run ALTER TABLE a second time.
    expect(openStore().getRun('old-run').meta.statusMessage).toBe('stopped by user');
  });

  it('refuses a database from a newer Runtime Lab without touching it', () => {
    const db = sqlite();
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expectLabError(() => openStore(), 'unsupported', /newer Runtime Lab/);
    expect(existsSync(dbPath)).toBe(true);
  });

  it('moves a file that is not a database aside, with its WAL, and starts a new one', () => {
    const garbage = Buffer.from('this is not SQLite\n'.repeat(500));
    writeFileSync(dbPath, garbage);
    writeFileSync(`${dbPath}-wal`, 'not a wal either');
    const store = openStore({ now: () => new Date('2025-03-04T05:06:07.089Z') });
    const movedTo = `${dbPath}.corrupt-2025-03-04T05-06-07-089Z`;

    expect(store.recovery).toBeInstanceOf(LabError);
    expect(store.recovery?.message).toContain(dbPath);
    expect(store.recovery?.message).toContain(movedTo);
    expect(store.recovery?.details).toEqual({ path: dbPath, movedTo });
    expect(readFileSync(movedTo)).toEqual(garbage);
    expect(readFileSync(`${movedTo}-wal`, 'utf8')).toBe('not a wal either');

    expect(store.listRuns()).toEqual([]);
    store.createRun(runMeta('fresh'));
    expect(store.getRun('fresh').meta.id).toBe('fresh');
  });

  it('moves a database with damaged pages aside', () => {
    const store = openStore();
    store.createRun(runMeta('run-a'));
    store.appendSamples('run-a', Array.from({ length: 2000 }, (_, seq) => sample(seq, { error: 'x'.repeat(100) })));
    closeStore(store);
    const bytes = readFileSync(dbPath);
    const damaged = Buffer.from(bytes).fill(0xff, 4096 * 3, 4096 * 4);
    writeFileSync(dbPath, damaged);

    const recovered = openStore({ now: () => new Date('2025-03-04T05:06:07.089Z') });
    expect(recovered.recovery?.message).toMatch(/damaged/);
    expect(readFileSync(`${dbPath}.corrupt-2025-03-04T05-06-07-089Z`)).toEqual(damaged);
    expect(recovered.listRuns()).toEqual([]);
  });

  it('says which file it could not open when the problem is not corruption', () => {
    mkdirSync(dbPath);
    expectLabError(() => openStore(), 'internal', /results\.sqlite/);
    expect(existsSync(`${dbPath}`)).toBe(true);
  });
});
