/**
 * The run store's schema as an ordered list of migrations. The SQL sticks to what SQLite
 * and PostgreSQL both accept (TEXT, BIGINT, DOUBLE PRECISION, composite primary keys,
 * `IF NOT EXISTS`), so a later PostgreSQL store can apply the same list. Documented in
 * docs/run-store.md.
 */

/** One step of the schema; `version` numbers are consecutive from 1. */
export interface Migration {
  version: number;
  description: string;
  /** Statements applied in order inside one transaction. */
  statements: readonly string[];
}

/** Table that records which migrations were applied: one row per migration. */
export const SCHEMA_VERSION_TABLE_SQL = `CREATE TABLE IF NOT EXISTS schema_version (
  version BIGINT PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/**
 * All migrations, oldest first. Never edit an applied one; append a new one.
 *
 * `runs` holds the run record as JSON (`record_json`, the source of truth) plus a few
 * columns copied from it for listing and lookup, and what the store needs to judge an
 * interrupted run (`host`, `tracker_pid`, `tracker_start_ticks`, `last_sample_at`).
 * `samples` holds one row per timeline sample, the sample as JSON.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "runs and timeline samples",
    statements: [
      `CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL,
        command_json TEXT NOT NULL,
        duration_s DOUBLE PRECISION NOT NULL,
        energy_j DOUBLE PRECISION,
        co2e_g DOUBLE PRECISION,
        host TEXT NOT NULL,
        tracker_pid BIGINT,
        tracker_start_ticks BIGINT,
        last_sample_at TEXT,
        sample_count BIGINT NOT NULL DEFAULT 0,
        record_json TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS runs_started_at ON runs (started_at)`,
      `CREATE INDEX IF NOT EXISTS runs_status ON runs (status)`,
      `CREATE TABLE samples (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        t TEXT NOT NULL,
        elapsed_s DOUBLE PRECISION NOT NULL,
        sample_json TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
      )`,
    ],
  },
];

/** The schema version this code writes: the last migration's version. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
