import { describe, expect, it } from "vitest";
import {
  assumption,
  checkPue,
  DEFAULT_ESTIMATE_PUE,
  describeNumber,
  resolveGridContext,
} from "../../src/estimate/assumptions.js";
import { resolveRegion, worldAverageRegion } from "../../src/grid/regions.js";
import { WattprintError } from "../../src/errors.js";

describe("assumption", () => {
  it("keeps unknown as null, never NaN", () => {
    expect(assumption("x", Number.NaN, "W", "s").value).toBeNull();
    expect(assumption("x", Number.POSITIVE_INFINITY, "W", "s").value).toBeNull();
    expect(assumption("x", 3, "W", "s")).toEqual({ name: "x", value: 3, unit: "W", source: "s" });
  });
});

describe("resolveGridContext", () => {
  it("takes a user intensity with no region", () => {
    const grid = resolveGridContext({ intensityGPerKWh: 57, pue: 1.1 });
    expect(grid).toMatchObject({ intensityGPerKWh: 57, pue: 1.1, region: null });
    expect(grid.assumptions.map((entry) => entry.source)).toEqual([
      "given by the user",
      "given by the user",
    ]);
  });

  it("takes a country's intensity and the default PUE", () => {
    const grid = resolveGridContext({ region: "France" });
    expect(grid.intensityGPerKWh).toBe(resolveRegion("FR").intensityGPerKWh);
    expect(grid.region?.code).toBe("FR");
    expect(grid.pue).toBe(DEFAULT_ESTIMATE_PUE);
  });

  it("falls back to the world average, saying so", () => {
    const grid = resolveGridContext({});
    expect(grid.intensityGPerKWh).toBe(worldAverageRegion().intensityGPerKWh);
    expect(grid.assumptions[0]?.source).toMatch(/fallback: no region or intensity given/);
  });

  it("refuses a region and an intensity together", () => {
    expect(() => resolveGridContext({ region: "FR", intensityGPerKWh: 50 })).toThrow(
      WattprintError,
    );
  });

  it("accepts an intensity of 0 (all-hydro grid) but not a negative one", () => {
    expect(resolveGridContext({ intensityGPerKWh: 0 }).intensityGPerKWh).toBe(0);
    expect(() => resolveGridContext({ intensityGPerKWh: -3 })).toThrow(/invalid --intensity -3/);
  });
});

describe("checks and formatting", () => {
  it("accepts PUE from 1 to 3", () => {
    expect(() => checkPue(1)).not.toThrow();
    expect(() => checkPue(3)).not.toThrow();
    expect(() => checkPue(0.99)).toThrow(/between 1 and 3/);
    expect(() => checkPue(Number.NaN)).toThrow(/between 1 and 3/);
  });

  it("writes large and small numbers as a user would type them", () => {
    expect(describeNumber(7e9)).toBe("7e9");
    expect(describeNumber(1.72e6)).toBe("1.72e6");
    expect(describeNumber(12.5)).toBe("12.5");
    expect(describeNumber(-0.0001)).toBe("-1e-4");
  });
});
