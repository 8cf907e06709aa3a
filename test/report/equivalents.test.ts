import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WattprintError } from "../../src/errors.js";
import { computeEquivalents, loadEquivalentFactors } from "../../src/report/equivalents.js";
import { REPO_ROOT } from "../helpers/cli.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "wattprint-equivalents-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = "id,label,basis,amount,amount_unit,source,url,licence,year,derivation";

describe("the packaged equivalents table", () => {
  const factors = loadEquivalentFactors();

  it("has an energy-based and a CO2e-based equivalent, each with source, URL, licence and year", () => {
    expect(factors.map((f) => f.basis)).toEqual(expect.arrayContaining(["energy", "co2e"]));
    for (const factor of factors) {
      expect(factor.source.length).toBeGreaterThan(10);
      expect(factor.url).toMatch(/^https:\/\//);
      expect(factor.licence).not.toBe("");
      expect(factor.year).toBeGreaterThanOrEqual(2015);
      expect(factor.derivation).not.toBe("");
    }
  });

  it("is documented, row by row, in data/SOURCES.md", () => {
    const sources = readFileSync(join(REPO_ROOT, "data/SOURCES.md"), "utf8");
    const section = sources.slice(sources.indexOf("## Everyday equivalents"));
    expect(section.startsWith("## Everyday equivalents")).toBe(true);
    for (const factor of factors) expect(section).toContain(`\`${factor.id}\``);
  });

  it("derives its figures as the table says", () => {
    const car = factors.find((f) => f.id === "car-km");
    const phone = factors.find((f) => f.id === "smartphone-charge");
    const home = factors.find((f) => f.id === "us-home-day");
    // 8,887 g CO2 per gallon at 22.2 mpg, per km.
    expect(car?.amount).toBeCloseTo(8887 / 22.2 / 1.609344, 0);
    // 14.46 Wh a day minus 22 h × 0.13 W.
    expect(phone?.amount).toBeCloseTo((14.46 - 22 * 0.13) / 1000, 4);
    // 10,791 kWh a year.
    expect(home?.amount).toBeCloseTo(10_791 / 365, 1);
  });
});

describe("computeEquivalents", () => {
  it("divides energy by energy factors and CO2e by CO2e factors", () => {
    const factors = [
      {
        id: "e",
        label: "E",
        basis: "energy" as const,
        amount: 0.5,
        amountUnit: "kWh per E",
        source: "s",
        url: "u",
        licence: "l",
        year: 2024,
        derivation: "d",
      },
      {
        id: "c",
        label: "C",
        basis: "co2e" as const,
        amount: 200,
        amountUnit: "g per C",
        source: "s",
        url: "u",
        licence: "l",
        year: 2024,
        derivation: "d",
      },
    ];
    const [energy, co2e] = computeEquivalents(3_600_000, 1000, factors);
    expect(energy?.value).toBeCloseTo(2, 12); // 1 kWh / 0.5 kWh
    expect(co2e?.value).toBeCloseTo(5, 12); // 1000 g / 200 g
    expect(co2e?.factor).toBe("200 g per C");
  });

  it("keeps unknown as unknown, with the reason", () => {
    const results = computeEquivalents(3_600_000, null);
    const car = results.find((r) => r.id === "car-km");
    const phone = results.find((r) => r.id === "smartphone-charge");
    expect(car?.value).toBeNull();
    expect(car?.reason).toMatch(/CO2e is unknown/);
    expect(phone?.value).toBeCloseTo(1 / 0.0116, 6);
  });
});

describe("loadEquivalentFactors from a folder", () => {
  it("reads a table given by the caller", () => {
    writeFileSync(
      join(dir, "equivalents.csv"),
      `${HEADER}\nx,things,energy,2,kWh per thing,src,https://e.org,CC0,2024,by hand\n`,
    );
    expect(loadEquivalentFactors(dir)).toEqual([
      {
        id: "x",
        label: "things",
        basis: "energy",
        amount: 2,
        amountUnit: "kWh per thing",
        source: "src",
        url: "https://e.org",
        licence: "CC0",
        year: 2024,
        derivation: "by hand",
      },
    ]);
  });

  it.each([
    ["x,things,light,2,kWh,src,u,l,2024,d", /basis/],
    ["x,things,energy,0,kWh,src,u,l,2024,d", /amount/],
    ["x,things,energy,two,kWh,src,u,l,2024,d", /amount/],
    ["x,things,energy,2,kWh,src,u,l,,d", /year/],
  ])("names the bad cell of %j", (row, pattern) => {
    writeFileSync(join(dir, "equivalents.csv"), `${HEADER}\n${row}\n`);
    let error: unknown;
    try {
      loadEquivalentFactors(dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).message).toMatch(pattern);
    expect((error as WattprintError).message).toContain("line 2");
  });
});
