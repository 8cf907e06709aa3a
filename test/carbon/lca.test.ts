import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assessLifecycle, type LcaInference, type LcaTraining } from "../../src/carbon/lca.js";
import { WattprintError } from "../../src/errors.js";

const training = (overrides: Partial<LcaTraining> = {}): LcaTraining => ({
  label: "run test",
  operationalCo2eG: 1000,
  embodiedCo2eG: null,
  embodiedNote: "not given",
  ...overrides,
});

// 1000 requests/day × 36 J = 36 kJ = 0.01 kWh per day; × PUE 1 × 500 g/kWh = 5 g per day.
const inference = (overrides: Partial<LcaInference> = {}): LcaInference => ({
  requestsPerDay: 1000,
  deploymentDays: 365,
  energyPerRequestJ: 36,
  energyPerRequestSource: "test",
  intensityGPerKWh: 500,
  intensitySource: "test grid",
  pue: 1,
  pueSource: "test",
  hardware: null,
  ...overrides,
});

describe("assessLifecycle", () => {
  it("adds training and inference and finds the day inference overtakes training", () => {
    const result = assessLifecycle(training(), inference({ startDate: "2025-01-01" }));
    expect(result.inference.perDayCo2eG).toBeCloseTo(5, 9);
    expect(result.inference.operationalCo2eG).toBeCloseTo(5 * 365, 6);
    expect(result.inference.requests).toBe(365_000);
    expect(result.lifecycle.totalCo2eG).toBeCloseTo(1000 + 1825, 6);
    expect(result.lifecycle.perRequestCo2eG).toBeCloseTo(2825 / 365_000, 12);
    expect(result.inference.perRequestCo2eG).toBeCloseTo(5 / 1000, 12);
    expect(result.lifecycle.trainingShare).toBeCloseTo(1000 / 2825, 9);
    // 1000 g / 5 g per day = 200 days: equal at the end of day 200, ahead during day 201.
    expect(result.crossover.afterDays).toBeCloseTo(200, 9);
    expect(result.crossover.day).toBe(201);
    // 2025-01-01 + 200 days (31+28+31+30+31+30 = 181 to July 1, +19).
    expect(result.crossover.date).toBe("2025-07-20");
    expect(result.crossover.withinDeployment).toBe(true);
  });

  it("applies PUE and intensity to inference energy", () => {
    const base = assessLifecycle(training(), inference());
    const dirty = assessLifecycle(training(), inference({ pue: 1.5, intensityGPerKWh: 1000 }));
    expect(dirty.inference.operationalCo2eG).toBeCloseTo(base.inference.operationalCo2eG * 3, 6);
  });

  it("amortises the serving hardware over the deployment and says when embodied parts are missing", () => {
    const result = assessLifecycle(
      training({ embodiedCo2eG: 50, embodiedNote: "user" }),
      inference({
        hardware: { totalEmbodiedKg: 1000, lifetimeYears: 4, resourceShare: 0.5, source: "user" },
      }),
    );
    // 365 days of a 4 × 365-day life = 1/4; × 0.5 reserved; × 1,000,000 g = 125,000 g.
    expect(result.inference.embodiedCo2eG).toBeCloseTo(125_000, 3);
    expect(result.training.totalCo2eG).toBeCloseTo(1050, 9);
    expect(result.lifecycle.complete).toBe(true);
    expect(result.lifecycle.excluded).toEqual([]);

    const partial = assessLifecycle(training(), inference());
    expect(partial.lifecycle.complete).toBe(false);
    expect(partial.lifecycle.excluded).toHaveLength(2);
    expect(partial.inference.embodiedCo2eG).toBeNull();
    expect(partial.training.embodiedCo2eG).toBeNull();
  });

  it("takes embodied emissions per request instead of hardware, not both", () => {
    const result = assessLifecycle(
      training(),
      inference({ embodiedPerRequest: { co2eG: 0.002, source: "inference estimate" } }),
    );
    // 0.002 g × 1000 requests × 365 days = 730 g.
    expect(result.inference.embodiedCo2eG).toBeCloseTo(730, 9);
    expect(result.inference.embodiedSource).toBe("inference estimate");
    expect(result.inference.embodied).toBeNull();
    expect(() =>
      assessLifecycle(
        training(),
        inference({
          embodiedPerRequest: { co2eG: 0.002, source: "x" },
          hardware: { totalEmbodiedKg: 1, source: "y" },
        }),
      ),
    ).toThrow(/both given/);
  });

  it("reports a crossover after the deployment as such, and none when inference emits nothing", () => {
    const late = assessLifecycle(
      training({ operationalCo2eG: 10_000 }),
      inference({ deploymentDays: 30 }),
    );
    expect(late.crossover.day).toBe(2001);
    expect(late.crossover.withinDeployment).toBe(false);
    expect(late.crossover.date).toBeNull();

    const clean = assessLifecycle(training(), inference({ intensityGPerKWh: 0 }));
    expect(clean.crossover.afterDays).toBeNull();
    expect(clean.crossover.day).toBeNull();
    expect(clean.crossover.reason).toMatch(/nothing per day/);
  });

  it("gives no training share when nothing is emitted at all", () => {
    const none = assessLifecycle(
      training({ operationalCo2eG: 0 }),
      inference({ energyPerRequestJ: 0 }),
    );
    expect(none.lifecycle.totalCo2eG).toBe(0);
    expect(none.lifecycle.trainingShare).toBeNull();
  });

  it.each([
    [{ requestsPerDay: 0 }],
    [{ deploymentDays: -1 }],
    [{ energyPerRequestJ: Number.NaN }],
    [{ pue: 0.8 }],
    [{ intensityGPerKWh: -5 }],
    [{ startDate: "next tuesday" }],
  ])("rejects %j", (overrides) => {
    expect(() => assessLifecycle(training(), inference(overrides))).toThrow(WattprintError);
  });

  it("the crossover day is when cumulative inference first exceeds training", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1e7, noNaN: true }),
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: 1e-2, max: 1e5, noNaN: true }),
        (trainingG, requestsPerDay, energyPerRequestJ) => {
          const result = assessLifecycle(
            training({ operationalCo2eG: trainingG }),
            inference({ requestsPerDay, energyPerRequestJ }),
          );
          const perDay = result.inference.perDayCo2eG;
          const day = result.crossover.day as number;
          // After `day` full days inference is ahead; after day - 1 it was not.
          expect(perDay * day).toBeGreaterThan(trainingG * (1 - 1e-12));
          expect(perDay * (day - 1)).toBeLessThanOrEqual(trainingG * (1 + 1e-12));
        },
      ),
    );
  });
});
