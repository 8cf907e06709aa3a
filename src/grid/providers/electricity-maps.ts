/**
 * Electricity Maps API v3: average (location-based) carbon intensity per zone, gCO2eq/kWh,
 * lifecycle emission factors unless the answer says otherwise. Endpoints used:
 * `/v3/carbon-intensity/latest`, `/history` (the last 24 hours), `/past-range` (older
 * windows, start/end) and `/forecast`, each with `?zone=` and the `auth-token` header.
 * See docs/providers.md.
 */
import type { IntensitySeries } from "../series.js";
import {
  asObject,
  buildSeries,
  checkWindow,
  configError,
  emptySeries,
  fetchSeries,
  isoSeconds,
  joinSeries,
  parseTimestampMs,
  requireOnePoint,
  resolveProviderOptions,
  splitWindow,
  unexpectedAnswer,
  type IntensityProvider,
  type ProviderOptions,
  type RawPoint,
} from "./provider.js";

/** Name of the provider in messages, the cache and {@link createProvider}. */
export const ELECTRICITY_MAPS = "electricitymaps";
/** The public API root. */
export const ELECTRICITY_MAPS_DEFAULT_BASE_URL = "https://api.electricitymap.org";

const MS_PER_HOUR = 3_600_000;
/** `/history` covers the last 24 hours; older windows go to `/past-range`. */
const HISTORY_SPAN_MS = 24 * MS_PER_HOUR;
/** Longest window asked of `/past-range` in one request (the documented limit for hourly data). */
const PAST_RANGE_MAX_SPAN_MS = 10 * 24 * MS_PER_HOUR;

const AUTH_HINT =
  "give the Electricity Maps API key (auth-token) from https://portal.electricitymaps.com, and check that your plan covers this zone and endpoint";
const ZONE_HINT =
  "check the zone: Electricity Maps spells zones like DE, FR, US-CAL-CISO (see https://app.electricitymaps.com/map)";

/**
 * An Electricity Maps provider. Needs `apiKey`; `baseUrl` defaults to
 * {@link ELECTRICITY_MAPS_DEFAULT_BASE_URL}.
 * @throws ProviderRequestError kind "config" when the key is missing (no request is sent).
 */
export function createElectricityMapsProvider(options: ProviderOptions): IntensityProvider {
  const context = resolveProviderOptions(
    ELECTRICITY_MAPS,
    options,
    ELECTRICITY_MAPS_DEFAULT_BASE_URL,
  );
  const apiKey = context.apiKey;
  if (apiKey === null) {
    throw configError(ELECTRICITY_MAPS, "no API key given", AUTH_HINT);
  }
  const get = (
    path: string,
    zone: string,
    extra: Record<string, string>,
    parse: (body: unknown) => IntensitySeries,
  ) =>
    fetchSeries(context, {
      path,
      query: { zone: checkZone(zone), ...extra },
      headers: { "auth-token": apiKey },
      authHint: AUTH_HINT,
      clientErrorHint: ZONE_HINT,
      parse,
    });

  return {
    name: ELECTRICITY_MAPS,
    signal: "average",

    async latest(zone) {
      const path = "/v3/carbon-intensity/latest";
      return get(path, zone, {}, (body) => {
        const record = asObject(body);
        if (record === null) throw unexpectedAnswer(ELECTRICITY_MAPS, path, "not a JSON object");
        return requireOnePoint(
          seriesOf(path, zone, "latest", [record], false),
          ELECTRICITY_MAPS,
          path,
        );
      });
    },

    async history(zone, fromMs, toMs) {
      checkWindow(ELECTRICITY_MAPS, fromMs, toMs);
      const window = { fromMs, toMs };
      if (fromMs >= context.now() - HISTORY_SPAN_MS) {
        const path = "/v3/carbon-intensity/history";
        return get(path, zone, {}, (body) =>
          seriesOf(path, zone, "history", listField(body, "history", path), false, window),
        );
      }
      const path = "/v3/carbon-intensity/past-range";
      const parts: IntensitySeries[] = [];
      for (const [startMs, endMs] of splitWindow(fromMs, toMs, PAST_RANGE_MAX_SPAN_MS)) {
        parts.push(
          await get(path, zone, { start: isoSeconds(startMs), end: isoSeconds(endMs) }, (body) =>
            seriesOf(path, zone, "past-range", listField(body, "data", path), false, window),
          ),
        );
      }
      return joinSeries(parts, () => seriesOf(path, zone, "past-range", [], false, window));
    },

    async forecast(zone) {
      const path = "/v3/carbon-intensity/forecast";
      return get(path, zone, {}, (body) =>
        seriesOf(path, zone, "forecast", listField(body, "forecast", path), true),
      );
    },
  };
}

function checkZone(zone: string): string {
  const trimmed = zone.trim();
  if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]+)*$/.test(trimmed)) {
    throw configError(
      ELECTRICITY_MAPS,
      `"${zone}" is not an Electricity Maps zone code`,
      ZONE_HINT,
    );
  }
  return trimmed;
}

/** The array under `field` of an answer object. */
function listField(body: unknown, field: string, path: string): Record<string, unknown>[] {
  const list = asObject(body)?.[field];
  if (!Array.isArray(list)) {
    throw unexpectedAnswer(ELECTRICITY_MAPS, path, `no "${field}" list`);
  }
  return list.map((item) => asObject(item) ?? {});
}

/** The series of a list of `{ datetime, carbonIntensity, emissionFactorType?, isEstimated? }`. */
function seriesOf(
  path: string,
  zone: string,
  operation: string,
  records: readonly Record<string, unknown>[],
  forecast: boolean,
  window?: { fromMs: number; toMs: number },
): IntensitySeries {
  const factorTypes = new Set(
    records
      .map((record) => record["emissionFactorType"])
      .filter((type): type is string => typeof type === "string"),
  );
  const factors =
    factorTypes.size === 0
      ? "lifecycle emission factors (the API's default)"
      : `${[...factorTypes].join(", ")} emission factors`;
  const warnings: string[] = [];
  const inWindow = records.filter((record) => {
    if (window === undefined) return true;
    const startMs = parseTimestampMs(record["datetime"]);
    return startMs === null || (startMs < window.toMs && startMs + MS_PER_HOUR > window.fromMs);
  });
  const estimated = inWindow.filter((record) => record["isEstimated"] === true);
  if (estimated.length > 0) {
    const methods = new Set(
      estimated
        .map((record) => record["estimationMethod"])
        .filter((method): method is string => typeof method === "string"),
    );
    warnings.push(
      `${ELECTRICITY_MAPS}: Electricity Maps estimated ${estimated.length} of the ${inWindow.length} figures${methods.size > 0 ? ` (${[...methods].join(", ")})` : ""}`,
    );
  }
  const input = {
    provider: ELECTRICITY_MAPS,
    path,
    zone: zone.trim(),
    signal: "average" as const,
    source: `${ELECTRICITY_MAPS}:${operation} (${factors})`,
    originalUnit: "gCO2eq/kWh",
    warnings,
  };
  if (records.length === 0) return emptySeries(input, `no points in the answer from ${path}`);
  const points: RawPoint[] = records.map((record) => ({
    start: record["datetime"],
    value: record["carbonIntensity"],
    forecast,
  }));
  return buildSeries({ ...input, points, defaultStepMs: MS_PER_HOUR, window });
}
