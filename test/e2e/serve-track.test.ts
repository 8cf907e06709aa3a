// `wattprint track --server` (the built CLI) streaming real RAPL-fixture counters to a
// server on 127.0.0.1: two trackers of one job on one host count each device once; a
// tracker whose server is down finishes, says so, and `wattprint push` sends the run later
// (twice: stored once).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/record/run-record.js";
import { pushCli } from "../../src/cli/commands/push.js";
import type { CliIo } from "../../src/cli/io.js";
import { createToken } from "../../src/serve/tokens.js";
import { startServer } from "../../src/serve/server.js";
import { SERVER_POWERCAP, createPowercapFixture } from "../fixtures/powercap-fixture.js";
import { FIXTURE_BIN, busyScript, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";
import { request, sqliteDatabase, startTestServer, type TestServer } from "../serve/helpers.js";

interface JobView {
  key: string;
  trackers: number;
  energyJ: number;
  machineEnergyJ: number;
  nodes: { reporting: number };
  status: string;
  devices: { device: string; machineEnergyJ: number; reportedBy: number }[];
}

describe("wattprint track --server", () => {
  const dir = tempDir();
  const fixture = createPowercapFixture(SERVER_POWERCAP);
  let hardware: ChildProcess;
  let t: TestServer;
  let ingest: string;
  let read: string;

  beforeAll(async () => {
    hardware = spawn(
      process.execPath,
      [
        join(FIXTURE_BIN, "advance-counters.js"),
        ...["intel-rapl:0", "intel-rapl:1", "intel-rapl:0:0"].flatMap((zone, i) => [
          "--file",
          fixture.energyPath(zone),
          "--watts",
          String([40, 20, 6][i]),
        ]),
        "--interval-ms",
        "20",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await once(hardware.stdout!, "data");
    t = await startTestServer(sqliteDatabase());
    ingest = (await createToken(t.store, { project: "vision", scope: "ingest" })).token;
    read = (await createToken(t.store, { project: "vision", scope: "read" })).token;
  });
  afterAll(async () => {
    hardware?.kill("SIGTERM");
    await t?.close();
    fixture.cleanup();
    dir.cleanup();
  });

  const env = (home: string, extra: Record<string, string> = {}) =>
    isolatedEnv(join(dir.path, home), {
      WATTPRINT_POWERCAP_ROOT: fixture.root,
      WATTPRINT_TOKEN: ingest,
      ...extra,
    });

  it("joins two trackers of one job on one host and counts each device once", async () => {
    const track = (name: string) =>
      runCli(
        [
          "track",
          "--server",
          t.url,
          "--job",
          "exp-7",
          "--interval",
          "200ms",
          "--upload-interval",
          "400ms",
          "--region",
          "FR",
          "--out",
          join(dir.path, `${name}.json`),
          "--quiet",
          "--",
          process.execPath,
          "-e",
          busyScript(1200),
        ],
        { env: env("both") },
      );
    const [a, b] = await Promise.all([track("a"), track("b")]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stderr).not.toContain("did not fully reach");
    const records = ["a", "b"].map(
      (n) => JSON.parse(readFileSync(join(dir.path, `${n}.json`), "utf8")) as RunRecord,
    );
    const job = (await request(`${t.url}/api/v1/runs/exp-7`, { token: read })).body as JobView;
    expect(job.status).toBe("completed");
    expect(job.trackers).toBe(2);
    expect(job.nodes.reporting).toBe(1);
    // Each device: the larger of the two trackers' readings, never their sum.
    const perDevice = new Map<string, number>();
    for (const record of records) {
      for (const source of record.sources) {
        const id = `${source.component}|${source.source}|${source.label}`;
        perDevice.set(id, Math.max(perDevice.get(id) ?? 0, source.machineEnergyJ ?? 0));
      }
    }
    expect(perDevice.size).toBeGreaterThanOrEqual(2);
    expect(job.devices).toHaveLength(perDevice.size);
    for (const row of job.devices) {
      expect(row.reportedBy).toBe(2);
      expect(row.machineEnergyJ).toBeCloseTo(perDevice.get(row.device) ?? -1, 3);
    }
    const expectedMachineJ = [...perDevice.values()].reduce((sum, v) => sum + v, 0);
    const summedJ = records.reduce((sum, r) => sum + (r.machineEnergyJ.total ?? 0), 0);
    expect(job.machineEnergyJ).toBeCloseTo(expectedMachineJ, 3);
    expect(job.machineEnergyJ).toBeLessThan(summedJ * 0.75);
    expect(job.energyJ).toBeLessThanOrEqual(job.machineEnergyJ + 1e-6);
  });

  it("finishes when the server is down, and push sends the run later, once", async () => {
    const down = await startServer({ store: t.store, host: "127.0.0.1", port: 0 });
    const downUrl = down.url;
    await down.close(100);
    const result = await runCli(
      [
        "track",
        "--server",
        downUrl,
        "--interval",
        "200ms",
        "--upload-interval",
        "300ms",
        "--upload-timeout",
        "1s",
        "--region",
        "FR",
        "--out",
        join(dir.path, "offline.json"),
        "--",
        process.execPath,
        "-e",
        busyScript(600),
      ],
      { env: env("offline"), timeoutMs: 60_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/wattprint push [0-9a-f]{8}/);
    const record = JSON.parse(readFileSync(join(dir.path, "offline.json"), "utf8")) as RunRecord;
    expect((await request(`${t.url}/api/v1/runs/${record.id}`, { token: read })).status).toBe(404);

    let stderr = "";
    const io: CliIo = {
      stdout: () => undefined,
      stderr: (text) => (stderr += text),
      env: env("offline", { WATTPRINT_SERVER: t.url }),
      stdinIsTTY: false,
      stderrIsTTY: false,
    };
    expect(await pushCli([record.id.slice(0, 8), "--metric", "val_accuracy=0.91"], io)).toBe(0);
    expect(stderr).toContain(`pushed run ${record.id.slice(0, 8)}`);
    const pushed = (await request(`${t.url}/api/v1/runs/${record.id}`, { token: read }))
      .body as JobView & { metrics: Record<string, number> };
    expect(pushed.status).toBe("completed");
    expect(pushed.energyJ).toBeCloseTo(record.energyJ.total ?? -1, 6);
    expect(pushed.machineEnergyJ).toBeCloseTo(record.machineEnergyJ.total ?? -1, 3);
    expect(pushed.metrics).toEqual({ val_accuracy: 0.91 });
    const countBefore = await t.store.countDeviceSamples("vision", record.id);
    expect(await pushCli([record.id], io)).toBe(0);
    expect(await t.store.countDeviceSamples("vision", record.id)).toBe(countBefore);
    const again = (await request(`${t.url}/api/v1/runs/${record.id}`, { token: read }))
      .body as JobView;
    expect(again.energyJ).toBeCloseTo(pushed.energyJ, 9);
  });

  it("refuses --server without a token, before running anything", async () => {
    const result = await runCli(
      [
        "track",
        "--server",
        t.url,
        "--",
        process.execPath,
        "-e",
        "require('fs').writeFileSync('ran','')",
      ],
      {
        env: isolatedEnv(join(dir.path, "no-token"), { WATTPRINT_POWERCAP_ROOT: fixture.root }),
        cwd: dir.path,
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--server needs a token");
  });
});
