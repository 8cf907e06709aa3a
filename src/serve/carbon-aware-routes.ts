/**
 * The Green Software Foundation Carbon Aware SDK Web API routes existing clients call,
 * answered from wattprint's own grid data in the SDK's response shapes:
 * - `GET /emissions/bylocation?location=&time=&toTime=` and
 *   `GET /emissions/bylocations?location=a&location=b…`: EmissionsData
 *   `[{ location, time, rating, duration }]` (rating gCO2e/kWh, duration "hh:mm:ss");
 * - `GET /emissions/bylocations/best`: the EmissionsData with the lowest rating;
 * - `GET /emissions/forecasts/current?location=&dataStartAt=&dataEndAt=&windowSize=`:
 *   `[{ generatedAt, requestedAt, location, dataStartAt, dataEndAt, windowSize,
 *   optimalDataPoint, forecastData }]` with `{ location, timestamp, duration, value }` points;
 * - `GET /emissions/average-carbon-intensity?location=&startTime=&endTime=`;
 * - `GET /locations`: `{ name: { name, latitude, longitude } }`.
 * Locations are wattprint regions ("FR", "US-CA", "aws:us-east-1") or Azure region names
 * ("eastus", tried as "azure:eastus"). Data: the shipped hourly 2022 series where a zone
 * has one and the time is in it, else the region's annual average (a flat line). The
 * forecast is a climatological profile, not a prediction of tomorrow: per UTC hour, the
 * mean of the same month's hours in the shipped year, or the annual average. The header
 * `x-wattprint-source` names what answered. Signal: average (never marginal).
 */
import { getIntensitySeries } from "../grid/intensity.js";
import { loadEmbeddedSeries } from "../grid/embedded-series.js";
import { listRegions, resolveRegion, type ResolvedRegion } from "../grid/regions.js";
import { isWattprintError } from "../errors.js";
import { sendJson } from "./http.js";
import type { Route, RouteRequest } from "./routing.js";

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** Longest window a history request may span (31 days), ms. */
const MAX_WINDOW_MS = 31 * 24 * HOUR_MS;
/** Forecast horizon, ms (24 h, like most providers' day-ahead data). */
const FORECAST_HORIZON_MS = 24 * HOUR_MS;
const MAX_LOCATIONS = 50;

/** The SDK answers validation errors as ASP.NET ValidationProblemDetails. */
function badRequest(request: RouteRequest, field: string, message: string): void {
  sendJson(request.res, 400, {
    type: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
    title: "One or more validation errors occurred.",
    status: 400,
    errors: { [field]: [message] },
  });
}

class BadParameter extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A wattprint region for an SDK location name; throws BadParameter when none fits. */
export function resolveSdkLocation(location: string): ResolvedRegion {
  const name = location.trim();
  if (name === "" || name.length > 100)
    throw new BadParameter("location", "a location name is required");
  for (const candidate of [name, `azure:${name}`]) {
    try {
      return resolveRegion(candidate);
    } catch (error) {
      if (!isWattprintError(error) || error.code !== "UNKNOWN_REGION") throw error;
    }
  }
  throw new BadParameter(
    "location",
    `unknown location "${name}"; GET /locations lists the known ones`,
  );
}

function locations(query: URLSearchParams): string[] {
  const names = query
    .getAll("location")
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
  if (names.length === 0) throw new BadParameter("location", "The location field is required.");
  if (names.length > MAX_LOCATIONS)
    throw new BadParameter("location", `at most ${MAX_LOCATIONS} locations`);
  return names;
}

function timeParam(query: URLSearchParams, name: string): number | null {
  const text = query.get(name);
  if (text === null || text === "") return null;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new BadParameter(name, `"${text}" is not a date-time`);
  return ms;
}

/** A .NET TimeSpan "hh:mm:ss" (days fold into hours, as the SDK's serializer writes under a day). */
export function formatTimeSpan(ms: number): string {
  const totalS = Math.round(ms / 1000);
  const hours = Math.floor(totalS / 3600);
  const minutes = Math.floor((totalS % 3600) / 60);
  const seconds = totalS % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
}

interface EmissionsData {
  location: string;
  time: string;
  rating: number;
  duration: string;
}

/** EmissionsData over [fromMs, toMs): hourly series points, or hourly slots at the annual average. */
async function emissionsFor(
  location: string,
  fromMs: number,
  toMs: number,
): Promise<{ data: EmissionsData[]; source: string }> {
  const region = resolveSdkLocation(location);
  const result = await getIntensitySeries(region.code, fromMs, toMs);
  const data: EmissionsData[] = [];
  for (const point of result.series.points) {
    // The annual average comes as one long point: cut it into hourly slots like the SDK's data.
    const stepMs = point.endMs - point.startMs > HOUR_MS ? HOUR_MS : point.endMs - point.startMs;
    for (
      let start = Math.max(point.startMs, Math.floor(fromMs / stepMs) * stepMs);
      start < Math.min(point.endMs, toMs);
      start += stepMs
    ) {
      data.push({
        location,
        time: new Date(start).toISOString(),
        rating: point.intensityGPerKWh,
        duration: formatTimeSpan(stepMs),
      });
    }
  }
  return {
    data,
    source:
      result.origin === "embedded-hourly"
        ? result.series.source
        : `annual average: ${region.source}`,
  };
}

function historyWindow(
  query: URLSearchParams,
  nowMs: number,
  startName: string,
  endName: string,
): { fromMs: number; toMs: number } {
  const fromMs = timeParam(query, startName) ?? nowMs - HOUR_MS;
  const toMs = timeParam(query, endName) ?? Math.max(fromMs + HOUR_MS, nowMs);
  if (toMs <= fromMs) throw new BadParameter(endName, `${endName} must be after ${startName}`);
  if (toMs - fromMs > MAX_WINDOW_MS)
    throw new BadParameter(endName, "the window may span at most 31 days");
  return { fromMs, toMs };
}

function wrap(
  handler: (request: RouteRequest) => Promise<void>,
): (request: RouteRequest) => Promise<void> {
  return async (request) => {
    try {
      await handler(request);
    } catch (error) {
      if (error instanceof BadParameter) badRequest(request, error.field, error.message);
      else throw error;
    }
  };
}

async function byLocations(request: RouteRequest, best: boolean): Promise<void> {
  const query = request.url.searchParams;
  const names = locations(query);
  const { fromMs, toMs } = historyWindow(query, request.app.now(), "time", "toTime");
  const all: EmissionsData[] = [];
  const sources = new Set<string>();
  for (const name of names) {
    const { data, source } = await emissionsFor(name, fromMs, toMs);
    all.push(...data);
    sources.add(source);
  }
  const headers = { "x-wattprint-source": [...sources].join("; ").slice(0, 500) };
  if (all.length === 0) {
    request.res.writeHead(204, headers);
    request.res.end();
    return;
  }
  if (!best) {
    sendJson(request.res, 200, all, headers);
    return;
  }
  const lowest = Math.min(...all.map((d) => d.rating));
  sendJson(request.res, 200, all.filter((d) => d.rating === lowest).slice(0, 1), headers);
}

/**
 * The climatological profile of a region for [fromMs, toMs): per UTC hour, the mean of
 * the same month's same hour in the shipped hourly year, else the annual average.
 */
export function climatologicalForecast(
  region: ResolvedRegion,
  fromMs: number,
  toMs: number,
): { points: { startMs: number; value: number }[]; source: string } {
  const series = loadEmbeddedSeries(region.zone);
  const profile = new Map<string, { sum: number; n: number }>();
  if (series !== null) {
    for (const point of series.points) {
      const date = new Date(point.startMs);
      const key = `${date.getUTCMonth()}:${date.getUTCHours()}`;
      const entry = profile.get(key) ?? { sum: 0, n: 0 };
      entry.sum += point.intensityGPerKWh;
      entry.n += 1;
      profile.set(key, entry);
    }
  }
  const points: { startMs: number; value: number }[] = [];
  for (let start = Math.floor(fromMs / HOUR_MS) * HOUR_MS; start < toMs; start += HOUR_MS) {
    const date = new Date(start);
    const entry = profile.get(`${date.getUTCMonth()}:${date.getUTCHours()}`);
    points.push({
      startMs: start,
      value: entry === undefined ? region.intensityGPerKWh : entry.sum / entry.n,
    });
  }
  return {
    points,
    source:
      series !== null && profile.size > 0
        ? `climatological profile (same month and hour) of ${series.source}`
        : `annual average (flat): ${region.source}`,
  };
}

async function forecastCurrent(request: RouteRequest): Promise<void> {
  const query = request.url.searchParams;
  const names = locations(query);
  const nowMs = request.app.now();
  const startMs = timeParam(query, "dataStartAt") ?? nowMs;
  const endMs =
    timeParam(query, "dataEndAt") ?? Math.floor(nowMs / HOUR_MS) * HOUR_MS + FORECAST_HORIZON_MS;
  if (endMs <= startMs) throw new BadParameter("dataEndAt", "dataEndAt must be after dataStartAt");
  if (endMs - startMs > 7 * 24 * HOUR_MS)
    throw new BadParameter("dataEndAt", "the forecast spans at most 7 days");
  const windowText = query.get("windowSize");
  const windowMinutes = windowText === null || windowText === "" ? 60 : Number(windowText);
  if (!Number.isInteger(windowMinutes) || windowMinutes < 1 || windowMinutes > 24 * 60) {
    throw new BadParameter("windowSize", "windowSize is whole minutes from 1 to 1440");
  }
  const sources = new Set<string>();
  const forecasts = names.map((name) => {
    const region = resolveSdkLocation(name);
    const { points, source } = climatologicalForecast(region, startMs, endMs);
    sources.add(source);
    const windowMs = windowMinutes * MINUTE_MS;
    // Each point's value becomes the mean over the window starting there, as the SDK reports.
    const valueAt = (timeMs: number) => {
      const point =
        points[
          Math.min(
            points.length - 1,
            Math.max(0, Math.floor((timeMs - (points[0]?.startMs ?? 0)) / HOUR_MS)),
          )
        ];
      return point?.value ?? region.intensityGPerKWh;
    };
    const stepMs = Math.min(HOUR_MS, windowMs);
    const forecastData: { location: string; timestamp: string; duration: number; value: number }[] =
      [];
    for (
      let start = Math.ceil(startMs / stepMs) * stepMs;
      start + windowMs <= endMs;
      start += stepMs
    ) {
      let weighted = 0;
      for (let t = start; t < start + windowMs; t += MINUTE_MS) weighted += valueAt(t);
      forecastData.push({
        location: name,
        timestamp: new Date(start).toISOString(),
        duration: windowMinutes,
        value: Math.round((weighted / windowMinutes) * 1000) / 1000,
      });
      if (forecastData.length >= 2000) break;
    }
    const optimal = forecastData.reduce<(typeof forecastData)[number] | null>(
      (best, point) => (best === null || point.value < best.value ? point : best),
      null,
    );
    return {
      generatedAt: new Date(Math.floor(nowMs / HOUR_MS) * HOUR_MS).toISOString(),
      requestedAt: new Date(nowMs).toISOString(),
      location: name,
      dataStartAt: new Date(startMs).toISOString(),
      dataEndAt: new Date(endMs).toISOString(),
      windowSize: windowMinutes,
      optimalDataPoint: optimal,
      forecastData,
    };
  });
  sendJson(request.res, 200, forecasts, {
    "x-wattprint-source": [...sources].join("; ").slice(0, 500),
  });
}

async function averageIntensity(request: RouteRequest): Promise<void> {
  const query = request.url.searchParams;
  const location = query.get("location");
  if (location === null || location === "")
    throw new BadParameter("location", "The location field is required.");
  if (query.get("startTime") === null)
    throw new BadParameter("startTime", "The startTime field is required.");
  if (query.get("endTime") === null)
    throw new BadParameter("endTime", "The endTime field is required.");
  const { fromMs, toMs } = historyWindow(query, request.app.now(), "startTime", "endTime");
  const { data, source } = await emissionsFor(location, fromMs, toMs);
  let weighted = 0;
  let covered = 0;
  for (const item of data) {
    const startMs = Date.parse(item.time);
    const durationMs =
      Number(item.duration.split(":").reduce((acc, part) => acc * 60 + Number(part), 0)) * 1000;
    const overlapMs = Math.min(startMs + durationMs, toMs) - Math.max(startMs, fromMs);
    if (overlapMs <= 0) continue;
    weighted += item.rating * overlapMs;
    covered += overlapMs;
  }
  sendJson(
    request.res,
    200,
    {
      location,
      startTime: new Date(fromMs).toISOString(),
      endTime: new Date(toMs).toISOString(),
      carbonIntensity: covered > 0 ? weighted / covered : 0,
    },
    { "x-wattprint-source": source.slice(0, 500) },
  );
}

async function allLocations(request: RouteRequest): Promise<void> {
  const out: Record<string, { name: string; latitude: null; longitude: null }> = {};
  for (const region of listRegions()) {
    out[region.code] = { name: region.name, latitude: null, longitude: null };
    if (region.code.startsWith("azure:")) {
      const short = region.code.slice("azure:".length);
      out[short] = { name: region.name, latitude: null, longitude: null };
    }
  }
  sendJson(request.res, 200, out, {
    "x-wattprint-source": "wattprint region tables (data/grid, see data/SOURCES.md)",
  });
}

/** The Carbon Aware SDK routes; loopback callers need no token, others a read token. */
export const CARBON_AWARE_ROUTES: readonly Route[] = [
  {
    method: "GET",
    path: /^\/emissions\/bylocation$/,
    name: "sdk.bylocation",
    access: "loopback-or-read",
    handler: wrap((r) => byLocations(r, false)),
  },
  {
    method: "GET",
    path: /^\/emissions\/bylocations$/,
    name: "sdk.bylocations",
    access: "loopback-or-read",
    handler: wrap((r) => byLocations(r, false)),
  },
  {
    method: "GET",
    path: /^\/emissions\/bylocations\/best$/,
    name: "sdk.best",
    access: "loopback-or-read",
    handler: wrap((r) => byLocations(r, true)),
  },
  {
    method: "GET",
    path: /^\/emissions\/forecasts\/current$/,
    name: "sdk.forecast",
    access: "loopback-or-read",
    handler: wrap(forecastCurrent),
  },
  {
    method: "GET",
    path: /^\/emissions\/average-carbon-intensity$/,
    name: "sdk.average",
    access: "loopback-or-read",
    handler: wrap(averageIntensity),
  },
  {
    method: "GET",
    path: /^\/locations$/,
    name: "sdk.locations",
    access: "loopback-or-read",
    handler: wrap(allLocations),
  },
];
