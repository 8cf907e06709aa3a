// `wattprint agent` measuring this host (RAPL fixture counters advancing in real time) and
// streaming to a server: the server's host series come from it.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentCli } from "../../src/cli/commands/agent.js";
import type { CliIo } from "../../src/cli/io.js";
import { createToken } from "../../src/serve/tokens.js";
import { SERVER_POWERCAP, createPowercapFixture } from "../fixtures/powercap-fixture.js";
import { FIXTURE_BIN, isolatedEnv, tempDir } from "../helpers/cli.js";
import { request, sqliteDatabase, startTestServer, type TestServer } from "./helpers.js";

describe("wattprint agent", () => {
  const dir = tempDir();
  const fixture = createPowercapFixture(SERVER_POWERCAP);
  let hardware: ChildProcess;
  let t: TestServer;

  beforeAll(async () => {
    hardware = spawn(
      process.execPath,
      [
        join(FIXTURE_BIN, "advance-counters.js"),
        "--file",
        fixture.energyPath("intel-rapl:0"),
        "--watts",
        "50",
        "--interval-ms",
        "20",
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await once(hardware.stdout!, "data");
    t = await startTestServer(sqliteDatabase());
  });
  afterAll(async () => {
    hardware?.kill("SIGTERM");
    await t?.close();
    fixture.cleanup();
    dir.cleanup();
  });

  it("streams the whole host's energy as kind agent until stopped", async () => {
    const token = (await createToken(t.store, { project: "fleet", scope: "ingest" })).token;
    let stderr = "";
    const io: CliIo = {
      stdout: () => undefined,
      stderr: (text) => (stderr += text),
      env: isolatedEnv(dir.path, { WATTPRINT_POWERCAP_ROOT: fixture.root, WATTPRINT_TOKEN: token }),
      stdinIsTTY: false,
      stderrIsTTY: false,
    };
    const controller = new AbortController();
    let runId = "";
    const done = agentCli(
      ["--server", t.url, "--interval", "200ms", "--upload-interval", "300ms", "--region", "FR"],
      io,
      {
        signal: controller.signal,
        onStart: (id) => (runId = id),
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 1600));
    controller.abort();
    expect(await done).toBe(0);
    expect(stderr).toContain("agent measuring this host");
    const jobs = await t.store.loadJobs("fleet", [runId]);
    const member = jobs.get(runId)?.members[0];
    expect(member).toMatchObject({ kind: "agent", host: hostname(), status: "completed" });
    const metrics = (await request(`${t.url}/metrics`)).text;
    const line = metrics
      .split("\n")
      .find(
        (l) =>
          l.startsWith("wattprint_host_energy_joules_total{") &&
          l.includes('component="cpu"') &&
          l.includes("package-0"),
      );
    expect(line).toBeDefined();
    // 50 W on package-0 for about 1.4 s of sampling.
    const value = Number(line?.split(" ").at(-1));
    expect(value).toBeGreaterThan(30);
    expect(value).toBeLessThan(150);
    // Agents are not projects' jobs: the project counter leaves them out.
    expect(metrics).not.toMatch(/wattprint_project_energy_joules_total\{project="fleet"\}/);
  });
});
