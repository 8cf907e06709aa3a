import { mkdirSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { WattprintError, describeError, isWattprintError } from "../errors.js";
import type { RunRecord, RunStatus, TimelineSample } from "../record/run-record.js";
import { readProcessStartTicks } from "../track/proc.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS, SCHEMA_VERSION_TABLE_SQL } from "./schema.js";

export { defaultStorePath, resolveWattprintHome } from "./default-path.js";

/** How long a connection waits for another one's write lock before failing, ms. */
export const STORE_BUSY_TIMEOUT_MS = 5000;

/** One line of the run list. */
export interface RunSummary {
  id: string;
  startedAt: string;
  durationS: number;
  /** "interrupted" when the run was left "running" by a tracker that is gone. */
  status: RunStatus;
  command: string[];
  /** Energy attributed to the tracked tree, joules (null: not measured). */
  energyJ: number | null;
  co2eG: number | null;
  /** Host the run was tracked on. */
  host: string;
  /** Why the status was changed on reading (an interrupted run), else null. */
  warning: string | null;
}

/** Options of {@link RunStore.open}; the defaults suit everything but tests. */
export interface RunStoreOptions {
  /**
   * This machine's name, to tell which "running" runs it can judge; default os.hostname().
   * A run tracked on another host is never judged interrupted here.
   */
  hostname?: string;
}

interface RunRow {
  id: string;
  started_at: string;
  duration_s: number;
  status: string;
  command_json: string;
  energy_j: number | null;
  co2e_g: number | null;
  host: string;
  tracker_pid: number | null;
  tracker_start_ticks: number | null;
  last_sample_at: string | null;
  record_json: string;
}

const STORE_HINT =
  "check that the directory is writable and the file is a wattprint run store, or point WATTPRINT_HOME at another directory";

/**
 * The SQLite run store. A run is written incrementally: `beginRun`, then one
 * `saveProgress` per sample (the sample and the updated record in one transaction), then
 * `finishRun`; a crash of the writer keeps everything up to the last saved sample. WAL
 * mode lets any number of readers (the dashboard, `wattprint runs`) read while a tracker
 * writes. One connection per process; better-sqlite3 calls are synchronous.
 */
export class RunStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly hostname: string;
  private readonly statements: ReturnType<typeof prepareStatements>;

  private constructor(path: string, db: Database.Database, hostname: string) {
    this.path = path;
    this.db = db;
    this.hostname = hostname;
    this.statements = prepareStatements(db);
  }

  /**
   * Opens (creating when missing, with its parent directories) the store at `path`, in
   * WAL mode with synchronous=NORMAL and a busy timeout of {@link STORE_BUSY_TIMEOUT_MS},
   * and applies pending migrations. Throws WattprintError("STORE") with a hint when the
   * file cannot be opened, is not a database, or was written by a newer wattprint.
   */
  static open(path: string, options: RunStoreOptions = {}): RunStore {
    let db: Database.Database | undefined;
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      db.pragma(`busy_timeout = ${STORE_BUSY_TIMEOUT_MS}`);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      migrate(db);
      return new RunStore(path, db, options.hostname ?? osHostname());
    } catch (error) {
      db?.close();
      throw new WattprintError(
        "STORE",
        `cannot open run store at ${path}: ${describeError(error)}`,
        {
          hint: isWattprintError(error) && error.hint !== undefined ? error.hint : STORE_HINT,
          cause: error,
        },
      );
    }
  }

  /**
   * Adds a run with status "running". `trackerPid` is the process writing it; readers on
   * the same host judge the run interrupted once that process is gone.
   */
  beginRun(record: RunRecord, trackerPid: number): void {
    const host = record.machine.hostname;
    // The start time tells a live tracker from a new process that reused its pid.
    const startTicks = host === this.hostname ? readProcessStartTicks(trackerPid) : null;
    this.write(`begin run ${record.id}`, () => {
      const existing = this.statements.exists.get(record.id);
      if (existing !== undefined) {
        throw new WattprintError("STORE", `run ${record.id} is already in the store`, {
          hint: "each run needs a new id",
        });
      }
      this.statements.insertRun.run({
        ...runColumns({ ...record, status: "running" }),
        host,
        tracker_pid: trackerPid,
        tracker_start_ticks: startTicks,
      });
    });
  }

  /**
   * Appends `sample` to the run's timeline and replaces the run's record, in ONE
   * transaction: a reader or a crash sees both or neither.
   */
  saveProgress(record: RunRecord, sample: TimelineSample): void {
    this.write(`save sample ${sample.seq} of run ${record.id}`, () => {
      this.db.transaction(() => {
        const updated = this.statements.updateRun.run({
          ...runColumns(record),
          last_sample_at: sample.t,
        });
        if (updated.changes === 0) throw notBegun(record.id);
        this.statements.insertSample.run({
          run_id: record.id,
          seq: sample.seq,
          t: sample.t,
          elapsed_s: sample.elapsedS,
          sample_json: JSON.stringify(sample),
        });
      })();
    });
  }

  /** Stores the final record; its status must not be "running". */
  finishRun(record: RunRecord): void {
    if (record.status === "running") {
      throw new WattprintError(
        "BAD_INPUT",
        `run ${record.id} cannot finish with status "running"`,
        {
          hint: "set the record's status to completed, failed or interrupted",
        },
      );
    }
    this.write(`finish run ${record.id}`, () => {
      const updated = this.statements.finishRun.run(runColumns(record));
      if (updated.changes === 0) throw notBegun(record.id);
    });
  }

  /** Runs, newest first (by start time), at most `limit` of them (default: all). */
  listRuns(options: { limit?: number } = {}): RunSummary[] {
    const limit = options.limit ?? -1;
    if (options.limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new WattprintError("BAD_INPUT", `limit must be a positive integer, not ${limit}`);
    }
    const rows = this.read("list runs", () => this.statements.list.all(limit) as RunRow[]);
    return rows.map((row) => {
      const warning = this.interruptedWarning(row);
      return {
        id: row.id,
        startedAt: row.started_at,
        durationS: row.duration_s,
        status: warning === null ? (row.status as RunStatus) : "interrupted",
        command: parseJson<string[]>(row.command_json, `command of run ${row.id}`),
        energyJ: row.energy_j,
        co2eG: row.co2e_g,
        host: row.host,
        warning,
      };
    });
  }

  /**
   * The record of the run whose id is `idOrPrefix` or starts with it. Throws
   * WattprintError("NOT_FOUND") when none matches and ("BAD_INPUT") listing the
   * candidates when a prefix matches several. A run left "running" by a tracker that is
   * gone comes back "interrupted" with a warning.
   */
  getRun(idOrPrefix: string): RunRecord {
    const id = this.resolveId(idOrPrefix);
    const row = this.read(`read run ${id}`, () => this.statements.getRow.get(id) as RunRow);
    const record = parseJson<RunRecord>(row.record_json, `record of run ${id}`);
    const warning = this.interruptedWarning(row);
    if (warning !== null) {
      record.status = "interrupted";
      record.warnings = [...record.warnings, warning];
    }
    return record;
  }

  /** The run's timeline samples in order (id or unique prefix, as for {@link getRun}). */
  getSamples(id: string): TimelineSample[] {
    const runId = this.resolveId(id);
    const rows = this.read(
      `read samples of run ${runId}`,
      () => this.statements.samples.all(runId) as { sample_json: string }[],
    );
    return rows.map((row) => parseJson<TimelineSample>(row.sample_json, `sample of run ${runId}`));
  }

  /** Closes the connection; later calls fail with WattprintError("STORE"). */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private resolveId(idOrPrefix: string): string {
    if (idOrPrefix.length === 0) {
      throw new WattprintError("BAD_INPUT", "a run id or prefix cannot be empty", {
        hint: "list the stored runs to see their ids",
      });
    }
    return this.read(`look up run ${idOrPrefix}`, () => {
      if (this.statements.exists.get(idOrPrefix) !== undefined) return idOrPrefix;
      const candidates = (
        this.statements.byPrefix.all(idOrPrefix.length, idOrPrefix) as { id: string }[]
      ).map((row) => row.id);
      if (candidates.length === 1) return candidates[0] as string;
      if (candidates.length === 0) {
        throw new WattprintError("NOT_FOUND", `no run with id or prefix "${idOrPrefix}"`, {
          hint: "list the stored runs to see their ids",
        });
      }
      const shown = candidates.slice(0, 10).join(", ");
      const more = candidates.length > 10 ? ", …" : "";
      throw new WattprintError(
        "BAD_INPUT",
        `run id prefix "${idOrPrefix}" matches several runs: ${shown}${more}`,
        { hint: "give more characters of the id" },
      );
    });
  }

  private interruptedWarning(row: RunRow): string | null {
    if (row.status !== "running" || row.host !== this.hostname) return null;
    if (isTrackerAlive(row.tracker_pid, row.tracker_start_ticks)) return null;
    const coveredUpTo = row.last_sample_at ?? `${row.started_at} (no sample was saved)`;
    return `the tracker stopped before the run ended (killed or crashed); figures cover up to ${coveredUpTo}`;
  }

  private write(action: string, body: () => void): void {
    try {
      body();
    } catch (error) {
      throw storeError(this.path, action, error);
    }
  }

  private read<T>(action: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      throw storeError(this.path, action, error);
    }
  }
}

function prepareStatements(db: Database.Database) {
  const runValues = `started_at = @started_at, ended_at = @ended_at, status = @status,
    command_json = @command_json, duration_s = @duration_s, energy_j = @energy_j,
    co2e_g = @co2e_g, record_json = @record_json, updated_at = @updated_at`;
  return {
    exists: db.prepare("SELECT 1 FROM runs WHERE id = ?"),
    insertRun: db.prepare(`INSERT INTO runs (id, started_at, ended_at, status, command_json,
      duration_s, energy_j, co2e_g, host, tracker_pid, tracker_start_ticks, record_json,
      updated_at) VALUES (@id, @started_at, @ended_at, @status, @command_json, @duration_s,
      @energy_j, @co2e_g, @host, @tracker_pid, @tracker_start_ticks, @record_json, @updated_at)`),
    updateRun: db.prepare(`UPDATE runs SET ${runValues}, last_sample_at = @last_sample_at,
      sample_count = sample_count + 1 WHERE id = @id`),
    finishRun: db.prepare(`UPDATE runs SET ${runValues} WHERE id = @id`),
    insertSample: db.prepare(`INSERT INTO samples (run_id, seq, t, elapsed_s, sample_json)
      VALUES (@run_id, @seq, @t, @elapsed_s, @sample_json)`),
    list: db.prepare(`SELECT id, started_at, duration_s, status, command_json, energy_j, co2e_g,
      host, tracker_pid, tracker_start_ticks, last_sample_at, '' AS record_json
      FROM runs ORDER BY started_at DESC, id DESC LIMIT ?`),
    getRow: db.prepare(`SELECT id, started_at, duration_s, status, command_json, energy_j,
      co2e_g, host, tracker_pid, tracker_start_ticks, last_sample_at, record_json
      FROM runs WHERE id = ?`),
    byPrefix: db.prepare(
      "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY started_at DESC, id DESC LIMIT 11",
    ),
    samples: db.prepare("SELECT sample_json FROM samples WHERE run_id = ? ORDER BY seq"),
  };
}

/** The indexed columns copied from a record. */
function runColumns(record: RunRecord) {
  return {
    id: record.id,
    started_at: record.startedAt,
    ended_at: record.endedAt,
    status: record.status,
    command_json: JSON.stringify(record.command),
    duration_s: record.durationS,
    energy_j: record.energyJ.total,
    co2e_g: record.co2eG,
    record_json: JSON.stringify(record),
    updated_at: new Date().toISOString(),
  };
}

function migrate(db: Database.Database): void {
  db.exec(SCHEMA_VERSION_TABLE_SQL);
  // IMMEDIATE takes the write lock first, so two processes opening a new store at once
  // do not both apply the same migration.
  db.transaction(() => {
    const row = db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as {
      version: number | null;
    };
    const current = row.version ?? 0;
    if (current > LATEST_SCHEMA_VERSION) {
      throw new WattprintError(
        "STORE",
        `the run store was written by a newer wattprint (schema ${current}; this version knows up to ${LATEST_SCHEMA_VERSION})`,
        { hint: "upgrade wattprint, or point WATTPRINT_HOME at another directory" },
      );
    }
    const record = db.prepare(
      "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
    );
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      for (const statement of migration.statements) db.exec(statement);
      record.run(migration.version, migration.description, new Date().toISOString());
    }
  }).immediate();
}

/**
 * Whether the tracker that began a run still runs: the pid exists (EPERM means it does,
 * under another user) and, when its start time was stored, it is the same process.
 * Without a pid there is nothing to judge, so the tracker is taken to be alive.
 */
function isTrackerAlive(pid: number | null, startTicks: number | null): boolean {
  if (pid === null) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (startTicks === null) return true;
  const current = readProcessStartTicks(pid);
  return current === null || current === startTicks;
}

function notBegun(id: string): WattprintError {
  return new WattprintError("STORE", `run ${id} is not in the store`, {
    hint: "call beginRun before saving progress",
  });
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new WattprintError("STORE", `the stored ${what} is not valid JSON`, {
      hint: STORE_HINT,
      cause: error,
    });
  }
}

function storeError(path: string, action: string, error: unknown): WattprintError {
  if (isWattprintError(error)) return error;
  const busy = (error as { code?: string }).code === "SQLITE_BUSY";
  return new WattprintError(
    "STORE",
    `run store ${path}: cannot ${action}: ${describeError(error)}`,
    {
      hint: busy ? "another process holds the store's write lock; try again" : STORE_HINT,
      cause: error,
    },
  );
}
