/**
 * The embedded region table and region resolution: ISO countries (Ember yearly averages),
 * US states and balancing authorities (EIA-930 hourly data, 2022), and AWS, Google Cloud
 * and Azure regions mapped to their grid zone and the provider's published PUE.
 * Tables live in `data/grid/*.csv` (see `data/SOURCES.md` and `docs/regions.md`); they are
 * read once, on first use, and cached.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WattprintError } from "../errors.js";
import { PACKAGE_TABLE_HINT, readCsvTable, type CsvRecord } from "./load-table.js";
import { normalizeKey, suggestClosest, type SuggestionCandidate } from "./suggest.js";

/** What a resolved region is. */
export type RegionKind = "country" | "subdivision" | "cloud" | "world";

/** A region with the grid figure that applies to it and where that figure comes from. */
export interface ResolvedRegion {
  /** Canonical code: "FR", "US-CA", "US-CAL-CISO", "aws:us-east-1", "WORLD". */
  code: string;
  kind: RegionKind;
  /** "France", "California, United States", "AWS us-east-1 (N. Virginia, United States)". */
  name: string;
  /**
   * The grid zone whose figure is used: an ISO country code ("FR", "US"), a balancing
   * authority in Electricity Maps' spelling ("US-CAL-CISO"), or "WORLD".
   */
  zone: string;
  /** Average carbon intensity of electricity in the zone, gCO2e/kWh (lifecycle). */
  intensityGPerKWh: number;
  /** Data year of the intensity, null when the source does not say. */
  year: number | null;
  /** Who published the figure, its licence and year: "Ember yearly electricity data (CC BY 4.0), 2024". */
  source: string;
  /** Annual averages only; time-resolved and marginal signals come from other providers. */
  signal: "average";
  /** True when a coarser figure stands in (the national one for a state, the world one for a country without data). */
  fallback: boolean;
  /** Why a coarser figure stands in; set exactly when `fallback` is true. */
  fallbackReason?: string;
  /** What the figure approximates, when it is not a fallback but still not exact (a state mapped to a balancing authority). */
  note?: string;
  /** Cloud regions: the provider's published power usage effectiveness (ratio ≥ 1). */
  pue?: number;
  /** Cloud regions: where `pue` comes from: "AWS global PUE, 2023". */
  pueSource?: string;
}

/** Options of {@link createRegionResolver}. */
export interface RegionResolverOptions {
  /**
   * Folder holding countries.csv, subdivisions.csv, cloud-regions.csv and sources.csv.
   * Default: {@link DEFAULT_GRID_DATA_DIR}, the package's own `data/grid/`.
   */
  dataDir?: string | URL;
}

/** Region lookups over one set of tables; the module-level functions use the package's. */
export interface RegionResolver {
  resolve(input: string): ResolvedRegion;
  worldAverage(): ResolvedRegion;
  list(kind?: RegionKind): ResolvedRegion[];
  suggest(input: string, limit?: number): string[];
  /** ISO 3166-1 alpha-3 of an alpha-2 country code ("FR" → "FRA"); null when unknown. */
  countryIso3(iso2: string): string | null;
}

/**
 * The package's `data/grid/` folder. `src/grid/` and `dist/grid/` both sit two levels
 * below the package root, so this works from sources and from the build.
 */
export const DEFAULT_GRID_DATA_DIR = new URL("../../data/grid/", import.meta.url);

/** Largest intensity accepted from a table, gCO2e/kWh; anything above is a typo. */
const MAX_PLAUSIBLE_INTENSITY_G_PER_KWH = 2000;

const CLOUD_PROVIDERS = ["aws", "gcp", "azure"] as const;
type CloudProvider = (typeof CLOUD_PROVIDERS)[number];
const PROVIDER_LABELS: Record<CloudProvider, string> = {
  aws: "AWS",
  gcp: "Google Cloud",
  azure: "Azure",
};

const ACCEPTED_FORMS =
  "give an ISO country code (FR, FRA), a country name (France), a US state (US-CA), a balancing authority (CISO) or a cloud region (aws:us-east-1, gcp:europe-west1, azure:westeurope)";
const LIST_HINT = "run `wattprint regions` to list the accepted regions";

/**
 * Resolves a region given as an ISO 3166-1 alpha-2 or alpha-3 code, an English country name
 * or common alias, an ISO 3166-2 subdivision ("US-CA"; other countries' subdivisions get the
 * national figure with `fallback: true`), a US balancing authority ("CISO", "US-CAL-CISO"),
 * a cloud region ("aws:us-east-1", "gcp:europe-west1", "azure:westeurope") or "WORLD".
 * Case, accents, `-`/`_`/space and punctuation do not matter.
 * @throws WattprintError `UNKNOWN_REGION` with up to 3 close matches in its hint;
 *   `BAD_INPUT` when the package's tables are missing or damaged.
 */
export function resolveRegion(input: string): ResolvedRegion {
  return defaultResolver().resolve(input);
}

/** The world average (Ember's world total), code "WORLD": the figure of last resort. */
export function worldAverageRegion(): ResolvedRegion {
  return defaultResolver().worldAverage();
}

/**
 * Every region in the tables, optionally of one kind: the world, every ISO country
 * (those without data fall back to the world figure), US states, territories and
 * balancing authorities, and cloud regions. Arbitrary subdivisions such as "DE-BY"
 * resolve but are not listed.
 */
export function listRegions(kind?: RegionKind): ResolvedRegion[] {
  return defaultResolver().list(kind);
}

/** ISO 3166-1 alpha-3 of an alpha-2 country code ("FR" → "FRA"); null when unknown. */
export function countryIso3(iso2: string): string | null {
  return defaultResolver().countryIso3(iso2);
}

/** Up to `limit` (default 3) region codes close to `input`, best first. */
export function suggestRegions(input: string, limit = 3): string[] {
  return defaultResolver().suggest(input, limit);
}

let packageResolver: RegionResolver | undefined;

function defaultResolver(): RegionResolver {
  packageResolver ??= createRegionResolver();
  return packageResolver;
}

/**
 * A resolver over the tables in `options.dataDir`. Tables are read on the first call and
 * kept; a missing or damaged table throws `BAD_INPUT` naming the file on that call.
 */
export function createRegionResolver(options: RegionResolverOptions = {}): RegionResolver {
  const dataDir = options.dataDir ?? DEFAULT_GRID_DATA_DIR;
  let table: RegionTable | undefined;
  const load = (): RegionTable => {
    table ??= new RegionTable(readTables(dataDir));
    return table;
  };
  return {
    resolve: (input) => ({ ...load().resolve(input) }),
    worldAverage: () => ({ ...load().world() }),
    list: (kind) =>
      load()
        .list(kind)
        .map((region) => ({ ...region })),
    suggest: (input, limit = 3) => load().suggest(input, limit),
    countryIso3: (iso2) => load().countryIso3(iso2),
  };
}

// ---- tables ------------------------------------------------------------------------------

interface SourceRow {
  id: string;
  label: string;
  licence: string;
}

interface CountryRow {
  record: CsvRecord;
  iso2: string;
  iso3: string | null;
  name: string;
  aliases: string[];
  intensityGPerKWh: number | null;
  year: number | null;
  sourceId: string | null;
  note: string | null;
}

interface SubdivisionRow {
  record: CsvRecord;
  code: string;
  kind: "state" | "territory" | "balancing-authority";
  name: string;
  countryIso2: string;
  zone: string;
  aliases: string[];
  intensityGPerKWh: number | null;
  year: number | null;
  sourceId: string | null;
  fallback: boolean;
  note: string | null;
}

interface CloudRow {
  record: CsvRecord;
  provider: CloudProvider;
  region: string;
  location: string;
  zoneCode: string;
  pue: number | null;
  pueYear: number | null;
  pueSourceId: string | null;
  note: string | null;
}

interface Tables {
  sources: Map<string, SourceRow>;
  world: CountryRow;
  countries: CountryRow[];
  subdivisions: SubdivisionRow[];
  cloud: CloudRow[];
}

function tableFile(dataDir: string | URL, name: string): string {
  const dir = dataDir instanceof URL ? fileURLToPath(dataDir) : dataDir;
  return join(dir, name);
}

function readTables(dataDir: string | URL): Tables {
  const sources = new Map<string, SourceRow>();
  readCsvTable(tableFile(dataDir, "sources.csv"), ["source_id", "label", "licence"], (record) => {
    const id = record.text("source_id");
    if (sources.has(id)) throw record.fail("source_id", `repeats "${id}"`);
    sources.set(id, { id, label: record.text("label"), licence: record.text("licence") });
  });

  const countriesFile = tableFile(dataDir, "countries.csv");
  const countries = readCsvTable(
    countriesFile,
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
    (record): CountryRow => {
      const emberName = record.optionalText("ember_name");
      return {
        record,
        iso2: record.text("iso2").toUpperCase(),
        iso3: record.optionalText("iso3")?.toUpperCase() ?? null,
        name: record.text("name"),
        aliases:
          emberName === null ? record.list("aliases") : [...record.list("aliases"), emberName],
        ...figureColumns(record, sources),
        note: record.optionalText("note"),
      };
    },
  );

  const world = countries.find((row) => row.iso2 === "WORLD");
  if (world === undefined || world.intensityGPerKWh === null || world.sourceId === null) {
    throw new WattprintError(
      "BAD_INPUT",
      `bad data table ${countriesFile}: no WORLD row with an intensity`,
      { hint: PACKAGE_TABLE_HINT },
    );
  }

  const subdivisions = readCsvTable(
    tableFile(dataDir, "subdivisions.csv"),
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
    (record): SubdivisionRow => ({
      record,
      code: record.text("code").toUpperCase(),
      kind: record.oneOf("kind", ["state", "territory", "balancing-authority"] as const),
      name: record.text("name"),
      countryIso2: record.text("country_iso2").toUpperCase(),
      zone: record.text("zone").toUpperCase(),
      aliases: record.list("aliases"),
      ...figureColumns(record, sources),
      fallback: record.boolean("fallback"),
      note: record.optionalText("note"),
    }),
  );

  const cloud = readCsvTable(
    tableFile(dataDir, "cloud-regions.csv"),
    ["provider", "region", "location", "zone_code", "pue", "pue_year", "pue_source_id", "note"],
    (record): CloudRow => {
      const pue = record.optionalNumber("pue");
      const pueYear = record.optionalInteger("pue_year");
      const pueSourceId = record.optionalText("pue_source_id");
      if (pue !== null) {
        if (pue < 1 || pue > 3) throw record.fail("pue", `is ${pue}, outside 1..3`);
        if (pueSourceId === null || !sources.has(pueSourceId)) {
          throw record.fail("pue_source_id", `must name a row of sources.csv when pue is given`);
        }
      }
      return {
        record,
        provider: record.oneOf("provider", CLOUD_PROVIDERS),
        region: record.text("region").toLowerCase(),
        location: record.text("location"),
        zoneCode: record.text("zone_code"),
        pue,
        pueYear,
        pueSourceId,
        note: record.optionalText("note"),
      };
    },
  );
  return { sources, world, countries, subdivisions, cloud };
}

/** The intensity, year and source columns shared by countries.csv and subdivisions.csv. */
function figureColumns(
  record: CsvRecord,
  sources: Map<string, SourceRow>,
): { intensityGPerKWh: number | null; year: number | null; sourceId: string | null } {
  const intensityGPerKWh = record.optionalNumber("intensity_g_per_kwh");
  const year = record.optionalInteger("year");
  const sourceId = record.optionalText("source_id");
  if (intensityGPerKWh !== null) {
    if (intensityGPerKWh <= 0 || intensityGPerKWh > MAX_PLAUSIBLE_INTENSITY_G_PER_KWH) {
      throw record.fail(
        "intensity_g_per_kwh",
        `is ${intensityGPerKWh}, outside 0..${MAX_PLAUSIBLE_INTENSITY_G_PER_KWH} g/kWh`,
      );
    }
    if (sourceId === null || !sources.has(sourceId)) {
      throw record.fail("source_id", "must name a row of sources.csv when an intensity is given");
    }
  }
  return { intensityGPerKWh, year, sourceId };
}

// ---- lookups -----------------------------------------------------------------------------

/** A row that becomes one listed region. */
type Entry =
  | { type: "country"; row: CountryRow }
  | { type: "subdivision"; row: SubdivisionRow }
  | { type: "cloud"; row: CloudRow };

/** The upper-case form codes are indexed under: "us_ca" → "US-CA", "aws:us-east-1" → "AWS:US-EAST-1". */
function codeKey(text: string): string {
  return text
    .trim()
    .toUpperCase()
    .replace(/[\s_]+/g, "-");
}

/**
 * The tables, indexed. Only codes are indexed up front (cheap); region objects are built on
 * first use, and the name index and suggestion keys only when a code lookup misses, so that
 * resolving "FR" or "aws:us-east-1" reads the tables and does little else.
 */
class RegionTable {
  private readonly tables: Tables;
  private readonly entries: Entry[] = [];
  private readonly byCode = new Map<string, Entry>();
  private readonly countriesByIso2 = new Map<string, CountryRow>();

  countryIso3(iso2: string): string | null {
    return this.countriesByIso2.get(iso2.toUpperCase())?.iso3 ?? null;
  }
  private readonly built = new Map<Entry, ResolvedRegion>();
  private readonly building = new Set<Entry>();
  private byName: Map<string, Entry> | undefined;
  private candidates: SuggestionCandidate[] | undefined;

  constructor(tables: Tables) {
    this.tables = tables;
    for (const row of tables.countries) {
      const entry: Entry = { type: "country", row };
      if (row !== tables.world && !/^[A-Z]{2}$/.test(row.iso2)) {
        throw row.record.fail("iso2", `is not a two-letter code: "${row.iso2}"`);
      }
      this.addCode(row.iso2, entry, row.record, "iso2");
      if (row.iso3 !== null) this.addCode(row.iso3, entry, row.record, "iso3");
      this.countriesByIso2.set(row.iso2, row);
      this.entries.push(entry);
    }
    for (const row of tables.subdivisions) {
      const entry: Entry = { type: "subdivision", row };
      this.addCode(row.code, entry, row.record, "code");
      for (const alias of row.aliases) this.addCode(alias, entry, row.record, "aliases");
      this.entries.push(entry);
    }
    for (const row of tables.cloud) {
      const entry: Entry = { type: "cloud", row };
      this.addCode(`${row.provider}:${row.region}`, entry, row.record, "region");
      this.entries.push(entry);
    }
  }

  world(): ResolvedRegion {
    return this.regionOf({ type: "country", row: this.tables.world });
  }

  resolve(input: string): ResolvedRegion {
    const trimmed = input.trim();
    if (trimmed === "") {
      throw new WattprintError("UNKNOWN_REGION", "no region given", {
        hint: `${ACCEPTED_FORMS}; ${LIST_HINT}`,
      });
    }
    const byCode = this.byCode.get(codeKey(trimmed));
    if (byCode !== undefined) return this.regionOf(byCode);
    const byName = this.nameIndex().get(normalizeKey(trimmed));
    if (byName !== undefined) return this.regionOf(byName);

    const subdivision = /^([A-Za-z]{2})[-_]([A-Za-z0-9]{1,3})$/.exec(trimmed);
    if (subdivision !== null) {
      const iso2 = (subdivision[1] ?? "").toUpperCase();
      const country = this.countriesByIso2.get(iso2);
      // Every US subdivision is in the table, so an unlisted one is a typo.
      if (country !== undefined && iso2 !== "US") {
        const code = `${iso2}-${(subdivision[2] ?? "").toUpperCase()}`;
        return nationalStandIn(code, this.regionOf({ type: "country", row: country }));
      }
    }
    const suggestions = this.suggest(trimmed, 3);
    const hint =
      suggestions.length > 0
        ? `did you mean ${suggestions.join(", ")}? ${LIST_HINT}`
        : `${ACCEPTED_FORMS}; ${LIST_HINT}`;
    throw new WattprintError("UNKNOWN_REGION", `unknown region "${trimmed}"`, { hint });
  }

  list(kind?: RegionKind): ResolvedRegion[] {
    return this.entries
      .map((entry) => this.regionOf(entry))
      .filter((region) => kind === undefined || region.kind === kind);
  }

  suggest(input: string, limit: number): string[] {
    if (this.candidates === undefined) {
      this.candidates = this.entries.map((entry) => ({
        code: codeOf(entry),
        keys: keysOf(entry),
      }));
    }
    return suggestClosest(input, this.candidates, limit);
  }

  private addCode(code: string, entry: Entry, record: CsvRecord, column: string): void {
    const key = codeKey(code);
    if (this.byCode.has(key)) throw record.fail(column, `repeats the code "${code}"`);
    this.byCode.set(key, entry);
  }

  /**
   * Names and aliases, by priority: country names, then country aliases, then subdivision
   * names. An earlier tier wins ("Georgia" is the country; the state is US-GA); a name that
   * means two things within one tier resolves to neither and is left to suggestions
   * ("Congo").
   */
  private nameIndex(): Map<string, Entry> {
    if (this.byName !== undefined) return this.byName;
    const tiers: Map<string, Set<Entry>>[] = [new Map(), new Map(), new Map()];
    const add = (tier: number, name: string, entry: Entry): void => {
      const key = normalizeKey(name);
      const level = tiers[tier];
      if (key === "" || level === undefined) return;
      const owners = level.get(key) ?? new Set<Entry>();
      owners.add(entry);
      level.set(key, owners);
    };
    for (const entry of this.entries) {
      if (entry.type === "country") {
        add(0, entry.row.name, entry);
        for (const alias of entry.row.aliases) add(1, alias, entry);
      } else if (entry.type === "subdivision") {
        add(2, entry.row.name, entry);
      }
    }
    const byName = new Map<string, Entry>();
    for (const level of tiers) {
      for (const [key, owners] of level) {
        const [only] = owners;
        if (owners.size === 1 && only !== undefined && !byName.has(key)) byName.set(key, only);
      }
    }
    this.byName = byName;
    return byName;
  }

  private regionOf(entry: Entry): ResolvedRegion {
    const known = this.built.get(entry);
    if (known !== undefined) return known;
    if (this.building.has(entry)) {
      throw entry.row.record.fail(
        entry.type === "cloud" ? "zone_code" : "zone",
        "refers back to itself",
      );
    }
    this.building.add(entry);
    try {
      const region = this.buildRegion(entry);
      this.built.set(entry, region);
      return region;
    } finally {
      this.building.delete(entry);
    }
  }

  private buildRegion(entry: Entry): ResolvedRegion {
    const { sources } = this.tables;
    if (entry.type === "country") {
      const { row } = entry;
      const figure = figureOf(row, sources);
      if (row === this.tables.world && figure !== null) {
        return {
          code: "WORLD",
          kind: "world",
          name: row.name,
          zone: "WORLD",
          ...figure,
          signal: "average",
          fallback: false,
        };
      }
      if (figure === null) {
        return {
          ...derivedRegion(
            { code: row.iso2, kind: "country", name: row.name },
            this.world(),
            true,
            row.note,
          ),
          fallbackReason: row.note ?? `no figure for ${row.name}; the world average stands in`,
        };
      }
      return {
        code: row.iso2,
        kind: "country",
        name: row.name,
        zone: row.iso2,
        ...figure,
        signal: "average",
        fallback: false,
        ...(row.note === null ? {} : { note: row.note }),
      };
    }

    if (entry.type === "subdivision") {
      const { row } = entry;
      const country = this.countriesByIso2.get(row.countryIso2);
      if (country === undefined || country === this.tables.world) {
        throw row.record.fail(
          "country_iso2",
          `is "${row.countryIso2}", not a country of countries.csv`,
        );
      }
      const identity = {
        code: row.code,
        kind: "subdivision" as const,
        name: `${row.name}, ${country.name}`,
      };
      const own = figureOf(row, sources);
      if (own !== null) {
        if (row.zone !== row.code) {
          throw row.record.fail("zone", "must equal code in a row with its own intensity");
        }
        const region: ResolvedRegion = {
          ...identity,
          zone: row.code,
          ...own,
          signal: "average",
          fallback: row.fallback,
        };
        if (row.fallback) region.fallbackReason = row.note ?? "a coarser figure stands in";
        else if (row.note !== null) region.note = row.note;
        return region;
      }
      const target = this.byCode.get(codeKey(row.zone));
      if (target === undefined || target.type === "cloud" || target === entry) {
        throw row.record.fail(
          "zone",
          `is "${row.zone}", neither a row with an intensity nor a country`,
        );
      }
      return derivedRegion(identity, this.regionOf(target), row.fallback, row.note);
    }

    const { row } = entry;
    let target: ResolvedRegion;
    try {
      target = this.resolve(row.zoneCode);
    } catch (error) {
      if (error instanceof WattprintError && error.code === "UNKNOWN_REGION") {
        throw row.record.fail("zone_code", `is "${row.zoneCode}", which is not a known region`);
      }
      throw error;
    }
    if (target.kind === "cloud")
      throw row.record.fail("zone_code", "must be a grid zone, not a cloud region");
    const region = derivedRegion(
      {
        code: `${row.provider}:${row.region}`,
        kind: "cloud",
        name: `${PROVIDER_LABELS[row.provider]} ${row.region} (${row.location})`,
      },
      target,
      false,
      row.note,
    );
    if (row.pue !== null && row.pueSourceId !== null) {
      region.pue = row.pue;
      const label = sources.get(row.pueSourceId)?.label ?? row.pueSourceId;
      region.pueSource = row.pueYear === null ? label : `${label}, ${row.pueYear}`;
    }
    return region;
  }
}

/** The canonical code of an entry, without building its region. */
function codeOf(entry: Entry): string {
  switch (entry.type) {
    case "country":
      return entry.row.iso2;
    case "subdivision":
      return entry.row.code;
    case "cloud":
      return `${entry.row.provider}:${entry.row.region}`;
  }
}

/** Every spelling of an entry, for suggestions. */
function keysOf(entry: Entry): string[] {
  switch (entry.type) {
    case "country":
      return [
        entry.row.iso2,
        ...(entry.row.iso3 === null ? [] : [entry.row.iso3]),
        entry.row.name,
        ...entry.row.aliases,
      ];
    case "subdivision":
      return [entry.row.code, entry.row.name, ...entry.row.aliases];
    case "cloud":
      return [`${entry.row.provider}:${entry.row.region}`];
  }
}

interface Figure {
  intensityGPerKWh: number;
  year: number | null;
  source: string;
}

function figureOf(
  row: { intensityGPerKWh: number | null; year: number | null; sourceId: string | null },
  sources: Map<string, SourceRow>,
): Figure | null {
  if (row.intensityGPerKWh === null || row.sourceId === null) return null;
  const source = sources.get(row.sourceId);
  const base = source === undefined ? row.sourceId : `${source.label} (${source.licence})`;
  return {
    intensityGPerKWh: row.intensityGPerKWh,
    year: row.year,
    source: row.year === null ? base : `${base}, ${row.year}`,
  };
}

/** A region whose figure is another region's: a state's balancing authority, a cloud region's zone. */
function derivedRegion(
  identity: Pick<ResolvedRegion, "code" | "kind" | "name">,
  target: ResolvedRegion,
  ownFallback: boolean,
  ownNote: string | null,
): ResolvedRegion {
  const region: ResolvedRegion = {
    ...identity,
    zone: target.zone,
    intensityGPerKWh: target.intensityGPerKWh,
    year: target.year,
    source: target.source,
    signal: "average",
    fallback: ownFallback || target.fallback,
  };
  if (region.fallback) {
    const reasons = [ownFallback ? ownNote : null, target.fallbackReason ?? null].filter(
      (text): text is string => text !== null,
    );
    region.fallbackReason =
      reasons.length > 0 ? reasons.join(" ") : `the figure of ${target.zone} stands in`;
  }
  const notes = [ownFallback ? null : ownNote, target.note ?? null].filter(
    (text): text is string => text !== null,
  );
  if (notes.length > 0) region.note = notes.join(" ");
  return region;
}

function nationalStandIn(code: string, country: ResolvedRegion): ResolvedRegion {
  const reason = `no figure for subdivision ${code}; the national figure of ${country.name} stands in (the subdivision code itself is not checked)`;
  return {
    ...country,
    code,
    kind: "subdivision",
    name: `${code}, ${country.name}`,
    fallback: true,
    fallbackReason:
      country.fallbackReason === undefined ? reason : `${reason}. ${country.fallbackReason}`,
  };
}
