import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  startProviderServer,
  ukActualValue,
  type ProviderServer,
} from "../fixtures/provider-server.js";
import { isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

const dir = tempDir();
let server: ProviderServer;
beforeAll(async () => {
  server = await startProviderServer();
});
afterAll(async () => {
  await server.close();
  dir.cleanup();
});
const env = (extra: Record<string, string> = {}) => isolatedEnv(dir.path, extra);

describe("wattprint intensity", () => {
  it("answers from the shipped 2022 hourly data for a US grid, hour by hour", async () => {
    const result = await runCli(
      [
        "intensity",
        "--region",
        "US-CA",
        "--from",
        "2022-07-01T00:00:00Z",
        "--to",
        "2022-07-01T06:00:00Z",
        "--json",
      ],
      { env: env() },
    );
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as {
      origin: string;
      zone: string;
      points: { from: string; intensityGPerKWh: number }[];
      minGPerKWh: number;
      maxGPerKWh: number;
    };
    expect(body.origin).toBe("embedded-hourly");
    expect(body.zone).toBe("US-CAL-CISO");
    expect(body.points).toHaveLength(6);
    expect(body.points[0]?.from).toBe("2022-07-01T00:00:00.000Z");
    expect(body.minGPerKWh).toBeLessThan(body.maxGPerKWh);
    expect(body.minGPerKWh).toBeGreaterThan(50);
  });

  it("falls back to the annual average, and says so, where no hourly data exists", async () => {
    const result = await runCli(
      ["intensity", "--region", "FR", "--at", "2026-01-01T12:00:00Z", "--json"],
      { env: env() },
    );
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as {
      origin: string;
      warnings: string[];
      intensityGPerKWh: number;
    };
    expect(body.origin).toBe("annual-average");
    expect(body.warnings.join()).toMatch(/annual average of FR/);
  });

  it("reads a trace file", async () => {
    const file = join(dir.path, "trace.csv");
    writeFileSync(
      file,
      "timestamp,intensity\n2024-03-01T00:00:00Z,111\n2024-03-01T01:00:00Z,222\n",
    );
    const result = await runCli(
      [
        "intensity",
        "--region",
        "DE",
        "--intensity-file",
        file,
        "--at",
        "2024-03-01T01:30:00Z",
        "--json",
      ],
      { env: env() },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ intensityGPerKWh: 222, origin: "file" });
  });

  it("asks a live provider (the UK API, served locally) for a range", async () => {
    const result = await runCli(
      [
        "intensity",
        "--region",
        "GB",
        "--source",
        "uk-carbon-intensity",
        "--from",
        "2024-04-30T10:00:00Z",
        "--to",
        "2024-04-30T12:00:00Z",
        "--json",
      ],
      { env: env({ WATTPRINT_UK_CARBON_INTENSITY_URL: server.baseUrl }) },
    );
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as {
      origin: string;
      points: { from: string; intensityGPerKWh: number }[];
    };
    expect(body.origin).toBe("provider");
    expect(body.points).toHaveLength(4);
    for (const point of body.points) {
      expect(point.intensityGPerKWh).toBeCloseTo(ukActualValue(Date.parse(point.from)), 9);
    }
  });

  const bad: { name: string; args: string[]; code: number; message: RegExp }[] = [
    { name: "no region", args: ["intensity"], code: 2, message: /needs --region/ },
    {
      name: "unknown region",
      args: ["intensity", "--region", "Atlantis"],
      code: 2,
      message: /unknown region "Atlantis"/,
    },
    {
      name: "empty range",
      args: [
        "intensity",
        "--region",
        "FR",
        "--from",
        "2024-01-02T00:00:00Z",
        "--to",
        "2024-01-01T00:00:00Z",
      ],
      code: 2,
      message: /time range is empty/,
    },
    {
      name: "time without offset",
      args: ["intensity", "--region", "FR", "--at", "2024-01-01 12:00"],
      code: 2,
      message: /invalid --at/,
    },
    {
      name: "--at with --from",
      args: ["intensity", "--region", "FR", "--at", "now", "--from", "now", "--to", "now"],
      code: 2,
      message: /--at cannot be used with/,
    },
    {
      name: "unknown provider",
      args: ["intensity", "--region", "FR", "--source", "nope"],
      code: 2,
      message: /unknown carbon-intensity provider "nope"/,
    },
    {
      name: "missing key",
      args: ["intensity", "--region", "FR", "--source", "electricitymaps"],
      code: 69,
      message: /electricitymaps/,
    },
  ];
  it.each(bad)("$name: one line, a hint, non-zero exit", async ({ args, code, message }) => {
    const result = await runCli(args, { env: env() });
    expect(result.code).toBe(code);
    expect(result.stderr.split("\n")[0]).toMatch(message);
    expect(result.stderr).toMatch(/\n {2}hint: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
