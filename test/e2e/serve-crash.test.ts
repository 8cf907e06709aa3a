// kill -9 of `wattprint serve` (its own process) during ingestion loses no acknowledged
// sample: clients post batches until the server dies; a new server process on the same
// database must hold every device sample it acknowledged. On SQLite and on PostgreSQL
// (when WATTPRINT_TEST_POSTGRES_URL is set).
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openServerStore } from "../../src/store/server-store.js";
import { createToken } from "../../src/serve/tokens.js";
import { REPO_ROOT } from "../helpers/cli.js";
import { POSTGRES_SKIP_REASON, STORE_KINDS, T0, batch, device, sample } from "../serve/helpers.js";

const ENTRY = join(REPO_ROOT, "test/serve/fixtures/serve-main.ts");

function startServerProcess(
  db: string,
  port: number,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", ENTRY, "--port", String(port), "--rate-limit", "100000"],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, WATTPRINT_DB: db },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      const match = /listening (\S+)/.exec(chunk.toString());
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${stderr}`));
    });
  });
}

for (const kind of STORE_KINDS) {
  describe.skipIf(kind.skip)(
    `kill -9 of the server on ${kind.name}${kind.skip ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ""}`,
    () => {
      it("keeps every acknowledged sample", async () => {
        const database = await kind.create();
        const setup = await openServerStore(database.db);
        const { token } = await createToken(setup, { project: "crash", scope: "ingest" });
        await setup.close();
        let server = await startServerProcess(database.db, 0);
        const port = Number(new URL(server.url).port);
        const acknowledged = new Map<string, number>();
        const devices = (seq: number) =>
          [0, 1, 2, 3].map((d) =>
            device(`gpu|nvml|GPU ${d}`, "gpu", 100 * (seq + 1), 90 * (seq + 1)),
          );
        const client = async (runId: string) => {
          let seq = 0;
          const deadline = Date.now() + 20_000;
          while (Date.now() < deadline) {
            const samples = Array.from({ length: 20 }, (_v, k) =>
              sample(seq + k, T0, devices(seq + k)),
            );
            try {
              const response = await fetch(`${server.url}/api/v1/ingest`, {
                method: "POST",
                headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
                body: JSON.stringify(batch(runId, samples, { job: "crash-job" })),
                signal: AbortSignal.timeout(5000),
              });
              await response.text();
              if (!response.ok) return;
              seq += 20;
              acknowledged.set(runId, seq * 4);
            } catch {
              return;
            }
          }
        };
        const clients = Promise.all(["c0", "c1", "c2", "c3"].map(client));
        await new Promise((resolve) => setTimeout(resolve, 1500));
        server.child.kill("SIGKILL");
        await clients;
        const total = [...acknowledged.values()].reduce((a, b) => a + b, 0);
        expect(total).toBeGreaterThan(0);
        server = await startServerProcess(database.db, port);
        const check = await openServerStore(database.db);
        try {
          for (const [runId, count] of acknowledged) {
            expect(await check.countDeviceSamples("crash", runId), runId).toBeGreaterThanOrEqual(
              count,
            );
          }
          const health = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(5000) });
          expect(health.status).toBe(200);
        } finally {
          server.child.kill("SIGTERM");
          await new Promise((resolve) => server.child.once("exit", resolve));
          await check.close();
          await database.drop();
        }
      }, 60_000);
    },
  );
}
