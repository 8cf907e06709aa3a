/**
 * The schema of the server store (`wattprint serve`): one ordered list of migrations applied
 * as written to SQLite and to PostgreSQL. The SQL keeps to what both accept (TEXT, BIGINT,
 * DOUBLE PRECISION, composite primary keys, `IF NOT EXISTS`, `ON CONFLICT`), like the local
 * run store's (src/store/schema.ts). Its version table is its own
 * (`server_schema_version`) and its table names do not clash with the run store's, so one
 * SQLite file may hold both. Documented in docs/serve.md.
 */
import type { Migration } from "./schema.js";

/** Table that records which server migrations were applied: one row per migration. */
export const SERVER_SCHEMA_VERSION_TABLE_SQL = `CREATE TABLE IF NOT EXISTS server_schema_version (
  version BIGINT PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/**
 * All server migrations, oldest first. Never edit an applied one; append a new one.
 *
 * - `api_tokens`: one row per token; only the SHA-256 of its secret is kept.
 * - `jobs`: one row per job key (a multi-node job, or a single run keyed by its run id):
 *   the expected node count and metrics reported for the job.
 * - `members`: one row per tracker run (a node, a rank or an agent) with its latest
 *   cumulative totals, copied from its newest sample, and its final record once finished.
 * - `run_samples`: the run-level timeline of each tracker run (cumulative energy and CO2e,
 *   power per component, intensity, phases).
 * - `device_samples`: cumulative per-device energy, one row per device and sample.
 * - `devices`: the newest `device_samples` row of each (tracker run, device), kept by the
 *   ingest so totals read one row per device.
 * Times are ISO 8601 UTC text plus, where compared, epoch milliseconds (`*_ms`).
 */
export const SERVER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "tokens, jobs, tracker runs, run and device samples",
    statements: [
      `CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        scope TEXT NOT NULL,
        secret_sha256 TEXT NOT NULL,
        label TEXT,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      )`,
      `CREATE TABLE jobs (
        project TEXT NOT NULL,
        job_key TEXT NOT NULL,
        expected_nodes BIGINT,
        metrics_json TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (project, job_key)
      )`,
      `CREATE TABLE members (
        project TEXT NOT NULL,
        run_id TEXT NOT NULL,
        job_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        host TEXT NOT NULL,
        command_json TEXT NOT NULL,
        started_at TEXT NOT NULL,
        started_ms BIGINT NOT NULL,
        ended_at TEXT,
        ended_ms BIGINT,
        status TEXT NOT NULL,
        region TEXT NOT NULL,
        zone TEXT NOT NULL,
        pue DOUBLE PRECISION NOT NULL,
        tracker_version TEXT NOT NULL,
        last_seq BIGINT NOT NULL,
        last_t TEXT,
        energy_j DOUBLE PRECISION,
        machine_energy_j DOUBLE PRECISION,
        co2e_g DOUBLE PRECISION,
        intensity_g_per_kwh DOUBLE PRECISION,
        last_seen_ms BIGINT NOT NULL,
        record_json TEXT,
        PRIMARY KEY (project, run_id)
      )`,
      `CREATE INDEX IF NOT EXISTS members_job ON members (project, job_key)`,
      `CREATE INDEX IF NOT EXISTS members_seen ON members (last_seen_ms)`,
      `CREATE TABLE run_samples (
        project TEXT NOT NULL,
        run_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        t TEXT NOT NULL,
        t_ms BIGINT NOT NULL,
        elapsed_s DOUBLE PRECISION NOT NULL,
        energy_j DOUBLE PRECISION,
        machine_energy_j DOUBLE PRECISION,
        co2e_g DOUBLE PRECISION,
        power_json TEXT NOT NULL,
        intensity_g_per_kwh DOUBLE PRECISION,
        phases_json TEXT NOT NULL,
        PRIMARY KEY (project, run_id, seq)
      )`,
      `CREATE TABLE device_samples (
        project TEXT NOT NULL,
        run_id TEXT NOT NULL,
        device TEXT NOT NULL,
        seq BIGINT NOT NULL,
        t_ms BIGINT NOT NULL,
        machine_energy_j DOUBLE PRECISION,
        attributed_energy_j DOUBLE PRECISION,
        power_w DOUBLE PRECISION,
        PRIMARY KEY (project, run_id, device, seq)
      )`,
      `CREATE TABLE devices (
        project TEXT NOT NULL,
        run_id TEXT NOT NULL,
        device TEXT NOT NULL,
        host TEXT NOT NULL,
        component TEXT NOT NULL,
        method TEXT NOT NULL,
        source TEXT NOT NULL,
        label TEXT NOT NULL,
        seq BIGINT NOT NULL,
        t_ms BIGINT NOT NULL,
        machine_energy_j DOUBLE PRECISION,
        attributed_energy_j DOUBLE PRECISION,
        power_w DOUBLE PRECISION,
        PRIMARY KEY (project, run_id, device)
      )`,
    ],
  },
];

/** The server schema version this code writes: the last migration's version. */
export const LATEST_SERVER_SCHEMA_VERSION: number =
  SERVER_MIGRATIONS[SERVER_MIGRATIONS.length - 1]?.version ?? 0;
