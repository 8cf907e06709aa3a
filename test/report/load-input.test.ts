import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WattprintError, type ErrorCode } from "../../src/errors.js";
import type { RunRecord } from "../../src/record/run-record.js";
import { loadReportInput, parseReportDocument } from "../../src/report/load-input.js";
import { RunStore } from "../../src/store/run-store.js";
import { makeRunRecord, makeSample } from "../fixtures/store/record-factory.js";

let dir: string;
let storePath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "wattprint-load-input-"));
  storePath = join(dir, "home", "runs.sqlite");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function storeRun(record: RunRecord, samples: number): void {
  const store = RunStore.open(storePath);
  try {
    store.beginRun({ ...record, status: "running" }, process.pid);
    for (let seq = 0; seq < samples; seq++)
      store.saveProgress(record, makeSample(seq, record.startedAt));
    store.finishRun(record);
  } finally {
    store.close();
  }
}

function errorOf(run: () => unknown): WattprintError {
  try {
    run();
  } catch (error) {
    if (error instanceof WattprintError) return error;
    throw error;
  }
  throw new Error("expected a WattprintError");
}

function expectCode(run: () => unknown, code: ErrorCode, message: RegExp): void {
  const error = errorOf(run);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
  expect(error.hint).toBeTruthy();
}

const ESTIMATE = {
  deviceHours: 1.72e6,
  energyKWh: 1_287_000,
  co2eKg: 552_000,
  embodiedCo2eKg: null,
  assumptions: [
    { name: "hardware", value: "V100", unit: null, source: "user" },
    { name: "intensity", value: 429, unit: "gCO2e/kWh", source: "Patterson et al. 2021" },
  ],
  somethingElse: { kept: true },
};

describe("loadReportInput", () => {
  it("reads a stored run by id prefix, with its timeline", () => {
    storeRun(makeRunRecord({ id: "abcdef01-run" }), 5);
    const input = loadReportInput("abcdef", { storePath });
    expect(input.kind).toBe("run");
    if (input.kind !== "run") return;
    expect(input.run.id).toBe("abcdef01-run");
    expect(input.samples).toHaveLength(5);
    expect(input.samples?.[4]?.elapsedS).toBe(5);
    expect(input.samplesNote).toBeNull();
    expect(input.origin).toContain(storePath);
  });

  it("says why a stored run has no timeline", () => {
    storeRun(makeRunRecord({ id: "no-samples" }), 0);
    const input = loadReportInput("no-samples", { storePath });
    expect(input.kind === "run" && input.samplesNote).toMatch(/no samples/);
  });

  it("reads a run record file: no timeline, and says so", () => {
    const path = join(dir, "run.json");
    writeFileSync(path, JSON.stringify(makeRunRecord()));
    const input = loadReportInput(path, { storePath });
    expect(input.kind).toBe("run");
    if (input.kind !== "run") return;
    expect(input.samples).toBeNull();
    expect(input.samplesNote).toMatch(/holds no timeline/);
    expect(input.run.energyJ.total).toBe(9000);
  });

  it("recognises an estimate by its shape and keeps its other fields", () => {
    const path = join(dir, "estimate.json");
    writeFileSync(path, JSON.stringify(ESTIMATE));
    const input = loadReportInput(path, { storePath });
    expect(input.kind).toBe("estimate");
    if (input.kind !== "estimate") return;
    expect(input.estimate.energyKWh).toBe(1_287_000);
    expect(input.estimate.embodiedCo2eKg).toBeNull();
    expect(input.estimate.assumptions[1]).toEqual({
      name: "intensity",
      value: 429,
      unit: "gCO2e/kWh",
      source: "Patterson et al. 2021",
    });
    expect(input.estimate.raw.somethingElse).toEqual({ kept: true });
  });

  it("refuses a run without energy with the reasons it was not measured", () => {
    const path = join(dir, "run.json");
    writeFileSync(
      path,
      JSON.stringify(
        makeRunRecord({
          energyJ: { total: null, cpu: null, gpu: null, ram: null },
          unmeasured: [{ component: "cpu", reason: "no RAPL and no CPU model" }],
        }),
      ),
    );
    expectCode(() => loadReportInput(path, { storePath }), "BAD_INPUT", /has no energy.*no RAPL/);
    storeRun(
      makeRunRecord({ id: "empty-run", energyJ: { total: null, cpu: null, gpu: null, ram: null } }),
      1,
    );
    expectCode(() => loadReportInput("empty-run", { storePath }), "BAD_INPUT", /has no energy/);
  });

  it("tells a missing file, a missing store and an unknown run id apart", () => {
    expectCode(() => loadReportInput("nope/run.json", { storePath }), "NOT_FOUND", /no such file/);
    expectCode(() => loadReportInput("missing.json", { storePath }), "NOT_FOUND", /no such file/);
    expectCode(() => loadReportInput("1234abcd", { storePath }), "NOT_FOUND", /no run store/);
    storeRun(makeRunRecord({ id: "known" }), 1);
    expectCode(() => loadReportInput("1234abcd", { storePath }), "NOT_FOUND", /no run with id/);
  });

  it("refuses a directory", () => {
    const sub = join(dir, "folder");
    mkdirSync(sub);
    expectCode(() => loadReportInput(sub, { storePath }), "BAD_INPUT", /is a directory/);
  });
});

describe("parseReportDocument", () => {
  it.each([
    ["not json {", /not valid JSON/],
    ["[1, 2]", /not a JSON object/],
    ['{"hello": 1}', /neither a run record .* nor an estimate/],
  ])("refuses %j", (text, pattern) => {
    expectCode(() => parseReportDocument(text, "file x.json"), "BAD_INPUT", pattern);
  });

  it.each([
    [
      "energyJ.total",
      (r: Record<string, unknown>) => ((r.energyJ as Record<string, unknown>).total = "9 kJ"),
    ],
    ["intensityGPerKWh", (r: Record<string, unknown>) => (r.intensityGPerKWh = null)],
    ["pue", (r: Record<string, unknown>) => (r.pue = 0.5)],
    ["sources[0].method", (r: Record<string, unknown>) => (r.sources = [{ component: "cpu" }])],
    [
      "phases[0].energyJ",
      (r: Record<string, unknown>) => (r.phases = [{ name: "a", startedAt: "x" }]),
    ],
    [
      "machine.gpus",
      (r: Record<string, unknown>) => ((r.machine as Record<string, unknown>).gpus = "none"),
    ],
    ["durationS", (r: Record<string, unknown>) => (r.durationS = -1)],
  ])("names the bad run field %s", (field, damage) => {
    const record = JSON.parse(JSON.stringify(makeRunRecord())) as Record<string, unknown>;
    damage(record);
    const error = errorOf(() => parseReportDocument(JSON.stringify(record), "file run.json"));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toContain(`field ${field}`);
    expect(error.message).toContain("file run.json");
  });

  it.each([
    ["energyKWh", { energyKWh: -3 }, /field energyKWh/],
    ["null energy", { energyKWh: null }, /has no energy/],
    ["co2eKg", { co2eKg: "lots" }, /field co2eKg/],
    [
      "assumption value",
      { assumptions: [{ name: "x", value: { deep: 1 } }] },
      /assumptions\[0\]\.value/,
    ],
    ["assumption name", { assumptions: [{ value: 1 }] }, /assumptions\[0\]\.name/],
  ])("names the bad estimate field (%s)", (_label, overrides, pattern) => {
    const text = JSON.stringify({ ...ESTIMATE, ...overrides });
    expectCode(() => parseReportDocument(text, "file e.json"), "BAD_INPUT", pattern);
  });
});
