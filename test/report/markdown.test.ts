import { describe, expect, it } from "vitest";
import { carbonStatement, mdTable, renderMarkdownReport } from "../../src/report/markdown.js";
import { parseReportDocument } from "../../src/report/load-input.js";
import { buildReportModel, type ReportOptions } from "../../src/report/report-model.js";
import type { RunRecord, TimelineSample } from "../../src/record/run-record.js";
import { makeRunRecord, makeSample } from "../fixtures/store/record-factory.js";

const model = (record: Partial<RunRecord> = {}, options: ReportOptions = {}) =>
  buildReportModel(
    { kind: "run", origin: "test", run: makeRunRecord(record), samples: null, samplesNote: "file" },
    options,
  );

const SOURCES: RunRecord["sources"] = [
  {
    component: "cpu",
    method: "counter",
    source: "rapl:package-0",
    label: "package-0",
    attribution: "CPU time",
    machineEnergyJ: 9000,
    attributedEnergyJ: 5000,
    notes: [],
  },
  {
    component: "ram",
    method: "model",
    source: "ram-model:0.3725 W/GB",
    label: "RAM",
    attribution: "RSS share",
    machineEnergyJ: 1500,
    attributedEnergyJ: 1000,
    notes: [],
  },
];

describe("carbonStatement", () => {
  it("states energy, duration, place, intensity with its source, PUE and emissions", () => {
    const text = carbonStatement(model({ sources: SOURCES, co2eG: 0.168 }));
    expect(text).toContain("This run used 2.5 Wh of electricity over 1 min 40 s");
    expect(text).toContain("in France (FR)");
    expect(text).toContain("hardware energy counters (rapl:package-0)");
    expect(text).toContain("power models (ram-model:0.3725 W/GB)");
    expect(text).toContain("56 gCO2e/kWh (test table, 2023)");
    expect(text).toContain("PUE of 1.2 (user)");
    expect(text).toContain("the operational emissions are 168 mg CO2e");
    expect(text).toContain("Embodied emissions of the hardware are not included.");
  });

  it("adds the embodied share and the total when known", () => {
    const text = carbonStatement(
      model({}, { embodied: { totalEmbodiedKg: 126_144, lifetimeYears: 4, source: "Dell LCA" } }),
    );
    // 100 s of a 126,144,000 s life × 126,144,000 g = 100 g.
    expect(text).toContain("adds 100 g CO2e (Dell LCA), for a total of 100 g CO2e");
  });

  it("says a fallback intensity is a fallback", () => {
    const text = carbonStatement(
      model({ intensitySource: { ...makeRunRecord().intensitySource, fallback: true } }),
    );
    expect(text).toContain("a fallback figure");
  });

  it("speaks of an estimate as an estimate", () => {
    const input = parseReportDocument(
      JSON.stringify({ deviceHours: 1.72e6, energyKWh: 1_287_000, co2eKg: null, assumptions: [] }),
      "file e.json",
    );
    const text = carbonStatement(buildReportModel(input));
    expect(text).toContain(
      "This work is estimated to use 1287000 kWh of electricity over 1720000 device-hours",
    );
    expect(text).toContain("The operational emissions are unknown");
    expect(text).not.toMatch(/\b0 g CO2e/);
  });
});

describe("renderMarkdownReport", () => {
  it("has the sections a pull request needs, with mean and peak power from samples", () => {
    const samples: TimelineSample[] = [0, 1, 2, 3].map((seq) => makeSample(seq));
    const text = renderMarkdownReport(model({ sources: SOURCES }), samples);
    for (const heading of [
      "## Summary",
      "## Power",
      "## Everyday equivalents",
      "## Carbon statement",
      "## Assumptions and sources",
    ]) {
      expect(text).toContain(`\n${heading}\n`);
    }
    // Attributed CPU power of the fixture samples: 50, 51, 52, 53 W.
    expect(text).toContain("| cpu | 51.5 W | 53 W |");
    expect(text).toContain("| gpu | not measured | not measured |");
    expect(text.endsWith("\n")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(false);
  });

  it("says why there is no power table for a run.json", () => {
    const text = renderMarkdownReport(model(), null);
    expect(text).toContain("No power timeline: file.");
  });

  it("adds the SCI with its terms when a functional unit is given", () => {
    const text = renderMarkdownReport(
      model({}, { functionalUnit: { unit: "epoch", count: 3 } }),
      null,
    );
    expect(text).toContain("## Software Carbon Intensity (ISO/IEC 21031:2024)");
    expect(text).toContain("| SCI = (O + M) / R | unknown |");
    expect(text).toContain("| O / R | 50 mg CO2e per epoch |");
    expect(text).toContain("- M unknown:");
  });
});

describe("mdTable", () => {
  it("escapes pipes and line breaks so a cell stays a cell", () => {
    expect(mdTable(["a"], [["x | y\nz"]])).toEqual(["| a |", "| --- |", "| x \\| y z |"]);
  });
});
