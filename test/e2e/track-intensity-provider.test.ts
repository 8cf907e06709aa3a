import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../../src/record/run-record.js";
import {
  startProviderServer,
  ukForecastValue,
  type ProviderServer,
} from "../fixtures/provider-server.js";
import { busyScript, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

// The UK Carbon Intensity API stands in on 127.0.0.1 (test/fixtures/provider-server.ts),
// answering in the API's documented shapes.
describe("wattprint track --intensity-source", () => {
  const dir = tempDir();
  let server: ProviderServer;
  beforeAll(async () => {
    server = await startProviderServer();
  });
  afterAll(async () => {
    await server.close();
    dir.cleanup();
  });

  async function track(env: Record<string, string>, name: string, home = dir.path) {
    const out = join(dir.path, name);
    const result = await runCli(
      [
        "track",
        "--region",
        "GB",
        "--intensity-source",
        "uk-carbon-intensity",
        "--interval",
        "250ms",
        "--no-store",
        "--out",
        out,
        "--",
        process.execPath,
        "-e",
        busyScript(600),
      ],
      { env: isolatedEnv(home, env) },
    );
    return { result, run: JSON.parse(readFileSync(out, "utf8")) as RunRecord };
  }

  it("books the run at the provider's half-hourly figure for its time", async () => {
    const { result, run } = await track(
      { WATTPRINT_UK_CARBON_INTENSITY_URL: server.baseUrl },
      "uk.json",
    );
    expect(result.code).toBe(0);
    const halfHourStart = Math.floor(Date.parse(run.startedAt) / 1_800_000) * 1_800_000;
    const endHalfHour = Math.floor(Date.parse(run.endedAt ?? "") / 1_800_000) * 1_800_000;
    // A run that straddles a half-hour boundary gets a mix of the two figures.
    const bounds = [ukForecastValue(halfHourStart), ukForecastValue(endHalfHour)];
    expect(run.intensityGPerKWh).toBeGreaterThanOrEqual(Math.min(...bounds) - 1e-6);
    expect(run.intensityGPerKWh).toBeLessThanOrEqual(Math.max(...bounds) + 1e-6);
    expect(run.intensitySource.series?.source).toMatch(/uk-carbon-intensity|carbonintensity/i);
    expect(run.intensitySource.series?.coveredEnergyShare).toBeCloseTo(1, 6);
  });

  it("keeps the annual average, with the provider's error, when the provider is down", async () => {
    // A fresh home: no cached answer to stand in.
    const { result, run } = await track(
      { WATTPRINT_UK_CARBON_INTENSITY_URL: "http://127.0.0.1:9" },
      "down.json",
      join(dir.path, "fresh-home"),
    );
    expect(result.code).toBe(0);
    expect(run.intensitySource.series ?? null).toBeNull();
    expect(run.warnings.join("\n")).toMatch(
      /intensity source uk-carbon-intensity: .*uk-carbon-intensity/,
    );
    expect(run.co2eG).toBeGreaterThan(0);
  });

  it("fails before running when a provider needs a key that is not set", async () => {
    const marker = join(dir.path, "ran");
    const result = await runCli(
      [
        "track",
        "--region",
        "FR",
        "--intensity-source",
        "electricitymaps",
        "--",
        "sh",
        "-c",
        `touch ${marker}`,
      ],
      { env: isolatedEnv(dir.path) },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^wattprint: .*electricitymaps/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
