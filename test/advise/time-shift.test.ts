import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adviseRun } from "../../src/advise/advise.js";
import type { AdviceReport, AdviseOptions } from "../../src/advise/types.js";
import { J_PER_KWH, meanOverHours, readHourly, recordRun, type RunSpec } from "./fixtures.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const CISO = readHourly("US-CAL-CISO");

/** A 2-hour CPU job of 200 W (1.44 MJ) in `region` starting at `startedAt`. */
function twoHourJob(startedAt: string, region = "US-CAL-CISO"): RunSpec {
  return {
    startedAt,
    region,
    intervalS: 60,
    pue: 1.2,
    phases: [{ name: "train", durationS: 7200, gpuW: null, cpuW: 200 }],
  };
}

async function timeShift(spec: RunSpec, options: AdviseOptions = {}) {
  const { run, samples } = recordRun(spec);
  const report: AdviceReport = await adviseRun({ run, samples }, options);
  const rule = report.rules.find((item) => item.rule === "time-shift");
  if (rule === undefined) throw new Error("time-shift missing");
  return rule;
}

/** Brute force over hourly starts: the lowest 2 h mean that ends by start + 24 h. */
function bestWithin(series: [number, number][], startMs: number): number {
  let best = Infinity;
  for (let offset = 0; offset <= 22; offset += 1) {
    best = Math.min(best, meanOverHours(series, startMs + offset * HOUR_MS, 2));
  }
  return best;
}

/** numpy-style percentile (linear between order statistics). */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (b - a) * (position - lower);
}

describe("time-shift: a dirty-hour start", () => {
  const start = "2022-06-16T03:00:00.000Z"; // an evening peak in CAISO's 2022 data
  const startMs = Date.parse(start);
  const energyKWh = (200 * 7200) / J_PER_KWH;

  it("finds the greenest 2 h window within 24 h and its CO2e saving", async () => {
    const rule = await timeShift(twoHourJob(start));
    expect(rule.status).toBe("findings");
    const finding = rule.findings[0];
    const runNow = meanOverHours(CISO, startMs, 2);
    const best = bestWithin(CISO, startMs);
    expect(best).toBeLessThan(runNow * 0.95);
    expect(finding?.saving.co2eG).toBeCloseTo(energyKWh * 1.2 * (runNow - best), 6);
    expect(finding?.saving.energyJ).toBe(0);
    expect(finding?.confidence).toBe("high");
    expect(finding?.command).toBe(
      "wattprint schedule --duration 2h --deadline 24h --region US-CAL-CISO --power 200W --now 2022-06-16T03:00:00.000Z",
    );
    const evidence = finding?.evidence.find(
      (item) => item.label === "intensity at the run's hours",
    );
    expect(evidence?.value).toBeCloseTo(runNow, 9);
  });

  it("takes its range from the same job on the 7 days either side", async () => {
    const rule = await timeShift(twoHourJob(start));
    const finding = rule.findings[0];
    const savingsPercent: number[] = [];
    for (let day = -7; day <= 7; day += 1) {
      const dayStart = startMs + day * DAY_MS;
      const runNow = meanOverHours(CISO, dayStart, 2);
      savingsPercent.push(100 * (1 - bestWithin(CISO, dayStart) / runNow));
    }
    const runNowG = energyKWh * 1.2 * meanOverHours(CISO, startMs, 2);
    const central = finding?.saving.co2eG as number;
    expect(finding?.saving.low.co2eG).toBeCloseTo(
      Math.min(central, (runNowG * percentile(savingsPercent, 10)) / 100),
      6,
    );
    expect(finding?.saving.high.co2eG).toBeCloseTo(
      Math.max(central, (runNowG * percentile(savingsPercent, 90)) / 100),
      6,
    );
  });

  it("replays a run from another year on the same hour and weekday of 2022", async () => {
    // 2025-06-15 is a Sunday; the nearest Sunday to 2022-06-15 is 2022-06-12.
    const rule = await timeShift(twoHourJob("2025-06-15T03:00:00.000Z"));
    const replayMs = Date.parse("2022-06-12T03:00:00.000Z");
    expect(rule.status).toBe("findings");
    const finding = rule.findings[0];
    expect(finding?.evidence.find((item) => item.label === "replayed start")?.value).toBe(
      "2022-06-12T03:00:00.000Z",
    );
    const expected =
      energyKWh * 1.2 * (meanOverHours(CISO, replayMs, 2) - bestWithin(CISO, replayMs));
    expect(finding?.saving.co2eG).toBeCloseTo(expected, 6);
    expect(finding?.confidence).toBe("medium");
    expect(finding?.notes.join(" ")).toMatch(/replayed as if it had started at 2022-06-12T03:00/);
  });
});

describe("time-shift: nothing to gain", () => {
  it("finds nothing for a run that started at the greenest time", async () => {
    // The first hour of June 2022 whose 2 h window is already the lowest of the next 24 h.
    let greenest = NaN;
    for (
      let ms = Date.parse("2022-06-01T00:00:00Z");
      ms < Date.parse("2022-07-01T00:00:00Z");
      ms += HOUR_MS
    ) {
      if (meanOverHours(CISO, ms, 2) <= bestWithin(CISO, ms)) {
        greenest = ms;
        break;
      }
    }
    expect(Number.isFinite(greenest)).toBe(true);
    const rule = await timeShift(twoHourJob(new Date(greenest).toISOString()));
    expect(rule.status).toBe("ok");
    expect(rule.findings).toHaveLength(0);
  });

  it("finds nothing when the deadline leaves no slack", async () => {
    const rule = await timeShift(twoHourJob("2022-06-16T03:00:00.000Z"), { deadlineS: 3600 });
    expect(rule.status).toBe("ok");
    expect(rule.summary).toMatch(/longer than the 1 h deadline/);
  });
});

describe("time-shift: data", () => {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-advise-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("says what is missing for a region without hourly data", async () => {
    const rule = await timeShift(twoHourJob("2022-06-16T03:00:00.000Z", "FR"));
    expect(rule.status).toBe("not-enough-data");
    expect(rule.missing[0]).toMatch(/hourly intensity for FR/);
    expect(rule.hint).toMatch(/--intensity-file/);
  });

  it("uses an intensity file at the run's own time", async () => {
    // 10 dirty hours, then clean ones.
    const startMs = Date.parse("2025-03-03T00:00:00Z");
    const rows = ["timestamp,intensity"];
    for (let hour = 0; hour < 30; hour += 1) {
      rows.push(`${new Date(startMs + hour * HOUR_MS).toISOString()},${hour < 10 ? 400 : 100}`);
    }
    const file = join(dir, "fr.csv");
    writeFileSync(file, `${rows.join("\n")}\n`);
    const rule = await timeShift(twoHourJob("2025-03-03T00:00:00.000Z", "FR"), {
      intensityFile: file,
    });
    expect(rule.status).toBe("findings");
    expect(rule.findings[0]?.saving.co2eG).toBeCloseTo(
      ((200 * 7200) / J_PER_KWH) * 1.2 * (400 - 100),
      6,
    );
    expect(rule.findings[0]?.command).toContain(`--intensity-file ${file}`);
  });
});
