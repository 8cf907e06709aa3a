/**
 * The PostgreSQL driver of the server store, on `pg` (node-postgres) with a connection
 * pool. BIGINT columns come back as numbers (not strings), like SQLite's. Multi-row
 * inserts send one typed array per column (`INSERT … SELECT * FROM unnest(…)`).
 */
import pg from "pg";
import type { InsertSpec, SqlDriver, SqlExecutor, SqlRow } from "./server-sql.js";

/** Connections in the pool; default 10. */
export const DEFAULT_POSTGRES_POOL_SIZE = 10;

const INT8_OID = 20;

const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID && format !== "binary") return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as "text");
  },
};

/** The URL with its password replaced by "***", for messages and logs. */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/** Options of {@link PostgresDriver}. */
export interface PostgresDriverOptions {
  /** Pool size; default {@link DEFAULT_POSTGRES_POOL_SIZE}. */
  poolSize?: number;
  /** Connection timeout, ms; default 5000. */
  connectTimeoutMs?: number;
}

function executorOf(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async query(sql, params = []) {
      const result = await client.query(sql, params as unknown[]);
      return result.rows as SqlRow[];
    },
    async run(sql, params = []) {
      const result = await client.query(sql, params as unknown[]);
      return result.rowCount ?? 0;
    },
    async insertMany(spec: InsertSpec, rows) {
      if (rows.length === 0) return 0;
      // One typed array per column (unnest): a few parameters instead of one per value.
      const columns = spec.columns.map((_c, i) =>
        rows.map((row) => (row[i] === undefined ? null : row[i])),
      );
      const arrays = spec.columns
        .map((_c, i) => `$${i + 1}::${spec.types[i] ?? "text"}[]`)
        .join(", ");
      const sql = `INSERT INTO ${spec.table} (${spec.columns.join(", ")}) SELECT * FROM unnest(${arrays}) ${spec.onConflict ?? ""}`;
      const result = await client.query(sql, columns);
      return result.rowCount ?? 0;
    },
  };
}

/** The PostgreSQL driver: a pool of connections to `url`. */
export class PostgresDriver implements SqlDriver {
  readonly kind = "postgres" as const;
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly executor: SqlExecutor;

  constructor(url: string, options: PostgresDriverOptions = {}) {
    this.description = redactPostgresUrl(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? DEFAULT_POSTGRES_POOL_SIZE,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      types,
    });
    // An idle client that loses its connection must not crash the server; the next query reconnects.
    this.pool.on("error", () => undefined);
    this.executor = executorOf(this.pool);
  }

  query(sql: string, params?: readonly unknown[]): Promise<SqlRow[]> {
    return this.executor.query(sql, params);
  }

  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.executor.run(sql, params);
  }

  insertMany(spec: InsertSpec, rows: readonly (readonly unknown[])[]): Promise<number> {
    return this.transaction((tx) => tx.insertMany(spec, rows));
  }

  async transaction<T>(
    body: (tx: SqlExecutor) => Promise<T>,
    options: { lockKey?: number } = {},
  ): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query("BEGIN");
      if (options.lockKey !== undefined) {
        await client.query("SELECT pg_advisory_xact_lock($1)", [options.lockKey]);
      }
      const result = await body(executorOf(client));
      await client.query("COMMIT");
      return result;
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
