import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import countries from "i18n-iso-countries";
import { afterEach, describe, expect, it } from "vitest";
import { WattprintError } from "../../src/errors.js";
import {
  DEFAULT_GRID_DATA_DIR,
  createRegionResolver,
  listRegions,
  resolveRegion,
  suggestRegions,
  worldAverageRegion,
} from "../../src/grid/regions.js";
import { parseCsv, readCsvTable } from "../../src/grid/load-table.js";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const DATA_DIR = fileURLToPath(DEFAULT_GRID_DATA_DIR);
const DC_RL_DIR = [
  join(ROOT, "shared/data/carbon-intensity/dc-rl"),
  join(ROOT, "../shared/data/carbon-intensity/dc-rl"),
].find((dir) => existsSync(join(dir, "CISO.csv")));

/** Ember's figures as the installed @tgwf/co2 ships them: an independent copy of the data. */
async function emberFigures(): Promise<Record<string, number>> {
  const file = join(ROOT, "node_modules/@tgwf/co2/dist/esm/data/average-intensities.min.js");
  const module = (await import(pathToFileURL(file).href)) as { data: Record<string, number> };
  return module.data;
}

function thrown(action: () => unknown): WattprintError {
  try {
    action();
  } catch (error) {
    if (error instanceof WattprintError) return error;
    throw error;
  }
  throw new Error("expected a WattprintError, nothing was thrown");
}

const temporaryDirs: string[] = [];
afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the package's grid tables in a temp dir, to damage one of them. */
function copyOfTables(): string {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-grid-"));
  temporaryDirs.push(dir);
  for (const name of readdirSync(DATA_DIR).filter((n) => n.endsWith(".csv"))) {
    copyFileSync(join(DATA_DIR, name), join(dir, name));
  }
  return dir;
}

describe("resolveRegion: accepted forms", () => {
  it("resolves ISO alpha-2, alpha-3 and names of a country to the same region", async () => {
    const ember = await emberFigures();
    const forms = ["FR", "fr", " Fr ", "FRA", "fra", "France", "FRANCE"];
    for (const form of forms) {
      const region = resolveRegion(form);
      expect(region.code).toBe("FR");
      expect(region.kind).toBe("country");
      expect(region.zone).toBe("FR");
      expect(region.intensityGPerKWh).toBeCloseTo(ember.FRA ?? Number.NaN, 6);
      expect(region.fallback).toBe(false);
      expect(region.signal).toBe("average");
      expect(region.source).toMatch(/^Ember .*CC BY 4\.0/);
      expect(region.source).toContain(String(region.year));
    }
  });

  it("resolves common names and aliases", () => {
    expect(resolveRegion("united kingdom").code).toBe("GB");
    expect(resolveRegion("UK").code).toBe("GB");
    expect(resolveRegion("Great Britain").code).toBe("GB");
    expect(resolveRegion("USA").code).toBe("US");
    expect(resolveRegion("United States of America").code).toBe("US");
    expect(resolveRegion("Côte d'Ivoire").code).toBe("CI");
    expect(resolveRegion("cote divoire").code).toBe("CI");
    expect(resolveRegion("Ivory Coast").code).toBe("CI");
    expect(resolveRegion("south korea").code).toBe("KR");
    expect(resolveRegion("Turkey").code).toBe("TR");
    expect(resolveRegion("Czech Republic").code).toBe("CZ");
  });

  it("lets a country win a name it shares with a US state", () => {
    expect(resolveRegion("Georgia").code).toBe("GE");
    expect(resolveRegion("US-GA").name).toBe("Georgia, United States");
    // A state name that no country has still resolves to the state.
    expect(resolveRegion("California").code).toBe("US-CA");
  });

  it("leaves a name two countries share to suggestions", () => {
    const error = thrown(() => resolveRegion("Congo"));
    expect(error.code).toBe("UNKNOWN_REGION");
    expect(error.hint).toContain("CD");
    expect(error.hint).toContain("CG");
  });

  it("resolves US states in any case and separator", () => {
    for (const form of ["US-CA", "us-ca", "US_CA", "us ca"]) {
      const region = resolveRegion(form);
      expect(region.code).toBe("US-CA");
      expect(region.kind).toBe("subdivision");
      expect(region.name).toBe("California, United States");
    }
  });

  it("resolves balancing authorities by EIA code, common name and Electricity Maps id", () => {
    for (const form of ["CISO", "ciso", "CAISO", "US-CAL-CISO", "us-cal-ciso"]) {
      const region = resolveRegion(form);
      expect(region.code).toBe("US-CAL-CISO");
      expect(region.zone).toBe("US-CAL-CISO");
      expect(region.year).toBe(2022);
    }
    expect(resolveRegion("PJM").code).toBe("US-MIDA-PJM");
    expect(resolveRegion("ERCOT").code).toBe("US-TEX-ERCO");
    expect(resolveRegion("US-CA").zone).toBe("US-CAL-CISO");
    expect(resolveRegion("US-CA").intensityGPerKWh).toBe(resolveRegion("CISO").intensityGPerKWh);
  });

  it("resolves cloud regions case-insensitively, with the provider's PUE", () => {
    const aws = resolveRegion("AWS:US-EAST-1");
    expect(aws.code).toBe("aws:us-east-1");
    expect(aws.kind).toBe("cloud");
    expect(aws.name).toContain("us-east-1");
    expect(aws.zone).toBe(resolveRegion("US-VA").zone);
    expect(aws.intensityGPerKWh).toBe(resolveRegion("US-VA").intensityGPerKWh);
    expect(aws.pue).toBeGreaterThanOrEqual(1);
    expect(aws.pueSource).toMatch(/AWS.*\d{4}/);

    const gcp = resolveRegion("gcp:europe-west1");
    expect(gcp.zone).toBe("BE");
    expect(gcp.pueSource).toMatch(/Google.*\d{4}/);

    const azure = resolveRegion("azure:WestEurope");
    expect(azure.code).toBe("azure:westeurope");
    expect(azure.zone).toBe("NL");
    // No PUE is embedded for Azure, and the result says so instead of inventing one.
    expect(azure.pue).toBeUndefined();
    expect(azure.note).toMatch(/PUE/);
  });

  it("resolves the world average", () => {
    const world = worldAverageRegion();
    expect(world.code).toBe("WORLD");
    expect(world.kind).toBe("world");
    expect(world.fallback).toBe(false);
    expect(resolveRegion("world")).toEqual(world);
  });

  it("returns copies that callers may change", () => {
    const first = resolveRegion("FR");
    first.intensityGPerKWh = -1;
    first.name = "changed";
    expect(resolveRegion("FR").intensityGPerKWh).toBeGreaterThan(0);
    expect(resolveRegion("FR").name).toBe("France");
  });
});

describe("resolveRegion: fallbacks are flagged", () => {
  it("gives a US state outside the mapped balancing authorities the national figure", () => {
    const us = resolveRegion("US");
    for (const state of ["US-FL", "us-co", "US-IL"]) {
      const region = resolveRegion(state);
      expect(region.kind).toBe("subdivision");
      expect(region.fallback).toBe(true);
      expect(region.zone).toBe("US");
      expect(region.intensityGPerKWh).toBe(us.intensityGPerKWh);
      expect(region.year).toBe(us.year);
      expect(region.fallbackReason).toMatch(/national/);
    }
    expect(resolveRegion("US-FL").fallbackReason).toContain("Florida");
  });

  it("does not flag a state mapped to its balancing authority, but notes the approximation", () => {
    const california = resolveRegion("US-CA");
    expect(california.fallback).toBe(false);
    expect(california.fallbackReason).toBeUndefined();
    expect(california.note).toMatch(/LADWP/);
  });

  it("gives another country's subdivision the national figure", () => {
    const germany = resolveRegion("DE");
    const bavaria = resolveRegion("DE-BY");
    expect(bavaria.code).toBe("DE-BY");
    expect(bavaria.kind).toBe("subdivision");
    expect(bavaria.zone).toBe("DE");
    expect(bavaria.intensityGPerKWh).toBe(germany.intensityGPerKWh);
    expect(bavaria.fallback).toBe(true);
    expect(bavaria.fallbackReason).toContain("Germany");
  });

  it("gives a country without a figure the world average, and says why", () => {
    const world = worldAverageRegion();
    const andorra = resolveRegion("AD");
    expect(andorra.kind).toBe("country");
    expect(andorra.zone).toBe("WORLD");
    expect(andorra.intensityGPerKWh).toBe(world.intensityGPerKWh);
    expect(andorra.fallback).toBe(true);
    expect(andorra.fallbackReason).toContain("Andorra");
  });

  it("treats Ember's impossible 0 g/kWh as unknown instead of using it", async () => {
    const ember = await emberFigures();
    expect(ember.CAF).toBe(0);
    const region = resolveRegion("CF");
    expect(region.intensityGPerKWh).toBeGreaterThan(0);
    expect(region.fallback).toBe(true);
    expect(region.fallbackReason).toMatch(/0 g\/kWh/);
  });

  it("carries a zone's fallback through to the cloud regions in it", () => {
    // Google's us-east1 is in South Carolina, which has no balancing-authority figure.
    const region = resolveRegion("gcp:us-east1");
    expect(region.fallback).toBe(true);
    expect(region.zone).toBe("US");
    expect(region.fallbackReason).toContain("South Carolina");
    // Azure's canadaeast sits in Quebec; only Canada's national figure is embedded.
    const quebec = resolveRegion("azure:canadaeast");
    expect(quebec.fallback).toBe(true);
    expect(quebec.zone).toBe("CA");
  });
});

describe("resolveRegion: unknown input", () => {
  it("suggests close matches for a typo", () => {
    const error = thrown(() => resolveRegion("Frnace"));
    expect(error.code).toBe("UNKNOWN_REGION");
    expect(error.message).toBe('unknown region "Frnace"');
    expect(error.hint).toMatch(/^did you mean FR\b/);
    expect(error.hint).toContain("wattprint regions");
  });

  it("suggests cloud regions for a mistyped cloud id", () => {
    const error = thrown(() => resolveRegion("aws:us-east-9"));
    expect(error.code).toBe("UNKNOWN_REGION");
    expect(error.hint).toContain("aws:us-east-1");
  });

  it("rejects a US subdivision that does not exist", () => {
    const error = thrown(() => resolveRegion("US-ZZ"));
    expect(error.code).toBe("UNKNOWN_REGION");
  });

  it("rejects a subdivision of a country that does not exist", () => {
    expect(thrown(() => resolveRegion("QQ-AB")).code).toBe("UNKNOWN_REGION");
  });

  it("explains the accepted forms for empty input", () => {
    for (const input of ["", "   "]) {
      const error = thrown(() => resolveRegion(input));
      expect(error.code).toBe("UNKNOWN_REGION");
      expect(error.hint).toContain("US-CA");
      expect(error.hint).toContain("aws:us-east-1");
    }
  });

  it("gives at most 3 suggestions in the hint", () => {
    const error = thrown(() => resolveRegion("xq"));
    const listed = /did you mean (.*)\?/.exec(error.hint ?? "")?.[1]?.split(", ") ?? [];
    expect(listed.length).toBeLessThanOrEqual(3);
    expect(suggestRegions("xq", 10).length).toBeGreaterThan(3);
  });

  it("suggestRegions ranks by closeness and honours the limit", () => {
    expect(suggestRegions("Germny")[0]).toBe("DE");
    expect(suggestRegions("califrnia")[0]).toBe("US-CA");
    expect(suggestRegions("Frnace", 1)).toEqual(["FR"]);
  });
});

describe("the embedded tables", () => {
  const all = listRegions();

  it("has no duplicate codes", () => {
    const codes = all.map((region) => region.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("lists each kind", () => {
    const kinds = new Set(all.map((region) => region.kind));
    expect(kinds).toEqual(new Set(["world", "country", "subdivision", "cloud"]));
    expect(listRegions("world")).toHaveLength(1);
    expect(listRegions("cloud").every((region) => region.kind === "cloud")).toBe(true);
  });

  it("keeps every intensity in a plausible range, with a source and year", () => {
    const currentYear = new Date().getUTCFullYear();
    for (const region of all) {
      expect(region.intensityGPerKWh, region.code).toBeGreaterThan(0);
      expect(region.intensityGPerKWh, region.code).toBeLessThan(1500);
      expect(region.source, region.code).not.toBe("");
      expect(region.year, region.code).not.toBeNull();
      expect(region.year ?? 0, region.code).toBeGreaterThanOrEqual(2015);
      expect(region.year ?? 0, region.code).toBeLessThanOrEqual(currentYear);
      expect(region.fallback === (region.fallbackReason !== undefined), region.code).toBe(true);
    }
  });

  it("covers at least 190 ISO countries with their own figure, and resolves every ISO code", () => {
    const alpha2 = Object.keys(countries.getAlpha2Codes());
    for (const code of alpha2) expect(resolveRegion(code).code).toBe(code);
    const withFigure = listRegions("country").filter((region) => !region.fallback);
    expect(withFigure.length).toBeGreaterThanOrEqual(190);
  });

  it("matches Ember's figure for every country that has one", async () => {
    const ember = await emberFigures();
    let compared = 0;
    for (const region of listRegions("country")) {
      if (region.fallback) continue;
      const iso3 = region.code === "XK" ? "XKX" : countries.alpha2ToAlpha3(region.code);
      const expected = iso3 === undefined ? undefined : ember[iso3];
      expect(expected, region.code).toBeDefined();
      expect(region.intensityGPerKWh, region.code).toBeCloseTo(expected ?? Number.NaN, 6);
      compared += 1;
    }
    expect(compared).toBeGreaterThanOrEqual(190);
    expect(worldAverageRegion().intensityGPerKWh).toBeCloseTo(ember.WORLD ?? Number.NaN, 6);
  });

  it("maps every cloud region to a zone that resolves to the same figure", () => {
    const cloud = listRegions("cloud");
    expect(cloud.length).toBeGreaterThanOrEqual(100);
    for (const provider of ["aws", "gcp", "azure"]) {
      expect(
        cloud.filter((region) => region.code.startsWith(`${provider}:`)).length,
      ).toBeGreaterThan(20);
    }
    for (const region of cloud) {
      const zone = resolveRegion(region.zone);
      expect(zone.kind, region.code).not.toBe("cloud");
      expect(region.intensityGPerKWh, region.code).toBe(zone.intensityGPerKWh);
      expect(region.source, region.code).toBe(zone.source);
      if (region.pue !== undefined) {
        expect(region.pue, region.code).toBeGreaterThanOrEqual(1);
        expect(region.pue, region.code).toBeLessThan(2);
        expect(region.pueSource, region.code).toMatch(/\d{4}/);
      }
    }
  });

  it("lists every US state and DC", () => {
    const states = listRegions("subdivision").filter((region) => /^US-[A-Z]{2}$/.test(region.code));
    expect(states.length).toBeGreaterThanOrEqual(51);
  });
});

describe("balancing-authority figures come from the raw EIA-930 data", () => {
  it.skipIf(DC_RL_DIR === undefined)(
    "US-CA equals the mean of CISO's hourly 2022 values (dc-rl data present)",
    () => {
      const text = readFileSync(join(DC_RL_DIR ?? "", "CISO.csv"), "utf8");
      const [header, ...lines] = text.trim().split(/\r?\n/);
      const column = (header ?? "").split(",").indexOf("avg_CI");
      expect(column).toBeGreaterThanOrEqual(0);
      const values = lines
        .map((line) => line.split(",")[column] ?? "")
        .filter((cell) => cell !== "")
        .map(Number);
      expect(values.length).toBeGreaterThan(8000);
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      expect(resolveRegion("US-CA").intensityGPerKWh).toBeCloseTo(mean, 1);
    },
  );

  it.skipIf(DC_RL_DIR === undefined)(
    "the generator reproduces countries.csv and subdivisions.csv exactly (dc-rl data present)",
    () => {
      const result = spawnSync(
        process.execPath,
        [
          join(ROOT, "node_modules/tsx/dist/cli.mjs"),
          join(ROOT, "scripts/generate-grid-tables.ts"),
          "--check",
          "--dc-rl",
          DC_RL_DIR ?? "",
        ],
        { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
      );
      expect(result.status, result.stderr).toBe(0);
    },
  );
});

describe("damaged tables", () => {
  it("names a missing table", () => {
    const dir = copyOfTables();
    rmSync(join(dir, "cloud-regions.csv"));
    const error = thrown(() => createRegionResolver({ dataDir: dir }).resolve("FR"));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toContain(join(dir, "cloud-regions.csv"));
  });

  it("names the file, line and column of a value that is not a number", () => {
    const dir = copyOfTables();
    const file = join(dir, "countries.csv");
    const lines = readFileSync(file, "utf8").split("\n");
    const franceLine = lines.findIndex((line) => line.startsWith("FR,"));
    lines[franceLine] = (lines[franceLine] ?? "").replace(/,\d+(\.\d+)?,(\d{4}),/, ",lots,$2,");
    writeFileSync(file, lines.join("\n"));
    const error = thrown(() => createRegionResolver({ dataDir: dir }).resolve("DE"));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toContain(file);
    expect(error.message).toContain(`line ${franceLine + 1}`);
    expect(error.message).toContain("intensity_g_per_kwh");
  });

  it("rejects an implausible intensity", () => {
    const dir = copyOfTables();
    const file = join(dir, "countries.csv");
    const text = readFileSync(file, "utf8").replace(
      /^(DE,DEU,[^\n]*?,)\d+(?:\.\d+)?(,\d{4},)/m,
      (_, before: string, after: string) => `${before}50000${after}`,
    );
    expect(text).toContain(",50000,");
    writeFileSync(file, text);
    const error = thrown(() => createRegionResolver({ dataDir: dir }).list());
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toContain("intensity_g_per_kwh");
  });

  it("rejects a duplicated code", () => {
    const dir = copyOfTables();
    const file = join(dir, "cloud-regions.csv");
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    writeFileSync(file, [...lines, lines[1] ?? ""].join("\n") + "\n");
    const error = thrown(() => createRegionResolver({ dataDir: dir }).resolve("FR"));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toContain("repeats");
  });

  it("rejects a cloud region whose zone does not exist", () => {
    const dir = copyOfTables();
    const file = join(dir, "cloud-regions.csv");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(
        'aws,us-east-1,"N. Virginia, United States",US-VA,',
        'aws,us-east-1,"N. Virginia, United States",NOWHERE,',
      ),
    );
    const resolver = createRegionResolver({ dataDir: dir });
    const error = thrown(() => resolver.resolve("aws:us-east-1"));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toContain("NOWHERE");
    expect(thrown(() => resolver.list()).code).toBe("BAD_INPUT");
  });

  it("rejects a countries table without the world row", () => {
    const dir = copyOfTables();
    const file = join(dir, "countries.csv");
    writeFileSync(file, readFileSync(file, "utf8").replace(/^WORLD,[^\n]*\n/m, ""));
    const error = thrown(() => createRegionResolver({ dataDir: dir }).resolve("FR"));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toContain("WORLD");
  });
});

describe("speed", () => {
  it("resolves a region in well under a millisecond once the tables are loaded", () => {
    const resolver = createRegionResolver();
    resolver.resolve("FR");
    const inputs = ["FR", "aws:us-east-1", "US-CA", "germany", "DE-BY", "gcp:us-central1"];
    const start = performance.now();
    for (let round = 0; round < 200; round += 1) {
      for (const input of inputs) resolver.resolve(input);
    }
    const perCallMs = (performance.now() - start) / (200 * inputs.length);
    expect(perCallMs).toBeLessThan(0.5);
  });
});

describe("load-table: the CSV reader", () => {
  const origin = { source: "test.csv" };

  it("reads quoted fields, doubled quotes, CRLF and line breaks inside quotes", () => {
    const text = 'a,b,c\r\n1,"two, three","say ""hi"""\r\n"multi\nline",,x\n\n4,5,6';
    const { header, rows } = parseCsv(text, origin);
    expect(header).toEqual(["a", "b", "c"]);
    expect(rows.map((row) => row.fields)).toEqual([
      ["1", "two, three", 'say "hi"'],
      ["multi\nline", "", "x"],
      ["4", "5", "6"],
    ]);
    // Line numbers count the break inside the quoted field and the blank line.
    expect(rows.map((row) => row.line)).toEqual([2, 3, 6]);
  });

  it("strips a byte-order mark and keeps a trailing empty field", () => {
    const { header, rows } = parseCsv("\uFEFFa,b\n1,\n", origin);
    expect(header).toEqual(["a", "b"]);
    expect(rows[0]?.fields).toEqual(["1", ""]);
  });

  it.each([
    ['a,b\n1,"open', /line 2: a quoted field is never closed/],
    ['a,b\n1,2"3', /line 2: a quote inside an unquoted field/],
    ['a,b\n1,"2"3', /line 2: text after the closing quote/],
    ["a,b\n1,2,3", /line 2: 3 fields where the header has 2/],
    ["a,a\n1,2", /column "a" appears twice/],
    ["", /empty/],
  ])("rejects %j", (text, problem) => {
    const error = thrown(() => parseCsv(text, origin));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toContain("test.csv");
    expect(error.message).toMatch(problem);
  });

  it("types values and names the column of a bad one", () => {
    const dir = mkdtempSync(join(tmpdir(), "wattprint-csv-"));
    temporaryDirs.push(dir);
    const file = join(dir, "t.csv");
    writeFileSync(file, "name,count,flag,kind,list\nx, 3 ,TRUE,b,p|q\ny,,false,a,\n");
    const rows = readCsvTable(file, ["name", "count"], (record) => ({
      name: record.text("name"),
      count: record.optionalInteger("count"),
      flag: record.boolean("flag"),
      kind: record.oneOf("kind", ["a", "b"] as const),
      list: record.list("list"),
    }));
    expect(rows).toEqual([
      { name: "x", count: 3, flag: true, kind: "b", list: ["p", "q"] },
      { name: "y", count: null, flag: false, kind: "a", list: [] },
    ]);
    const missing = thrown(() => readCsvTable(file, ["name", "weight"], () => null));
    expect(missing.message).toContain("missing column weight");
    const badNumber = thrown(() => readCsvTable(file, [], (record) => record.number("name")));
    expect(badNumber.message).toMatch(/line 2: column "name" is not a number: "x"/);
    const badKind = thrown(() =>
      readCsvTable(file, [], (record) => record.oneOf("kind", ["a"] as const)),
    );
    expect(badKind.message).toMatch(/line 2: column "kind" is "b", expected one of a/);
    const userHint = thrown(() =>
      readCsvTable(join(dir, "absent.csv"), [], () => null, "check the --trace path"),
    );
    expect(userHint.code).toBe("BAD_INPUT");
    expect(userHint.hint).toBe("check the --trace path");
  });
});
