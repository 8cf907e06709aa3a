/**
 * The server store: what `wattprint serve` keeps, on SQLite (a file, WAL) or PostgreSQL
 * (a URL), through the same migrations (server-schema.ts) and the same statements. All
 * state is here, so any number of server replicas can share one PostgreSQL database.
 * It stores and reads; the sums over trackers and devices are src/serve/job-totals.ts's.
 */
import { WattprintError, describeError, isWattprintError } from "../errors.js";
import type { Component } from "../sensors/sensor.js";
import type { IngestBatch, RunKind, WireDevice } from "../serve/ingest-schema.js";
import {
  SERVER_MIGRATIONS,
  SERVER_SCHEMA_VERSION_TABLE_SQL,
  LATEST_SERVER_SCHEMA_VERSION,
} from "./server-schema.js";
import { SqliteDriver, type SqlDriver, type SqlExecutor, type SqlRow } from "./server-sql.js";

/** What a token may do: send samples, read, or both plus manage tokens. */
export type TokenScope = "ingest" | "read" | "admin";

/** A stored token: never its secret, only the secret's SHA-256. */
export interface TokenRow {
  id: string;
  project: string;
  scope: TokenScope;
  secretSha256: string;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/** A tracker run (member of a job) as stored: its header and newest cumulative totals. */
export interface MemberState {
  runId: string;
  jobKey: string;
  kind: RunKind;
  host: string;
  command: string[];
  status: "running" | "completed" | "failed" | "interrupted";
  startedMs: number;
  endedMs: number | null;
  region: string;
  zone: string;
  pue: number;
  /** Cumulative attributed energy, joules (null: not measured). */
  energyJ: number | null;
  machineEnergyJ: number | null;
  co2eG: number | null;
  intensityGPerKWh: number | null;
  lastSeq: number;
  lastSeenMs: number;
}

/** The newest cumulative reading of one device by one tracker run. */
export interface DeviceState {
  runId: string;
  host: string;
  device: string;
  component: Component;
  method: string;
  source: string;
  label: string;
  tMs: number;
  machineEnergyJ: number | null;
  attributedEnergyJ: number | null;
  powerW: number | null;
}

/** A job's own row: what trackers announced for the job as a whole. */
export interface JobRow {
  jobKey: string;
  expectedNodes: number | null;
  metrics: Record<string, number>;
  createdAt: string;
}

/** A job with everything needed to total it. */
export interface StoredJob {
  job: JobRow;
  members: MemberState[];
  devices: DeviceState[];
}

/** One point of a tracker run's timeline. */
export interface StoredRunSample {
  runId: string;
  seq: number;
  tMs: number;
  elapsedS: number;
  energyJ: number | null;
  machineEnergyJ: number | null;
  co2eG: number | null;
  powerW: { cpu: number | null; gpu: number | null; ram: number | null };
  machinePowerW: { cpu: number | null; gpu: number | null; ram: number | null };
  intensityGPerKWh: number | null;
  phases: string[];
}

/** One point of a device's cumulative energy. */
export interface StoredDeviceSample {
  runId: string;
  device: string;
  seq: number;
  tMs: number;
  machineEnergyJ: number | null;
  attributedEnergyJ: number | null;
  powerW: number | null;
}

/** What one ingest wrote: new rows and rows already there (a batch sent again). */
export interface IngestCounts {
  samplesWritten: number;
  samplesDuplicate: number;
  deviceSamplesWritten: number;
  deviceSamplesDuplicate: number;
  /** True when the final state was recorded by this batch. */
  finished: boolean;
}

/** Filters of {@link ServerStore.listJobKeys}. */
export interface JobKeyFilter {
  /** Only jobs with a tracker on this host. */
  host?: string;
  /** Case-insensitive text in the job key or a command. */
  text?: string;
  kind?: RunKind;
  /** Only jobs started at or after this time, epoch ms. */
  sinceMs?: number;
  /** Only jobs with a tracker still marked running. */
  running?: boolean;
  limit: number;
}

/** Options of {@link openServerStore}. */
export interface ServerStoreOptions {
  /** PostgreSQL pool size; default 10. */
  poolSize?: number;
}

/** Key of the PostgreSQL advisory lock taken while migrating ("wattprnt" in ASCII, truncated). */
const MIGRATION_LOCK_KEY = 0x7761_7474;

const STORE_HINT =
  "check --db: a writable SQLite path or a postgres://user:password@host:port/db URL of a reachable server";

/** True when `db` names a PostgreSQL database (postgres:// or postgresql://). */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * Opens the server store named by `db` (a SQLite file path, created when missing, or a
 * postgres:// URL) and applies pending migrations. Throws WattprintError("STORE") with a
 * hint when the database cannot be reached or was written by a newer wattprint.
 */
export async function openServerStore(
  db: string,
  options: ServerStoreOptions = {},
): Promise<ServerStore> {
  let driver: SqlDriver | undefined;
  try {
    if (isPostgresUrl(db)) {
      const { PostgresDriver } = await import("./server-postgres.js");
      driver = new PostgresDriver(db, { poolSize: options.poolSize });
    } else {
      driver = new SqliteDriver(db);
    }
    await migrate(driver);
    return new ServerStore(driver);
  } catch (error) {
    await driver?.close().catch(() => undefined);
    const where = driver?.description ?? (isPostgresUrl(db) ? "the PostgreSQL database" : db);
    throw new WattprintError(
      "STORE",
      `cannot open the server store at ${where}: ${describeError(error)}`,
      {
        hint: isWattprintError(error) && error.hint !== undefined ? error.hint : STORE_HINT,
        cause: error,
      },
    );
  }
}

async function migrate(driver: SqlDriver): Promise<void> {
  await driver.run(SERVER_SCHEMA_VERSION_TABLE_SQL);
  await driver.transaction(
    async (tx) => {
      const rows = await tx.query("SELECT MAX(version) AS version FROM server_schema_version");
      const current = Number(rows[0]?.version ?? 0);
      if (current > LATEST_SERVER_SCHEMA_VERSION) {
        throw new WattprintError(
          "STORE",
          `the server store was written by a newer wattprint (schema ${current}; this version knows up to ${LATEST_SERVER_SCHEMA_VERSION})`,
          { hint: "upgrade wattprint on every server replica" },
        );
      }
      for (const migration of SERVER_MIGRATIONS) {
        if (migration.version <= current) continue;
        for (const statement of migration.statements) await tx.run(statement);
        await tx.run(
          "INSERT INTO server_schema_version (version, description, applied_at) VALUES ($1, $2, $3)",
          [migration.version, migration.description, new Date().toISOString()],
        );
      }
    },
    { lockKey: MIGRATION_LOCK_KEY },
  );
}

const num = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== "string") return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function memberFromRow(row: SqlRow): MemberState {
  return {
    runId: String(row.run_id),
    jobKey: String(row.job_key),
    kind: row.kind as RunKind,
    host: String(row.host),
    command: parseJson<string[]>(row.command_json, []),
    status: row.status as MemberState["status"],
    startedMs: Number(row.started_ms),
    endedMs: num(row.ended_ms),
    region: String(row.region),
    zone: String(row.zone),
    pue: Number(row.pue),
    energyJ: num(row.energy_j),
    machineEnergyJ: num(row.machine_energy_j),
    co2eG: num(row.co2e_g),
    intensityGPerKWh: num(row.intensity_g_per_kwh),
    lastSeq: Number(row.last_seq),
    lastSeenMs: Number(row.last_seen_ms),
  };
}

function deviceFromRow(row: SqlRow): DeviceState {
  return {
    runId: String(row.run_id),
    host: String(row.host),
    device: String(row.device),
    component: row.component as Component,
    method: String(row.method),
    source: String(row.source),
    label: String(row.label),
    tMs: Number(row.t_ms),
    machineEnergyJ: num(row.machine_energy_j),
    attributedEnergyJ: num(row.attributed_energy_j),
    powerW: num(row.power_w),
  };
}

function tokenFromRow(row: SqlRow): TokenRow {
  return {
    id: String(row.id),
    project: String(row.project),
    scope: row.scope as TokenScope,
    secretSha256: String(row.secret_sha256),
    label: row.label === null || row.label === undefined ? null : String(row.label),
    createdAt: String(row.created_at),
    revokedAt:
      row.revoked_at === null || row.revoked_at === undefined ? null : String(row.revoked_at),
  };
}

/** `$from, $from+1, …` placeholders for an IN list. */
function placeholders(count: number, from: number): string {
  return Array.from({ length: count }, (_v, i) => `$${from + i}`).join(", ");
}

const MEMBER_COLUMNS = `run_id, job_key, kind, host, command_json, status, started_ms, ended_ms,
  region, zone, pue, energy_j, machine_energy_j, co2e_g, intensity_g_per_kwh, last_seq, last_seen_ms`;
const DEVICE_COLUMNS = `run_id, host, device, component, method, source, label, t_ms,
  machine_energy_j, attributed_energy_j, power_w`;

const TEXT = "text";
const BIGINT = "bigint";
const DOUBLE = "double precision";

/** Keeps the newer of two values, judged by the member's sequence, while it is not finished. */
const newer = (column: string) =>
  `${column} = CASE WHEN members.ended_ms IS NULL AND excluded.last_seq > members.last_seq THEN excluded.${column} ELSE members.${column} END`;

/** The server store over one driver. Open it with {@link openServerStore}. */
export class ServerStore {
  readonly kind: "sqlite" | "postgres";
  /** The SQLite path or the PostgreSQL URL without its password. */
  readonly description: string;
  private readonly driver: SqlDriver;

  constructor(driver: SqlDriver) {
    this.driver = driver;
    this.kind = driver.kind;
    this.description = driver.description;
  }

  /** Checks the database answers and has this code's schema; throws otherwise. */
  async ping(): Promise<{ schemaVersion: number }> {
    const rows = await this.driver.query(
      "SELECT MAX(version) AS version FROM server_schema_version",
    );
    const version = Number(rows[0]?.version ?? 0);
    if (version !== LATEST_SERVER_SCHEMA_VERSION) {
      throw new WattprintError(
        "STORE",
        `server schema is ${version}, expected ${LATEST_SERVER_SCHEMA_VERSION}`,
      );
    }
    return { schemaVersion: version };
  }

  // ── tokens ─────────────────────────────────────────────────────────────

  async insertToken(token: TokenRow): Promise<void> {
    await this.driver.run(
      `INSERT INTO api_tokens (id, project, scope, secret_sha256, label, created_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        token.id,
        token.project,
        token.scope,
        token.secretSha256,
        token.label,
        token.createdAt,
        token.revokedAt,
      ],
    );
  }

  async findToken(id: string): Promise<TokenRow | null> {
    const rows = await this.driver.query(
      "SELECT id, project, scope, secret_sha256, label, created_at, revoked_at FROM api_tokens WHERE id = $1",
      [id],
    );
    return rows[0] === undefined ? null : tokenFromRow(rows[0]);
  }

  /** Tokens, newest first; of one project when given. */
  async listTokens(project?: string): Promise<TokenRow[]> {
    const rows =
      project === undefined
        ? await this.driver.query(
            "SELECT id, project, scope, secret_sha256, label, created_at, revoked_at FROM api_tokens ORDER BY created_at DESC, id",
          )
        : await this.driver.query(
            "SELECT id, project, scope, secret_sha256, label, created_at, revoked_at FROM api_tokens WHERE project = $1 ORDER BY created_at DESC, id",
            [project],
          );
    return rows.map(tokenFromRow);
  }

  /** Revokes a token (of `project` only, when given); false when there was none to revoke. */
  async revokeToken(id: string, revokedAt: string, project?: string): Promise<boolean> {
    const changed =
      project === undefined
        ? await this.driver.run(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            [id, revokedAt],
          )
        : await this.driver.run(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND project = $3 AND revoked_at IS NULL",
            [id, revokedAt, project],
          );
    return changed > 0;
  }

  /** Whether any token was ever created (revoked ones count: auth, once set up, stays on). */
  async hasAnyToken(): Promise<boolean> {
    const rows = await this.driver.query("SELECT id FROM api_tokens LIMIT 1");
    return rows.length > 0;
  }

  // ── ingestion ──────────────────────────────────────────────────────────

  /**
   * Writes one checked batch in one transaction: the job, the tracker run's header and
   * newest totals, its run and device samples (a sample already stored is left as it is),
   * the newest reading per device, and the final state when the batch has one.
   * `metrics` are merged into the job's. Idempotent: the same batch twice writes nothing new.
   */
  async ingest(
    project: string,
    batch: IngestBatch,
    times: { startedMs: number; sampleMs: number[]; endedMs: number | null; nowMs: number },
    metrics: Record<string, number> | null,
  ): Promise<IngestCounts> {
    const { run } = batch;
    const jobKey = run.job ?? run.id;
    const nowIso = new Date(times.nowMs).toISOString();
    let lastIndex = -1;
    for (let i = 0; i < batch.samples.length; i += 1) {
      if (lastIndex < 0 || (batch.samples[i]?.seq ?? -1) > (batch.samples[lastIndex]?.seq ?? -1))
        lastIndex = i;
    }
    const last = lastIndex < 0 ? undefined : batch.samples[lastIndex];
    const deviceRows: unknown[][] = [];
    const newestDevice = new Map<string, { device: WireDevice; seq: number; tMs: number }>();
    batch.samples.forEach((sample, index) => {
      const tMs = times.sampleMs[index] ?? 0;
      for (const device of sample.devices) {
        deviceRows.push([
          project,
          run.id,
          device.id,
          sample.seq,
          tMs,
          device.machineEnergyJ,
          device.attributedEnergyJ,
          device.powerW,
        ]);
        const seen = newestDevice.get(device.id);
        if (seen === undefined || sample.seq > seen.seq)
          newestDevice.set(device.id, { device, seq: sample.seq, tMs });
      }
    });
    // Times are stored in UTC whatever offset the client wrote, so days group the same everywhere.
    const sampleRows = batch.samples.map((sample, index) => [
      project,
      run.id,
      sample.seq,
      new Date(times.sampleMs[index] ?? 0).toISOString(),
      times.sampleMs[index] ?? 0,
      sample.elapsedS,
      sample.energyJ,
      sample.machineEnergyJ,
      sample.co2eG,
      JSON.stringify({ attributed: sample.powerW, machine: sample.machinePowerW }),
      sample.intensityGPerKWh,
      JSON.stringify(sample.phases),
    ]);

    return this.driver.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO jobs (project, job_key, expected_nodes, metrics_json, created_at, updated_at)
         VALUES ($1, $2, $3, NULL, $4, $4)
         ON CONFLICT (project, job_key) DO UPDATE SET
           expected_nodes = CASE
             WHEN excluded.expected_nodes IS NULL THEN jobs.expected_nodes
             WHEN jobs.expected_nodes IS NULL OR excluded.expected_nodes > jobs.expected_nodes THEN excluded.expected_nodes
             ELSE jobs.expected_nodes END,
           updated_at = excluded.updated_at`,
        [project, jobKey, run.expectedNodes, nowIso],
      );
      if (metrics !== null && Object.keys(metrics).length > 0) {
        await mergeMetrics(tx, project, jobKey, metrics, nowIso);
      }
      await tx.run(
        `INSERT INTO members (project, run_id, job_key, kind, host, command_json, started_at, started_ms,
           ended_at, ended_ms, status, region, zone, pue, tracker_version, last_seq, last_t, energy_j,
           machine_energy_j, co2e_g, intensity_g_per_kwh, last_seen_ms, record_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, 'running', $9, $10, $11, $12, $13, $14, $15,
           $16, $17, $18, $19, NULL)
         ON CONFLICT (project, run_id) DO UPDATE SET
           ${newer("last_t")}, ${newer("energy_j")}, ${newer("machine_energy_j")}, ${newer("co2e_g")},
           ${newer("intensity_g_per_kwh")}, ${newer("last_seq")},
           last_seen_ms = CASE WHEN excluded.last_seen_ms > members.last_seen_ms THEN excluded.last_seen_ms ELSE members.last_seen_ms END`,
        [
          project,
          run.id,
          jobKey,
          run.kind,
          run.host,
          JSON.stringify(run.command),
          run.startedAt,
          times.startedMs,
          run.region,
          run.zone,
          run.pue,
          run.trackerVersion,
          last?.seq ?? -1,
          last?.t ?? null,
          last?.energyJ ?? null,
          last?.machineEnergyJ ?? null,
          last?.co2eG ?? null,
          last?.intensityGPerKWh ?? null,
          times.nowMs,
        ],
      );
      const samplesWritten = await tx.insertMany(
        {
          table: "run_samples",
          columns: [
            "project",
            "run_id",
            "seq",
            "t",
            "t_ms",
            "elapsed_s",
            "energy_j",
            "machine_energy_j",
            "co2e_g",
            "power_json",
            "intensity_g_per_kwh",
            "phases_json",
          ],
          types: [
            TEXT,
            TEXT,
            BIGINT,
            TEXT,
            BIGINT,
            DOUBLE,
            DOUBLE,
            DOUBLE,
            DOUBLE,
            TEXT,
            DOUBLE,
            TEXT,
          ],
          onConflict: "ON CONFLICT (project, run_id, seq) DO NOTHING",
        },
        sampleRows,
      );
      const deviceSamplesWritten = await tx.insertMany(
        {
          table: "device_samples",
          columns: [
            "project",
            "run_id",
            "device",
            "seq",
            "t_ms",
            "machine_energy_j",
            "attributed_energy_j",
            "power_w",
          ],
          types: [TEXT, TEXT, TEXT, BIGINT, BIGINT, DOUBLE, DOUBLE, DOUBLE],
          onConflict: "ON CONFLICT (project, run_id, device, seq) DO NOTHING",
        },
        deviceRows,
      );
      await tx.insertMany(
        {
          table: "devices",
          columns: [
            "project",
            "run_id",
            "device",
            "host",
            "component",
            "method",
            "source",
            "label",
            "seq",
            "t_ms",
            "machine_energy_j",
            "attributed_energy_j",
            "power_w",
          ],
          types: [
            TEXT,
            TEXT,
            TEXT,
            TEXT,
            TEXT,
            TEXT,
            TEXT,
            TEXT,
            BIGINT,
            BIGINT,
            DOUBLE,
            DOUBLE,
            DOUBLE,
          ],
          onConflict: `ON CONFLICT (project, run_id, device) DO UPDATE SET seq = excluded.seq,
            t_ms = excluded.t_ms, machine_energy_j = excluded.machine_energy_j,
            attributed_energy_j = excluded.attributed_energy_j, power_w = excluded.power_w,
            label = excluded.label, method = excluded.method, source = excluded.source
            WHERE excluded.seq > devices.seq`,
        },
        [...newestDevice.values()].map(({ device, seq, tMs }) => [
          project,
          run.id,
          device.id,
          run.host,
          device.component,
          device.method,
          device.source,
          device.label,
          seq,
          tMs,
          device.machineEnergyJ,
          device.attributedEnergyJ,
          device.powerW,
        ]),
      );
      let finished = false;
      if (batch.final !== null && times.endedMs !== null) {
        const final = batch.final;
        const changed = await tx.run(
          `UPDATE members SET status = $3, ended_at = $4, ended_ms = $5, record_json = $6,
             energy_j = $7, machine_energy_j = $8, co2e_g = $9,
             last_seq = CASE WHEN $10 > last_seq THEN $10 ELSE last_seq END
           WHERE project = $1 AND run_id = $2 AND ended_ms IS NULL`,
          [
            project,
            run.id,
            final.status,
            final.endedAt,
            times.endedMs,
            final.record === null ? null : JSON.stringify(final.record),
            final.energyJ,
            final.machineEnergyJ,
            final.co2eG,
            last?.seq ?? -1,
          ],
        );
        finished = changed > 0;
      }
      return {
        samplesWritten,
        samplesDuplicate: sampleRows.length - samplesWritten,
        deviceSamplesWritten,
        deviceSamplesDuplicate: deviceRows.length - deviceSamplesWritten,
        finished,
      };
    });
  }

  /** Merges metrics into a job's; false when the job is not in the project. */
  async mergeJobMetrics(
    project: string,
    jobKey: string,
    metrics: Record<string, number>,
    nowMs: number,
  ): Promise<boolean> {
    return this.driver.transaction(async (tx) =>
      mergeMetrics(tx, project, jobKey, metrics, new Date(nowMs).toISOString()),
    );
  }

  // ── reading ────────────────────────────────────────────────────────────

  /**
   * The job key for `key`: a job key of the project, or a tracker run id (or a unique
   * prefix of one, 6 characters at least) whose job is returned. Null when none matches.
   */
  async resolveJobKey(project: string, key: string): Promise<string | null> {
    const jobs = await this.driver.query(
      "SELECT job_key FROM jobs WHERE project = $1 AND job_key = $2",
      [project, key],
    );
    if (jobs[0] !== undefined) return String(jobs[0].job_key);
    const members = await this.driver.query(
      "SELECT job_key FROM members WHERE project = $1 AND run_id = $2",
      [project, key],
    );
    if (members[0] !== undefined) return String(members[0].job_key);
    if (key.length < 6) return null;
    const prefixed = await this.driver.query(
      "SELECT DISTINCT job_key FROM members WHERE project = $1 AND (substr(run_id, 1, $3) = $2 OR substr(job_key, 1, $3) = $2) LIMIT 2",
      [project, key, key.length],
    );
    return prefixed.length === 1 && prefixed[0] !== undefined ? String(prefixed[0].job_key) : null;
  }

  /** Job keys of a project, newest start first, filtered. */
  async listJobKeys(project: string, filter: JobKeyFilter): Promise<string[]> {
    const params: unknown[] = [project];
    const where: string[] = ["project = $1"];
    if (filter.host !== undefined) {
      params.push(filter.host);
      where.push(
        `job_key IN (SELECT job_key FROM members WHERE project = $1 AND host = $${params.length})`,
      );
    }
    if (filter.text !== undefined && filter.text !== "") {
      params.push(`%${filter.text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const p = `$${params.length}`;
      where.push(
        `(LOWER(job_key) LIKE ${p} ESCAPE '\\' OR LOWER(command_json) LIKE ${p} ESCAPE '\\' OR LOWER(host) LIKE ${p} ESCAPE '\\')`,
      );
    }
    if (filter.kind !== undefined) {
      params.push(filter.kind);
      where.push(`kind = $${params.length}`);
    }
    if (filter.running === true) where.push("status = 'running'");
    params.push(filter.sinceMs ?? 0);
    const since = `$${params.length}`;
    params.push(filter.limit);
    const rows = await this.driver.query(
      `SELECT job_key, MIN(started_ms) AS started_ms FROM members WHERE ${where.join(" AND ")}
       GROUP BY job_key HAVING MIN(started_ms) >= ${since}
       ORDER BY MIN(started_ms) DESC, job_key LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => String(row.job_key));
  }

  /** The jobs named, with their tracker runs and newest device readings. */
  async loadJobs(project: string, jobKeys: readonly string[]): Promise<Map<string, StoredJob>> {
    const result = new Map<string, StoredJob>();
    for (let start = 0; start < jobKeys.length; start += 500) {
      const chunk = jobKeys.slice(start, start + 500);
      const list = placeholders(chunk.length, 2);
      const [jobs, members, devices] = await Promise.all([
        this.driver.query(
          `SELECT job_key, expected_nodes, metrics_json, created_at FROM jobs WHERE project = $1 AND job_key IN (${list})`,
          [project, ...chunk],
        ),
        this.driver.query(
          `SELECT ${MEMBER_COLUMNS} FROM members WHERE project = $1 AND job_key IN (${list}) ORDER BY started_ms, run_id`,
          [project, ...chunk],
        ),
        this.driver.query(
          `SELECT m.job_key AS job_key, ${DEVICE_COLUMNS.split(",")
            .map((c) => `d.${c.trim()}`)
            .join(", ")}
           FROM devices d JOIN members m ON m.project = d.project AND m.run_id = d.run_id
           WHERE d.project = $1 AND m.job_key IN (${list})`,
          [project, ...chunk],
        ),
      ]);
      for (const row of jobs) {
        result.set(String(row.job_key), {
          job: {
            jobKey: String(row.job_key),
            expectedNodes: num(row.expected_nodes),
            metrics: parseJson<Record<string, number>>(row.metrics_json, {}),
            createdAt: String(row.created_at),
          },
          members: [],
          devices: [],
        });
      }
      for (const row of members) result.get(String(row.job_key))?.members.push(memberFromRow(row));
      for (const row of devices) result.get(String(row.job_key))?.devices.push(deviceFromRow(row));
    }
    for (const [key, job] of result) if (job.members.length === 0) result.delete(key);
    return result;
  }

  /** The final run records of tracker runs (those that sent one), by run id. */
  async finalRecords(
    project: string,
    runIds: readonly string[],
  ): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    if (runIds.length === 0) return out;
    const rows = await this.driver.query(
      `SELECT run_id, record_json FROM members WHERE project = $1 AND run_id IN (${placeholders(runIds.length, 2)}) AND record_json IS NOT NULL`,
      [project, ...runIds],
    );
    for (const row of rows) {
      const record = parseJson<Record<string, unknown> | null>(row.record_json, null);
      if (record !== null) out.set(String(row.run_id), record);
    }
    return out;
  }

  /**
   * Timeline samples of tracker runs after `afterMs`, at most about `maxPoints` per run
   * (every n-th sample, plus the newest).
   */
  async runSamples(
    project: string,
    members: readonly Pick<MemberState, "runId" | "lastSeq">[],
    options: { maxPoints: number; afterMs?: number },
  ): Promise<StoredRunSample[]> {
    const out: StoredRunSample[] = [];
    for (const member of members) {
      const step = Math.max(1, Math.ceil((member.lastSeq + 1) / options.maxPoints));
      const rows = await this.driver.query(
        `SELECT run_id, seq, t_ms, elapsed_s, energy_j, machine_energy_j, co2e_g, power_json,
           intensity_g_per_kwh, phases_json
         FROM run_samples WHERE project = $1 AND run_id = $2 AND t_ms > $3 AND (seq % $4 = 0 OR seq = $5)
         ORDER BY seq`,
        [project, member.runId, options.afterMs ?? -1, step, member.lastSeq],
      );
      for (const row of rows) {
        const power = parseJson<{
          attributed?: StoredRunSample["powerW"];
          machine?: StoredRunSample["powerW"];
        }>(row.power_json, {});
        out.push({
          runId: String(row.run_id),
          seq: Number(row.seq),
          tMs: Number(row.t_ms),
          elapsedS: Number(row.elapsed_s),
          energyJ: num(row.energy_j),
          machineEnergyJ: num(row.machine_energy_j),
          co2eG: num(row.co2e_g),
          powerW: power.attributed ?? { cpu: null, gpu: null, ram: null },
          machinePowerW: power.machine ?? { cpu: null, gpu: null, ram: null },
          intensityGPerKWh: num(row.intensity_g_per_kwh),
          phases: parseJson<string[]>(row.phases_json, []),
        });
      }
    }
    return out;
  }

  /**
   * Device samples of tracker runs after `afterMs`, every n-th so that each run gives about
   * `maxPoints` (or every `step(member)`-th).
   */
  async deviceSamples<M extends Pick<MemberState, "runId" | "lastSeq">>(
    project: string,
    members: readonly M[],
    options: { maxPoints: number; afterMs?: number; step?: (member: M) => number },
  ): Promise<StoredDeviceSample[]> {
    const out: StoredDeviceSample[] = [];
    for (const member of members) {
      const step =
        options.step?.(member) ?? Math.max(1, Math.ceil((member.lastSeq + 1) / options.maxPoints));
      const rows = await this.driver.query(
        `SELECT run_id, device, seq, t_ms, machine_energy_j, attributed_energy_j, power_w
         FROM device_samples WHERE project = $1 AND run_id = $2 AND t_ms > $3 AND (seq % $4 = 0 OR seq = $5)
         ORDER BY seq, device`,
        [project, member.runId, options.afterMs ?? -1, step, member.lastSeq],
      );
      for (const row of rows) {
        out.push({
          runId: String(row.run_id),
          device: String(row.device),
          seq: Number(row.seq),
          tMs: Number(row.t_ms),
          machineEnergyJ: num(row.machine_energy_j),
          attributedEnergyJ: num(row.attributed_energy_j),
          powerW: num(row.power_w),
        });
      }
    }
    return out;
  }

  /**
   * Per tracker run and UTC day (from `sinceMs`), the cumulative energy and CO2e at the
   * day's last sample (cumulative values only grow, so the day's largest is its last).
   */
  async dailyCumulative(
    project: string,
    sinceMs: number,
  ): Promise<{ runId: string; day: string; energyJ: number | null; co2eG: number | null }[]> {
    const rows = await this.driver.query(
      `SELECT run_id, substr(t, 1, 10) AS day, MAX(energy_j) AS energy_j, MAX(co2e_g) AS co2e_g
       FROM run_samples WHERE project = $1 AND t_ms >= $2 GROUP BY run_id, substr(t, 1, 10)
       ORDER BY run_id, day`,
      [project, sinceMs],
    );
    return rows.map((row) => ({
      runId: String(row.run_id),
      day: String(row.day),
      energyJ: num(row.energy_j),
      co2eG: num(row.co2e_g),
    }));
  }

  /** Number of stored device samples of one tracker run (tests and the load bench). */
  async countDeviceSamples(project: string, runId?: string): Promise<number> {
    const rows =
      runId === undefined
        ? await this.driver.query("SELECT COUNT(*) AS n FROM device_samples WHERE project = $1", [
            project,
          ])
        : await this.driver.query(
            "SELECT COUNT(*) AS n FROM device_samples WHERE project = $1 AND run_id = $2",
            [project, runId],
          );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Everything /metrics needs, across projects: every tracker run with its project, and the
   * newest reading of every device. Members seen before `sinceMs` that ended are included
   * too (project counters never go down), but callers bound what they label per run.
   */
  async metricsSnapshot(): Promise<{
    members: (MemberState & { project: string })[];
    devices: (DeviceState & { project: string; jobKey: string; kind: RunKind })[];
  }> {
    const [members, devices] = await Promise.all([
      this.driver.query(`SELECT project, ${MEMBER_COLUMNS} FROM members`),
      this.driver.query(
        `SELECT d.project AS project, m.job_key AS job_key, m.kind AS kind, ${DEVICE_COLUMNS.split(
          ",",
        )
          .map((c) => `d.${c.trim()}`)
          .join(", ")}
         FROM devices d JOIN members m ON m.project = d.project AND m.run_id = d.run_id`,
      ),
    ]);
    return {
      members: members.map((row) => ({ ...memberFromRow(row), project: String(row.project) })),
      devices: devices.map((row) => ({
        ...deviceFromRow(row),
        project: String(row.project),
        jobKey: String(row.job_key),
        kind: row.kind as RunKind,
      })),
    };
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}

async function mergeMetrics(
  tx: SqlExecutor,
  project: string,
  jobKey: string,
  metrics: Record<string, number>,
  nowIso: string,
): Promise<boolean> {
  const rows = await tx.query("SELECT metrics_json FROM jobs WHERE project = $1 AND job_key = $2", [
    project,
    jobKey,
  ]);
  if (rows[0] === undefined) return false;
  const merged = { ...parseJson<Record<string, number>>(rows[0].metrics_json, {}), ...metrics };
  await tx.run(
    "UPDATE jobs SET metrics_json = $3, updated_at = $4 WHERE project = $1 AND job_key = $2",
    [project, jobKey, JSON.stringify(merged), nowIso],
  );
  return true;
}
