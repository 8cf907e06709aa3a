import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { EmissionsLedger } from "../../src/carbon/emissions-ledger.js";
import { makeSeries } from "../../src/grid/series.js";

const HOUR_MS = 3_600_000;
const KWH_J = 3_600_000;

function hourly(values: number[], startMs = 0) {
  return makeSeries({
    zone: "TEST",
    signal: "average",
    source: "test",
    originalUnit: "gCO2e/kWh",
    points: values.map((v, i) => ({
      startMs: startMs + i * HOUR_MS,
      endMs: startMs + (i + 1) * HOUR_MS,
      intensityGPerKWh: v,
    })),
  });
}

describe("EmissionsLedger", () => {
  it("books energy at the annual figure without a series", () => {
    const ledger = new EmissionsLedger(400, 1.5);
    const slice = ledger.add(0, 1000, KWH_J, 2 * KWH_J);
    expect(slice.co2eG).toBeCloseTo(600, 9);
    expect(slice.machineCo2eG).toBeCloseTo(1200, 9);
    expect(ledger.meanIntensityGPerKWh()).toBeCloseTo(400, 9);
  });

  it("books each interval at the series' time-weighted intensity", () => {
    const ledger = new EmissionsLedger(400, 1, hourly([100, 300]));
    ledger.add(0, HOUR_MS, KWH_J, null);
    // Half in the 100 hour, half in the 300 hour.
    const straddling = ledger.add(HOUR_MS / 2, (3 * HOUR_MS) / 2, KWH_J, null);
    expect(straddling.intensityGPerKWh).toBeCloseTo(200, 9);
    expect(ledger.co2eG).toBeCloseTo(100 + 200, 9);
    expect(ledger.meanIntensityGPerKWh()).toBeCloseTo(150, 9);
    expect(ledger.energyOutsideSeriesJ()).toBe(0);
  });

  it("falls back to the annual figure where the series has no data, and counts that energy", () => {
    const ledger = new EmissionsLedger(500, 1, hourly([100]));
    const half = ledger.add(HOUR_MS / 2, (3 * HOUR_MS) / 2, KWH_J, null);
    expect(half.seriesShare).toBeCloseTo(0.5, 9);
    expect(half.intensityGPerKWh).toBeCloseTo(300, 9);
    expect(ledger.energyOutsideSeriesJ()).toBeCloseTo(KWH_J / 2, 6);
  });

  it("re-books every interval when a series arrives late", () => {
    const ledger = new EmissionsLedger(400, 1);
    ledger.add(0, HOUR_MS, KWH_J, KWH_J);
    expect(ledger.co2eG).toBeCloseTo(400, 9);
    ledger.setSeries(hourly([50]));
    expect(ledger.co2eG).toBeCloseTo(50, 9);
    expect(ledger.machineCo2eG).toBeCloseTo(50, 9);
    expect(ledger.slices[0]?.seriesShare).toBe(1);
  });

  it("gives the same total however the run is cut into intervals (property)", () => {
    const series = hourly([120, 80, 300, 40, 500, 60]);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 * HOUR_MS }), { minLength: 1, maxLength: 12 }),
        (cuts) => {
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const whole = new EmissionsLedger(400, 1, series);
          const split = new EmissionsLedger(400, 1, series);
          const endMs = 6 * HOUR_MS;
          const powerW = 1000;
          whole.add(0, endMs, (powerW * endMs) / 1000, null);
          let from = 0;
          for (const to of [...points, endMs]) {
            split.add(from, to, (powerW * (to - from)) / 1000, null);
            from = to;
          }
          expect(split.co2eG).toBeCloseTo(whole.co2eG, 6);
        },
      ),
    );
  });
});
