// The REST API end to end over HTTP on 127.0.0.1, on both stores: the same suite runs on
// SQLite and on PostgreSQL (when WATTPRINT_TEST_POSTGRES_URL is set; skipped with the reason
// otherwise). Tokens (missing, wrong, malformed, revoked, cross-project, wrong scope), body
// limits and schema validation, idempotent ingestion, multi-node jobs, rate limits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/serve/tokens.js";
import { startServer } from "../../src/serve/server.js";
import { INGEST_LIMITS } from "../../src/serve/ingest-schema.js";
import { openServerStore } from "../../src/store/server-store.js";
import {
  POSTGRES_SKIP_REASON,
  STORE_KINDS,
  T0,
  batch,
  device,
  request,
  sample,
  sqliteDatabase,
  startTestServer,
  type TestServer,
} from "./helpers.js";

interface RunView {
  key: string;
  status: string;
  energyJ: number | null;
  machineEnergyJ: number | null;
  co2eG: number | null;
  durationS: number;
  startedAt: string;
  endedAt: string | null;
  nodes: { expected: number | null; reporting: number };
  trackers: number;
  metrics: Record<string, number>;
  warnings: string[];
  devices?: {
    host: string;
    device: string;
    machineEnergyJ: number;
    attributedEnergyJ: number;
    reportedBy: number;
  }[];
  energyByComponentJ?: { cpu: number | null; gpu: number | null; ram: number | null };
  byNode?: { host: string; trackers: number; energyJ: number }[];
  phases?: { name: string; energyJ: number }[];
}

for (const kind of STORE_KINDS) {
  describe.skipIf(kind.skip)(
    `REST API on ${kind.name}${kind.skip ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ""}`,
    () => {
      describe("open mode: loopback and no token ever created", () => {
        let t: TestServer;
        beforeAll(async () => {
          t = await startTestServer(await kind.create());
        });
        afterAll(async () => t?.close());

        it("answers health and readiness", async () => {
          expect((await request(`${t.url}/healthz`)).status).toBe(200);
          const ready = await request(`${t.url}/readyz`);
          expect(ready.status).toBe(200);
          expect(ready.body).toMatchObject({ status: "ready", store: kind.name, schemaVersion: 1 });
        });

        it("takes and shows runs without a token, in the default project", async () => {
          expect(await t.server.openMode()).toBe(true);
          const sent = await request(`${t.url}/api/v1/ingest`, {
            method: "POST",
            json: batch("open-run-1", [
              sample(0, T0, [device("cpu|rapl:package-0|package-0", "cpu", 50, 20)]),
            ]),
          });
          expect(sent.status).toBe(200);
          expect(sent.body).toMatchObject({ project: "default", job: "open-run-1" });
          const list = await request(`${t.url}/api/v1/runs`);
          expect((list.body as { runs: RunView[] }).runs.map((r) => r.key)).toEqual(["open-run-1"]);
        });

        it("leaves open mode for good once a token exists, revoked or not", async () => {
          const created = await createToken(t.store, { project: "p", scope: "read" });
          await t.store.revokeToken(created.row.id, new Date().toISOString());
          await new Promise((resolve) => setTimeout(resolve, 2100));
          expect(await t.server.openMode()).toBe(false);
          expect((await request(`${t.url}/api/v1/runs`)).status).toBe(401);
        });
      });

      describe("with tokens", () => {
        let t: TestServer;
        let ingestA: string;
        let readA: string;
        let adminA: string;
        let readB: string;
        let ingestB: string;

        beforeAll(async () => {
          t = await startTestServer(await kind.create(), {
            rateLimit: { ratePerS: 1000, burst: 2000 },
          });
          ingestA = (await createToken(t.store, { project: "alpha", scope: "ingest" })).token;
          readA = (await createToken(t.store, { project: "alpha", scope: "read" })).token;
          adminA = (await createToken(t.store, { project: "alpha", scope: "admin" })).token;
          readB = (await createToken(t.store, { project: "beta", scope: "read" })).token;
          ingestB = (await createToken(t.store, { project: "beta", scope: "ingest" })).token;
        });
        afterAll(async () => t?.close());

        const ingest = (token: string | undefined, body: unknown) =>
          request(`${t.url}/api/v1/ingest`, { method: "POST", token, json: body });

        it("refuses a missing, malformed or wrong token with 401 and a Bearer challenge", async () => {
          const body = batch("r-auth", []);
          const missing = await ingest(undefined, body);
          expect(missing.status).toBe(401);
          expect(missing.headers.get("www-authenticate")).toContain("Bearer");
          expect((await ingest("not-a-token", body)).status).toBe(401);
          // Right shape and a real id, wrong secret.
          const wrongSecret = `${ingestA.slice(0, 17)}${"A".repeat(43)}`;
          expect(wrongSecret).not.toBe(ingestA);
          expect((await ingest(wrongSecret, body)).status).toBe(401);
          const unknownId = `wpt_000000000000_${ingestA.slice(17)}`;
          expect((await ingest(unknownId, body)).status).toBe(401);
          expect((await ingest(ingestA, body)).status).toBe(200);
        });

        it("keeps scopes apart: ingest cannot read, read cannot ingest, admin does both", async () => {
          expect((await request(`${t.url}/api/v1/runs`, { token: ingestA })).status).toBe(403);
          expect((await ingest(readA, batch("r-scope", []))).status).toBe(403);
          expect((await request(`${t.url}/api/v1/runs`, { token: adminA })).status).toBe(200);
          expect((await request(`${t.url}/api/v1/tokens`, { token: readA })).status).toBe(403);
        });

        it("takes the project from the token: another project's runs are invisible", async () => {
          const sent = await ingest(
            ingestA,
            batch("r-alpha-only", [
              sample(0, T0, [device("cpu|rapl:package-0|package-0", "cpu", 10, 5)]),
            ]),
          );
          expect(sent.body).toMatchObject({ project: "alpha" });
          expect(
            (await request(`${t.url}/api/v1/runs/r-alpha-only`, { token: readA })).status,
          ).toBe(200);
          expect(
            (await request(`${t.url}/api/v1/runs/r-alpha-only`, { token: readB })).status,
          ).toBe(404);
          expect(
            (await request(`${t.url}/api/v1/runs/r-alpha-only/timeline`, { token: readB })).status,
          ).toBe(404);
          const listB = await request(`${t.url}/api/v1/runs`, { token: readB });
          expect((listB.body as { runs: RunView[] }).runs.map((r) => r.key)).not.toContain(
            "r-alpha-only",
          );
          // The same run id sent with beta's token is beta's own run, apart from alpha's.
          await ingest(
            ingestB,
            batch("r-alpha-only", [
              sample(0, T0, [device("cpu|rapl:package-0|package-0", "cpu", 999, 999)]),
            ]),
          );
          const alpha = (await request(`${t.url}/api/v1/runs/r-alpha-only`, { token: readA }))
            .body as RunView;
          const beta = (await request(`${t.url}/api/v1/runs/r-alpha-only`, { token: readB }))
            .body as RunView;
          expect(alpha.energyJ).toBeCloseTo(5);
          expect(beta.energyJ).toBeCloseTo(999);
          // A "project" field in the body is an error, not a way to pick the project.
          const withProject = { ...batch("r-x", []), project: "beta" };
          const refused = await ingest(ingestA, withProject);
          expect(refused.status).toBe(400);
          expect((refused.body as { error: { details: string[] } }).error.details).toContain(
            "body.project: is not a known field",
          );
        });

        it("stops accepting a revoked token (revoked through the API)", async () => {
          const created = await request(`${t.url}/api/v1/tokens`, {
            method: "POST",
            token: adminA,
            json: { scope: "ingest", label: "ci" },
          });
          expect(created.status).toBe(201);
          const { token, id, project } = created.body as {
            token: string;
            id: string;
            project: string;
          };
          expect(project).toBe("alpha");
          expect((await ingest(token, batch("r-revoke", []))).status).toBe(200);
          const listed = (await request(`${t.url}/api/v1/tokens`, { token: adminA })).body as {
            tokens: { id: string; label: string }[];
          };
          expect(listed.tokens.find((row) => row.id === id)?.label).toBe("ci");
          expect(JSON.stringify(listed)).not.toContain(token.slice(17));
          expect(
            (await request(`${t.url}/api/v1/tokens/${id}`, { method: "DELETE", token: adminA }))
              .status,
          ).toBe(200);
          expect((await ingest(token, batch("r-revoke", []))).status).toBe(401);
          // Another project's admin cannot revoke alpha's tokens.
          const betaAdmin = (await createToken(t.store, { project: "beta", scope: "admin" })).token;
          const alphaTokenId = readA.slice(4, 16);
          expect(
            (
              await request(`${t.url}/api/v1/tokens/${alphaTokenId}`, {
                method: "DELETE",
                token: betaAdmin,
              })
            ).status,
          ).toBe(404);
          expect((await request(`${t.url}/api/v1/runs`, { token: readA })).status).toBe(200);
        });

        it("refuses bodies that are too large, not JSON, or not the schema, saying why", async () => {
          const huge = "x".repeat(1024 * 1024 + 10);
          const tooLarge = await request(`${t.url}/api/v1/ingest`, {
            method: "POST",
            token: ingestA,
            headers: { "content-type": "application/json" },
            body: huge,
          });
          expect(tooLarge.status).toBe(413);
          const notJson = await request(`${t.url}/api/v1/ingest`, {
            method: "POST",
            token: ingestA,
            headers: { "content-type": "application/json" },
            body: "{ not json",
          });
          expect(notJson.status).toBe(400);
          expect((notJson.body as { error: { code: string } }).error.code).toBe("malformed_json");
          const wrongType = await request(`${t.url}/api/v1/ingest`, {
            method: "POST",
            token: ingestA,
            headers: { "content-type": "text/plain" },
            body: "{}",
          });
          expect(wrongType.status).toBe(415);
          const bad = batch("r-bad", [
            sample(0, T0, [device("cpu|x|y", "cpu", -5, 1)]),
            { ...sample(0, T0, []), t: "yesterday" },
          ]);
          const invalid = await ingest(ingestA, bad);
          expect(invalid.status).toBe(400);
          const details = (invalid.body as { error: { details: string[] } }).error.details;
          expect(details).toContain("samples[0].devices[0].machineEnergyJ: must be at least 0");
          expect(details.some((line) => line.startsWith("samples[1].t:"))).toBe(true);
          expect(details).toContain("samples: seq 0 appears twice");
          const tooMany = batch(
            "r-many",
            Array.from({ length: INGEST_LIMITS.maxSamples + 1 }, (_v, i) => ({
              ...sample(i, T0, []),
              phases: [],
            })),
          );
          const refusedMany = await ingest(ingestA, tooMany);
          expect(refusedMany.status).toBe(400);
          expect((await ingest(ingestA, [1, 2, 3])).status).toBe(400);
          expect((await ingest(ingestA, { ...batch("r-v", []), version: 2 })).status).toBe(400);
          // Nothing of the refused batches was stored.
          expect((await request(`${t.url}/api/v1/runs/r-bad`, { token: readA })).status).toBe(404);
        });

        it("stores a batch sent twice once", async () => {
          const startedMs = T0 + 3_600_000;
          const cpu = (j: number) => device("cpu|rapl:package-0|package-0", "cpu", j, j / 2);
          const samples = [
            sample(0, startedMs, [cpu(100)]),
            sample(1, startedMs, [cpu(250)]),
            sample(2, startedMs, [cpu(400)]),
          ];
          const body = batch("r-twice", samples, { startedAt: new Date(startedMs).toISOString() });
          const first = await ingest(ingestA, body);
          expect(first.body).toMatchObject({
            samples: { written: 3, duplicate: 0 },
            deviceSamples: { written: 3, duplicate: 0 },
          });
          const again = await ingest(ingestA, body);
          expect(again.body).toMatchObject({
            samples: { written: 0, duplicate: 3 },
            deviceSamples: { written: 0, duplicate: 3 },
          });
          // An older batch arriving late changes nothing either.
          await ingest(
            ingestA,
            batch("r-twice", samples.slice(0, 1), { startedAt: new Date(startedMs).toISOString() }),
          );
          const run = (await request(`${t.url}/api/v1/runs/r-twice`, { token: readA }))
            .body as RunView;
          expect(run.energyJ).toBeCloseTo(200);
          expect(run.machineEnergyJ).toBeCloseTo(400);
          expect(await t.store.countDeviceSamples("alpha", "r-twice")).toBe(3);
        });

        it("makes one run of a job on two nodes, counting each device once", async () => {
          const job = "slurm:4242";
          const cpuA = "cpu|rapl:package-0|package-0";
          const gpu0 = "gpu|nvml:total-energy|GPU 0 (NVIDIA H100)";
          const gpu1 = "gpu|nvml:total-energy|GPU 1 (NVIDIA H100)";
          const start = (offsetS: number) =>
            new Date(T0 + 7_200_000 + offsetS * 1000).toISOString();
          // Node A: two ranks read the same CPU package and GPU 1; each tracks its own processes.
          const rank0 = batch(
            "rank0",
            [
              sample(0, T0, [
                device(cpuA, "cpu", 1000, 300),
                device(gpu0, "gpu", 500, 500),
                device(gpu1, "gpu", 650, 600),
              ]),
            ],
            {
              job,
              host: "node-a",
              expectedNodes: 3,
              startedAt: start(0),
              final: {
                status: "completed",
                endedAt: start(100),
                exitCode: 0,
                energyJ: 1400,
                machineEnergyJ: 2150,
                co2eG: 0.04,
                record: null,
              },
            },
          );
          const rank1 = batch(
            "rank1",
            [sample(0, T0, [device(cpuA, "cpu", 1100, 400), device(gpu1, "gpu", 640, 600)])],
            {
              job,
              host: "node-a",
              expectedNodes: 3,
              startedAt: start(5),
              final: {
                status: "completed",
                endedAt: start(110),
                exitCode: 0,
                energyJ: 1000,
                machineEnergyJ: 1740,
                co2eG: 0.03,
                record: null,
              },
            },
          );
          const rank2 = batch("rank2", [sample(0, T0, [device(cpuA, "cpu", 900, 450)])], {
            job,
            host: "node-b",
            expectedNodes: 3,
            startedAt: start(2),
            final: {
              status: "completed",
              endedAt: start(120),
              exitCode: 0,
              energyJ: 450,
              machineEnergyJ: 900,
              co2eG: 0.01,
              record: null,
            },
          });
          for (const b of [rank0, rank1, rank2])
            expect((await ingest(ingestA, b)).status).toBe(200);
          const run = (
            await request(`${t.url}/api/v1/runs/${encodeURIComponent(job)}`, { token: readA })
          ).body as RunView;
          // Machine: node-a CPU max(1000, 1100) + GPU 0 500 + GPU 1 max(650, 640) + node-b CPU 900.
          expect(run.machineEnergyJ).toBeCloseTo(1100 + 500 + 650 + 900);
          // Attributed: CPU a min(1100, 300+400) + GPU 0 500 + GPU 1 min(650, 600+600) + CPU b 450.
          expect(run.energyJ).toBeCloseTo(700 + 500 + 650 + 450);
          expect(run.energyByComponentJ?.gpu).toBeCloseTo(1150);
          expect(run.devices?.find((d) => d.device === gpu1)?.reportedBy).toBe(2);
          // CO2e scaled by job energy / Σ tracker energy.
          expect(run.co2eG).toBeCloseTo((0.04 + 0.03 + 0.01) * (2300 / (1400 + 1000 + 450)));
          expect(run.durationS).toBeCloseTo(120);
          expect(run.startedAt).toBe(start(0));
          expect(run.endedAt).toBe(start(120));
          expect(run.nodes).toEqual({ expected: 3, reporting: 2 });
          expect(run.trackers).toBe(3);
          expect(run.status).toBe("completed");
          expect(run.warnings).toContain("2 of 3 expected nodes report");
          expect(run.byNode?.map((n) => [n.host, n.trackers])).toEqual([
            ["node-a", 2],
            ["node-b", 1],
          ]);
          // A tracker run id finds its job too.
          expect(
            ((await request(`${t.url}/api/v1/runs/rank1`, { token: readA })).body as RunView).key,
          ).toBe(job);
        });

        it("records metrics for the accuracy-versus-energy view, from phases and from the API", async () => {
          const record = {
            id: "r-metrics",
            phases: [
              {
                name: "epoch 1",
                endedAt: "2025-03-01T10:00:10.000Z",
                energyJ: { total: 10 },
                metrics: { val_accuracy: 0.8 },
              },
              {
                name: "epoch 2",
                endedAt: "2025-03-01T10:00:20.000Z",
                energyJ: { total: 12 },
                metrics: { val_accuracy: 0.9, loss: 0.3 },
              },
            ],
          };
          await ingest(
            ingestA,
            batch("r-metrics", [sample(0, T0, [device("cpu|a|b", "cpu", 30, 22)])], {
              final: {
                status: "completed",
                endedAt: "2025-03-01T10:00:30.000Z",
                exitCode: 0,
                energyJ: 22,
                machineEnergyJ: 30,
                co2eG: 0,
                record,
              },
            }),
          );
          let run = (await request(`${t.url}/api/v1/runs/r-metrics`, { token: readA }))
            .body as RunView;
          expect(run.metrics).toEqual({ val_accuracy: 0.9, loss: 0.3 });
          expect(run.phases?.find((p) => p.name === "epoch 2")?.energyJ).toBeCloseTo(12);
          const posted = await request(`${t.url}/api/v1/runs/r-metrics/metrics`, {
            method: "POST",
            token: ingestA,
            json: { metrics: { f1: 0.7 } },
          });
          expect(posted.status).toBe(200);
          run = (await request(`${t.url}/api/v1/runs/r-metrics`, { token: readA })).body as RunView;
          expect(run.metrics).toEqual({ val_accuracy: 0.9, loss: 0.3, f1: 0.7 });
          const badMetric = await request(`${t.url}/api/v1/runs/r-metrics/metrics`, {
            method: "POST",
            token: ingestA,
            json: { metrics: { f1: "high" } },
          });
          expect(badMetric.status).toBe(400);
        });

        it("filters the runs list and serves timelines and daily totals", async () => {
          const startedMs = Date.now() - 60_000;
          const cpu = (j: number) => device("cpu|rapl:package-0|package-0", "cpu", j * 2, j, 5);
          await ingest(
            ingestA,
            batch(
              "r-live",
              [
                sample(0, startedMs, [cpu(10)], { phases: ["train"] }),
                sample(1, startedMs, [cpu(30)], { phases: ["train"] }),
              ],
              {
                host: "gpu-box-7",
                startedAt: new Date(startedMs).toISOString(),
              },
            ),
          );
          const running = (
            await request(`${t.url}/api/v1/runs?status=running&host=gpu-box-7`, { token: readA })
          ).body as { runs: RunView[] };
          expect(running.runs.map((r) => r.key)).toEqual(["r-live"]);
          const byText = (await request(`${t.url}/api/v1/runs?q=GPU-BOX`, { token: readA }))
            .body as { runs: RunView[] };
          expect(byText.runs.map((r) => r.key)).toEqual(["r-live"]);
          expect(
            (await request(`${t.url}/api/v1/runs?status=sleeping`, { token: readA })).status,
          ).toBe(400);
          const timeline = (await request(`${t.url}/api/v1/runs/r-live/timeline`, { token: readA }))
            .body as {
            samples: { seq: number; energyJ: number }[];
            devices: { seq: number; powerW: number }[];
          };
          expect(timeline.samples.map((s) => s.seq)).toEqual([0, 1]);
          expect(timeline.devices.map((d) => d.powerW)).toEqual([5, 5]);
          const after = Date.parse(new Date(startedMs + 1000).toISOString());
          const later = (
            await request(`${t.url}/api/v1/runs/r-live/timeline?after=${after}`, { token: readA })
          ).body as { samples: { seq: number }[] };
          expect(later.samples.map((s) => s.seq)).toEqual([1]);
          const project = (await request(`${t.url}/api/v1/project?days=3`, { token: readA }))
            .body as { days: { day: string; energyJ: number }[] };
          expect(project.days).toHaveLength(3);
          const today = new Date().toISOString().slice(0, 10);
          expect(project.days.find((d) => d.day === today)?.energyJ).toBeGreaterThanOrEqual(
            30 - 1e-9,
          );
          const detail = (await request(`${t.url}/api/v1/runs/r-live`, { token: readA }))
            .body as RunView;
          expect(detail.phases).toEqual([{ name: "train", energyJ: 30 }]);
        });

        it("answers 404 for unknown routes and runs, 405 with Allow for a wrong method", async () => {
          expect((await request(`${t.url}/nowhere`)).status).toBe(404);
          expect((await request(`${t.url}/api/v1/runs/no-such-run`, { token: readA })).status).toBe(
            404,
          );
          const wrong = await request(`${t.url}/api/v1/ingest`, { token: ingestA });
          expect(wrong.status).toBe(405);
          expect(wrong.headers.get("allow")).toBe("POST");
        });
      });

      describe("rate limits", () => {
        let t: TestServer;
        beforeAll(async () => {
          t = await startTestServer(await kind.create(), { rateLimit: { ratePerS: 2, burst: 3 } });
        });
        afterAll(async () => t?.close());

        it("answers 429 with Retry-After once a token's burst is spent, per token", async () => {
          const a = (await createToken(t.store, { project: "p", scope: "read" })).token;
          const b = (await createToken(t.store, { project: "p", scope: "read" })).token;
          const statuses: number[] = [];
          for (let i = 0; i < 5; i += 1)
            statuses.push((await request(`${t.url}/api/v1/runs`, { token: a })).status);
          expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
          expect(statuses.slice(3)).toContain(429);
          const limited = await request(`${t.url}/api/v1/runs`, { token: a });
          expect(limited.status).toBe(429);
          expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
          expect((await request(`${t.url}/api/v1/runs`, { token: b })).status).toBe(200);
        });
      });
    },
  );
}

describe("listening address", () => {
  it("refuses a public bind when no token exists, before listening", async () => {
    const database = sqliteDatabase();
    const store = await openServerStore(database.db);
    try {
      await expect(startServer({ store, host: "0.0.0.0", port: 0 })).rejects.toMatchObject({
        code: "USAGE",
      });
      await expect(startServer({ store, host: "0.0.0.0", port: 0 })).rejects.toThrow(
        /without tokens/,
      );
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
