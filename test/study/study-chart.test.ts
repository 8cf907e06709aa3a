import { describe, expect, it } from "vitest";
import { renderStudyMarkdownTable, renderStudyText } from "../../src/study/render-table.js";
import { compareVariants } from "../../src/study/run-study.js";
import { renderStudyChart } from "../../src/study/study-chart.js";
import { renderStudyHtml } from "../../src/study/study-report.js";
import type {
  QualityMetric,
  StudyResult,
  StudyVariantResult,
} from "../../src/study/study-result.js";

const KID: QualityMetric = { key: "kid", label: "KID", unit: "units", better: "lower" };

function variant(
  name: string,
  kid: number | null,
  trainingJ: number | null,
  inferenceJ: number | null,
): StudyVariantResult {
  return {
    name,
    description: `${name} <described>`,
    technique: name,
    params: 100,
    quality: { kid },
    training: {
      energyJ: trainingJ,
      co2eG: null,
      durationS: 2,
      epochsRun: 3,
      epochsPlanned: 4,
      stopReason: null,
      epochEnergyJ: [1, 2, null],
      cpuS: 1.5,
      includes: "training",
    },
    inference: {
      unit: "generate one image",
      energyJPer1k: inferenceJ,
      energyJPer1kRange: inferenceJ === null ? null : [inferenceJ * 0.9, inferenceJ * 1.1],
      co2eGPer1k: null,
      cpuSPer1k: 0.002,
      latencyMsP50: { batch1: 0.1, batch64: 1 },
      batchSize: 64,
      inferencesMeasured: 6400,
      rounds: 3,
    },
    trainingSavingPct: null,
    inferenceSavingPct: null,
    withinTolerance: true,
    toleranceNote: null,
    paretoTraining: false,
    paretoInference: false,
    notes: ["a <note>"],
  };
}

function result(variants: StudyVariantResult[]): StudyResult {
  const r = {
    schema: "wattprint-study/1",
    study: "gan",
    title: "A & B",
    wattprintVersion: "0.0.0",
    status: "complete",
    error: null,
    startedAt: "2026-01-01T00:00:00.000Z",
    durationS: 12,
    settings: { seed: 1, epochs: 4, quick: false, batchSize: 64, command: "wattprint study gan" },
    dataset: {
      name: "digits",
      source: "UCI",
      scaling: "value / 16",
      inputShape: [8, 8, 1],
      classes: 10,
      trainSamples: 10,
      validationSamples: 2,
      testSamples: 5,
    },
    runtime: { backend: "wasm", warnings: [] },
    measurement: {
      energySource: "cpu: model",
      energyMinDurationS: 3,
      energyWindows: 3,
      inferenceRounds: 3,
      note: "note",
    },
    quality: { primary: KID, metrics: [KID], tolerance: "KID within 1", method: "method" },
    overhead: null,
    variants,
    skipped: [{ name: "gone", reason: "it broke" }],
    finding: { variant: null, text: "" },
    warnings: ["careful"],
    files: { results: null, report: null, trainingChart: null, inferenceChart: null },
  } satisfies StudyResult;
  compareVariants(r, {
    primary: KID,
    tolerance: "KID within 1",
    checkTolerance: (v, b) =>
      (v.quality.kid as number) - (b.quality.kid as number) <= 1 ? null : "KID too high",
  });
  return r;
}

describe("study chart, table and report", () => {
  const study = result([
    variant("baseline", 2, 100, 10),
    variant("light", 2.5, 40, 4),
    variant("worse", 3.5, 120, 12),
    variant("unmeasured", 1, null, null),
  ]);

  it("draws each variant with both figures once, flags the front, and leaves the unmeasured out", () => {
    const svg = renderStudyChart(study, "training");
    const drawn = [
      ...svg.matchAll(
        /data-variant="([^"]+)" data-pareto="(true|false)" data-x="([^"]+)" data-y="([^"]+)"/g,
      ),
    ].map((m) => [m[1], m[2], Number(m[3]), Number(m[4])]);
    expect(drawn).toEqual([
      ["baseline", "true", 2, 100],
      ["light", "true", 2.5, 40],
      ["worse", "false", 3.5, 120],
    ]);
    expect(svg).toContain("lower is better");
    expect(svg).toContain('data-series="pareto-front"');
    expect(renderStudyChart(study, "inference")).toContain("J per 1,000 inferences");
  });

  it("says so instead of drawing an empty chart", () => {
    expect(renderStudyChart(result([variant("baseline", null, null, null)]), "training")).toContain(
      "no variant has both figures",
    );
  });

  it("tabulates every variant with savings as energy changes", () => {
    const text = renderStudyText(study);
    expect(text).toMatch(
      /^light +100 +2\.5 +3\/4 +2\.0 +1\.5 +40 +−60% +4 +−60% +2\.00 +yes +TI$/m,
    );
    expect(text).toMatch(/^worse .* \+20% .* no +·$/m);
    expect(text).toContain("skipped gone: it broke");
    const markdown = renderStudyMarkdownTable(study);
    // variant, params, kid, then 10 figures: epochs to Pareto.
    expect(markdown.split("\n")[1]).toBe(`|---|${"---:|".repeat(12)}`);
    expect(markdown.trim().split("\n")).toHaveLength(2 + 4);
  });

  it("writes a self-contained, escaped HTML report", () => {
    const html = renderStudyHtml(study);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain("A &amp; B");
    expect(html).toContain("light &lt;described&gt;");
    expect(html).toContain("a &lt;note&gt;");
    expect(html).not.toContain("<described>");
    expect(html).toContain('data-chart="pareto-training"');
    expect(html).toContain('data-chart="epoch-energy"');
    expect(html).toContain("Outside the tolerance: KID too high.");
    expect(html).toContain("<li>careful</li>");
  });
});
