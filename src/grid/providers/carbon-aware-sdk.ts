/**
 * The Green Software Foundation's Carbon Aware SDK Web API, self-hosted (no public
 * default, no key): `GET /emissions/bylocation?location=&time=&toTime=` answering
 * EmissionsData `[{ location, time, rating, duration }]` (rating in gCO2/kWh, duration a
 * .NET TimeSpan "hh:mm:ss"), and `GET /emissions/forecasts/current?location=` answering
 * `[{ forecastData: [{ timestamp, duration, value }] }]` (duration in minutes).
 * Locations are the SDK's names ("eastus", "westeurope"). See docs/providers.md.
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
  pointNearest,
  requireOnePoint,
  resolveProviderOptions,
  unexpectedAnswer,
  type IntensityProvider,
  type ProviderOptions,
  type RawPoint,
} from "./provider.js";

/** Name of the provider in messages, the cache and {@link createProvider}. */
export const CARBON_AWARE_SDK = "carbon-aware-sdk";

const MINUTE_MS = 60_000;
/** Spacing of points when the answer does not give a duration, ms (5 minutes, WattTime's step). */
const DEFAULT_STEP_MS = 5 * MINUTE_MS;
/** How far back `latest` looks for the most recent figure, ms. */
const LATEST_LOOKBACK_MS = 60 * MINUTE_MS;
/** `latest` asks for windows aligned to this step, so that its cache key stays the same for a while. */
const LATEST_ALIGN_MS = 5 * MINUTE_MS;
const SOURCE_NOTE =
  "Carbon Aware SDK; the signal and the underlying data source are those the SDK is configured with";
const LOCATION_HINT =
  "check the location name (the SDK's own names, such as eastus or westeurope) and the SDK's data source";

/**
 * A Carbon Aware SDK provider. Needs `baseUrl` (the SDK Web API is self-hosted).
 * Reported as an average signal; an SDK configured with WattTime serves marginal figures
 * under the same shape (see docs/providers.md).
 * @throws ProviderRequestError kind "config" when no base URL is given (no request is sent).
 */
export function createCarbonAwareSdkProvider(options: ProviderOptions): IntensityProvider {
  const context = resolveProviderOptions(CARBON_AWARE_SDK, options, null);
  const byLocation = (location: string, fromMs: number, toMs: number, operation: string) => {
    const path = "/emissions/bylocation";
    return fetchSeries(context, {
      path,
      query: {
        location: checkLocation(location),
        time: isoSeconds(fromMs),
        toTime: isoSeconds(toMs),
      },
      clientErrorHint: LOCATION_HINT,
      parse: (body) => emissionsSeries(path, location.trim(), operation, body, { fromMs, toMs }),
    });
  };

  return {
    name: CARBON_AWARE_SDK,
    signal: "average",

    async latest(location) {
      const nowMs = context.now();
      const toMs = Math.ceil(nowMs / LATEST_ALIGN_MS) * LATEST_ALIGN_MS;
      const series = await byLocation(location, toMs - LATEST_LOOKBACK_MS, toMs, "latest");
      return requireOnePoint(
        pointNearest(series, nowMs),
        CARBON_AWARE_SDK,
        "/emissions/bylocation",
      );
    },

    async history(location, fromMs, toMs) {
      checkWindow(CARBON_AWARE_SDK, fromMs, toMs);
      return byLocation(location, fromMs, toMs, "history");
    },

    async forecast(location) {
      const path = "/emissions/forecasts/current";
      return fetchSeries(context, {
        path,
        query: { location: checkLocation(location) },
        clientErrorHint: LOCATION_HINT,
        parse: (body) => forecastSeries(path, location.trim(), body),
      });
    },
  };
}

function checkLocation(location: string): string {
  const trimmed = location.trim();
  if (trimmed === "" || /[\s/?#&]/.test(trimmed)) {
    throw configError(CARBON_AWARE_SDK, `"${location}" is not a location name`, LOCATION_HINT);
  }
  return trimmed;
}

/** A .NET TimeSpan "hh:mm:ss", "d.hh:mm:ss" or "hh:mm:ss.fff" in ms; null when unreadable. */
export function parseTimeSpanMs(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (match === null) return null;
  const [, days, hours, minutes, seconds, fraction] = match;
  if (Number(minutes) > 59 || Number(seconds) > 59) return null;
  const totalS =
    Number(days ?? 0) * 86_400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  return totalS * 1000 + (fraction === undefined ? 0 : Math.round(Number(`0.${fraction}`) * 1000));
}

function baseInput(path: string, location: string, operation: string) {
  return {
    provider: CARBON_AWARE_SDK,
    path,
    zone: location,
    signal: "average" as const,
    source: `${CARBON_AWARE_SDK}:${operation} (${SOURCE_NOTE})`,
    originalUnit: "gCO2/kWh",
  };
}

/** EmissionsData `[{ location, time, rating, duration }]`. */
function emissionsSeries(
  path: string,
  location: string,
  operation: string,
  body: unknown,
  window: { fromMs: number; toMs: number },
): IntensitySeries {
  if (!Array.isArray(body)) throw unexpectedAnswer(CARBON_AWARE_SDK, path, "not a JSON list");
  const input = baseInput(path, location, operation);
  if (body.length === 0) return emptySeries(input, `no points in the answer from ${path}`);
  const points: RawPoint[] = body.map((item) => {
    const record = asObject(item) ?? {};
    return {
      start: record["time"],
      durationMs: parseTimeSpanMs(record["duration"]),
      value: record["rating"],
      forecast: false,
    };
  });
  return buildSeries({ ...input, points, defaultStepMs: DEFAULT_STEP_MS, window });
}

/** EmissionsForecast `[{ generatedAt, forecastData: [{ location, timestamp, duration, value }] }]`. */
function forecastSeries(path: string, location: string, body: unknown): IntensitySeries {
  const forecast = Array.isArray(body) ? asObject(body[0]) : null;
  const data = forecast?.["forecastData"];
  if (forecast === null || !Array.isArray(data)) {
    throw unexpectedAnswer(CARBON_AWARE_SDK, path, 'no forecast with a "forecastData" list');
  }
  const input = baseInput(path, location, "forecast");
  if (data.length === 0) return emptySeries(input, `no points in the answer from ${path}`);
  const points: RawPoint[] = data.map((item) => {
    const record = asObject(item) ?? {};
    const minutes = record["duration"];
    return {
      start: record["timestamp"],
      durationMs: typeof minutes === "number" ? minutes * MINUTE_MS : null,
      value: record["value"],
      forecast: true,
    };
  });
  return buildSeries({ ...input, points, defaultStepMs: DEFAULT_STEP_MS });
}
