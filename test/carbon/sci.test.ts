import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  computeSci,
  DEFAULT_HARDWARE_LIFETIME_YEARS,
  embodiedShare,
  parseFunctionalUnit,
  type SciInput,
} from "../../src/carbon/sci.js";
import { WattprintError } from "../../src/errors.js";

const HOUR_S = 3600;

describe("embodiedShare (M = TE × TiR/EL × RR/ToR)", () => {
  it("reproduces the SCI specification's example: 1000 kg over 4 years, reserved 1 hour ≈ 28 g", () => {
    const share = embodiedShare(
      { totalEmbodiedKg: 1000, lifetimeYears: 4, source: "spec" },
      HOUR_S,
    );
    // The spec writes 1000 * 1/(4*365*24) "or around 28 g".
    expect(share.embodiedCo2eG).toBeGreaterThan(28);
    expect(share.embodiedCo2eG).toBeLessThan(29);
    expect(share.timeShare).toBeCloseTo(1 / 35_040, 12);
    expect(share.resourceShare).toBe(1);
    expect(share.totalEmbodiedG).toBe(1_000_000);
  });

  it("defaults to a 4-year life and the whole device", () => {
    expect(DEFAULT_HARDWARE_LIFETIME_YEARS).toBe(4);
    const implicit = embodiedShare({ totalEmbodiedKg: 500, source: "x" }, 10 * HOUR_S);
    const explicit = embodiedShare(
      { totalEmbodiedKg: 500, lifetimeYears: 4, resourceShare: 1, source: "x" },
      10 * HOUR_S,
    );
    expect(implicit.embodiedCo2eG).toBeCloseTo(explicit.embodiedCo2eG, 9);
  });

  it("scales with the resource share and inversely with the lifespan", () => {
    const base = embodiedShare({ totalEmbodiedKg: 1200, lifetimeYears: 4, source: "x" }, 86_400);
    const quarter = embodiedShare(
      { totalEmbodiedKg: 1200, lifetimeYears: 4, resourceShare: 0.25, source: "x" },
      86_400,
    );
    const longer = embodiedShare({ totalEmbodiedKg: 1200, lifetimeYears: 8, source: "x" }, 86_400);
    expect(quarter.embodiedCo2eG).toBeCloseTo(base.embodiedCo2eG / 4, 9);
    expect(longer.embodiedCo2eG).toBeCloseTo(base.embodiedCo2eG / 2, 9);
  });

  it("never charges more than the whole device: the time share is capped at 1", () => {
    const share = embodiedShare(
      { totalEmbodiedKg: 100, lifetimeYears: 1, source: "x" },
      3 * 365 * 86_400,
    );
    expect(share.timeShare).toBe(1);
    expect(share.embodiedCo2eG).toBeCloseTo(100_000, 6);
  });

  it.each([
    [{ totalEmbodiedKg: -1, source: "x" }, 1],
    [{ totalEmbodiedKg: 1, lifetimeYears: 0, source: "x" }, 1],
    [{ totalEmbodiedKg: 1, resourceShare: 0, source: "x" }, 1],
    [{ totalEmbodiedKg: 1, resourceShare: 1.5, source: "x" }, 1],
    [{ totalEmbodiedKg: Number.NaN, source: "x" }, 1],
    [{ totalEmbodiedKg: 1, source: "x" }, -5],
  ])("rejects %j reserved %d s", (hardware, seconds) => {
    expect(() => embodiedShare(hardware, seconds)).toThrow(WattprintError);
  });
});

describe("computeSci", () => {
  const input = (overrides: Partial<SciInput> = {}): SciInput => ({
    energyJ: 3_600_000, // 1 kWh
    intensityGPerKWh: 400,
    pue: 1.5,
    embodied: { embodiedCo2eG: 100, source: "test" },
    functionalUnit: "request",
    functionalUnits: 350,
    ...overrides,
  });

  it("computes ((E × PUE × I) + M) / R", () => {
    const sci = computeSci(input());
    // O = 1 kWh × 1.5 × 400 = 600 g; (600 + 100) / 350 = 2 g per request.
    expect(sci.operationalCo2eG).toBeCloseTo(600, 9);
    expect(sci.energyKWh).toBeCloseTo(1.5, 12);
    expect(sci.sciGPerUnit).toBeCloseTo(2, 12);
    expect(sci.operationalGPerUnit).toBeCloseTo(600 / 350, 12);
    expect(sci.embodiedGPerUnit).toBeCloseTo(100 / 350, 12);
    expect(sci.operationalMethod).toBe("E × PUE × I");
    expect(sci.missing).toEqual([]);
  });

  it("gives no score, but O / R and the reason, when M is unknown", () => {
    const sci = computeSci(input({ embodied: null, embodiedUnknownReason: "no LCA data" }));
    expect(sci.sciGPerUnit).toBeNull();
    expect(sci.embodiedGPerUnit).toBeNull();
    expect(sci.operationalGPerUnit).toBeCloseTo(600 / 350, 12);
    expect(sci.missing.join(" ")).toContain("no LCA data");
  });

  it("uses a given O when E, I or PUE is missing", () => {
    const sci = computeSci(input({ energyJ: null, operationalCo2eG: 250 }));
    expect(sci.operationalMethod).toBe("given");
    expect(sci.sciGPerUnit).toBeCloseTo(350 / 350, 12);
    expect(sci.intensityGPerKWh).toBeNull();
  });

  it("prefers a given O (a run's interval-by-interval CO2e) and still echoes E, I and PUE", () => {
    const sci = computeSci(input({ operationalCo2eG: 550, operationalSource: "run CO2e" }));
    expect(sci.operationalCo2eG).toBe(550);
    expect(sci.operationalMethod).toBe("given");
    expect(sci.operationalSource).toBe("run CO2e");
    expect(sci.energyKWh).toBeCloseTo(1.5, 12);
    expect(sci.intensityGPerKWh).toBe(400);
    expect(sci.sciGPerUnit).toBeCloseTo(650 / 350, 12);
  });

  it("names what is missing when O cannot be formed", () => {
    const sci = computeSci(input({ intensityGPerKWh: null }));
    expect(sci.sciGPerUnit).toBeNull();
    expect(sci.operationalGPerUnit).toBeNull();
    expect(sci.missing[0]).toContain("I (carbon intensity)");
  });

  it.each([0, -3, Number.NaN, Number.POSITIVE_INFINITY])("rejects R = %d", (units) => {
    expect(() => computeSci(input({ functionalUnits: units }))).toThrow(/number of requests/);
  });

  it("rejects a PUE below 1 and negative energy", () => {
    expect(() => computeSci(input({ pue: 0.9 }))).toThrow(WattprintError);
    expect(() => computeSci(input({ energyJ: -1 }))).toThrow(WattprintError);
  });

  it("is a rate: SCI × R is the same total whatever R, and splits into O/R + M/R", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        fc.double({ min: 0, max: 2000, noNaN: true }),
        fc.double({ min: 1, max: 3, noNaN: true }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e9, noNaN: true }),
        (energyJ, intensity, pue, embodiedG, units) => {
          const sci = computeSci(
            input({
              energyJ,
              intensityGPerKWh: intensity,
              pue,
              embodied: { embodiedCo2eG: embodiedG, source: "p" },
              functionalUnits: units,
            }),
          );
          const total = (energyJ / 3_600_000) * pue * intensity + embodiedG;
          const score = sci.sciGPerUnit as number;
          expect(score * units).toBeCloseTo(total, Math.max(0, 6 - Math.log10(total + 1)));
          expect(score).toBeCloseTo(
            (sci.operationalGPerUnit as number) + (sci.embodiedGPerUnit as number),
            Math.max(0, 6 - Math.log10(score + 1)),
          );
        },
      ),
    );
  });
});

describe("parseFunctionalUnit", () => {
  it("accepts the four units in any case and refuses others with the list", () => {
    expect(parseFunctionalUnit("Token")).toBe("token");
    expect(parseFunctionalUnit(" epoch ")).toBe("epoch");
    let error: unknown;
    try {
      parseFunctionalUnit("user");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).code).toBe("USAGE");
    expect((error as WattprintError).hint).toContain("request, token, sample, epoch");
  });
});
