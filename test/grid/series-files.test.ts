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
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { WattprintError } from "../../src/errors.js";
import {
  DEFAULT_HOURLY_DATA_DIR,
  EMBEDDED_SERIES_SOURCE,
  embeddedSeriesZones,
  loadEmbeddedSeries,
} from "../../src/grid/embedded-series.js";
import { PACKAGE_TABLE_HINT, parseCsv } from "../../src/grid/load-table.js";
import { loadIntensityFile } from "../../src/grid/series-files.js";
import { averageIntensity, intensityAt, type IntensitySeries } from "../../src/grid/series.js";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const FIXTURES = join(ROOT, "test/fixtures/intensity");
const HOURLY_DIR = fileURLToPath(DEFAULT_HOURLY_DATA_DIR);
const DC_RL_DIR = [
  join(ROOT, "shared/data/carbon-intensity/dc-rl"),
  join(ROOT, "../shared/data/carbon-intensity/dc-rl"),
].find((dir) => existsSync(join(dir, "CISO.csv")));
/** Said in the names of tests that skip themselves without the shared dc-rl files. */
const NEEDS_DC_RL = "needs shared/data/carbon-intensity/dc-rl; skipped without it";

const HOUR = 3_600_000;
const MINUTE = 60_000;

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

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-series-"));
  temporaryDirs.push(dir);
  return dir;
}

/** Writes `text` to a new temp file and returns its path. */
function tempFile(name: string, text: string): string {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

function values(series: IntensitySeries): number[] {
  return series.points.map((point) => point.intensityGPerKWh);
}

/** timestamp → avg_CI (null when empty) of a dc-rl file, read without wattprint's code. */
function rawDcRl(file: string): Map<number, number | null> {
  const rows = new Map<number, number | null>();
  for (const line of readFileSync(file, "utf8").trim().split("\n").slice(1)) {
    const cells = line.split(",");
    const value = cells[cells.length - 1] ?? "";
    rows.set(Date.parse((cells[0] ?? "").replace(" ", "T")), value === "" ? null : Number(value));
  }
  return rows;
}

describe("loadIntensityFile: plain CSV", () => {
  it("reads rows in any order, sizes points by the median step and leaves empty rows as gaps", () => {
    const file = join(FIXTURES, "half-hourly.csv");
    const series = loadIntensityFile(file);
    const start = Date.UTC(2024, 2, 1);
    expect(series.points.map((point) => [point.startMs - start, point.endMs - start])).toEqual([
      [0, 30 * MINUTE],
      [30 * MINUTE, 60 * MINUTE],
      [90 * MINUTE, 120 * MINUTE],
      [120 * MINUTE, 150 * MINUTE],
    ]);
    // The "+01:00" row is 01:30 UTC; its 90 sits between the gap and the 02:00Z row.
    expect(values(series)).toEqual([120, 180.5, 90, 60]);
    expect(series.gaps).toEqual([{ startMs: start + 60 * MINUTE, endMs: start + 90 * MINUTE }]);
    expect(series.zone).toBe("half-hourly");
    expect(series.source).toBe(`file:${file}`);
    expect(series.originalUnit).toBe("gCO2e/kWh");
    expect(series.signal).toBe("average");
    expect(series.warnings.join("\n")).toMatch(/1 row without a value/);
    expect(series.warnings.join("\n")).toMatch(/average assumed/);
  });

  it("takes the median step, not the longest, so a missing row becomes a gap", () => {
    const file = tempFile(
      "holes.csv",
      "timestamp,intensity\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n2024-01-01T02:00:00Z,3\n2024-01-01T05:00:00Z,4\n2024-01-01T05:20:00Z,5\n",
    );
    const series = loadIntensityFile(file);
    const at = (hours: number) => Date.UTC(2024, 0, 1) + hours * HOUR;
    // Steps 1 h, 1 h, 3 h, 20 min: the median is 1 h; the 05:00 point is cut at the next row.
    expect(series.points.map((point) => [point.startMs, point.endMs])).toEqual([
      [at(0), at(1)],
      [at(1), at(2)],
      [at(2), at(3)],
      [at(5), at(5) + 20 * MINUTE],
      [at(5) + 20 * MINUTE, at(6) + 20 * MINUTE],
    ]);
    expect(series.gaps).toEqual([{ startMs: at(3), endMs: at(5) }]);
  });

  it("takes zone and signal from the options, without the assumption warning", () => {
    const series = loadIntensityFile(join(FIXTURES, "half-hourly.csv"), {
      zone: "GB",
      signal: "marginal",
    });
    expect(series.zone).toBe("GB");
    expect(series.signal).toBe("marginal");
    expect(series.warnings.join("\n")).not.toMatch(/assumed/);
  });

  it("converts lbs/MWh rows by their unit cell and keeps g/kWh rows as they are", () => {
    const series = loadIntensityFile(join(FIXTURES, "watttime-moer.csv"), { signal: "marginal" });
    // 1 lb/MWh = 453.59237 g / 1000 kWh.
    expect(series.points[0]?.intensityGPerKWh).toBeCloseTo(453.59237, 6);
    expect(series.points[1]?.intensityGPerKWh).toBeCloseTo(850 * 0.45359237, 6);
    expect(series.points[2]?.intensityGPerKWh).toBeCloseTo(420, 9);
    expect((series.points[0]?.endMs ?? 0) - (series.points[0]?.startMs ?? 0)).toBe(5 * MINUTE);
    expect(series.originalUnit).toBe("lbs/MWh, gCO2e/kWh");
  });

  it("applies the unit option to rows without a unit cell", () => {
    const file = tempFile(
      "moer.csv",
      "time,value\n2024-01-01T00:00:00Z,1000\n2024-01-01T00:05:00Z,500\n",
    );
    const series = loadIntensityFile(file, { unit: "lbs/MWh" });
    expect(series.points[1]?.intensityGPerKWh).toBeCloseTo(500 * 0.45359237, 6);
    expect(series.originalUnit).toBe("lbs/MWh");
  });

  it("reads naive local times through an IANA time zone, across the autumn clock change", () => {
    const file = join(FIXTURES, "paris-local.csv");
    const error = thrown(() => loadIntensityFile(file));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toBe(
      `${file}:2: the timestamp "2022-10-30 01:00" has no UTC offset or Z`,
    );
    expect(error.hint).toMatch(/timezone/);

    // Paris leaves CEST (+2) for CET (+1) at 03:00 local on 30 October 2022: 02:00 happens twice.
    const series = loadIntensityFile(file, { timezone: "Europe/Paris" });
    expect(series.points.map((point) => new Date(point.startMs).toISOString())).toEqual([
      "2022-10-29T23:00:00.000Z",
      "2022-10-30T00:00:00.000Z",
      "2022-10-30T01:00:00.000Z",
      "2022-10-30T02:00:00.000Z",
    ]);
    expect(values(series)).toEqual([50, 51, 52, 53]);
    expect(series.gaps).toEqual([]);
  });

  it("reads a wall time skipped by the spring clock change with the offset before it", () => {
    // New York skips 02:00–03:00 on 13 March 2022; 02:30 is read as 02:30 EST = 07:30Z.
    const file = tempFile(
      "ny.csv",
      "timestamp,intensity\n2022-03-13 01:30,1\n2022-03-13 02:30,2\n2022-03-13 04:30,3\n",
    );
    const series = loadIntensityFile(file, { timezone: "America/New_York" });
    expect(series.points.map((point) => new Date(point.startMs).toISOString())).toEqual([
      "2022-03-13T06:30:00.000Z",
      "2022-03-13T07:30:00.000Z",
      "2022-03-13T08:30:00.000Z",
    ]);
    const utc = loadIntensityFile(file, { timezone: "UTC" });
    expect(utc.points[0]?.startMs).toBe(Date.UTC(2022, 2, 13, 1, 30));
  });

  it("lets explicit offsets win over the timezone option", () => {
    const file = tempFile(
      "mixed.csv",
      "timestamp,intensity\n2024-06-01T10:00:00+02:00,1\n2024-06-01 09:00,2\n",
    );
    const series = loadIntensityFile(file, { timezone: "UTC" });
    expect(series.points.map((point) => point.startMs)).toEqual([
      Date.UTC(2024, 5, 1, 8),
      Date.UTC(2024, 5, 1, 9),
    ]);
  });

  it.each([
    [
      "a value that is not a number",
      "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,abc",
      3,
      /"abc" is not a number/,
    ],
    ["a negative value", "2024-01-01T00:00:00Z,-4\n2024-01-01T01:00:00Z,1", 2, /negative/],
    ["a repeated time", "2024-01-01T00:00:00Z,1\n2024-01-01T00:00:00Z,2", 3, /repeats line 2/],
    ["an unreadable time", "yesterday,1\n2024-01-01T00:00:00Z,2", 2, /not an ISO 8601 timestamp/],
    ["an impossible date", "2024-02-30T00:00:00Z,1\n2024-03-01T00:00:00Z,2", 2, /not a valid date/],
    [
      "a row with a field too many",
      "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2,3",
      3,
      /3 fields/,
    ],
    ["one row only", "2024-01-01T00:00:00Z,1", 2, /single timestamp/],
    ["no value at all", "2024-01-01T00:00:00Z,\n2024-01-01T01:00:00Z,", 2, /no row has a value/],
  ])("rejects %s with BAD_INPUT naming the file and line", (_label, rows, line, pattern) => {
    const file = tempFile("bad.csv", `timestamp,intensity\n${rows}\n`);
    const error = thrown(() => loadIntensityFile(file));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message.startsWith(`${file}:${line}: `)).toBe(true);
    expect(error.message).toMatch(pattern);
    expect(error.hint).toBeTruthy();
  });

  it("rejects an unknown unit, a missing column, an empty file and a header alone", () => {
    const unit = tempFile("u.csv", "time,value,unit\n2024-01-01T00:00:00Z,1,kg/kWh\n");
    expect(thrown(() => loadIntensityFile(unit)).message).toBe(
      `${unit}:2: unknown unit "kg/kWh"; expected g/kWh or lbs/MWh`,
    );
    const noValue = tempFile("n.csv", "timestamp,price\n2024-01-01T00:00:00Z,1\n");
    expect(thrown(() => loadIntensityFile(noValue)).message).toMatch(/:1: .*no value column/);
    const empty = tempFile("e.csv", " \n");
    expect(thrown(() => loadIntensityFile(empty)).message).toBe(`${empty}:1: the file is empty`);
    const header = tempFile("h.csv", "timestamp,intensity\n");
    expect(thrown(() => loadIntensityFile(header)).message).toMatch(/:2: .*no data rows/);
    const contradiction = tempFile("c.csv", "timestamp,intensity_g_per_kwh\n");
    expect(thrown(() => loadIntensityFile(contradiction, { unit: "lbs/MWh" })).code).toBe(
      "BAD_INPUT",
    );
  });

  it("says NOT_FOUND for a missing file and BAD_INPUT for an unknown time zone", () => {
    expect(thrown(() => loadIntensityFile(join(tempDir(), "none.csv"))).code).toBe("NOT_FOUND");
    const file = join(FIXTURES, "half-hourly.csv");
    const error = thrown(() => loadIntensityFile(file, { timezone: "Mars/Olympus" }));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toMatch(/Mars\/Olympus/);
  });
});

describe("loadIntensityFile: Carbon Aware SDK JSON", () => {
  it("reads an EmissionsData array (rating g/kWh, duration hh:mm:ss), sniffed from content", () => {
    const series = loadIntensityFile(join(FIXTURES, "emissions-bylocation.json"));
    expect(series.zone).toBe("eastus");
    expect(values(series)).toEqual([512.3, 498.75, 530]);
    expect(series.points.map((point) => point.endMs - point.startMs)).toEqual([HOUR, HOUR, HOUR]);
    expect(series.gaps).toEqual([
      { startMs: Date.UTC(2022, 0, 1, 2), endMs: Date.UTC(2022, 0, 1, 3) },
    ]);
    expect(series.originalUnit).toBe("gCO2e/kWh");
    expect(series.warnings.join("\n")).toMatch(/average assumed/);
  });

  it("reads the SDK's data-file shape and needs a zone to pick one of several locations", () => {
    const file = join(FIXTURES, "sdk-data-file.json");
    const error = thrown(() => loadIntensityFile(file));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toBe(
      `${file}:1: records for 2 locations (westus, northeurope); a series holds one`,
    );
    expect(error.hint).toMatch(/zone/);

    const west = loadIntensityFile(file, { zone: "westus" });
    // "01:00" is one hour, as .NET reads a TimeSpan; "57" as a string is accepted.
    expect(values(west)).toEqual([90, 57]);
    expect(west.points.map((point) => point.endMs - point.startMs)).toEqual([HOUR, HOUR]);
    const north = loadIntensityFile(file, { zone: "NorthEurope", signal: "marginal" });
    expect(values(north)).toEqual([19, 23.5]);
    expect(north.points[1]?.startMs).toBe(Date.UTC(2021, 9, 25, 15, 20));
    expect(north.points[1]?.endMs).toBe(Date.UTC(2021, 9, 25, 15, 50));
    expect(north.zone).toBe("NorthEurope");
  });

  it("reads forecasts' forecastData as forecast points, ignoring optimalDataPoints", () => {
    const series = loadIntensityFile(join(FIXTURES, "forecast-current.json"));
    expect(series.zone).toBe("westus");
    expect(values(series)).toEqual([420, 410.25, 400.5]);
    expect(series.points.every((point) => point.forecast === true)).toBe(true);
    expect(series.points.map((point) => point.endMs - point.startMs)).toEqual([
      5 * MINUTE,
      5 * MINUTE,
      5 * MINUTE,
    ]);
  });

  it("names the line of a bad record and of a JSON syntax error", () => {
    const text = [
      "[", // 1
      '  { "location": "x", "time": "2022-01-01T00:00:00Z", "rating": 1, "duration": "01:00:00" },', // 2
      "  {", // 3
      '    "location": "x",', // 4
      '    "time": "2022-01-01T01:00:00Z",', // 5
      '    "rating": "lots",', // 6
      '    "duration": "01:00:00"', // 7
      "  }", // 8
      "]", // 9
    ].join("\n");
    const file = tempFile("bad.json", text);
    const error = thrown(() => loadIntensityFile(file));
    expect(error.message).toBe(`${file}:3: the rating "lots" is not a number`);

    const broken = tempFile("broken.json", '[\n  { "time": "2022-01-01T00:00:00Z",\n  ]\n');
    const syntax = thrown(() => loadIntensityFile(broken));
    expect(syntax.code).toBe("BAD_INPUT");
    expect(syntax.message).toMatch(new RegExp(`^${broken}:3: not valid JSON`));
  });

  it("rejects overlapping records, bad durations and files without records", () => {
    const record = (time: string, duration: string) =>
      `{ "time": "${time}", "rating": 1, "duration": "${duration}" }`;
    const overlap = tempFile(
      "o.json",
      `[\n${record("2022-01-01T00:00:00Z", "02:00:00")},\n${record("2022-01-01T01:00:00Z", "01:00:00")}\n]`,
    );
    expect(thrown(() => loadIntensityFile(overlap)).message).toMatch(
      /:3: .*inside the record of line 2/,
    );
    const duration = tempFile("d.json", `[${record("2022-01-01T00:00:00Z", "an hour")}]`);
    expect(thrown(() => loadIntensityFile(duration)).message).toMatch(/duration "an hour"/);
    const empty = tempFile("z.json", "[]");
    expect(thrown(() => loadIntensityFile(empty)).message).toMatch(/no emissions records/);
    const other = tempFile("w.json", '{ "data": [] }');
    expect(thrown(() => loadIntensityFile(other)).code).toBe("BAD_INPUT");
  });

  it("takes records without a duration to last the median step, and says so", () => {
    const file = tempFile(
      "nodur.json",
      JSON.stringify({
        Emissions: [
          { Location: "Sydney", Rating: "60", Time: "2021-01-01T00:00:00" },
          { Location: "Sydney", Rating: "50", Time: "2021-01-01T00:15:00" },
          { Location: "Sydney", Rating: "70", Time: "2021-01-01T00:30:00" },
        ],
      }),
    );
    // These times have no offset: an error unless a time zone is given.
    expect(thrown(() => loadIntensityFile(file)).message).toMatch(/no UTC offset/);
    const series = loadIntensityFile(file, { timezone: "Australia/Sydney" });
    // Sydney is at +11:00 (daylight time) on 1 January.
    expect(series.points[0]?.startMs).toBe(Date.UTC(2020, 11, 31, 13));
    expect(series.points.map((point) => point.endMs - point.startMs)).toEqual([
      15 * MINUTE,
      15 * MINUTE,
      15 * MINUTE,
    ]);
    expect(series.warnings.join("\n")).toMatch(/3 records without a duration: .* 15 min/);
  });
});

describe("loadIntensityFile: dc-rl / EIA CSV", () => {
  it("reads avg_CI, reports empty hours as gaps and names the balancing authority's zone", () => {
    const file = join(FIXTURES, "CISO.csv");
    const series = loadIntensityFile(file);
    expect(series.zone).toBe("US-CAL-CISO");
    expect(series.signal).toBe("average");
    expect(series.points).toHaveLength(8);
    expect(series.points[0]?.intensityGPerKWh).toBeCloseTo(314.3801101591187, 9);
    expect(series.gaps).toEqual([
      { startMs: Date.UTC(2022, 0, 5, 10), endMs: Date.UTC(2022, 0, 5, 11) },
    ]);
    expect(series.warnings).toEqual([
      "1 row without a value in CISO.csv: left as gaps, not filled",
    ]);
    expect(thrown(() => loadIntensityFile(file, { signal: "marginal" })).message).toMatch(
      /average intensities/,
    );
  });

  it("keeps the file name as zone when it is not a balancing authority", () => {
    const file = join(tempDir(), "my-grid.csv");
    copyFileSync(join(FIXTURES, "CISO.csv"), file);
    expect(loadIntensityFile(file, { format: "eia-csv" }).zone).toBe("my-grid");
  });

  it.skipIf(DC_RL_DIR === undefined)(
    `reads every shared dc-rl file with the means its README states (${NEEDS_DC_RL})`,
    () => {
      const readmeMeans: Record<string, [string, number, number]> = {
        AZPS: ["US-SW-AZPS", 575.0, 0],
        BPAT: ["US-NW-BPAT", 54.7, 0],
        CISO: ["US-CAL-CISO", 256.2, 3],
        ERCO: ["US-TEX-ERCO", 347.2, 0],
        MISO: ["US-MIDW-MISO", 440.5, 3],
        NYIS: ["US-NY-NYIS", 272.8, 0],
        PJM: ["US-MIDA-PJM", 362.6, 23],
        SOCO: ["US-SE-SOCO", 423.2, 0],
      };
      for (const [code, [zone, mean, empty]] of Object.entries(readmeMeans)) {
        const series = loadIntensityFile(join(DC_RL_DIR as string, `${code}.csv`));
        expect(series.zone).toBe(zone);
        expect(series.points).toHaveLength(8760 - empty);
        const result = averageIntensity(series, Date.UTC(2022, 0, 1), Date.UTC(2023, 0, 1));
        expect(Math.abs((result.intensityGPerKWh ?? 0) - mean)).toBeLessThan(0.06);
        expect(result.missingS).toBeCloseTo(empty * 3600, 6);
      }
    },
  );
});

describe("embedded hourly series", () => {
  const subdivisions = parseCsv(readFileSync(join(ROOT, "data/grid/subdivisions.csv"), "utf8"), {
    source: "subdivisions.csv",
  });
  const column = (name: string) => subdivisions.header.indexOf(name);
  const baRows = subdivisions.rows
    .map((row) => row.fields)
    .filter((fields) => fields[column("kind")] === "balancing-authority");

  it("ships one series per balancing-authority row of subdivisions.csv, by the same zone id", () => {
    const zones = baRows.map((fields) => fields[column("code")]);
    expect(zones).toHaveLength(8);
    expect([...embeddedSeriesZones()].sort()).toEqual([...zones].sort());
  });

  it("gives each zone a full 2022 of hour-beginning points, its gaps, provenance and the mean of the region table", () => {
    for (const fields of baRows) {
      const zone = fields[column("code")] as string;
      const series = loadEmbeddedSeries(zone) as IntensitySeries;
      expect(series.zone).toBe(zone);
      expect(series.signal).toBe("average");
      expect(series.source).toBe(EMBEDDED_SERIES_SOURCE);
      expect(series.source).toMatch(/U\.S\. EIA, via HewlettPackard\/dc-rl \(MIT\)/);
      expect(series.warnings[0]).toMatch(/hour-beginning/);
      expect(series.points[0]?.startMs).toBe(Date.UTC(2022, 0, 1));
      expect(series.points.at(-1)?.endMs).toBe(Date.UTC(2023, 0, 1));
      expect(series.points.every((point) => point.endMs - point.startMs === HOUR)).toBe(true);
      const missingHours = series.gaps.reduce((sum, gap) => sum + (gap.endMs - gap.startMs), 0);
      expect(series.points.length + missingHours / HOUR).toBe(8760);
      const mean = averageIntensity(series, Date.UTC(2022, 0, 1), Date.UTC(2023, 0, 1));
      const tableMean = Number(fields[column("intensity_g_per_kwh")]);
      expect(Math.abs((mean.intensityGPerKWh ?? 0) - tableMean)).toBeLessThan(0.006);
    }
  });

  it.skipIf(DC_RL_DIR === undefined)(
    `holds the shared dc-rl avg_CI of every hour to 0.001 g/kWh (${NEEDS_DC_RL})`,
    () => {
      const codes: Record<string, string> = {
        "US-SW-AZPS": "AZPS",
        "US-NW-BPAT": "BPAT",
        "US-CAL-CISO": "CISO",
        "US-TEX-ERCO": "ERCO",
        "US-MIDW-MISO": "MISO",
        "US-NY-NYIS": "NYIS",
        "US-MIDA-PJM": "PJM",
        "US-SE-SOCO": "SOCO",
      };
      for (const zone of embeddedSeriesZones()) {
        const raw = rawDcRl(join(DC_RL_DIR as string, `${codes[zone] ?? "?"}.csv`));
        const series = loadEmbeddedSeries(zone) as IntensitySeries;
        let empty = 0;
        for (const [timeMs, value] of raw) {
          const point = intensityAt(series, timeMs);
          if (value === null) {
            empty += 1;
            expect(point).toBeNull();
          } else {
            expect(Math.abs((point?.intensityGPerKWh ?? Number.NaN) - value)).toBeLessThanOrEqual(
              0.0005 + 1e-9,
            );
          }
        }
        expect(series.points).toHaveLength(raw.size - empty);
      }
    },
  );

  it("accepts EIA codes and any case, and answers null for a zone without a series", () => {
    expect(loadEmbeddedSeries("ciso")?.zone).toBe("US-CAL-CISO");
    expect(loadEmbeddedSeries("us-nw-bpat")?.zone).toBe("US-NW-BPAT");
    expect(loadEmbeddedSeries("FR")).toBeNull();
    expect(loadEmbeddedSeries("US-CA")).toBeNull();
  });

  it("reports a damaged or missing shipped file as BAD_INPUT with the reinstall hint", () => {
    const dir = tempDir();
    for (const name of readdirSync(HOURLY_DIR))
      copyFileSync(join(HOURLY_DIR, name), join(dir, name));
    const file = join(dir, "US-NY-NYIS.csv");
    writeFileSync(file, readFileSync(file, "utf8").replace(/,2\d\d\.\d+\n/, ",-5\n"));
    const damaged = thrown(() => loadEmbeddedSeries("US-NY-NYIS", { dataDir: dir }));
    expect(damaged.code).toBe("BAD_INPUT");
    expect(damaged.message).toMatch(/US-NY-NYIS\.csv:\d+: the intensity -5 is negative/);
    expect(damaged.hint).toBe(PACKAGE_TABLE_HINT);
    rmSync(join(dir, "US-SE-SOCO.csv"));
    const missing = thrown(() => loadEmbeddedSeries("SOCO", { dataDir: dir }));
    expect(missing.code).toBe("BAD_INPUT");
    expect(missing.hint).toBe(PACKAGE_TABLE_HINT);
    expect(loadEmbeddedSeries("US-TEX-ERCO", { dataDir: dir })?.points.length).toBe(8760);
  });

  it.skipIf(DC_RL_DIR === undefined)(
    `are what scripts/generate-hourly-series.ts makes, and its --check sees a change (${NEEDS_DC_RL})`,
    () => {
      const tsx = join(ROOT, "node_modules/.bin/tsx");
      const script = join(ROOT, "scripts/generate-hourly-series.ts");
      const dir = tempDir();
      const run = (...args: string[]) =>
        spawnSync(tsx, [script, "--dc-rl", DC_RL_DIR as string, "--out", dir, ...args], {
          encoding: "utf8",
        });
      const generated = run();
      expect(generated.status, generated.stderr).toBe(0);
      for (const zone of embeddedSeriesZones()) {
        expect(readFileSync(join(dir, `${zone}.csv`), "utf8")).toBe(
          readFileSync(join(HOURLY_DIR, `${zone}.csv`), "utf8"),
        );
      }
      expect(run("--check").status).toBe(0);
      writeFileSync(join(dir, "US-SW-AZPS.csv"), "timestamp,intensity_g_per_kwh\n");
      const check = run("--check");
      expect(check.status).toBe(1);
      expect(check.stderr).toMatch(/US-SW-AZPS\.csv differs/);
    },
  );
});
