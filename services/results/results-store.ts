import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { LabError } from '../../shared/lab-error.ts';
import { Plan } from '../../shared/model/plan.ts';
import { BundleInfo, DaemonUsageReading, EnvironmentInfo, MemoryDaemon, MemoryProcess, MemoryStep, RuntimeVersion, Sample } from '../../shared/model/run-record.ts';
import { FinalRunStatus, runKindOf, RunListItem, RunMeta, RunStatus, type RunDetail } from '../../shared/model/run.ts';
import { migrate } from './migrations.ts';

// Runs and their samples in one SQLite file (node:sqlite, built into the Node that
// Electron embeds). Samples arrive while a run goes on and may arrive twice after a
// resumed tail; (run_id, seq) is the key that makes a second arrival a no-op.

/** How a run ended; `finishedAt` is ISO 8601 in UTC. */
export const RunOutcome = z.object({ status: FinalRunStatus, finishedAt: z.iso.datetime(), message: z.string().nullish() });
export type RunOutcome = z.infer<typeof RunOutcome>;

// Rows as the STRICT tables guarantee them: SQLite itself enforces these column types.
interface RunRow {
  id: string;
  host_name: string;
  method: string;
  plan_json: string;
  facts_json: string;
  versions_json: string;
  bundle_json: string | null;
  started_at: string;
  finished_at: string | null;
  status: string;
  status_message: string | null;
}

interface SampleRow {
  seq: number;
  runtime: string;
  iteration: number;
  warmup: 0 | 1;
  started_at: string;
  duration_ms: number;
  ok: 0 | 1;
  exit_code: number | null;
  timed_out: 0 | 1;
  error: string | null;
  step: string | null;
  storage_driver: string | null;
}

interface MemoryStepRow {
  seq: number;
  runtime: string;
  containers: number;
  running: number;
  at: string;
  ok: 0 | 1;
  error: string | null;
  total_pss_bytes: number | null;
  per_container_pss_bytes: number | null;
  mem_available_drop_bytes: number | null;
  per_container_mem_available_drop_bytes: number | null;
  mem_available_before_bytes: number | null;
  settle_ms: number;
  output: string;
  processes_json: string;
  daemons_json: string | null;
}

interface RunListRow {
  id: string;
  host_name: string;
  method: string;
  plan_json: string;
  started_at: string;
  finished_at: string | null;
  status: string;
  ok_count: number;
  failed_count: number;
  warmup_count: number;
  memory_ok_count: number;
  memory_failed_count: number;
}

// SQLite result codes (the low byte of an extended code) that mean the file itself is bad.
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

// The CLI and the app may open the same file; wait for the other's write instead of failing.
const BUSY_TIMEOUT_MS = 5_000;

/** A file SQLite can open but whose integrity check fails. */
class DamagedDatabaseError extends Error {}

export interface RunFollow {
  runId: string;
  hostId: string;
  remoteDir: string;
  /** How the agent was started on the host (node, bundle path, sudo): needed to stop it. */
  agent: Record<string, unknown>;
  tailOffset: number;
}

export class ResultsStore {
  readonly path: string;
  /**
   * Set when the file at `path` was unreadable and has been moved aside: tell the user once
   * (the message names both files). Null on a normal open.
   */
  readonly recovery: LabError | null;
  readonly #db: DatabaseSync;

  private constructor(path: string, db: DatabaseSync, recovery: LabError | null) {
    this.path = path;
    this.#db = db;
    this.recovery = recovery;
  }

  /**
   * Opens (creating if needed) the database at `path` and brings its schema up to date.
   * A damaged file is never overwritten: it is renamed to `<name>.corrupt-<timestamp>`
   * with its WAL, a new one is created, and `recovery` says so.
   */
  static open(path: string, options: { now?: () => Date } = {}): ResultsStore {
    mkdirSync(dirname(path), { recursive: true });
    try {
      return new ResultsStore(path, openDatabase(path), null);
    } catch (err) {
      if (err instanceof LabError) throw err;
      const reason = describe(err);
      if (!isCorruption(err)) {
        throw new LabError('internal', `Could not open the results database ${path}: ${reason}`, { path });
      }
      let movedTo: string;
      try {
        movedTo = moveAside(path, options.now?.() ?? new Date());
      } catch (moveErr) {
        throw new LabError('internal', `The results database ${path} is damaged (${reason}) and could not be moved aside: ${describe(moveErr)}`, { path });
      }
      const recovery = new LabError(
        'internal',
        `The results database ${path} is damaged (${reason}). It was moved aside, unchanged, to ${movedTo} ` +
          `and a new, empty results database was created in its place. Runs stored before are in the moved ` +
          `file; SQLite's ".recover" command may get them back.`,
        { path, movedTo },
      );
      return new ResultsStore(path, openDatabase(path), recovery);
    }
  }

  close(): void {
    this.#db.close();
  }

  createRun(meta: RunMeta): void {
    const run = parseInput(RunMeta, meta, 'run');
    if (this.#hasRun(run.id)) throw new LabError('invalid-input', `A run with id ${run.id} already exists.`, { runId: run.id });
    this.#db
      .prepare(
        `INSERT INTO runs (id, host_name, method, plan_json, facts_json, versions_json, bundle_json,
                           started_at, finished_at, status, status_message)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.id, run.hostName, run.method, JSON.stringify(run.plan), JSON.stringify(run.facts), JSON.stringify(run.versions),
        run.bundle && JSON.stringify(run.bundle), run.startedAt, run.finishedAt, run.status, run.statusMessage,
      );
  }

  /** Records the agent's `bundle` event. */
  setBundle(runId: string, bundle: BundleInfo): void {
    const json = JSON.stringify(parseInput(BundleInfo, bundle, 'bundle'));
    this.#updateRun(runId, 'UPDATE runs SET bundle_json = ? WHERE id = ?', json);
  }

  /** Records the agent's `versions` event. */
  setVersions(runId: string, versions: RunMeta['versions']): void {
    const json = JSON.stringify(parseInput(z.array(RuntimeVersion), versions, 'runtime versions'));
    this.#updateRun(runId, 'UPDATE runs SET versions_json = ? WHERE id = ?', json);
  }

  /** Records the agent's `environment` event (the last one wins: it is re-sent once the image is imported). */
  setEnvironment(runId: string, environment: EnvironmentInfo): void {
    const json = JSON.stringify(parseInput(EnvironmentInfo, environment, 'environment'));
    this.#updateRun(runId, 'UPDATE runs SET environment_json = ? WHERE id = ?', json);
  }

  /** The run's environment, or null for a run from before it was recorded (or before the event arrived). */
  getEnvironment(runId: string): EnvironmentInfo | null {
    const row = this.#db.prepare('SELECT environment_json FROM runs WHERE id = ?').get(runId) as { environment_json: string | null } | undefined;
    if (!row) throw notFound(runId);
    if (row.environment_json === null) return null;
    return this.#readStored(EnvironmentInfo, () => JSON.parse(row.environment_json as string), runId, 'environment');
  }

  /** Stores daemon CPU/memory readings; one already stored (same instant and pid) is skipped. Returns how many were new. */
  appendDaemonUsage(runId: string, readings: readonly DaemonUsageReading[]): number {
    return this.#transaction(() => this.#insertDaemonUsage(runId, readings));
  }

  /** The run's daemon readings in time order (then by pid): one series per process. */
  getDaemonUsage(runId: string): DaemonUsageReading[] {
    this.#requireRun(runId);
    const rows = this.#db
      .prepare('SELECT at, process, pid, cpu_percent, rss_bytes FROM daemon_usage WHERE run_id = ? ORDER BY at, pid')
      .all(runId) as unknown as Array<{ at: string; process: string; pid: number; cpu_percent: number; rss_bytes: number }>;
    return rows.map((r) => ({ at: r.at, process: r.process, pid: r.pid, cpuPercent: r.cpu_percent, rssBytes: r.rss_bytes }));
  }

  /** Stores memory-plan steps; a step already stored (same seq) is skipped. Returns how many were new. */
  appendMemorySteps(runId: string, steps: readonly MemoryStep[]): number {
    return this.#transaction(() => this.#insertMemorySteps(runId, steps));
  }

  /** The run's memory steps in execution order (empty for a startup run). */
  getMemorySteps(runId: string): MemoryStep[] {
    this.#requireRun(runId);
    const rows = this.#db
      .prepare(
        `SELECT seq, runtime, containers, running, at, ok, error, total_pss_bytes, per_container_pss_bytes, mem_available_drop_bytes,
                per_container_mem_available_drop_bytes, mem_available_before_bytes, settle_ms, output, processes_json, daemons_json
         FROM memory_steps WHERE run_id = ? ORDER BY seq`,
      )
      .all(runId) as unknown as MemoryStepRow[];
    return rows.map((r) =>
      this.#readStored(
        MemoryStep,
        () => ({
          seq: r.seq, runtime: r.runtime, containers: r.containers, running: r.running, at: r.at, ok: r.ok === 1, error: r.error,
          totalPssBytes: r.total_pss_bytes, perContainerPssBytes: r.per_container_pss_bytes,
          memAvailableDropBytes: r.mem_available_drop_bytes, perContainerMemAvailableDropBytes: r.per_container_mem_available_drop_bytes,
          memAvailableBeforeBytes: r.mem_available_before_bytes, settleMs: r.settle_ms, output: r.output,
          processes: z.array(MemoryProcess).parse(JSON.parse(r.processes_json)),
          ...(r.daemons_json === null ? {} : { daemons: z.array(MemoryDaemon).parse(JSON.parse(r.daemons_json)) }),
        }),
        runId,
        `memory step ${r.seq}`,
      ),
    );
  }

  finishRun(runId: string, outcome: RunOutcome): void {
    const { status, finishedAt, message } = parseInput(RunOutcome, outcome, 'run outcome');
    this.#updateRun(runId, 'UPDATE runs SET status = ?, finished_at = ?, status_message = ? WHERE id = ?', status, finishedAt, message ?? null);
  }

  /**
   * Stores samples in one transaction. A sample whose seq the run already has is skipped,
   * so re-sending the tail of a run after a reconnect is harmless. Returns how many were new.
   */
  appendSamples(runId: string, samples: readonly Sample[]): number {
    return this.#transaction(() => this.#insertSamples(runId, samples));
  }

  /** Where a run is being measured, so that it can be followed again after a restart. */
  setFollow(runId: string, follow: Omit<RunFollow, 'runId' | 'tailOffset'>): void {
    this.#requireRun(runId);
    this.#db
      .prepare('INSERT OR REPLACE INTO run_follow (run_id, host_id, remote_dir, agent_json, tail_offset) VALUES (?, ?, ?, ?, 0)')
      .run(runId, follow.hostId, follow.remoteDir, JSON.stringify(follow.agent));
  }

  /**
   * Stores a batch read from the events file and the offset just past it, in one
   * transaction: after a crash or reconnect reading resumes exactly there.
   */
  recordTail(
    runId: string, samples: readonly Sample[], tailOffset: number, daemonUsage: readonly DaemonUsageReading[] = [], memorySteps: readonly MemoryStep[] = [],
  ): number {
    return this.#transaction(() => {
      const added = this.#insertSamples(runId, samples);
      this.#insertDaemonUsage(runId, daemonUsage);
      this.#insertMemorySteps(runId, memorySteps);
      this.#db.prepare('UPDATE run_follow SET tail_offset = ? WHERE run_id = ?').run(tailOffset, runId);
      return added;
    });
  }

  getFollow(runId: string): RunFollow | null {
    const row = this.#db.prepare('SELECT run_id, host_id, remote_dir, agent_json, tail_offset FROM run_follow WHERE run_id = ?').get(runId) as
      | { run_id: string; host_id: string; remote_dir: string; agent_json: string; tail_offset: number }
      | undefined;
    if (!row) return null;
    return { runId: row.run_id, hostId: row.host_id, remoteDir: row.remote_dir, agent: JSON.parse(row.agent_json) as Record<string, unknown>, tailOffset: row.tail_offset };
  }

  /** A run's status without loading its samples. */
  runStatus(runId: string): RunStatus {
    const row = this.#db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string } | undefined;
    if (!row) throw new LabError('not-found', `No run with id ${runId}.`, { runId });
    return RunStatus.parse(row.status);
  }

  /** Runs still marked running: the app follows them again when it starts. */
  runningRunIds(): string[] {
    return (this.#db.prepare("SELECT id FROM runs WHERE status = 'running' ORDER BY started_at").all() as { id: string }[]).map((r) => r.id);
  }

  /** The highest seq stored for the run, or null before its first sample: where a resumed tail starts. */
  lastSeq(runId: string): number | null {
    this.#requireRun(runId);
    const row = this.#db.prepare('SELECT MAX(seq) AS last FROM samples WHERE run_id = ?').get(runId) as { last: number | null } | undefined;
    return row?.last ?? null;
  }

  /** Newest first. */
  listRuns(): RunListItem[] {
    const rows = this.#db
      .prepare(
        `SELECT r.id, r.host_name, r.method, r.plan_json, r.started_at, r.finished_at, r.status,
                COALESCE(SUM(s.warmup = 0 AND s.ok = 1), 0) AS ok_count,
                COALESCE(SUM(s.warmup = 0 AND s.ok = 0), 0) AS failed_count,
                COALESCE(SUM(s.warmup), 0)                  AS warmup_count,
                (SELECT COUNT(*) FROM memory_steps m WHERE m.run_id = r.id AND m.ok = 1) AS memory_ok_count,
                (SELECT COUNT(*) FROM memory_steps m WHERE m.run_id = r.id AND m.ok = 0) AS memory_failed_count
         -- Iterations, not parts of them: step samples (CRI calls, perf kernels) are not counted.
         FROM runs r LEFT JOIN samples s ON s.run_id = r.id AND s.step IS NULL
         GROUP BY r.id
         ORDER BY r.started_at DESC, r.id`,
      )
      .all() as unknown as RunListRow[];
    return rows.map((row) => {
      const plan = this.#readStored(Plan, () => JSON.parse(row.plan_json), row.id, 'plan');
      const kind = runKindOf(plan);
      return this.#readStored(
        RunListItem,
        () => ({
          id: row.id,
          hostName: row.host_name,
          method: row.method,
          kind,
          runtimes: plan.runtimes.map((r) => r.name),
          startedAt: row.started_at,
          finishedAt: row.finished_at,
          status: row.status,
          // A memory run has no samples: its unit is the step (N containers of one runtime).
          counts: kind === 'memory'
            ? { ok: row.memory_ok_count, failed: row.memory_failed_count, warmups: 0 }
            : { ok: row.ok_count, failed: row.failed_count, warmups: row.warmup_count },
        }),
        row.id,
        'list entry',
      );
    });
  }

  /** The run and all its samples in execution order. */
  getRun(runId: string): RunDetail {
    const row = this.#db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as unknown as RunRow | undefined;
    if (!row) throw notFound(runId);
    const meta = this.#readStored(
      RunMeta,
      () => ({
        id: row.id,
        hostName: row.host_name,
        method: row.method,
        plan: JSON.parse(row.plan_json),
        facts: JSON.parse(row.facts_json),
        versions: JSON.parse(row.versions_json),
        bundle: row.bundle_json === null ? null : JSON.parse(row.bundle_json),
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        status: row.status,
        statusMessage: row.status_message,
      }),
      runId,
      'record',
    );
    const sampleRows = this.#db
      .prepare(
        `SELECT seq, runtime, iteration, warmup, started_at, duration_ms, ok, exit_code, timed_out, error, step, storage_driver
         FROM samples WHERE run_id = ? ORDER BY seq`,
      )
      .all(runId) as unknown as SampleRow[];
    const samples = sampleRows.map(
      (s): Sample => ({
        seq: s.seq,
        runtime: s.runtime,
        iteration: s.iteration,
        warmup: s.warmup === 1,
        startedAt: s.started_at,
        durationMs: s.duration_ms,
        ok: s.ok === 1,
        exitCode: s.exit_code,
        timedOut: s.timed_out === 1,
        error: s.error,
        // Absent rather than null, so runs without steps read back exactly as they were written.
        ...(s.step === null ? {} : { step: s.step }),
        ...(s.storage_driver === null ? {} : { storageDriver: s.storage_driver }),
      }),
    );
    return { meta, samples };
  }

  /** Deletes the run and, by the foreign key's cascade, its samples. */
  deleteRun(runId: string): void {
    const { changes } = this.#db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
    if (Number(changes) === 0) throw notFound(runId);
  }

  #hasRun(runId: string): boolean {
    return this.#db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId) !== undefined;
  }

  #requireRun(runId: string): void {
    if (!this.#hasRun(runId)) throw notFound(runId);
  }

  #updateRun(runId: string, sql: string, ...values: (string | null)[]): void {
    const { changes } = this.#db.prepare(sql).run(...values, runId);
    if (Number(changes) === 0) throw notFound(runId);
  }

  #insertSamples(runId: string, samples: readonly Sample[]): number {
    const valid = parseInput(z.array(Sample), samples, 'samples');
    this.#requireRun(runId);
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO samples (run_id, seq, runtime, iteration, warmup, started_at, duration_ms, ok, exit_code, timed_out, error, step, storage_driver)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    let added = 0;
    for (const s of valid) {
      const { changes } = insert.run(
        runId, s.seq, s.runtime, s.iteration, Number(s.warmup), s.startedAt, s.durationMs, Number(s.ok), s.exitCode, Number(s.timedOut), s.error,
        s.step ?? null, s.storageDriver ?? null,
      );
      added += Number(changes);
    }
    return added;
  }

  #insertDaemonUsage(runId: string, readings: readonly DaemonUsageReading[]): number {
    if (readings.length === 0) return 0;
    const valid = parseInput(z.array(DaemonUsageReading), readings, 'daemon usage');
    this.#requireRun(runId);
    const insert = this.#db.prepare(
      'INSERT OR IGNORE INTO daemon_usage (run_id, at, pid, process, cpu_percent, rss_bytes) VALUES (?, ?, ?, ?, ?, ?)',
    );
    let added = 0;
    for (const r of valid) added += Number(insert.run(runId, r.at, r.pid, r.process, r.cpuPercent, r.rssBytes).changes);
    return added;
  }

  #insertMemorySteps(runId: string, steps: readonly MemoryStep[]): number {
    if (steps.length === 0) return 0;
    const valid = parseInput(z.array(MemoryStep), steps, 'memory steps');
    this.#requireRun(runId);
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO memory_steps (run_id, seq, runtime, containers, running, at, ok, error, total_pss_bytes, per_container_pss_bytes,
         mem_available_drop_bytes, per_container_mem_available_drop_bytes, mem_available_before_bytes, settle_ms, output, processes_json, daemons_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    let added = 0;
    for (const s of valid) {
      added += Number(insert.run(
        runId, s.seq, s.runtime, s.containers, s.running, s.at, Number(s.ok), s.error, s.totalPssBytes, s.perContainerPssBytes,
        s.memAvailableDropBytes, s.perContainerMemAvailableDropBytes, s.memAvailableBeforeBytes, s.settleMs, s.output, JSON.stringify(s.processes),
        s.daemons === undefined ? null : JSON.stringify(s.daemons),
      ).changes);
    }
    return added;
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  /**
   * What was stored, checked again on the way out (the file may have been edited by hand or
   * written by another version): a bad row is reported by run id, not passed on.
   */
  #readStored<T>(schema: z.ZodType<T>, build: () => unknown, runId: string, what: string): T {
    let reason: string;
    try {
      const result = schema.safeParse(build());
      if (result.success) return result.data;
      reason = z.prettifyError(result.error);
    } catch (err) {
      reason = describe(err); // JSON that does not parse
    }
    throw new LabError('internal', `The stored ${what} of run ${runId} in ${this.path} is not valid: ${reason}`, { runId, path: this.path });
  }
}

function openDatabase(path: string): DatabaseSync {
  if (existsSync(path)) checkIntegrity(path);
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: BUSY_TIMEOUT_MS });
  try {
    // WAL: readers (the results page) do not block the writer (a run being stored).
    db.exec('PRAGMA journal_mode = WAL');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Reads every page once (≈80 ms per million samples), so a damaged file is found now,
 * when it can be moved aside whole, rather than halfway through storing a run. Read-only
 * on purpose: closing a read-write connection to a file SQLite cannot read deletes its
 * -wal, which may hold the newest runs.
 */
function checkIntegrity(path: string): void {
  const db = new DatabaseSync(path, { readOnly: true, timeout: BUSY_TIMEOUT_MS });
  try {
    const result = db.prepare('PRAGMA quick_check(1)').get()?.['quick_check'];
    if (result !== 'ok') throw new DamagedDatabaseError(`integrity check failed: ${String(result)}`);
  } finally {
    db.close();
  }
}

function isCorruption(err: unknown): boolean {
  if (err instanceof DamagedDatabaseError) return true;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { errcode?: unknown }).errcode;
    if (typeof code === 'number' && ((code & 0xff) === SQLITE_CORRUPT || (code & 0xff) === SQLITE_NOTADB)) return true;
  }
  return false;
}

/** Renames the database and its WAL files so that SQLite can still open the moved copy. */
function moveAside(path: string, now: Date): string {
  const movedTo = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, movedTo);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
  }
  return movedTo;
}

function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new LabError('invalid-input', `Invalid ${what}: ${z.prettifyError(result.error)}`);
  return result.data;
}

function notFound(runId: string): LabError {
  return new LabError('not-found', `No run with id ${runId} in the results database.`, { runId });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
