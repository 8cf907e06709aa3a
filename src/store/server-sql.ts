/**
 * The small SQL layer under the server store: one interface, two drivers (SQLite here,
 * PostgreSQL in server-postgres.ts). Statements are written once with PostgreSQL's `$1`
 * placeholders; the SQLite driver rewrites them to `?` in order of appearance.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { STORE_BUSY_TIMEOUT_MS } from "./run-store.js";

/** A row as a driver returns it: column name → value (numbers for BIGINT on both drivers). */
export type SqlRow = Record<string, unknown>;

/** A multi-row INSERT: `rows` of values in `columns` order, with an optional conflict clause. */
export interface InsertSpec {
  table: string;
  columns: readonly string[];
  /** SQL type of each column ("text", "bigint", "double precision"): PostgreSQL sends each column as one typed array. */
  types: readonly string[];
  /** Appended after VALUES: "ON CONFLICT (a, b) DO NOTHING" or "... DO UPDATE SET ...". */
  onConflict?: string;
}

/** What both drivers run, inside or outside a transaction. */
export interface SqlExecutor {
  /** Rows of a SELECT. */
  query(sql: string, params?: readonly unknown[]): Promise<SqlRow[]>;
  /** Runs a statement; returns the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Inserts many rows; returns how many were written (rows skipped by DO NOTHING are not). */
  insertMany(spec: InsertSpec, rows: readonly (readonly unknown[])[]): Promise<number>;
}

/** A connection (SQLite) or a pool (PostgreSQL). */
export interface SqlDriver extends SqlExecutor {
  readonly kind: "sqlite" | "postgres";
  /** Path of the SQLite file, or the PostgreSQL URL without its password. */
  readonly description: string;
  /**
   * Runs `body` in one transaction, committed when it resolves and rolled back when it
   * throws. `exclusive` takes the write lock first (SQLite BEGIN IMMEDIATE; PostgreSQL
   * takes `lockKey` as a transaction-level advisory lock).
   */
  transaction<T>(body: (tx: SqlExecutor) => Promise<T>, options?: { lockKey?: number }): Promise<T>;
  close(): Promise<void>;
}

/** Rewrites `$1 … $n` placeholders to `?`, and says which parameter each `?` takes. */
export function toPositional(sql: string): { sql: string; order: number[] } {
  const order: number[] = [];
  const rewritten = sql.replace(/\$(\d+)/g, (_match, index: string) => {
    order.push(Number(index) - 1);
    return "?";
  });
  return { sql: rewritten, order };
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null; booleans become 0/1. */
function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

/**
 * The SQLite driver: one better-sqlite3 connection in WAL mode (synchronous=NORMAL: a
 * committed transaction survives a crash of the process), statements prepared once and
 * cached. Transactions run one at a time (queued), so an `await` inside one never lets
 * another request's statements into it.
 */
export class SqliteDriver implements SqlDriver {
  readonly kind = "sqlite" as const;
  readonly description: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<
    string,
    { statement: Database.Statement; order: number[] }
  >();
  private queue: Promise<unknown> = Promise.resolve();
  private inTransaction = false;

  constructor(path: string) {
    this.description = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    try {
      this.db.pragma(`busy_timeout = ${STORE_BUSY_TIMEOUT_MS}`);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  private prepared(sql: string): { statement: Database.Statement; order: number[] } {
    let entry = this.statements.get(sql);
    if (entry === undefined) {
      const positional = toPositional(sql);
      entry = { statement: this.db.prepare(positional.sql), order: positional.order };
      this.statements.set(sql, entry);
    }
    return entry;
  }

  private bind(order: number[], params: readonly unknown[]): unknown[] {
    return order.map((index) => bindable(params[index]));
  }

  private querySync(sql: string, params: readonly unknown[]): SqlRow[] {
    const { statement, order } = this.prepared(sql);
    return statement.all(...this.bind(order, params)) as SqlRow[];
  }

  private runSync(sql: string, params: readonly unknown[]): number {
    const { statement, order } = this.prepared(sql);
    return statement.run(...this.bind(order, params)).changes;
  }

  private insertManySync(spec: InsertSpec, rows: readonly (readonly unknown[])[]): number {
    if (rows.length === 0) return 0;
    const placeholders = spec.columns.map((_c, i) => `$${i + 1}`).join(", ");
    const sql = `INSERT INTO ${spec.table} (${spec.columns.join(", ")}) VALUES (${placeholders}) ${spec.onConflict ?? ""}`;
    const { statement } = this.prepared(sql);
    let changes = 0;
    for (const row of rows) changes += statement.run(...row.map(bindable)).changes;
    return changes;
  }

  private readonly executor: SqlExecutor = {
    query: async (sql, params = []) => this.querySync(sql, params),
    run: async (sql, params = []) => this.runSync(sql, params),
    insertMany: async (spec, rows) => this.insertManySync(spec, rows),
  };

  async query(sql: string, params: readonly unknown[] = []): Promise<SqlRow[]> {
    await this.idle();
    return this.querySync(sql, params);
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    await this.idle();
    return this.runSync(sql, params);
  }

  async insertMany(spec: InsertSpec, rows: readonly (readonly unknown[])[]): Promise<number> {
    return this.transaction((tx) => tx.insertMany(spec, rows));
  }

  /** Waits for the transaction in progress, if any (statements outside one must not join it). */
  private async idle(): Promise<void> {
    while (this.inTransaction) await this.queue.catch(() => undefined);
  }

  transaction<T>(body: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const next = this.queue
      .catch(() => undefined)
      .then(async () => {
        this.inTransaction = true;
        this.db.exec("BEGIN IMMEDIATE");
        try {
          const result = await body(this.executor);
          this.db.exec("COMMIT");
          return result;
        } catch (error) {
          if (this.db.inTransaction) this.db.exec("ROLLBACK");
          throw error;
        } finally {
          this.inTransaction = false;
        }
      });
    this.queue = next;
    return next;
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    if (this.db.open) this.db.close();
  }
}
