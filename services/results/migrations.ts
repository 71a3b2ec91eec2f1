import type { DatabaseSync } from 'node:sqlite';
import { LabError } from '../../shared/lab-error.ts';

// The results database's schema, as an append-only list: a migration that has shipped is
// never edited, a change is a new entry. PRAGMA user_version holds how many have been
// applied; it lives in the database header and is written in the same transaction as the
// migration, so a crash leaves either the old schema and version or the new ones.

export interface Migration {
  /** What it changes, for the error message when it fails. */
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'runs and their samples',
    sql: `
      CREATE TABLE runs (
        id            TEXT PRIMARY KEY,
        host_name     TEXT NOT NULL,
        method        TEXT NOT NULL,
        plan_json     TEXT NOT NULL,
        facts_json    TEXT NOT NULL,
        versions_json TEXT NOT NULL,
        bundle_json   TEXT,
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        status        TEXT NOT NULL
      ) STRICT;
      CREATE TABLE samples (
        run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,
        runtime     TEXT NOT NULL,
        iteration   INTEGER NOT NULL,
        warmup      INTEGER NOT NULL CHECK (warmup IN (0, 1)),
        started_at  TEXT NOT NULL,
        duration_ms REAL NOT NULL,
        ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
        exit_code   INTEGER,
        timed_out   INTEGER NOT NULL CHECK (timed_out IN (0, 1)),
        error       TEXT,
        -- seq is unique per run: a resumed tail that sends a sample again is ignored.
        PRIMARY KEY (run_id, seq)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    description: 'why a run ended, and the run list in date order',
    sql: `
      ALTER TABLE runs ADD COLUMN status_message TEXT;
      CREATE INDEX runs_by_started_at ON runs(started_at);
    `,
  },
  {
    description: 'where a run is measured and how far its events file has been read',
    sql: `
      CREATE TABLE run_follow (
        run_id      TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        host_id     TEXT NOT NULL,
        remote_dir  TEXT NOT NULL,
        agent_json  TEXT NOT NULL,
        tail_offset INTEGER NOT NULL DEFAULT 0 CHECK (tail_offset >= 0)
      ) STRICT;
    `,
  },
  {
    description: 'the environment of a run (daemons, snapshotter, storage driver, cgroups) and daemon CPU/memory over time',
    sql: `
      ALTER TABLE runs ADD COLUMN environment_json TEXT;
      CREATE TABLE daemon_usage (
        run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        at          TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        process     TEXT NOT NULL,
        cpu_percent REAL NOT NULL CHECK (cpu_percent >= 0),
        rss_bytes   INTEGER NOT NULL CHECK (rss_bytes >= 0),
        -- One reading per process and instant: a resumed tail that sends a batch again is ignored.
        PRIMARY KEY (run_id, at, pid)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    description: 'memory-footprint steps (N containers of one runtime: PSS, MemAvailable drop, processes counted)',
    sql: `
      CREATE TABLE memory_steps (
        run_id                 TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq                    INTEGER NOT NULL CHECK (seq >= 0),
        runtime                TEXT NOT NULL,
        containers             INTEGER NOT NULL CHECK (containers > 0),
        running                INTEGER NOT NULL CHECK (running >= 0),
        at                     TEXT NOT NULL,
        ok                     INTEGER NOT NULL CHECK (ok IN (0, 1)),
        error                  TEXT,
        total_pss_bytes        INTEGER,
        per_container_pss_bytes REAL,
        mem_available_drop_bytes INTEGER,
        per_container_mem_available_drop_bytes REAL,
        mem_available_before_bytes INTEGER,
        settle_ms              INTEGER NOT NULL CHECK (settle_ms >= 0),
        output                 TEXT NOT NULL,
        -- [{pid, comm, role, pssBytes}]: which processes were counted.
        processes_json         TEXT NOT NULL,
        -- One row per step: a resumed tail that sends a step again is ignored.
        PRIMARY KEY (run_id, seq)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    description: 'sample steps (CRI calls, perf kernels) and the storage driver of a storage-driver loop',
    sql: `
      ALTER TABLE samples ADD COLUMN step TEXT;
      ALTER TABLE samples ADD COLUMN storage_driver TEXT;
    `,
  },
  {
    description: 'the shared daemons\' memory before and after a memory step (methods ctr and docker)',
    sql: `
      -- [{process, pid, rssBeforeBytes, rssAfterBytes, pssBeforeBytes, pssAfterBytes}]; NULL: not recorded (oci-direct, older runs).
      ALTER TABLE memory_steps ADD COLUMN daemons_json TEXT;
    `,
  },
];

/** Schema version of a database: the number of migrations applied to it. */
export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get();
  return Number(row?.['user_version'] ?? 0);
}

/**
 * Brings `db` up to `target` migrations (all by default; tests stop earlier to make an
 * old database), each in its own transaction. A database newer than this app is refused
 * rather than guessed at.
 */
export function migrate(db: DatabaseSync, target = MIGRATIONS.length): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new LabError(
      'unsupported',
      `The results database was written by a newer Runtime Lab (schema version ${current}; this one knows up to ${MIGRATIONS.length}). Update Runtime Lab to open it.`,
      { schemaVersion: current },
    );
  }
  for (let version = current; version < target; version++) {
    const migration = MIGRATIONS[version];
    if (!migration) break;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(migration.sql);
      // PRAGMA takes no bound parameters; the value is our own integer.
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw new Error(`migration ${version + 1} (${migration.description}) failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
}
