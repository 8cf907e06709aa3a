/**
 * Regenerates data/grid/countries.csv and data/grid/subdivisions.csv from their sources.
 * (data/grid/cloud-regions.csv and data/grid/sources.csv are written by hand.)
 *
 *   npx tsx scripts/generate-grid-tables.ts [--ember-json FILE] [--dc-rl DIR] [--check]
 *
 * Inputs, all offline:
 * - Ember's yearly emissions intensity by ISO alpha-3 code, as shipped in the installed
 *   devDependency @tgwf/co2 (dist/esm/data/average-intensities.min.js, gCO2e/kWh).
 * - The data year of each figure: that file has none, so it is read from co2.js's own
 *   data/output/average-intensities.json of the same release (--ember-json; for 0.19.0,
 *   commit 27cbe83 of github.com/thegreenwebfoundation/co2.js). The script checks that its
 *   values equal the installed ones. Without --ember-json, the years already in
 *   countries.csv are kept, and any figure that changed stops the script.
 * - Country codes and names: devDependency i18n-iso-countries and Intl.DisplayNames (CLDR).
 * - Hourly 2022 intensity of 8 US balancing authorities (--dc-rl; default: the first of
 *   shared/data/carbon-intensity/dc-rl and ../shared/data/carbon-intensity/dc-rl that
 *   exists, relative to the package root).
 * - The state → balancing-authority mapping below, with its approximations.
 *
 * --check writes nothing and exits 1 when a table on disk differs from what would be written.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import countries from "i18n-iso-countries";
import { readCsvTable } from "../src/grid/load-table.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const COUNTRIES_CSV = join(ROOT, "data/grid/countries.csv");
const SUBDIVISIONS_CSV = join(ROOT, "data/grid/subdivisions.csv");
const EMBER_SOURCE_ID = "ember-yearly";
const BA_SOURCE_ID = "eia930-dcrl";
const BA_YEAR = 2022;

/** One balancing authority in the dc-rl data: file stem, Electricity Maps style zone id. */
interface BalancingAuthority {
  eiaCode: string;
  zone: string;
  name: string;
  aliases: string[];
}

const BALANCING_AUTHORITIES: BalancingAuthority[] = [
  { eiaCode: "AZPS", zone: "US-SW-AZPS", name: "Arizona Public Service (AZPS)", aliases: [] },
  {
    eiaCode: "BPAT",
    zone: "US-NW-BPAT",
    name: "Bonneville Power Administration (BPAT)",
    aliases: ["BPA"],
  },
  { eiaCode: "CISO", zone: "US-CAL-CISO", name: "California ISO (CISO)", aliases: ["CAISO"] },
  {
    eiaCode: "ERCO",
    zone: "US-TEX-ERCO",
    name: "Electric Reliability Council of Texas (ERCO)",
    aliases: ["ERCOT"],
  },
  { eiaCode: "MISO", zone: "US-MIDW-MISO", name: "Midcontinent ISO (MISO)", aliases: [] },
  { eiaCode: "NYIS", zone: "US-NY-NYIS", name: "New York ISO (NYIS)", aliases: ["NYISO"] },
  { eiaCode: "PJM", zone: "US-MIDA-PJM", name: "PJM Interconnection (PJM)", aliases: [] },
  { eiaCode: "SOCO", zone: "US-SE-SOCO", name: "Southern Company Services (SOCO)", aliases: [] },
];

/** ISO 3166-2:US: the 50 states, DC and the outlying areas. */
const US_SUBDIVISIONS: [code: string, name: string][] = [
  ["US-AL", "Alabama"],
  ["US-AK", "Alaska"],
  ["US-AZ", "Arizona"],
  ["US-AR", "Arkansas"],
  ["US-CA", "California"],
  ["US-CO", "Colorado"],
  ["US-CT", "Connecticut"],
  ["US-DE", "Delaware"],
  ["US-DC", "District of Columbia"],
  ["US-FL", "Florida"],
  ["US-GA", "Georgia"],
  ["US-HI", "Hawaii"],
  ["US-ID", "Idaho"],
  ["US-IL", "Illinois"],
  ["US-IN", "Indiana"],
  ["US-IA", "Iowa"],
  ["US-KS", "Kansas"],
  ["US-KY", "Kentucky"],
  ["US-LA", "Louisiana"],
  ["US-ME", "Maine"],
  ["US-MD", "Maryland"],
  ["US-MA", "Massachusetts"],
  ["US-MI", "Michigan"],
  ["US-MN", "Minnesota"],
  ["US-MS", "Mississippi"],
  ["US-MO", "Missouri"],
  ["US-MT", "Montana"],
  ["US-NE", "Nebraska"],
  ["US-NV", "Nevada"],
  ["US-NH", "New Hampshire"],
  ["US-NJ", "New Jersey"],
  ["US-NM", "New Mexico"],
  ["US-NY", "New York"],
  ["US-NC", "North Carolina"],
  ["US-ND", "North Dakota"],
  ["US-OH", "Ohio"],
  ["US-OK", "Oklahoma"],
  ["US-OR", "Oregon"],
  ["US-PA", "Pennsylvania"],
  ["US-RI", "Rhode Island"],
  ["US-SC", "South Carolina"],
  ["US-SD", "South Dakota"],
  ["US-TN", "Tennessee"],
  ["US-TX", "Texas"],
  ["US-UT", "Utah"],
  ["US-VT", "Vermont"],
  ["US-VA", "Virginia"],
  ["US-WA", "Washington"],
  ["US-WV", "West Virginia"],
  ["US-WI", "Wisconsin"],
  ["US-WY", "Wyoming"],
  ["US-AS", "American Samoa"],
  ["US-GU", "Guam"],
  ["US-MP", "Northern Mariana Islands"],
  ["US-PR", "Puerto Rico"],
  ["US-UM", "United States Minor Outlying Islands"],
  ["US-VI", "U.S. Virgin Islands"],
];

const PJM_NOTE =
  "PJM's footprint covers nearly all of this state's load; PJM's 13-state average stands in for the state's own mix.";
const MISO_NOTE = "MISO's 15-state average stands in for the state's own mix.";

/** States mostly inside one balancing authority: the BA's figure stands in, with why. */
const STATE_TO_BA: Record<string, { eiaCode: string; note: string }> = {
  "US-CA": {
    eiaCode: "CISO",
    note: "CAISO's balancing area carries most of California's load; LADWP, BANC (Sacramento), IID and TIDC have their own balancing areas and are not in this figure.",
  },
  "US-TX": {
    eiaCode: "ERCO",
    note: "ERCOT serves about 90% of Texas load; El Paso (WECC), the Panhandle (SPP) and southeast Texas (MISO) are outside it.",
  },
  "US-NY": { eiaCode: "NYIS", note: "NYISO covers the whole state." },
  "US-AZ": {
    eiaCode: "AZPS",
    note: "Arizona has several balancing areas (AZPS, SRP, TEPC, WALC); AZPS, one of the two largest, stands in for all of them: a rough approximation.",
  },
  "US-WA": {
    eiaCode: "BPAT",
    note: "BPA's balancing area is dominated by federal hydro; utilities with their own balancing areas (Puget Sound Energy, Seattle City Light, Avista, PacifiCorp West, Chelan/Douglas/Grant PUDs) are not in it, so the state's own mix is likely more carbon-intensive.",
  },
  "US-OR": {
    eiaCode: "BPAT",
    note: "BPA's balancing area is dominated by federal hydro; Portland General Electric and PacifiCorp West, which serve most Oregon customers, run their own balancing areas with more gas and coal, so the state's own mix is likely more carbon-intensive.",
  },
  "US-PA": { eiaCode: "PJM", note: PJM_NOTE },
  "US-NJ": { eiaCode: "PJM", note: PJM_NOTE },
  "US-MD": { eiaCode: "PJM", note: PJM_NOTE },
  "US-DE": { eiaCode: "PJM", note: PJM_NOTE },
  "US-DC": { eiaCode: "PJM", note: PJM_NOTE },
  "US-VA": {
    eiaCode: "PJM",
    note: `Dominion Energy and AEP's Virginia zones are in PJM. ${PJM_NOTE}`,
  },
  "US-OH": { eiaCode: "PJM", note: PJM_NOTE },
  "US-WV": { eiaCode: "PJM", note: PJM_NOTE },
  "US-GA": {
    eiaCode: "SOCO",
    note: "Georgia Power is in Southern Company's balancing area; TVA serves a strip of northwest Georgia.",
  },
  "US-AL": {
    eiaCode: "SOCO",
    note: "Alabama Power is in Southern Company's balancing area; TVA serves northern Alabama, which is not in this figure.",
  },
  "US-MN": {
    eiaCode: "MISO",
    note: `Most Minnesota utilities (Xcel, Minnesota Power, Otter Tail, Great River) are in MISO. ${MISO_NOTE}`,
  },
  "US-IA": {
    eiaCode: "MISO",
    note: `MidAmerican and Alliant (IPL) are in MISO; some western co-ops are in SPP. ${MISO_NOTE}`,
  },
  "US-WI": { eiaCode: "MISO", note: `Nearly all of Wisconsin is in MISO. ${MISO_NOTE}` },
  "US-MI": {
    eiaCode: "MISO",
    note: `DTE and Consumers Energy are in MISO; Indiana Michigan Power's southwest corner is in PJM. ${MISO_NOTE}`,
  },
  "US-IN": {
    eiaCode: "MISO",
    note: `Duke Indiana, AES Indiana, NIPSCO and CenterPoint are in MISO; Indiana Michigan Power (northeast) is in PJM. ${MISO_NOTE}`,
  },
  "US-LA": {
    eiaCode: "MISO",
    note: `Entergy Louisiana and Cleco are in MISO; northwest Louisiana (SWEPCO) is in SPP. ${MISO_NOTE}`,
  },
  "US-AR": {
    eiaCode: "MISO",
    note: `Entergy Arkansas is in MISO; northwest Arkansas (SWEPCO, OG&E) is in SPP. ${MISO_NOTE}`,
  },
  "US-MS": {
    eiaCode: "MISO",
    note: `Entergy Mississippi and Cooperative Energy are in MISO; Mississippi Power (Southern Company) and TVA's north Mississippi are not: a rough approximation. ${MISO_NOTE}`,
  },
};

/** Outlying areas with their own Ember figure under their own ISO 3166-1 code. */
const US_TERRITORY_COUNTRY: Record<string, string> = {
  "US-PR": "PR",
  "US-GU": "GU",
  "US-VI": "VI",
  "US-AS": "AS",
};

/** Why a state gets the national figure, where it is worth more than the default line. */
const SPLIT_STATE_NOTES: Record<string, string> = {
  "US-IL": "Illinois is split between PJM (ComEd, north) and MISO (Ameren, south).",
  "US-KY": "Kentucky is split between LG&E/KU, TVA, PJM (east) and MISO (west).",
  "US-MO": "Missouri is split between MISO (Ameren) and SPP (Evergy and others).",
};

/** Canonical English names where CLDR's short form reads badly in a table. */
const NAME_OVERRIDES: Record<string, string> = {
  CD: "Democratic Republic of the Congo",
  CG: "Republic of the Congo",
  HK: "Hong Kong",
  MO: "Macao",
  MM: "Myanmar",
  PS: "Palestine",
};

/** Extra spellings people type, beyond those of i18n-iso-countries, CLDR and Ember. */
const EXTRA_ALIASES: Record<string, string[]> = {
  GB: ["Britain"],
  NL: ["Holland"],
  KR: ["Korea"],
  CZ: ["Czech Republic"],
  TR: ["Turkey", "Türkiye"],
  XK: ["XKK"],
};

interface EmberFigure {
  intensityGPerKWh: number;
  year: number | null;
  emberName: string | null;
}

interface Options {
  emberJson: string | null;
  dcRlDir: string;
  check: boolean;
}

function parseArguments(argv: string[]): Options {
  let emberJson: string | null = null;
  let dcRlDir: string | null = null;
  let check = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === "--check") check = true;
    else if (argument === "--ember-json") emberJson = requireValue(argv, (index += 1), argument);
    else if (argument === "--dc-rl") dcRlDir = requireValue(argv, (index += 1), argument);
    else throw new Error(`unknown argument ${argument}`);
  }
  if (dcRlDir === null) {
    const candidates = [
      join(ROOT, "shared/data/carbon-intensity/dc-rl"),
      join(ROOT, "../shared/data/carbon-intensity/dc-rl"),
    ];
    const found = candidates.find((candidate) => existsSync(candidate));
    if (found === undefined) {
      throw new Error(`no dc-rl folder at ${candidates.join(" or ")}; pass --dc-rl DIR`);
    }
    dcRlDir = found;
  }
  return { emberJson, dcRlDir, check };
}

function requireValue(argv: string[], index: number, flag: string): string {
  const value = argv[index];
  if (value === undefined) throw new Error(`${flag} needs a value`);
  return value;
}

async function readInstalledEmber(): Promise<Record<string, number>> {
  const file = join(ROOT, "node_modules/@tgwf/co2/dist/esm/data/average-intensities.min.js");
  const module: unknown = await import(pathToFileURL(file).href);
  const data = (module as { data?: unknown }).data;
  if (typeof data !== "object" || data === null) throw new Error(`${file}: no data export`);
  const figures: Record<string, number> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error(`${file}: ${key} is not a number`);
    }
    figures[key.toUpperCase()] = value;
  }
  return figures;
}

/** Years (and Ember's names) from co2.js's JSON, checked against the installed values. */
function readEmberJson(
  file: string,
  installed: Record<string, number>,
): Map<string, { year: number; name: string }> {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const result = new Map<string, { year: number; name: string }>();
  for (const [key, raw] of Object.entries(parsed)) {
    const entry = raw as {
      year?: unknown;
      country_or_region?: unknown;
      emissions_intensity_gco2_per_kwh?: unknown;
    };
    const code = key.toUpperCase();
    if (installed[code] !== entry.emissions_intensity_gco2_per_kwh) {
      throw new Error(
        `${file}: ${code} is ${String(entry.emissions_intensity_gco2_per_kwh)} but the installed @tgwf/co2 has ${String(installed[code])}; use the JSON of the same release`,
      );
    }
    if (typeof entry.year !== "number" || typeof entry.country_or_region !== "string") {
      throw new Error(`${file}: ${code} has no year or name`);
    }
    result.set(code, { year: entry.year, name: entry.country_or_region });
  }
  for (const code of Object.keys(installed)) {
    if (!result.has(code)) throw new Error(`${file}: no entry for ${code}`);
  }
  return result;
}

interface PreviousFigure {
  year: number | null;
  name: string | null;
  intensity: number | null;
}

/** Years and Ember names kept from the current countries.csv, for runs without --ember-json. */
function readPreviousYears(): Map<string, PreviousFigure> {
  const previous = new Map<string, PreviousFigure>();
  if (!existsSync(COUNTRIES_CSV)) return previous;
  readCsvTable(
    COUNTRIES_CSV,
    ["iso2", "iso3", "ember_name", "intensity_g_per_kwh", "year"],
    (record) => {
      previous.set(record.optionalText("iso3") ?? record.text("iso2"), {
        year: record.optionalInteger("year"),
        name: record.optionalText("ember_name"),
        intensity: record.optionalNumber("intensity_g_per_kwh"),
      });
    },
  );
  return previous;
}

function buildEmberFigures(
  installed: Record<string, number>,
  emberJson: string | null,
): Map<string, EmberFigure> {
  const figures = new Map<string, EmberFigure>();
  if (emberJson !== null) {
    const years = readEmberJson(emberJson, installed);
    for (const [code, intensity] of Object.entries(installed)) {
      const meta = years.get(code);
      figures.set(code, {
        intensityGPerKWh: intensity,
        year: meta?.year ?? null,
        emberName: meta?.name ?? null,
      });
    }
    return figures;
  }
  const previous = readPreviousYears();
  for (const [code, intensity] of Object.entries(installed)) {
    const known = previous.get(code);
    // Figures kept out of the table (0 g/kWh) have no year to keep, so only kept ones are checked.
    const keptIntensity = known?.intensity ?? null;
    if (intensity > 0 && keptIntensity !== intensity && isTableCode(code)) {
      throw new Error(
        `Ember's figure for ${code} is ${intensity}, countries.csv has ${String(keptIntensity)}; pass --ember-json to get its year`,
      );
    }
    figures.set(code, {
      intensityGPerKWh: intensity,
      year: known?.year ?? null,
      emberName: known?.name ?? null,
    });
  }
  return figures;
}

/** Whether an Ember code becomes a row of countries.csv (aggregates such as EU do not). */
function isTableCode(code: string): boolean {
  return code === "WORLD" || code === "XKX" || countries.alpha3ToAlpha2(code) !== undefined;
}

function canonicalName(iso2: string, cldr: Intl.DisplayNames): string {
  const override = NAME_OVERRIDES[iso2];
  if (override !== undefined) return override;
  const name = cldr.of(iso2) ?? countries.getName(iso2, "en") ?? iso2;
  return name
    .replace(/ & /g, " and ")
    .replace(/’/g, "'")
    .replace(/^St\. /, "Saint ");
}

function buildCountryRows(figures: Map<string, EmberFigure>): string[][] {
  const cldr = new Intl.DisplayNames(["en"], { type: "region" });
  const rows: string[][] = [];
  const world = figures.get("WORLD");
  if (world === undefined) throw new Error("Ember data has no WORLD figure");
  rows.push([
    "WORLD",
    "",
    "World",
    "",
    world.emberName ?? "",
    String(world.intensityGPerKWh),
    yearText(world.year),
    EMBER_SOURCE_ID,
    "Ember's world total; the fallback for countries without a figure.",
  ]);
  const alpha2Codes = Object.keys(countries.getAlpha2Codes()).sort();
  for (const iso2 of alpha2Codes) {
    const libraryIso3 = countries.alpha2ToAlpha3(iso2) ?? "";
    // Ember spells Kosovo XKX; the user-assigned XK has no official alpha-3.
    const iso3 = iso2 === "XK" ? "XKX" : libraryIso3;
    const name = canonicalName(iso2, cldr);
    const figure = figures.get(iso3);
    const aliases = new Set<string>([
      ...(countries.getName(iso2, "en", { select: "all" }) ?? []),
      cldr.of(iso2) ?? "",
      ...(EXTRA_ALIASES[iso2] ?? []),
    ]);
    const aliasList = [...aliases].filter(
      (alias) => alias !== "" && alias !== name && alias !== iso2 && alias !== iso3,
    );
    let intensity = "";
    let year = "";
    let sourceId = "";
    let note = "";
    if (figure === undefined) {
      note = `Ember has no figure for ${name}; the world average stands in.`;
    } else if (figure.intensityGPerKWh <= 0) {
      note = `Ember reports ${figure.intensityGPerKWh} g/kWh, impossible for a lifecycle figure; treated as unknown, so the world average stands in.`;
    } else {
      intensity = String(figure.intensityGPerKWh);
      year = yearText(figure.year);
      sourceId = EMBER_SOURCE_ID;
    }
    const emberName = figure?.emberName ?? "";
    rows.push([iso2, iso3, name, aliasList.join("|"), emberName, intensity, year, sourceId, note]);
  }
  return rows;
}

function yearText(year: number | null): string {
  return year === null ? "" : String(year);
}

interface BaFigure {
  meanGPerKWh: number;
  generationWeightedGPerKWh: number;
  hours: number;
  emptyHours: number;
}

const FUEL_COLUMNS = ["WND", "SUN", "WAT", "OIL", "NG", "COL", "NUC", "OTH"];

function readBalancingAuthority(dir: string, eiaCode: string): BaFigure {
  const file = join(dir, `${eiaCode}.csv`);
  let sum = 0;
  let count = 0;
  let emptyHours = 0;
  let weightedSum = 0;
  let generationSum = 0;
  readCsvTable(file, ["timestamp", "avg_CI", ...FUEL_COLUMNS], (record) => {
    const intensity = record.optionalNumber("avg_CI");
    if (intensity === null) {
      emptyHours += 1;
      return;
    }
    sum += intensity;
    count += 1;
    const generation = FUEL_COLUMNS.reduce(
      (total, column) => total + (record.optionalNumber(column) ?? 0),
      0,
    );
    weightedSum += intensity * generation;
    generationSum += generation;
  });
  if (count === 0) throw new Error(`${file}: no hourly values`);
  return {
    meanGPerKWh: sum / count,
    generationWeightedGPerKWh: weightedSum / generationSum,
    hours: count,
    emptyHours,
  };
}

function round2(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function buildSubdivisionRows(dcRlDir: string, countryRows: string[][]): string[][] {
  const rows: string[][] = [];
  const baZone = new Map<string, string>();
  for (const ba of BALANCING_AUTHORITIES) {
    const figure = readBalancingAuthority(dcRlDir, ba.eiaCode);
    baZone.set(ba.eiaCode, ba.zone);
    const empty = figure.emptyHours === 0 ? "" : ` (${figure.emptyHours} empty hours skipped)`;
    rows.push([
      ba.zone,
      "balancing-authority",
      ba.name,
      "US",
      ba.zone,
      [ba.eiaCode, ...ba.aliases].join("|"),
      round2(figure.meanGPerKWh),
      String(BA_YEAR),
      BA_SOURCE_ID,
      "false",
      `Plain mean of ${figure.hours} hourly values of ${BA_YEAR}${empty}; generation-weighted mean ${round2(figure.generationWeightedGPerKWh)} g/kWh. Lifecycle factors (IPCC AR5 medians), production-based, imports ignored.`,
    ]);
  }
  const countriesWithFigure = new Set(
    countryRows.filter((row) => row[5] !== "").map((row) => row[0]),
  );
  for (const [code, name] of US_SUBDIVISIONS) {
    const mapped = STATE_TO_BA[code];
    const territory = US_TERRITORY_COUNTRY[code];
    const kind = /^US-(AS|GU|MP|PR|UM|VI)$/.test(code) ? "territory" : "state";
    if (mapped !== undefined) {
      const zone = baZone.get(mapped.eiaCode);
      if (zone === undefined) throw new Error(`${code}: unknown balancing authority`);
      rows.push([code, kind, name, "US", zone, "", "", "", "", "false", mapped.note]);
    } else if (territory !== undefined && countriesWithFigure.has(territory)) {
      rows.push([
        code,
        kind,
        name,
        "US",
        territory,
        "",
        "",
        "",
        "",
        "false",
        `${name} has its own grid; Ember's figure for ${territory} is used.`,
      ]);
    } else {
      const split = SPLIT_STATE_NOTES[code];
      const note = `No balancing-authority figure is embedded for ${name}; the US national average stands in.`;
      rows.push([
        code,
        kind,
        name,
        "US",
        "US",
        "",
        "",
        "",
        "",
        "true",
        split ? `${split} ${note}` : note,
      ]);
    }
  }
  return rows;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function toCsv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(",")).join("\n") + "\n";
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const installed = await readInstalledEmber();
  const figures = buildEmberFigures(installed, options.emberJson);
  const countryRows = buildCountryRows(figures);
  const subdivisionRows = buildSubdivisionRows(options.dcRlDir, countryRows);
  const outputs: [string, string][] = [
    [
      COUNTRIES_CSV,
      toCsv(
        [
          "iso2",
          "iso3",
          "name",
          "aliases",
          "ember_name",
          "intensity_g_per_kwh",
          "year",
          "source_id",
          "note",
        ],
        countryRows,
      ),
    ],
    [
      SUBDIVISIONS_CSV,
      toCsv(
        [
          "code",
          "kind",
          "name",
          "country_iso2",
          "zone",
          "aliases",
          "intensity_g_per_kwh",
          "year",
          "source_id",
          "fallback",
          "note",
        ],
        subdivisionRows,
      ),
    ],
  ];
  let differs = false;
  for (const [file, text] of outputs) {
    if (options.check) {
      const current = existsSync(file) ? readFileSync(file, "utf8") : "";
      if (current !== text) {
        differs = true;
        console.error(`${file} is out of date`);
      }
    } else {
      writeFileSync(file, text);
      console.log(`wrote ${file}`);
    }
  }
  const withFigure = countryRows.filter((row) => row[5] !== "").length - 1;
  console.log(
    `${countryRows.length - 1} ISO countries, ${withFigure} with an Ember figure; ${subdivisionRows.length} subdivisions`,
  );
  if (differs) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
