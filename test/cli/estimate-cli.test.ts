import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT, isolatedEnv, runCli, tempDir, type CliResult } from "../helpers/cli.js";

const home = tempDir("wattprint-estimate-cli-");
afterAll(() => home.cleanup());
const env = isolatedEnv(home.path);

function estimate(...args: string[]): Promise<CliResult> {
  return runCli(["estimate", ...args], { env });
}

/** The A100 80 GB TDP as the shipped table states it, read without the code under test. */
function tableTdpW(id: string): number {
  const lines = readFileSync(join(REPO_ROOT, "data/hardware/accelerators.csv"), "utf8").split("\n");
  const header = (lines[0] ?? "").split(",");
  const row = lines.find((line) => line.startsWith(`${id},`));
  if (row === undefined) throw new Error(`no row ${id}`);
  return Number(row.split(",")[header.indexOf("tdp_w")]);
}

function expectOneLineError(result: CliResult, message: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^wattprint: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^ {2}hint: \S/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe("wattprint estimate training", () => {
  it("prints the JSON contract from device-hours", async () => {
    const result = await estimate(
      "training",
      "--hardware",
      "A100-80GB",
      "--device-hours",
      "1.72e6",
      "--pue",
      "1.1",
      "--region",
      "US",
      "--json",
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(json.deviceHours).toBe(1.72e6);
    expect(json.energyKWh as number).toBeCloseTo((1.72e6 * tableTdpW("A100-80GB") * 1.1) / 1000, 3);
    expect(json.co2eKg as number).toBeGreaterThan(0);
    expect(json.embodiedCo2eKg as number).toBeGreaterThan(0);
    const assumptions = json.assumptions as Array<Record<string, unknown>>;
    expect(assumptions.length).toBeGreaterThan(3);
    for (const entry of assumptions) {
      expect(Object.keys(entry).sort()).toEqual(["name", "source", "unit", "value"]);
      expect(typeof entry.source).toBe("string");
    }
    expect(result.stdout).not.toMatch(/NaN|Infinity/);
  });

  it("prints a table with the figures, the assumptions and the comparison", async () => {
    const result = await estimate(
      "training",
      "--hardware",
      "h100",
      "--params",
      "70B",
      "--tokens",
      "2T",
      "--devices",
      "2048",
      "--compare-regions",
      "FR,PL",
      "--compare-hardware",
      "A100-80GB",
    );
    expect(result.code).toBe(0);
    for (const label of [
      "FLOPs",
      "device-hours",
      "wall-clock",
      "energy",
      "operational CO2e",
      "embodied CO2e",
      "total CO2e",
    ]) {
      expect(result.stdout).toContain(label);
    }
    expect(result.stdout).toMatch(/Assumptions\n/);
    expect(result.stdout).toMatch(/mfu\s+0\.4 ratio\s+default: 0\.4/);
    expect(result.stdout).toMatch(/region FR .* <\n/);
    expect(result.stdout).toContain("hardware A100-80GB");
  });

  it("includes comparison rows in the JSON", async () => {
    const result = await estimate(
      "training",
      "--hardware",
      "H100",
      "--params",
      "8e9",
      "--tokens",
      "1e9",
      "--fine-tune",
      "peft",
      "--pretrain-tokens",
      "15e12",
      "--json",
    );
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as {
      comparison: Array<{ label: string; lowest: boolean }>;
      method: string;
    };
    expect(json.method).toBe("peft");
    expect(json.comparison.map((row) => row.label)).toEqual(["base", "from scratch"]);
    expect(json.comparison[0]?.lowest).toBe(true);
  });
});

describe("wattprint estimate inference", () => {
  it("prints per-request, per-1,000 and total figures", async () => {
    const result = await estimate(
      "inference",
      "--params",
      "8e9",
      "--hardware",
      "H100-SXM",
      "--output-tokens",
      "500",
      "--requests",
      "1e6",
      "--json",
    );
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as {
      perRequest: { energyWh: number };
      per1000Requests: { energyKWh: number };
      energyKWh: number;
      deviceHours: number;
      co2eKg: number;
      embodiedCo2eKg: number;
      assumptions: unknown[];
    };
    expect(json.per1000Requests.energyKWh).toBeCloseTo(json.perRequest.energyWh, 12);
    expect(json.energyKWh).toBeCloseTo((json.perRequest.energyWh * 1e6) / 1000, 6);
    expect(json.deviceHours).toBeGreaterThan(0);
    expect(json.embodiedCo2eKg).toBeGreaterThan(0);
    expect(json.assumptions.length).toBeGreaterThan(5);
  });

  it("prints a human table naming the data the model is fitted on", async () => {
    const result = await estimate(
      "inference",
      "--params",
      "70e9",
      "--hardware",
      "B200",
      "--output-tokens",
      "300",
      "--requests",
      "1000",
      "--batch",
      "128",
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("per 1,000 requests");
    expect(result.stdout).toMatch(/ML\.ENERGY Leaderboard v3\.0/);
  });
});

describe("wattprint estimate hardware", () => {
  it("lists the table", async () => {
    const result = await estimate("hardware");
    expect(result.code).toBe(0);
    for (const id of ["A100-80GB", "H100-SXM", "TPU-v5p", "MI300X", "CPU"])
      expect(result.stdout).toContain(id);
  });
});

describe("bad input: one line, a hint, exit 2, no stack", () => {
  it.each<[string, string[], RegExp]>([
    [
      "unknown hardware",
      ["training", "--hardware", "A100-90GB", "--device-hours", "5"],
      /unknown hardware "A100-90GB"/,
    ],
    [
      "zero size",
      ["training", "--hardware", "A100", "--device-hours", "0"],
      /invalid --device-hours 0/,
    ],
    [
      "negative size",
      ["training", "--hardware", "A100", "--params=-7e9", "--tokens", "1e9"],
      /invalid --params -7e9/,
    ],
    [
      "not a number",
      ["training", "--hardware", "A100", "--device-hours", "lots"],
      /invalid --device-hours "lots": not a number/,
    ],
    ["missing hardware", ["training", "--device-hours", "5"], /missing --hardware/],
    ["missing size", ["training", "--hardware", "A100"], /missing the size of the job/],
    [
      "missing output tokens",
      ["inference", "--hardware", "H100", "--params", "8e9", "--requests", "5"],
      /missing --output-tokens/,
    ],
    [
      "region and intensity",
      [
        "training",
        "--hardware",
        "A100",
        "--device-hours",
        "5",
        "--region",
        "FR",
        "--intensity",
        "50",
      ],
      /--region and --intensity contradict/,
    ],
    [
      "device-hours with params",
      [
        "training",
        "--hardware",
        "A100",
        "--device-hours",
        "5",
        "--params",
        "7e9",
        "--tokens",
        "1e9",
      ],
      /--device-hours contradicts/,
    ],
    [
      "unknown region",
      ["training", "--hardware", "A100", "--device-hours", "5", "--region", "Frnace"],
      /unknown region "Frnace"/,
    ],
    ["unknown subcommand", ["traning"], /unknown estimate "traning"/],
    ["unknown flag", ["training", "--hardwear", "A100"], /Unknown option '--hardwear'/],
    [
      "bad fine-tune",
      [
        "training",
        "--hardware",
        "A100",
        "--params",
        "7e9",
        "--tokens",
        "1e9",
        "--fine-tune",
        "lora",
      ],
      /invalid --fine-tune "lora"/,
    ],
  ])("%s", async (_name, args, message) => {
    expectOneLineError(await estimate(...args), message);
  });
});
