import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bucketSamples, renderHtmlReport } from "../../src/report/html.js";
import type { ReportInput } from "../../src/report/load-input.js";
import { buildReportModel, type ReportOptions } from "../../src/report/report-model.js";
import type { RunRecord, TimelineSample } from "../../src/record/run-record.js";
import { makeRunRecord, makeSample } from "../fixtures/store/record-factory.js";

function report(
  record: Partial<RunRecord> = {},
  samples: TimelineSample[] | null = null,
  options: ReportOptions = {},
  maxPointsPerSeries?: number,
): string {
  const input: ReportInput = {
    kind: "run",
    origin: "test",
    run: makeRunRecord(record),
    samples,
    samplesNote: samples === null ? "a run record file holds no timeline" : null,
  };
  return renderHtmlReport(buildReportModel(input, options), samples, { maxPointsPerSeries });
}

const PHASES: RunRecord["phases"] = [
  {
    name: "load",
    startedAt: "2025-03-01T10:00:00.000Z",
    endedAt: "2025-03-01T10:00:10.000Z",
    energyJ: { total: 900, cpu: 500, gpu: 300, ram: 100 },
    co2eG: 0.015,
  },
  {
    name: "train",
    startedAt: "2025-03-01T10:00:10.000Z",
    endedAt: null,
    energyJ: { total: 8100, cpu: 4500, gpu: 3600, ram: null },
    co2eG: 0.135,
  },
];

/** The attribute values of every `data-series` group of one chart. */
function seriesOf(html: string, chart: string): Record<string, number> {
  const svg = new RegExp(`<svg[^>]*data-chart="${chart}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? "";
  return Object.fromEntries(
    [...svg.matchAll(/data-series="([^"]+)" data-points="(\d+)"/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]),
  );
}

describe("renderHtmlReport", () => {
  it("is one self-contained document: no script, no external resource, a CSP that forbids them", () => {
    const html = report(
      { phases: PHASES },
      [0, 1, 2].map((seq) => makeSample(seq)),
    );
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none';`,
    );
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|url\(/i);
    expect(html).not.toMatch(/\ssrc=/i);
    // Links to sources are plain anchors, the only http(s) references besides the SVG namespace.
    const references = [...html.matchAll(/"(https?:[^"]+)"/g)].map((m) => m[1]);
    for (const reference of references) {
      expect(
        reference === "http://www.w3.org/2000/svg" || html.includes(`<a href="${reference}"`),
      ).toBe(true);
    }
  });

  it("draws power per measured component and the whole machine, one point per sample", () => {
    const samples = Array.from({ length: 40 }, (_, seq) => makeSample(seq));
    const html = report({}, samples);
    // The fixture's samples have CPU and RAM power and no GPU power.
    expect(seriesOf(html, "power")).toEqual({ cpu: 40, ram: 40, machine: 40 });
    expect(html).toContain("40 samples.");
  });

  it("averages long timelines into at most the allowed number of points", () => {
    const samples = Array.from({ length: 1000 }, (_, seq) => makeSample(seq));
    const series = seriesOf(report({}, samples, {}, 300), "power");
    // 1000 samples in buckets of ceil(1000 / 300) = 4: 250 points.
    expect(series.cpu).toBe(250);
    expect(series.machine).toBe(250);
  });

  it("says there is no timeline for a run.json instead of drawing an empty chart", () => {
    const html = report();
    expect(html).not.toContain('data-chart="power"');
    expect(html).toContain("No power timeline: a run record file holds no timeline");
  });

  it("draws energy by phase, one bar per phase with its measured components", () => {
    const html = report({ phases: PHASES });
    const chart = /<svg[^>]*data-chart="phases"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? "";
    expect(chart.match(/class="bar"/g)).toHaveLength(2);
    expect(chart.match(/data-segment=/g)).toHaveLength(3 + 2);
    expect(chart).toContain('data-value="1"'); // 3600 J of GPU = 1 Wh
  });

  it("draws the constant intensity with its source when there is no series", () => {
    const html = report();
    expect(seriesOf(html, "intensity")).toEqual({ intensity: 2 });
    expect(html).toContain("constant: 56 gCO2e/kWh, test table (2023)");
  });

  it("draws a given intensity series with a gap left blank", () => {
    const start = Date.parse("2025-03-01T10:00:00.000Z");
    const html = report({}, null, {
      intensitySeries: {
        source: "trace.csv",
        points: [
          { startMs: start, endMs: start + 3_600_000, intensityGPerKWh: 100 },
          { startMs: start + 7_200_000, endMs: start + 10_800_000, intensityGPerKWh: 300 },
        ],
      },
    });
    expect(seriesOf(html, "intensity")).toEqual({ intensity: 4 });
    const path = /data-chart="intensity"[\s\S]*?<path d="([^"]+)"/.exec(html)?.[1] ?? "";
    expect(path.match(/M/g)).toHaveLength(2); // the gap starts a new line
  });

  it("compares operational and embodied emissions, or says why embodied is missing", () => {
    const without = report();
    expect(without).toContain('data-segment="operational"');
    expect(without).not.toContain('data-segment="embodied"');
    expect(without).toContain(
      "Embodied emissions unknown: a run record holds no embodied emissions",
    );
    const withEmbodied = report({}, null, { embodied: { totalEmbodiedKg: 1000, source: "user" } });
    expect(withEmbodied).toContain('data-segment="embodied"');
  });

  it("escapes everything that comes from the record", () => {
    const html = report({
      command: ["python", "<script>alert(1)</script>"],
      warnings: ['a "quoted" <b>warning</b>'],
    });
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("a &quot;quoted&quot; &lt;b&gt;warning&lt;/b&gt;");
  });

  it("lists every source with its provenance, the intensity source and the PUE source", () => {
    const html = report({
      sources: [
        {
          component: "gpu",
          method: "power-integration",
          source: "nvidia-smi:power.draw",
          label: "GPU 0 (NVIDIA L4)",
          attribution: "share of SM utilisation",
          machineEnergyJ: 3600,
          attributedEnergyJ: 1800,
          notes: ["polled every 1 s"],
        },
      ],
      unmeasured: [{ component: "ram", reason: "no RAPL dram domain" }],
      pueSource: "AWS global PUE, 2023",
    });
    for (const text of [
      "nvidia-smi:power.draw",
      "power-integration",
      "share of SM utilisation",
      "polled every 1 s",
      "no RAPL dram domain",
      "AWS global PUE, 2023",
      "test table",
    ]) {
      expect(html).toContain(text);
    }
  });
});

describe("bucketSamples", () => {
  it("keeps the energy of the timeline when it averages", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            power: fc.double({ min: 0, max: 1000, noNaN: true }),
            intervalS: fc.double({ min: 0.01, max: 10, noNaN: true }),
          }),
          { minLength: 1, maxLength: 200 },
        ),
        fc.integer({ min: 1, max: 50 }),
        (rows, maxBuckets) => {
          let elapsedS = 0;
          const samples = rows.map((row, seq) => {
            elapsedS += row.intervalS;
            return {
              ...makeSample(seq),
              elapsedS,
              intervalS: row.intervalS,
              attributedPowerW: { cpu: row.power, gpu: null, ram: null },
            };
          });
          const buckets = bucketSamples(samples, maxBuckets);
          const size = Math.ceil(samples.length / maxBuckets);
          expect(buckets.length).toBeLessThanOrEqual(maxBuckets);
          const energyJ = rows.reduce((sum, row) => sum + row.power * row.intervalS, 0);
          const bucketEnergyJ = buckets.reduce((sum, bucket, index) => {
            const span = rows
              .slice(index * size, (index + 1) * size)
              .reduce((s, r) => s + r.intervalS, 0);
            return sum + (bucket.attributed.cpu ?? 0) * span;
          }, 0);
          expect(Math.abs(bucketEnergyJ - energyJ)).toBeLessThanOrEqual(
            1e-9 * Math.max(1, energyJ),
          );
          expect(buckets.every((bucket) => bucket.attributed.gpu === null)).toBe(true);
        },
      ),
    );
  });
});
