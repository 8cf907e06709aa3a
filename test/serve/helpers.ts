// Shared by the serve tests: the stores to run the same suite on (SQLite always, PostgreSQL
// when WATTPRINT_TEST_POSTGRES_URL is set, each test store in a schema of its own), a
// server on 127.0.0.1 with a free port, HTTP helpers, and builders of wire batches.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openServerStore, type ServerStore } from "../../src/store/server-store.js";
import { startServer, type RunningServer, type ServeOptions } from "../../src/serve/server.js";
import type { IngestBatch, WireDevice, WireSample } from "../../src/serve/ingest-schema.js";

/** The PostgreSQL URL of the test server, or undefined (PostgreSQL tests then skip). */
export const POSTGRES_URL = process.env.WATTPRINT_TEST_POSTGRES_URL;
export const POSTGRES_SKIP_REASON =
  "WATTPRINT_TEST_POSTGRES_URL is not set (see docs/serve.md: start PostgreSQL and export it to run these tests)";

/** A database for one test: its --db text and how to drop it. */
export interface TestDatabase {
  db: string;
  drop: () => Promise<void>;
}

/** A new SQLite file in a temp dir. */
export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-serve-"));
  return {
    db: join(dir, "server.sqlite"),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A new schema in the test PostgreSQL database, reached through the URL's search_path. */
export async function postgresDatabase(): Promise<TestDatabase> {
  if (POSTGRES_URL === undefined) throw new Error(POSTGRES_SKIP_REASON);
  const schema = `wp_test_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  const url = new URL(POSTGRES_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    db: url.toString(),
    drop: async () => {
      const admin = new pg.Client(POSTGRES_URL);
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** The store kinds every API test runs on, for describe.each. */
export const STORE_KINDS: {
  name: "sqlite" | "postgres";
  skip: boolean;
  create: () => Promise<TestDatabase>;
}[] = [
  { name: "sqlite", skip: false, create: async () => sqliteDatabase() },
  { name: "postgres", skip: POSTGRES_URL === undefined, create: postgresDatabase },
];

/** A store and a server on 127.0.0.1 with a free port; `close` stops both and drops the database. */
export interface TestServer {
  store: ServerStore;
  server: RunningServer;
  url: string;
  database: TestDatabase;
  close: () => Promise<void>;
}

export async function startTestServer(
  database: TestDatabase,
  options: Partial<Omit<ServeOptions, "store">> = {},
): Promise<TestServer> {
  const store = await openServerStore(database.db);
  const server = await startServer({
    store,
    host: "127.0.0.1",
    port: 0,
    tokenCacheMs: 0,
    ...options,
  });
  return {
    store,
    server,
    url: server.url,
    database,
    close: async () => {
      await server.close(1000);
      await store.close();
      await database.drop();
    },
  };
}

/** A fetch with a timeout (every request of the tests is bounded). */
export async function request(
  url: string,
  init: RequestInit & { token?: string; json?: unknown } = {},
): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set("authorization", `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, {
    ...init,
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** A device reading for a wire sample. */
export function device(
  id: string,
  component: "cpu" | "gpu" | "ram",
  machineEnergyJ: number | null,
  attributedEnergyJ: number | null,
  powerW: number | null = null,
): WireDevice {
  return {
    id,
    component,
    method: "counter",
    source: id.split("|")[1] ?? id,
    label: id.split("|")[2] ?? id,
    machineEnergyJ,
    attributedEnergyJ,
    powerW,
  };
}

/** A sample `seq` of a run that started at `startedMs`, one per second. */
export function sample(
  seq: number,
  startedMs: number,
  devices: WireDevice[],
  extra: Partial<WireSample> = {},
): WireSample {
  const attributed = devices.reduce((sum, d) => sum + (d.attributedEnergyJ ?? 0), 0);
  const machine = devices.reduce((sum, d) => sum + (d.machineEnergyJ ?? 0), 0);
  return {
    seq,
    t: new Date(startedMs + (seq + 1) * 1000).toISOString(),
    elapsedS: seq + 1,
    energyJ: attributed,
    machineEnergyJ: machine,
    co2eG: (attributed / 3.6e6) * 100,
    powerW: { cpu: 10, gpu: null, ram: 1 },
    machinePowerW: { cpu: 20, gpu: null, ram: 2 },
    intensityGPerKWh: 100,
    phases: [],
    devices,
    ...extra,
  };
}

/** A batch of a tracker run. */
export function batch(
  runId: string,
  samples: WireSample[],
  options: Partial<IngestBatch["run"]> & {
    final?: IngestBatch["final"];
    metrics?: Record<string, number>;
  } = {},
): IngestBatch {
  const { final, metrics, ...run } = options;
  return {
    version: 1,
    run: {
      id: runId,
      kind: "track",
      job: null,
      expectedNodes: null,
      host: "node-a",
      command: ["python", "train.py"],
      startedAt: "2025-03-01T10:00:00.000Z",
      region: "FR",
      zone: "FR",
      pue: 1.2,
      trackerVersion: "0.1.0",
      ...run,
    },
    samples,
    final: final ?? null,
    metrics: metrics ?? null,
  };
}

export const T0 = Date.parse("2025-03-01T10:00:00.000Z");
