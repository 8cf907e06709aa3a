// A real Prometheus (Debian's /usr/bin/prometheus) scrapes `wattprint serve`'s /metrics on
// 127.0.0.1 every second; its query API must then return the project and host counters the
// server was fed. Skips, saying why, when Prometheus is not installed.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  batch,
  device,
  request,
  sample,
  sqliteDatabase,
  startTestServer,
  type TestServer,
} from "../serve/helpers.js";

const PROMETHEUS = "/usr/bin/prometheus";
const hasPrometheus = existsSync(PROMETHEUS);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface QueryAnswer {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe.skipIf(!hasPrometheus)(
  `Prometheus scraping /metrics${hasPrometheus ? "" : ` (skipped: ${PROMETHEUS} is not installed; apt-get install prometheus)`}`,
  () => {
    let t: TestServer;
    let prometheus: ChildProcess;
    let promUrl: string;
    let dir: string;
    let promLog = "";

    beforeAll(async () => {
      t = await startTestServer(sqliteDatabase());
      const nowMs = Date.now();
      const started = new Date(nowMs - 30_000).toISOString();
      // A tracked run of project "default" (open mode) and an agent measuring host "rack-1".
      await request(`${t.url}/api/v1/ingest`, {
        method: "POST",
        json: batch(
          "prom-run",
          [
            sample(0, nowMs - 30_000, [
              device("cpu|rapl:package-0|package-0", "cpu", 3000, 1234.5),
            ]),
          ],
          {
            startedAt: started,
            zone: "FR",
          },
        ),
      });
      await request(`${t.url}/api/v1/ingest`, {
        method: "POST",
        json: batch(
          "agent-1",
          [
            sample(0, nowMs - 30_000, [
              device("gpu|nvml:total-energy|GPU 0 (L4)", "gpu", 7200, 7200, 72),
            ]),
          ],
          {
            kind: "agent",
            host: "rack-1",
            startedAt: started,
          },
        ),
      });
      dir = mkdtempSync(join(tmpdir(), "wattprint-prom-"));
      const target = new URL(t.url).host;
      writeFileSync(
        join(dir, "prometheus.yml"),
        `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: wattprint\n    static_configs:\n      - targets: ["${target}"]\n`,
      );
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      prometheus.stderr?.on("data", (chunk: Buffer) => (promLog += chunk.toString()));
    }, 30_000);

    afterAll(async () => {
      prometheus?.kill("SIGTERM");
      if (prometheus?.exitCode === null)
        await new Promise((resolve) => prometheus.once("exit", resolve));
      await t?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function query(expr: string): Promise<QueryAnswer["data"]["result"]> {
      const deadline = Date.now() + 25_000;
      while (Date.now() < deadline && prometheus.exitCode === null) {
        try {
          const answer = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, {
            signal: AbortSignal.timeout(2000),
          });
          if (answer.ok) {
            const body = (await answer.json()) as QueryAnswer;
            if (body.data.result.length > 0) return body.data.result;
          }
        } catch {
          // Prometheus still starting
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      throw new Error(`Prometheus returned nothing for ${expr}; its log:\n${promLog.slice(-2000)}`);
    }

    it("scrapes the server and stores the project and host counters", async () => {
      const up = await query('up{job="wattprint"} == 1');
      expect(up).toHaveLength(1);
      const project = await query('wattprint_project_energy_joules_total{project="default"}');
      expect(Number(project[0]?.value[1])).toBeCloseTo(1234.5, 6);
      const host = await query('wattprint_host_energy_joules_total{host="rack-1"}');
      expect(host[0]?.metric).toMatchObject({ component: "gpu", device: "GPU 0 (L4)" });
      expect(Number(host[0]?.value[1])).toBeCloseTo(7200, 6);
      const seen = await query(
        'wattprint_tracker_last_seen_timestamp_seconds{host="rack-1",kind="agent"}',
      );
      expect(Number(seen[0]?.value[1])).toBeGreaterThan(Date.now() / 1000 - 600);
    }, 40_000);
  },
);
