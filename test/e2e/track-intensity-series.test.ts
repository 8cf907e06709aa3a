import { afterAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../../src/record/run-record.js";
import { busyScript, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

const dir = tempDir();
afterAll(() => dir.cleanup());

/** A CSV series of one-minute points at `intensity` from `fromMs` for `minutes`. */
function writeSeries(
  name: string,
  fromMs: number,
  minutes: number,
  intensity: (i: number) => number,
): string {
  const path = join(dir.path, name);
  const start = Math.floor(fromMs / 60_000) * 60_000;
  const rows = Array.from(
    { length: minutes },
    (_, i) => `${new Date(start + i * 60_000).toISOString()},${intensity(i)}`,
  );
  writeFileSync(path, `timestamp,intensity\n${rows.join("\n")}\n`);
  return path;
}

async function track(file: string, name: string): Promise<{ run: RunRecord; stderr: string }> {
  const out = join(dir.path, name);
  const result = await runCli(
    [
      "track",
      "--region",
      "DE",
      "--pue",
      "1.2",
      "--intensity-file",
      file,
      "--interval",
      "250ms",
      "--no-store",
      "--out",
      out,
      "--",
      process.execPath,
      "-e",
      busyScript(800),
    ],
    { env: isolatedEnv(dir.path) },
  );
  expect(result.code).toBe(0);
  return { run: JSON.parse(readFileSync(out, "utf8")) as RunRecord, stderr: result.stderr };
}

describe("wattprint track --intensity-file", () => {
  it("books the run at the series' intensity instead of the annual average", async () => {
    const file = writeSeries("now.csv", Date.now() - 10 * 60_000, 30, () => 42);
    const { run, stderr } = await track(file, "now.json");
    expect(run.intensityGPerKWh).toBeCloseTo(42, 6);
    expect(run.co2eG).toBeCloseTo(((run.energyJ.total ?? 0) / 3.6e6) * 1.2 * 42, 9);
    expect(run.intensitySource.series?.source).toBe(`file:${file}`);
    expect(run.intensitySource.series?.coveredEnergyShare).toBeCloseTo(1, 6);
    expect(run.intensitySource.region).toBe("DE");
    expect(stderr).toMatch(/average series file:/);
    expect(run.warnings.some((w) => /fell outside the intensity series/.test(w))).toBe(false);
  });

  it("falls back to the annual average, with a warning, where the series has no data", async () => {
    const file = writeSeries("past.csv", Date.parse("2022-06-01T00:00:00Z"), 60, () => 42);
    const { run } = await track(file, "past.json");
    expect(run.intensitySource.series?.coveredEnergyShare).toBeCloseTo(0, 6);
    expect(run.intensityGPerKWh).toBeGreaterThan(200); // Germany's annual average, not 42
    expect(run.warnings.join("\n")).toMatch(
      /100% of the run's energy fell outside the intensity series/,
    );
  });

  it("refuses a malformed file before running anything, naming the file and line", async () => {
    const bad = join(dir.path, "bad.csv");
    writeFileSync(bad, "timestamp,intensity\n2026-01-01T00:00:00Z,12\nyesterday,13\n");
    const marker = join(dir.path, "ran");
    const result = await runCli(
      ["track", "--intensity-file", bad, "--", "sh", "-c", `touch ${marker}`],
      {
        env: isolatedEnv(dir.path),
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^wattprint: .*bad\\.csv:3`));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
