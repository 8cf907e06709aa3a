/**
 * The GB Carbon Intensity API (National Energy System Operator, formerly National Grid ESO;
 * no key; CC BY 4.0): half-hourly average intensity, gCO2/kWh, nationally and for the 17
 * DNO regions. Zones: "GB" (national) and "GB-<regionid>" ("GB-13" is London).
 * Endpoints used: national `/intensity`, `/intensity/{from}/{to}`, `/intensity/{from}/fw24h`;
 * regional `/regional/regionid/{id}`, `/regional/intensity/{from}/{to}/regionid/{id}`,
 * `/regional/intensity/{from}/fw24h/regionid/{id}`. Points
 * `{ from, to, intensity: { forecast, actual, index } }`: `actual` where given, else
 * `forecast` with `forecast: true`. See docs/providers.md.
 */
import type { IntensitySeries } from "../series.js";
import {
  asObject,
  buildSeries,
  checkWindow,
  configError,
  emptySeries,
  fetchSeries,
  joinSeries,
  requireOnePoint,
  resolveProviderOptions,
  splitWindow,
  unexpectedAnswer,
  type IntensityProvider,
  type ProviderOptions,
  type RawPoint,
} from "./provider.js";

/** Name of the provider in messages, the cache and {@link createProvider}. */
export const UK_CARBON_INTENSITY = "uk-carbon-intensity";
/** The public API root. */
export const UK_CARBON_INTENSITY_DEFAULT_BASE_URL = "https://api.carbonintensity.org.uk";

/** The API's region ids and short names (its `/regional` answer). */
export const UK_REGIONS: Readonly<Record<number, string>> = {
  1: "North Scotland",
  2: "South Scotland",
  3: "North West England",
  4: "North East England",
  5: "Yorkshire",
  6: "North Wales & Merseyside",
  7: "South Wales",
  8: "West Midlands",
  9: "East Midlands",
  10: "East England",
  11: "South West England",
  12: "South England",
  13: "London",
  14: "South East England",
  15: "England",
  16: "Scotland",
  17: "Wales",
};

const HALF_HOUR_MS = 1_800_000;
/** Longest window asked in one request (the API refuses longer ranges). */
const MAX_SPAN_MS = 14 * 86_400_000;
const LICENCE = "NESO Carbon Intensity API, CC BY 4.0";
const ZONE_HINT = `use "GB" for Great Britain or "GB-<regionid>" with a region id 1..17 (${Object.entries(
  UK_REGIONS,
)
  .map(([id, name]) => `${id} ${name}`)
  .join(", ")})`;

/** A national or regional zone. */
type UkZone = { zone: string; regionId: number | null };

/**
 * A GB Carbon Intensity provider (average signal, no key). `baseUrl` defaults to
 * {@link UK_CARBON_INTENSITY_DEFAULT_BASE_URL}.
 */
export function createUkCarbonIntensityProvider(options: ProviderOptions): IntensityProvider {
  const context = resolveProviderOptions(
    UK_CARBON_INTENSITY,
    options,
    UK_CARBON_INTENSITY_DEFAULT_BASE_URL,
  );
  const get = (
    path: string,
    uk: UkZone,
    operation: string,
    window?: { fromMs: number; toMs: number },
  ) =>
    fetchSeries(context, {
      path,
      clientErrorHint: "check the zone and the dates; the API serves ranges of up to 14 days",
      parse: (body) => seriesOf(path, uk, operation, body, window),
    });

  return {
    name: UK_CARBON_INTENSITY,
    signal: "average",

    async latest(zone) {
      const uk = parseZone(zone);
      const path = uk.regionId === null ? "/intensity" : `/regional/regionid/${uk.regionId}`;
      const series = await get(path, uk, "latest");
      // The current half hour is the one that contains "now"; the answer may hold a neighbour too.
      const nowMs = context.now();
      const current = series.points.filter((point) => point.startMs <= nowMs);
      const chosen = current.length > 0 ? current : series.points;
      return requireOnePoint({ ...series, points: chosen }, UK_CARBON_INTENSITY, path);
    },

    async history(zone, fromMs, toMs) {
      const uk = parseZone(zone);
      checkWindow(UK_CARBON_INTENSITY, fromMs, toMs);
      const window = { fromMs, toMs };
      const parts: IntensitySeries[] = [];
      for (const [startMs, endMs] of splitWindow(fromMs, toMs, MAX_SPAN_MS)) {
        const range = `${pathTime(startMs)}/${pathTime(endMs)}`;
        const path =
          uk.regionId === null
            ? `/intensity/${range}`
            : `/regional/intensity/${range}/regionid/${uk.regionId}`;
        parts.push(await get(path, uk, "history", window));
      }
      return joinSeries(parts, () =>
        seriesOf("/intensity", { zone: "GB", regionId: null }, "history", { data: [] }, window),
      );
    },

    async forecast(zone) {
      const uk = parseZone(zone);
      const fromMs = Math.floor(context.now() / HALF_HOUR_MS) * HALF_HOUR_MS;
      const start = pathTime(fromMs);
      const path =
        uk.regionId === null
          ? `/intensity/${start}/fw24h`
          : `/regional/intensity/${start}/fw24h/regionid/${uk.regionId}`;
      return get(path, uk, "forecast");
    },
  };
}

function parseZone(zone: string): UkZone {
  const match = /^GB(?:-(\d{1,2}))?$/i.exec(zone.trim());
  if (match === null) {
    throw configError(UK_CARBON_INTENSITY, `"${zone}" is not a zone of this API`, ZONE_HINT);
  }
  if (match[1] === undefined) return { zone: "GB", regionId: null };
  const regionId = Number(match[1]);
  if (UK_REGIONS[regionId] === undefined) {
    throw configError(UK_CARBON_INTENSITY, `there is no region ${regionId}`, ZONE_HINT);
  }
  return { zone: `GB-${regionId}`, regionId };
}

/** The API's time format in paths: "2024-05-01T10:30Z". */
function pathTime(timeMs: number): string {
  return `${new Date(timeMs).toISOString().slice(0, 16)}Z`;
}

/**
 * The half-hour records of an answer: national `{ data: [point] }`, regional
 * `{ data: [{ regionid, shortname, data: [point] }] }` or `{ data: { regionid, data: [point] } }`.
 */
function recordsOf(path: string, uk: UkZone, body: unknown): unknown[] {
  const data = asObject(body)?.["data"];
  if (uk.regionId === null) {
    if (!Array.isArray(data)) throw unexpectedAnswer(UK_CARBON_INTENSITY, path, 'no "data" list');
    return data;
  }
  const region = Array.isArray(data) ? asObject(data[0]) : asObject(data);
  const inner = region?.["data"];
  if (region === null || !Array.isArray(inner)) {
    throw unexpectedAnswer(UK_CARBON_INTENSITY, path, 'no region with a "data" list');
  }
  const answeredId = region["regionid"];
  if (typeof answeredId === "number" && answeredId !== uk.regionId) {
    throw unexpectedAnswer(
      UK_CARBON_INTENSITY,
      path,
      `asked for region ${uk.regionId}, got region ${answeredId}`,
    );
  }
  return inner;
}

function seriesOf(
  path: string,
  uk: UkZone,
  operation: string,
  body: unknown,
  window?: { fromMs: number; toMs: number },
): IntensitySeries {
  const records = recordsOf(path, uk, body);
  const area =
    uk.regionId === null
      ? "national"
      : `region ${uk.regionId} ${UK_REGIONS[uk.regionId] ?? ""}`.trim();
  const input = {
    provider: UK_CARBON_INTENSITY,
    path,
    zone: uk.zone,
    signal: "average" as const,
    source: `${UK_CARBON_INTENSITY}:${operation} ${area} (${LICENCE})`,
    originalUnit: "gCO2/kWh",
  };
  if (records.length === 0) return emptySeries(input, `no points in the answer from ${path}`);
  const points: RawPoint[] = records.map((item) => {
    const record = asObject(item) ?? {};
    const intensity = asObject(record["intensity"]) ?? {};
    const actual = intensity["actual"];
    const useActual = typeof actual === "number" && Number.isFinite(actual) && actual >= 0;
    return {
      start: record["from"],
      end: record["to"],
      value: useActual ? actual : intensity["forecast"],
      forecast: !useActual,
    };
  });
  return buildSeries({ ...input, points, defaultStepMs: HALF_HOUR_MS, window });
}
