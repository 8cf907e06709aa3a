// Load bench of `wattprint serve` on loopback, bounded in time and requests:
//  1. sustained ingestion: concurrent clients post batches of cumulative per-device samples
//     for --seconds; prints device samples/s and request latency (p50, p99, max);
//  2. crash: clients ingest while the server process is killed with SIGKILL; the server is
//     started again on the same database and every acknowledged device sample is looked up.
// Needs a build (npm run build). SQLite by default; PostgreSQL with --db postgres://… or
// WATTPRINT_TEST_POSTGRES_URL (a fresh schema is created and dropped). Usage:
//   node bench/serve-load.js [--db sqlite|postgres] [--seconds 10] [--clients 8]
//                            [--samples-per-batch 50] [--devices 8] [--rate 25000]
// --rate paces the clients to that many device samples per second in all (latency at a
// given load); --rate 0 sends as fast as answers come back (throughput at saturation).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

/* global fetch, AbortSignal */

const { values } = parseArgs({
  options: {
    db: { type: "string", default: "sqlite" },
    seconds: { type: "string", default: "10" },
    clients: { type: "string", default: "8" },
    "samples-per-batch": { type: "string", default: "50" },
    devices: { type: "string", default: "8" },
    "crash-after": { type: "string", default: "2" },
    rate: { type: "string", default: "25000" },
  },
});
const root = resolve(import.meta.dirname, "..");
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const perBatch = Number(values["samples-per-batch"]);
const devicesPerSample = Number(values.devices);
const MAX_REQUESTS = 200_000;

const { openServerStore } = await import("../dist/store/server-store.js");
const { createToken } = await import("../dist/serve/tokens.js");

/** The database: a temp SQLite file, or a fresh schema of the PostgreSQL test database. */
async function database() {
  const pgUrl = /^postgres(ql)?:\/\//.test(values.db)
    ? values.db
    : values.db === "postgres"
      ? process.env.WATTPRINT_TEST_POSTGRES_URL
      : undefined;
  if (values.db === "postgres" && pgUrl === undefined)
    throw new Error("--db postgres needs WATTPRINT_TEST_POSTGRES_URL");
  if (pgUrl === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "wattprint-serve-bench-"));
    return {
      kind: "sqlite",
      db: join(dir, "server.sqlite"),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const pg = (await import("pg")).default;
  const schema = `wp_bench_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client(pgUrl);
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(pgUrl);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    kind: "postgres",
    db: url.toString(),
    drop: async () => {
      const client = new pg.Client(pgUrl);
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** Starts `wattprint serve` from the build in its own process; resolves with its URL. */
function startServer(db, port) {
  const entry = `
    const { serveCli } = await import(${JSON.stringify(join(root, "dist/cli/commands/serve.js"))});
    const io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env, stdinIsTTY: false, stderrIsTTY: false };
    process.exitCode = await serveCli(["--port", ${JSON.stringify(String(port))}, "--rate-limit", "100000", "--max-body", "8388608"], io, { onListening: (url) => process.stdout.write("listening " + url + "\\n") });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", entry], {
    env: { ...process.env, WATTPRINT_DB: db },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 20_000);
    child.stdout.on("data", (chunk) => {
      const match = /listening (\S+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, url: match[1] });
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
}

/** Batch `index` of client `client`: samples with cumulative energy per device. */
function makeBatch(runId, firstSeq, startedMs) {
  const samples = [];
  for (let k = 0; k < perBatch; k += 1) {
    const seq = firstSeq + k;
    const devices = [];
    for (let d = 0; d < devicesPerSample; d += 1) {
      devices.push({
        id: `gpu|nvml:total-energy|GPU ${d}`,
        component: d === 0 ? "cpu" : "gpu",
        method: "counter",
        source: "nvml:total-energy",
        label: `GPU ${d}`,
        machineEnergyJ: 300 * (seq + 1),
        attributedEnergyJ: 250 * (seq + 1),
        powerW: 300,
      });
    }
    samples.push({
      seq,
      t: new Date(startedMs + (seq + 1) * 1000).toISOString(),
      elapsedS: seq + 1,
      energyJ: 250 * devicesPerSample * (seq + 1),
      machineEnergyJ: 300 * devicesPerSample * (seq + 1),
      co2eG: 0.01 * (seq + 1),
      powerW: { cpu: 250, gpu: 250 * (devicesPerSample - 1), ram: null },
      machinePowerW: { cpu: 300, gpu: 300 * (devicesPerSample - 1), ram: null },
      intensityGPerKWh: 56,
      phases: ["train"],
      devices,
    });
  }
  return {
    version: 1,
    run: {
      id: runId,
      kind: "track",
      job: "bench-job",
      expectedNodes: clients,
      host: `bench-node-${runId}`,
      command: ["python", "train.py"],
      startedAt: new Date(startedMs).toISOString(),
      region: "FR",
      zone: "FR",
      pue: 1.1,
      trackerVersion: "bench",
    },
    samples,
    final: null,
    metrics: null,
  };
}

/**
 * Clients post batches until `untilMs` (or the request bound), paced to `ratePerS` device
 * samples per second in all (0: unpaced); returns latencies and acknowledged seqs.
 */
async function load(url, token, untilMs, prefix, ratePerS) {
  const latencies = [];
  const acked = new Map();
  let errors = 0;
  let requests = 0;
  const startedMs = Date.now();
  await Promise.all(
    Array.from({ length: clients }, async (_v, client) => {
      const runId = `${prefix}-${client}`;
      acked.set(runId, []);
      let seq = 0;
      const everyMs = ratePerS > 0 ? (clients * perBatch * devicesPerSample * 1000) / ratePerS : 0;
      let nextAt = performance.now() + (everyMs * client) / clients;
      while (Date.now() < untilMs && requests < MAX_REQUESTS) {
        if (everyMs > 0) {
          const waitMs = nextAt - performance.now();
          if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
          nextAt += everyMs;
        }
        requests += 1;
        const body = JSON.stringify(makeBatch(runId, seq, startedMs));
        const t0 = performance.now();
        try {
          const response = await fetch(`${url}/api/v1/ingest`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          await response.text();
          if (response.ok) {
            latencies.push(performance.now() - t0);
            acked.get(runId).push([seq, seq + perBatch]);
            seq += perBatch;
          } else errors += 1;
        } catch {
          errors += 1;
          if (prefix === "crash") return;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }),
  );
  return { latencies, acked, errors, requests };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const target = await database();
let server;
try {
  const setupStore = await openServerStore(target.db);
  const { token } = await createToken(setupStore, { project: "bench", scope: "ingest" });
  await setupStore.close();
  server = await startServer(target.db, 0);
  const port = Number(new URL(server.url).port);

  // 1. Sustained ingestion.
  const untilMs = Date.now() + seconds * 1000;
  const began = performance.now();
  const rateTarget = Number(values.rate);
  const sustained = await load(server.url, token, untilMs, "load", rateTarget);
  const elapsedS = (performance.now() - began) / 1000;
  const sorted = [...sustained.latencies].sort((a, b) => a - b);
  const deviceSamples = sustained.latencies.length * perBatch * devicesPerSample;
  const rate = deviceSamples / elapsedS;
  console.log(
    `store: ${target.kind}; ${rateTarget > 0 ? `paced to ${rateTarget} device samples/s` : "unpaced"}; ${clients} clients, batches of ${perBatch} samples × ${devicesPerSample} devices (${perBatch * devicesPerSample} device samples per request), ${elapsedS.toFixed(1)} s`,
  );
  console.log(
    `sustained: ${Math.round(rate)} device samples/s (${Math.round(sustained.latencies.length / elapsedS)} requests/s, ${sustained.errors} errors)`,
  );
  console.log(
    `latency ms: p50 ${percentile(sorted, 50).toFixed(1)}, p99 ${percentile(sorted, 99).toFixed(1)}, max ${sorted[sorted.length - 1]?.toFixed(1)}`,
  );
  console.log(
    `targets: ≥ 20000 samples/s ${rate >= 20_000 ? "met" : "NOT met"}; p99 < 100 ms ${percentile(sorted, 99) < 100 ? "met" : "NOT met"}`,
  );

  // 2. kill -9 during ingestion: every acknowledged sample must be stored.
  const crashLoad = load(server.url, token, Date.now() + 30_000, "crash", 0);
  await new Promise((r) => setTimeout(r, Number(values["crash-after"]) * 1000));
  server.child.kill("SIGKILL");
  const crashed = await crashLoad;
  await new Promise((r) =>
    server.child.exitCode !== null || server.child.signalCode !== null
      ? r()
      : server.child.once("exit", r),
  );
  server = await startServer(target.db, port);
  const check = await openServerStore(target.db);
  let ackedSamples = 0;
  let missing = 0;
  for (const [runId, ranges] of crashed.acked) {
    const expected = ranges.reduce((sum, [from, to]) => sum + (to - from), 0) * devicesPerSample;
    ackedSamples += expected;
    const stored = await check.countDeviceSamples("bench", runId);
    if (stored < expected) missing += expected - stored;
  }
  await check.close();
  console.log(
    `crash: SIGKILL after ${values["crash-after"]} s of ingestion; ${ackedSamples} device samples acknowledged, ${missing} missing after restart (${missing === 0 ? "none lost" : "LOST"})`,
  );
  process.exitCode = missing === 0 ? 0 : 1;
} finally {
  server?.child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  await target.drop();
}
