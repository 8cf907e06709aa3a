// `wattprint lca` through its command function (src/cli/commands/lca.ts): real files, a
// real run store, the packaged region table.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lcaCli } from "../../src/cli/commands/lca.js";
import type { CliIo } from "../../src/cli/io.js";
import { WattprintError, type ErrorCode } from "../../src/errors.js";
import { resolveRegion } from "../../src/grid/regions.js";
import { RunStore } from "../../src/store/run-store.js";
import { makeRunRecord } from "../fixtures/store/record-factory.js";

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "wattprint-lca-cli-"));
  home = join(dir, "home");
  // Training: a stored run that emitted 1000 g.
  const store = RunStore.open(join(home, "runs.sqlite"));
  const record = makeRunRecord({ id: "7ra1n000-run", co2eG: 1000 });
  store.beginRun({ ...record, status: "running" }, process.pid);
  store.finishRun(record);
  store.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: { WATTPRINT_HOME: home },
    stdinIsTTY: false,
    stderrIsTTY: false,
  };
  expect(await lcaCli(args, io)).toBe(0);
  return { stdout, stderr };
}

async function json(args: string[]) {
  return JSON.parse((await run([...args, "--json"])).stdout);
}

async function expectError(args: string[], code: ErrorCode, message: RegExp): Promise<void> {
  let error: unknown;
  try {
    await run(args);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(WattprintError);
  expect((error as WattprintError).code).toBe(code);
  expect((error as WattprintError).message).toMatch(message);
}

// 1000 requests/day × 0.01 Wh = 10 Wh/day = 0.01 kWh/day; at 500 g/kWh and PUE 1: 5 g/day.
const BASE = [
  "--training",
  "7ra1n",
  "--requests-per-day",
  "1000",
  "--deployment-days",
  "365",
  "--energy-per-request-wh",
  "0.01",
  "--intensity",
  "500",
];

describe("wattprint lca", () => {
  it("computes the lifecycle from flags", async () => {
    const { result, inputs } = await json([...BASE, "--start", "2025-01-01"]);
    expect(inputs.requestsPerDay).toBe(1000);
    expect(result.training.operationalCo2eG).toBe(1000);
    expect(result.inference.perDayCo2eG).toBeCloseTo(5, 9);
    expect(result.inference.pue).toBe(1);
    expect(result.inference.pueSource).toMatch(/default 1/);
    expect(result.lifecycle.totalCo2eG).toBeCloseTo(1000 + 5 * 365, 6);
    expect(result.crossover.day).toBe(201);
    expect(result.crossover.date).toBe("2025-07-20");
    expect(result.lifecycle.complete).toBe(false);
  });

  it("prints a readable summary", async () => {
    const { stdout } = await run(BASE);
    expect(stdout).toContain("wattprint lca: run 7ra1n000");
    expect(stdout).toContain("inference overtakes training on day 201, after 200 days");
    expect(stdout).toContain("lower bound");
  });

  it("looks the serving region up in the region table, with the cloud region's PUE", async () => {
    const withoutIntensity = BASE.slice(0, -2);
    const fr = await json([...withoutIntensity, "--region", "FR"]);
    expect(fr.result.inference.intensityGPerKWh).toBe(resolveRegion("FR").intensityGPerKWh);
    expect(fr.result.inference.intensitySource).toContain("FR:");
    const aws = await json([...withoutIntensity, "--region", "aws:us-east-1"]);
    const region = resolveRegion("aws:us-east-1");
    expect(aws.result.inference.pue).toBe(region.pue);
    expect(aws.result.inference.pueSource).toBe(region.pueSource);
    const override = await json([...withoutIntensity, "--region", "aws:us-east-1", "--pue", "1.4"]);
    expect(override.result.inference.pue).toBe(1.4);
  });

  it("takes the energy per request from a measured inference run, with its grid", async () => {
    const inferenceRun = join(dir, "serve.json");
    // 9000 J over 300 requests = 30 J per request, measured in FR (56 g/kWh, PUE 1.2).
    writeFileSync(inferenceRun, JSON.stringify(makeRunRecord({ id: "5e7e0000" })));
    const { result } = await json([
      "--training",
      "7ra1n",
      "--requests-per-day",
      "1000",
      "--deployment-days",
      "10",
      "--inference",
      inferenceRun,
      "--inference-requests",
      "300",
    ]);
    expect(result.inference.energyPerRequestJ).toBeCloseTo(30, 9);
    expect(result.inference.energyPerRequestSource).toContain("run 5e7e0000");
    expect(result.inference.intensityGPerKWh).toBe(56);
    expect(result.inference.pue).toBe(1.2);
    // 30 kJ/day = 1/120 kWh × 1.2 × 56 = 0.56 g/day.
    expect(result.inference.perDayCo2eG).toBeCloseTo(0.56, 9);
  });

  it("takes requests, IT energy and the grid from an inference estimate", async () => {
    const estimate = join(dir, "inference.json");
    // The estimator's shape: facility energy 1.2 kWh = IT 1 kWh × PUE 1.2 for 1000 requests.
    writeFileSync(
      estimate,
      JSON.stringify({
        kind: "inference",
        requests: 1000,
        acceleratorEnergyKWh: 1,
        energyKWh: 1.2,
        pue: 1.2,
        intensityGPerKWh: 300,
        region: "US",
        deviceHours: 2,
        co2eKg: 0.36,
        embodiedCo2eKg: 0.01,
        assumptions: [],
      }),
    );
    const { result } = await json([
      "--training",
      "7ra1n",
      "--requests-per-day",
      "1000",
      "--deployment-days",
      "10",
      "--inference",
      estimate,
    ]);
    // 1 kWh / 1000 requests = 3600 J each; PUE applied once: 1 kWh × 1.2 × 300 g = 360 g a day.
    expect(result.inference.energyPerRequestJ).toBeCloseTo(3600, 9);
    expect(result.inference.energyPerRequestSource).toContain("IT energy before PUE");
    expect(result.inference.pue).toBe(1.2);
    expect(result.inference.intensityGPerKWh).toBe(300);
    // Its embodied 10 g over 1000 requests: 0.01 g × 1000 requests a day × 10 days = 100 g.
    expect(result.inference.embodiedCo2eG).toBeCloseTo(100, 9);
    expect(result.inference.embodiedSource).toContain("embodiedCo2eKg / 1000 requests");
    expect(result.inference.perDayCo2eG).toBeCloseTo(360 + 10, 9);
  });

  it("amortises serving and training hardware", async () => {
    const { result } = await json([
      ...BASE,
      "--embodied-kg",
      "1000",
      "--resource-share",
      "0.5",
      "--hardware-lifetime-years",
      "4",
      "--training-embodied-kg",
      "126144",
    ]);
    // Serving: 365 days of 4 × 365 = 1/4 × 0.5 × 1e6 g; training: 100 s of 126,144,000 s × 126,144,000 g.
    expect(result.inference.embodiedCo2eG).toBeCloseTo(125_000, 3);
    expect(result.training.embodiedCo2eG).toBeCloseTo(100, 6);
    expect(result.lifecycle.complete).toBe(true);
  });

  it("reads a config file, resolves its paths next to it, and lets flags win", async () => {
    const configDir = join(dir, "cfg");
    mkdirSync(configDir);
    writeFileSync(
      join(configDir, "train.json"),
      JSON.stringify(makeRunRecord({ id: "f11e0000", co2eG: 2000 })),
    );
    const config = join(configDir, "lca.json");
    writeFileSync(
      config,
      JSON.stringify({
        training: "train.json",
        requestsPerDay: 1000,
        deploymentDays: 365,
        energyPerRequestWh: 0.01,
        intensity: 500,
      }),
    );
    const fromFile = await json(["--config", config]);
    expect(fromFile.result.training.label).toContain("run f11e0000");
    expect(fromFile.result.crossover.afterDays).toBeCloseTo(400, 9);
    const overridden = await json(["--config", config, "--intensity", "1000"]);
    expect(overridden.result.crossover.afterDays).toBeCloseTo(200, 9);
  });

  it("writes to --out whole", async () => {
    const out = join(dir, "lca.json");
    const { stdout, stderr } = await run([...BASE, "--json", "--out", out]);
    expect(stdout).toBe("");
    expect(stderr).toContain(out);
    expect(JSON.parse(readFileSync(out, "utf8")).lcaSchemaVersion).toBe(1);
  });

  it.each([
    [["--requests-per-day", "1"], "USAGE", /needs --training/],
    [BASE.filter((_, i) => i < 6).concat(["--intensity", "1"]), "USAGE", /energy of a request/],
    [[...BASE, "--inference", "x.json", "--inference-requests", "3"], "USAGE", /not both/],
    [
      [...BASE.slice(0, 6), "--inference-requests", "3", "--intensity", "1"],
      "USAGE",
      /needs --inference/,
    ],
    [[...BASE, "--region", "FR"], "USAGE", /--region or --intensity, not both/],
    [[...BASE, "--resource-share", "1.5"], "USAGE", /--resource-share/],
    [[...BASE, "--pue", "0.5"], "USAGE", /below 1/],
    [[...BASE, "--requests-per-day", "lots"], "USAGE", /not a number/],
    [[...BASE, "--deployment-days", "0"], "BAD_INPUT", /deployment days/],
    [[...BASE, "--start", "soon"], "BAD_INPUT", /start date/],
    [["--training", "nope123", ...BASE.slice(2)], "NOT_FOUND", /no run with id/],
    [[...BASE.slice(0, -2), "--region", "Atlantis"], "UNKNOWN_REGION", /Atlantis/],
    [["--config", "missing.json"], "NOT_FOUND", /no such config file/],
  ] as [string[], ErrorCode, RegExp][])("refuses %j", async (args, code, message) => {
    await expectError(args, code, message);
  });

  it("refuses a config with an unknown key or a wrong type, naming it", async () => {
    const config = join(dir, "lca.json");
    writeFileSync(config, JSON.stringify({ training: "7ra1n", requestsPerDay: "many" }));
    await expectError(["--config", config], "BAD_INPUT", /"requestsPerDay" must be a number/);
    writeFileSync(config, JSON.stringify({ trainnig: "7ra1n" }));
    await expectError(["--config", config], "BAD_INPUT", /unknown key "trainnig"/);
    writeFileSync(config, "{ not json");
    await expectError(["--config", config], "BAD_INPUT", /cannot read config/);
  });

  it("refuses a training run without CO2e", async () => {
    const file = join(dir, "run.json");
    writeFileSync(file, JSON.stringify(makeRunRecord({ co2eG: null })));
    await expectError(["--training", file, ...BASE.slice(2)], "BAD_INPUT", /has no CO2e/);
  });
});
