import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CliIo } from "../../src/cli/io.js";
import { scheduleCli } from "../../src/cli/commands/schedule.js";
import { WattprintError } from "../../src/errors.js";
import { tempDir } from "../helpers/cli.js";
import {
  EM_API_KEY,
  startProviderServer,
  type ProviderServer,
} from "../fixtures/provider-server.js";

const dir = tempDir("wattprint-schedule-");
afterAll(() => dir.cleanup());

/** A fake terminal that collects output. */
function fakeIo(env: Record<string, string> = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: { WATTPRINT_HOME: join(dir.path, "home"), ...env },
    stdinIsTTY: false,
    stderrIsTTY: false,
  };
}

/** Hourly CSV from 2022-06-01T00:00Z; null values leave gaps. */
function csv(name: string, values: readonly (number | null)[]): string {
  const path = join(dir.path, name);
  const rows = values.map((value, hour) => {
    const time = new Date(Date.parse("2022-06-01T00:00:00Z") + hour * 3_600_000).toISOString();
    return `${time},${value ?? ""}`;
  });
  writeFileSync(path, `timestamp,intensity\n${rows.join("\n")}\n`);
  return path;
}

async function json(args: string[]) {
  const io = fakeIo();
  expect(await scheduleCli([...args, "--json"], io)).toBe(0);
  return JSON.parse(io.out.join("")) as Record<string, unknown> & {
    regions: Record<string, unknown>[];
  };
}

async function expectFailure(args: string[], code: string, pattern: RegExp): Promise<void> {
  try {
    await scheduleCli(args, fakeIo());
  } catch (error) {
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).code).toBe(code);
    expect((error as WattprintError).message).toMatch(pattern);
    expect((error as WattprintError).message).not.toContain("\n");
    expect((error as WattprintError).hint).toBeTruthy();
    return;
  }
  throw new Error(`expected ${code} from ${args.join(" ")}`);
}

describe("wattprint schedule", () => {
  const ca = csv("ca.csv", [300, 200, 100, 50, 400, 100, 90, 500]);
  const wa = csv("wa.csv", [60, 50, 40, 45, 60, 70, 80, 90]);

  it("--json gives the plan, run-now and savings with ISO times", async () => {
    const plan = await json([
      "--duration",
      "2h",
      "--deadline",
      "8h",
      "--intensity-file",
      `US-CA=${ca}`,
      "--now",
      "2022-06-01T00:00:00Z",
      "--power",
      "300W",
    ]);
    expect(plan.schemaVersion).toBe(1);
    expect(plan.region).toBe("US-CA");
    expect(plan.start).toBe("2022-06-01T02:00:00.000Z");
    expect(plan.end).toBe("2022-06-01T04:00:00.000Z");
    expect(plan.slots).toEqual([
      { start: "2022-06-01T02:00:00.000Z", end: "2022-06-01T04:00:00.000Z" },
    ]);
    // 300 W × 2 h = 0.6 kWh at 75 g/kWh (planned) and 250 g/kWh (now).
    expect(plan.co2eG as number).toBeCloseTo(45, 9);
    expect(plan.runNowCo2eG as number).toBeCloseTo(150, 9);
    expect(plan.savingsPercent as number).toBeCloseTo(70, 9);
    expect(plan.savingsG as number).toBeCloseTo(105, 9);
    expect(plan.powerW).toBe(300);
    expect(plan.powerSource).toBe("user");
    expect(plan.deadline).toBe("2022-06-01T08:00:00.000Z");
    expect(plan.regions).toHaveLength(1);
    expect(plan.regions[0]?.best).toBe(true);
  });

  it("with several regions gives one entry each and marks the best", async () => {
    const plan = await json([
      "--duration",
      "2h",
      "--deadline",
      "2022-06-01T08:00:00Z",
      "--regions",
      "US-CA,US-WA",
      "--intensity-file",
      ca,
      "--intensity-file",
      wa,
      "--now",
      "2022-06-01T00:00:00Z",
      "--interruptible",
      "--power",
      "1kW",
    ]);
    expect(plan.regions.map((entry) => [entry.region, entry.best])).toEqual([
      ["US-CA", false],
      ["US-WA", true],
    ]);
    expect(plan.region).toBe("US-WA");
    // 40 and 45 g/kWh at hours 2 and 3: one slot, 2 kWh.
    expect(plan.co2eG as number).toBeCloseTo(85, 9);
    expect(plan.interruptible).toBe(true);
    const caEntry = plan.regions[0] as { slots: unknown[] };
    expect(caEntry.slots).toEqual([
      { start: "2022-06-01T03:00:00.000Z", end: "2022-06-01T04:00:00.000Z" },
      { start: "2022-06-01T06:00:00.000Z", end: "2022-06-01T07:00:00.000Z" },
    ]);
  });

  it("uses the shipped 2022 hourly data for a region and says when the data ends before the deadline", async () => {
    const plan = await json([
      "--duration",
      "6h",
      "--deadline",
      "48h",
      "--region",
      "US-CA",
      "--now",
      "2022-12-31T00:00:00Z",
      "--power",
      "100W",
    ]);
    expect(plan.zone).toBe("US-CAL-CISO");
    expect(plan.dataEndsBeforeDeadline).toBe(true);
    expect(plan.dataEnd).toBe("2023-01-01T00:00:00.000Z");
    expect(String(plan.end) <= "2023-01-01T00:00:00.000Z").toBe(true);
    expect((plan.warnings as string[]).join("\n")).toMatch(/before the deadline/);
  });

  it("prints a readable plan without --json", async () => {
    const io = fakeIo();
    await scheduleCli(
      [
        "--duration",
        "2h",
        "--deadline",
        "8h",
        "--intensity-file",
        ca,
        "--now",
        "2022-06-01T00:00:00Z",
        "--power",
        "300W",
      ],
      io,
    );
    const text = io.out.join("");
    expect(text).toMatch(/start 2022-06-01T02:00:00.000Z \(in 2 h\)/);
    expect(text).toMatch(/75 gCO2e\/kWh vs 250 if started now: 70% less/);
    expect(text).toMatch(/power: user/);
  });

  it("fills short gaps only when asked", async () => {
    const gapped = csv("gapped.csv", [300, 200, null, 50, 400, 100]);
    await expectFailure(
      [
        "--duration",
        "1h",
        "--deadline",
        "6h",
        "--intensity-file",
        gapped,
        "--now",
        "2022-06-01T00:00:00Z",
      ],
      "BAD_INPUT",
      /gap from 2022-06-01T02:00:00.000Z/,
    );
    const plan = await json([
      "--duration",
      "1h",
      "--deadline",
      "6h",
      "--intensity-file",
      gapped,
      "--now",
      "2022-06-01T00:00:00Z",
      "--fill-gaps",
      "2h",
      "--power",
      "1W",
    ]);
    expect(plan.start).toBe("2022-06-01T03:00:00.000Z");
  });

  it("bad input: one clear line, a hint and a code", async () => {
    const now = ["--now", "2022-06-01T00:00:00Z"];
    await expectFailure(
      ["--duration", "6h", "--deadline", "4h", "--intensity-file", ca, ...now],
      "USAGE",
      /shorter than the 6 h job/,
    );
    await expectFailure(
      ["--duration", "1h", "--deadline", "2022-05-01T00:00:00Z", "--intensity-file", ca, ...now],
      "USAGE",
      /not after the planning time/,
    );
    await expectFailure(
      ["--duration", "1h", "--region", "XX-NOWHERE", ...now],
      "UNKNOWN_REGION",
      /unknown region/,
    );
    await expectFailure(
      ["--duration", "1h", "--region", "FR", ...now],
      "BAD_INPUT",
      /no hourly intensity data is shipped for FR/,
    );
    await expectFailure(
      ["--duration", "1h", "--intensity-file", ca, "--now", "2022-07-01T00:00:00Z"],
      "BAD_INPUT",
      /before the planning time/,
    );
    await expectFailure(
      ["--deadline", "4h", "--intensity-file", ca],
      "USAGE",
      /--duration is required/,
    );
    await expectFailure(
      ["--duration", "soon", "--intensity-file", ca],
      "USAGE",
      /invalid --duration/,
    );
    await expectFailure(
      ["--duration", "1h", "--intensity-file", ca, "--now", "2022-06-01T00:00"],
      "USAGE",
      /invalid --now/,
    );
    await expectFailure(
      ["--duration", "1h", "--min-chunk", "1h", "--intensity-file", ca, ...now],
      "USAGE",
      /only to interruptible/,
    );
    const empty = join(dir.path, "empty.csv");
    writeFileSync(empty, "");
    await expectFailure(
      ["--duration", "1h", "--intensity-file", empty, ...now],
      "BAD_INPUT",
      /empty/,
    );
  });
});

describe("wattprint schedule backtest", () => {
  it("prints the savings distribution over past data", async () => {
    const io = fakeIo();
    expect(
      await scheduleCli(
        [
          "backtest",
          "--region",
          "US-CA",
          "--duration",
          "6h",
          "--window",
          "24h",
          "--every",
          "1d",
          "--json",
        ],
        io,
      ),
    ).toBe(0);
    const result = JSON.parse(io.out.join("")) as { backtests: Record<string, unknown>[] };
    const first = result.backtests[0] as {
      jobs: number;
      skipped: { count: number };
      savingsPercent: { mean: number; median: number; p10: number; p90: number };
      from: string;
    };
    expect(first.jobs + first.skipped.count).toBe(365);
    expect(first.from).toBe("2022-01-01T00:00:00.000Z");
    expect(first.savingsPercent.p10).toBeLessThanOrEqual(first.savingsPercent.median);
    expect(first.savingsPercent.median).toBeLessThanOrEqual(first.savingsPercent.p90);
    expect(first.savingsPercent.p10).toBeGreaterThanOrEqual(0);
    const text = fakeIo();
    await scheduleCli(["backtest", "--region", "US-CA", "--duration", "6h"], text);
    expect(text.out.join("")).toMatch(
      /savings per job: mean \d+\.\d%, median \d+\.\d%, p10 \d+\.\d%, p90 \d+\.\d%/,
    );
  });
});

describe("wattprint schedule --intensity-source", () => {
  let server: ProviderServer;
  beforeAll(async () => {
    server = await startProviderServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("plans over a provider's latest figure joined with its forecast", async () => {
    const io = fakeIo({
      WATTPRINT_ELECTRICITYMAPS_URL: server.baseUrl,
      WATTPRINT_ELECTRICITYMAPS_TOKEN: EM_API_KEY,
    });
    const args = [
      "--intensity-source",
      "electricitymaps",
      "--region",
      "DE",
      "--now",
      "2024-05-01T10:30:00Z",
    ];
    expect(
      await scheduleCli(
        [...args, "--duration", "1h", "--deadline", "3h", "--power", "1kW", "--json"],
        io,
      ),
    ).toBe(0);
    const plan = JSON.parse(io.out.join("")) as Record<string, unknown>;
    // The fixture: latest 302 (10:00–11:00), forecast 280, 265, 251 from 11:00 hourly.
    expect(plan.start).toBe("2024-05-01T12:30:00.000Z");
    expect(plan.meanIntensityGPerKWh as number).toBeCloseTo((265 + 251) / 2, 9);
    expect(plan.runNowMeanIntensityGPerKWh as number).toBeCloseTo((302 + 280) / 2, 9);
    expect(String(plan.source)).toMatch(/electricitymaps:latest.*electricitymaps:forecast/);
    expect(server.requestsTo("/v3/carbon-intensity/forecast")).toHaveLength(1);
    // Without the key the provider refuses before any request.
    await expect(
      scheduleCli(
        [...args, "--duration", "1h"],
        fakeIo({ WATTPRINT_ELECTRICITYMAPS_URL: server.baseUrl }),
      ),
    ).rejects.toMatchObject({ code: "PROVIDER" });
  });
});
