import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { busyScript, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

// The report and lca commands through the real binary, on a run tracked by it.
describe("wattprint report and lca from a tracked run", () => {
  const dir = tempDir();
  const env = () => isolatedEnv(dir.path);
  let id = "";
  beforeAll(async () => {
    const tracked = await runCli(
      [
        "track",
        "--region",
        "SE",
        "--interval",
        "200ms",
        "--",
        process.execPath,
        "-e",
        busyScript(400),
      ],
      { env: env() },
    );
    expect(tracked.code).toBe(0);
    id = /saved as run ([0-9a-f]{8})/.exec(tracked.stderr)?.[1] ?? "";
  });
  afterAll(() => dir.cleanup());

  it("writes a self-contained HTML report with the run's power chart", async () => {
    const out = join(dir.path, "report.html");
    const result = await runCli(["report", id, "--format", "html", "--out", out], { env: env() });
    expect(result.code).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/<svg/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
    expect(html).toContain(id);
  });

  it("updates a model card's front matter in place, keeping the rest", async () => {
    const readme = join(dir.path, "README.md");
    const before = "---\nlicense: mit\ntags:\n- vision\n---\n\n# My model\n\nSome text.\n";
    writeFileSync(readme, before);
    const result = await runCli(["report", id, "--format", "model-card", "--update", readme], {
      env: env(),
    });
    expect(result.code).toBe(0);
    const after = readFileSync(readme, "utf8");
    expect(after).toMatch(/^---\nlicense: mit\ntags:\n- vision\nco2_eq_emissions:\n/);
    expect(after).toMatch(/# My model\n\nSome text\.\n/);
    expect(after).toMatch(/source: /);
  });

  it("computes SCI per functional unit", async () => {
    const result = await runCli(
      [
        "report",
        id,
        "--format",
        "json",
        "--functional-unit",
        "request",
        "--units",
        "1000",
        "--embodied-kg",
        "1000",
      ],
      { env: env() },
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { sci?: { sciGPerUnit: number | null } };
    expect(report.sci?.sciGPerUnit).toBeGreaterThan(0);
  });

  it("refuses an unknown run with one line and exit 3", async () => {
    const result = await runCli(["report", "ffffffff", "--format", "md"], { env: env() });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^wattprint: .*ffffffff/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("lca adds inference over the deployment to the training run", async () => {
    const result = await runCli(
      [
        "lca",
        "--training",
        id,
        "--requests-per-day",
        "10000",
        "--energy-per-request-wh",
        "0.005",
        "--deployment-days",
        "365",
        "--region",
        "SE",
        "--json",
      ],
      { env: env() },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lca = JSON.parse(result.stdout) as {
      result: {
        inference: { operationalCo2eG: number; intensityGPerKWh: number };
        lifecycle: { totalCo2eG: number };
        crossover: { afterDays: number | null; withinDeployment: boolean };
      };
    };
    const { inference, lifecycle, crossover } = lca.result;
    // 10,000 requests a day × 365 days × 0.005 Wh, at Sweden's intensity.
    expect(inference.operationalCo2eG).toBeCloseTo(
      10_000 * 365 * 0.005e-3 * inference.intensityGPerKWh,
      6,
    );
    expect(lifecycle.totalCo2eG).toBeGreaterThan(inference.operationalCo2eG);
    // A 0.4 s training run is overtaken by inference within the first day.
    expect(crossover.afterDays).toBeLessThan(1);
    expect(crossover.withinDeployment).toBe(true);
  });
});
