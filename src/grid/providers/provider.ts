/**
 * Live carbon-intensity providers: the {@link IntensityProvider} interface every adapter
 * implements, its options with their defaults, the strict parsing every adapter shares
 * (timestamps with explicit offsets, points without a usable number skipped and reported),
 * and {@link withFallback}, which turns a provider failure into a stale cache or an embedded
 * figure with a visible warning. See docs/providers.md.
 */
import { WattprintError, describeError } from "../../errors.js";
import {
  makeSeries,
  type IntensityPoint,
  type IntensitySeries,
  type IntensitySignal,
} from "../series.js";
import { DEFAULT_CACHE_TTL_S, ResponseCache, defaultCacheDir, loadThroughCache } from "./cache.js";
import {
  DEFAULT_RETRIES,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  ProviderRequestError,
  createHttpClient,
  type HttpClient,
} from "./http.js";

/** A source of time-resolved carbon intensity for grid zones. */
export interface IntensityProvider {
  /** "electricitymaps", "watttime", "uk-carbon-intensity", "carbon-aware-sdk". */
  readonly name: string;
  /** What its figures mean: average (electricitymaps, uk, carbon-aware-sdk) or marginal (watttime). */
  readonly signal: IntensitySignal;
  /** The most recent figure, one point. */
  latest(zone: string): Promise<IntensitySeries>;
  /** The points overlapping `[fromMs, toMs)`, UTC epoch ms. */
  history(zone: string, fromMs: number, toMs: number): Promise<IntensitySeries>;
  /** The provider's forecast from now on; points carry `forecast: true`. */
  forecast(zone: string): Promise<IntensitySeries>;
}

/** Options shared by every provider; each says which it needs (docs/providers.md). */
export interface ProviderOptions {
  /** Root of the API, without the version path. Default: the provider's public service (none for carbon-aware-sdk, which is self-hosted). */
  baseUrl?: string;
  /** Electricity Maps: the `auth-token`. Required there; unused by the others. */
  apiKey?: string;
  /** WattTime account name (HTTP basic auth on /login). Required there. */
  username?: string;
  /** WattTime password. Required there. */
  password?: string;
  /** Time limit of one request, ms. Default {@link DEFAULT_TIMEOUT_MS} (10 s). */
  timeoutMs?: number;
  /** Extra attempts after a 429, a 5xx, a timeout or a refused connection. Default {@link DEFAULT_RETRIES} (2). */
  retries?: number;
  /** First backoff delay, ms, doubled on each retry, half of it jittered. Default 500. */
  retryBaseDelayMs?: number;
  /** Longest single wait, ms; a `Retry-After` asking for more is reported, not waited for. Default 10 000. */
  retryMaxDelayMs?: number;
  /** Folder of the on-disk cache; null turns the cache off. Default {@link defaultCacheDir} (~/.wattprint/cache). */
  cacheDir?: string | null;
  /** How long an answer stays fresh, seconds. Default {@link DEFAULT_CACHE_TTL_S} (900). */
  cacheTtlS?: number;
  /** Clock, ms since the epoch: cache expiry and "now" for forecasts. Default `Date.now`. */
  now?: () => number;
}

/** The options an adapter works with: defaults applied, values checked, cache and HTTP client built. */
export interface ProviderContext {
  provider: string;
  /** Base URL without a trailing slash. */
  baseUrl: string;
  apiKey: string | null;
  username: string | null;
  password: string | null;
  cache: ResponseCache | null;
  cacheTtlS: number;
  now: () => number;
  http: HttpClient;
}

/**
 * Checks and completes the options of one provider. `defaultBaseUrl` null means the user
 * must give one. Throws {@link ProviderRequestError} kind "config" for a bad value (before
 * any request).
 */
export function resolveProviderOptions(
  provider: string,
  options: ProviderOptions,
  defaultBaseUrl: string | null,
): ProviderContext {
  const baseUrlText = nonEmpty(options.baseUrl) ?? defaultBaseUrl;
  if (baseUrlText === null) {
    throw configError(
      provider,
      "no base URL given; this service has no public default",
      "give the base URL of your deployment (for example --provider-url http://localhost:8080)",
    );
  }
  let base: URL;
  try {
    base = new URL(baseUrlText);
  } catch {
    throw configError(
      provider,
      `the base URL "${baseUrlText}" is not a URL`,
      "give an http:// or https:// URL",
    );
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw configError(
      provider,
      `the base URL "${baseUrlText}" is not http or https`,
      "give an http:// or https:// URL",
    );
  }
  const cacheTtlS = options.cacheTtlS ?? DEFAULT_CACHE_TTL_S;
  if (!Number.isFinite(cacheTtlS) || cacheTtlS < 0) {
    throw configError(
      provider,
      `cacheTtlS is ${cacheTtlS}; it must be a number of seconds ≥ 0`,
      "fix the provider options",
    );
  }
  const now = options.now ?? Date.now;
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const http = wrapConfigErrors(provider, () =>
    createHttpClient({
      provider,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retries: options.retries ?? DEFAULT_RETRIES,
      retryBaseDelayMs: options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
      retryMaxDelayMs: options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS,
      now,
    }),
  );
  return {
    provider,
    baseUrl: base.href.replace(/\/+$/, ""),
    apiKey: nonEmpty(options.apiKey),
    username: nonEmpty(options.username),
    password: options.password === undefined || options.password === "" ? null : options.password,
    cache: cacheDir === null ? null : new ResponseCache({ dir: cacheDir, now }),
    cacheTtlS,
    now,
    http,
  };
}

function wrapConfigErrors<T>(provider: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof WattprintError) throw error;
    throw configError(provider, describeError(error), "fix the provider options");
  }
}

function nonEmpty(text: string | undefined): string | null {
  return text === undefined || text.trim() === "" ? null : text.trim();
}

/** A configuration problem found before any request (missing key, bad zone, bad option). */
export function configError(provider: string, problem: string, hint: string): ProviderRequestError {
  return new ProviderRequestError(provider, "config", problem, { hint });
}

/** An answer that is JSON but not of the documented shape. */
export function unexpectedAnswer(
  provider: string,
  path: string,
  problem: string,
): ProviderRequestError {
  return new ProviderRequestError(
    provider,
    "unexpected",
    `unexpected answer from ${path}: ${problem}`,
    {
      hint: "the service's API may have changed, or the base URL points at something else; see docs/providers.md",
    },
  );
}

/** Rejects a window that is not finite or ends before it starts. */
export function checkWindow(provider: string, fromMs: number, toMs: number): void {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs) {
    throw configError(
      provider,
      `the history window ${String(fromMs)}..${String(toMs)} is not a time span (UTC epoch ms, end after start)`,
      "give a start before the end",
    );
  }
}

/** `[fromMs, toMs)` cut into consecutive pieces of at most `maxSpanMs` (for APIs that cap a request's range). */
export function splitWindow(fromMs: number, toMs: number, maxSpanMs: number): [number, number][] {
  const pieces: [number, number][] = [];
  for (let startMs = fromMs; startMs < toMs; startMs += maxSpanMs) {
    pieces.push([startMs, Math.min(toMs, startMs + maxSpanMs)]);
  }
  return pieces;
}

const STRICT_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * An ISO 8601 / RFC 3339 date-time with an explicit offset ("Z", "+00:00", "+0000") as
 * UTC epoch ms; seconds and fractions are optional ("2024-05-01T10:30Z" as the UK API
 * writes it). Null for anything else: no offset, impossible dates, other types.
 */
export function parseTimestampMs(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const match = STRICT_TIMESTAMP.exec(value.trim());
  if (match === null) return null;
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  const fields = [year, month, day, hour, minute].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const seconds = second === undefined ? 0 : Number(second);
  const milliseconds = fraction === undefined ? 0 : Number(`0.${fraction}`) * 1000;
  const [y, mo, d, h, mi] = fields;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || seconds > 59) return null;
  const localMs = Date.UTC(y, mo - 1, d, h, mi, seconds) + Math.round(milliseconds);
  // Date.UTC rolls 31 April over into May; a date that moved was not a date.
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return null;
  if (offset === undefined || offset === "Z") return localMs;
  const sign = offset.startsWith("-") ? -1 : 1;
  const digits = offset.slice(1).replace(":", "");
  const offsetHours = Number(digits.slice(0, 2));
  const offsetMinutes = Number(digits.slice(2));
  if (offsetHours > 23 || offsetMinutes > 59) return null;
  return localMs - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

/** A point as an adapter read it, before checking. */
export interface RawPoint {
  /** The start time as the service wrote it. */
  start: unknown;
  /** The end time as the service wrote it, when it gives one. */
  end?: unknown;
  /** The length of the interval, ms, when the service gives one instead of an end; a missing or non-positive one counts as unknown. */
  durationMs?: number | null;
  /** The intensity in the service's unit. */
  value: unknown;
  forecast: boolean;
}

/** How {@link buildSeries} turns raw points into a series. */
export interface BuildSeriesInput {
  provider: string;
  /** Endpoint path, for messages. */
  path: string;
  zone: string;
  signal: IntensitySignal;
  source: string;
  originalUnit: string;
  /** Converts one value in the service's unit to gCO2e/kWh. Default: identity. */
  toGPerKWh?: (value: number) => number;
  points: readonly RawPoint[];
  /** Length of a point without an end or duration when the spacing cannot tell, ms. */
  defaultStepMs: number;
  /** Keep only the points overlapping this window. */
  window?: { fromMs: number; toMs: number };
  warnings?: readonly string[];
}

/** How many skipped times a warning lists before "…". */
const LISTED_SKIPS = 3;

/**
 * Checks, converts and orders raw points into an {@link IntensitySeries}. A point whose
 * time is not a strict timestamp, or whose value is not a finite number ≥ 0, is skipped and
 * counted in one warning (unless it lies outside `window`). A missing end is the start plus
 * the data's resolution (the smallest spacing of the starts, skipped points included, else
 * `defaultStepMs`), clipped at the next point's start, so points never overlap and a skipped
 * value stays a gap. A repeated start keeps the first point.
 */
export function buildSeries(input: BuildSeriesInput): IntensitySeries {
  const convert = input.toGPerKWh ?? ((value: number) => value);
  const warnings = [...(input.warnings ?? [])];
  const skipped: { label: string; startMs: number | null }[] = [];
  interface Parsed {
    startMs: number;
    endMs: number | null;
    intensityGPerKWh: number;
    forecast: boolean;
  }
  const parsed: Parsed[] = [];
  // Starts of skipped points count for the spacing, so that a missing value stays a gap.
  const allStartsMs: number[] = [];
  for (const raw of input.points) {
    const startMs = parseTimestampMs(raw.start);
    const label = typeof raw.start === "string" ? raw.start : (JSON.stringify(raw.start) ?? "?");
    if (startMs === null) {
      skipped.push({ label: `${label} (time without an explicit offset or not a date)`, startMs });
      continue;
    }
    allStartsMs.push(startMs);
    if (typeof raw.value !== "number" || !Number.isFinite(raw.value) || raw.value < 0) {
      skipped.push({ label: `${label} (value ${describeValue(raw.value)})`, startMs });
      continue;
    }
    let endMs: number | null = null;
    if (raw.end !== undefined && raw.end !== null) {
      endMs = parseTimestampMs(raw.end);
      if (endMs === null || endMs <= startMs) {
        skipped.push({ label: `${label} (end ${JSON.stringify(raw.end)} unusable)`, startMs });
        continue;
      }
    } else if (
      raw.durationMs !== undefined &&
      raw.durationMs !== null &&
      Number.isFinite(raw.durationMs) &&
      raw.durationMs > 0
    ) {
      endMs = startMs + raw.durationMs;
    }
    parsed.push({ startMs, endMs, intensityGPerKWh: convert(raw.value), forecast: raw.forecast });
  }
  const stepMs = smallestStepMs(allStartsMs) ?? input.defaultStepMs;
  const window = input.window;
  // A hole outside the window asked for is none of the caller's business.
  const relevant = skipped.filter(
    ({ startMs }) =>
      window === undefined ||
      startMs === null ||
      (startMs < window.toMs && startMs + stepMs > window.fromMs),
  );
  if (relevant.length > 0) {
    const listed = relevant
      .slice(0, LISTED_SKIPS)
      .map(({ label }) => label)
      .join("; ");
    const more = relevant.length > LISTED_SKIPS ? `; … ${relevant.length - LISTED_SKIPS} more` : "";
    warnings.push(
      `${input.provider}: skipped ${relevant.length} point${relevant.length === 1 ? "" : "s"} without a usable time or intensity from ${input.path}: ${listed}${more}`,
    );
  }

  parsed.sort((a, b) => a.startMs - b.startMs);
  const unique = parsed.filter(
    (point, index) => index === 0 || parsed[index - 1]?.startMs !== point.startMs,
  );
  const points: IntensityPoint[] = unique.map((point, index) => {
    const nextStartMs = unique[index + 1]?.startMs ?? Number.POSITIVE_INFINITY;
    const endMs = Math.min(point.endMs ?? point.startMs + stepMs, nextStartMs);
    const built: IntensityPoint = {
      startMs: point.startMs,
      endMs,
      intensityGPerKWh: point.intensityGPerKWh,
    };
    if (point.forecast) built.forecast = true;
    return built;
  });
  const kept =
    window === undefined
      ? points
      : points.filter((point) => point.endMs > window.fromMs && point.startMs < window.toMs);
  try {
    return makeSeries({
      zone: input.zone,
      signal: input.signal,
      source: input.source,
      originalUnit: input.originalUnit,
      points: kept,
      warnings,
    });
  } catch (error) {
    throw unexpectedAnswer(input.provider, input.path, describeError(error));
  }
}

/** A value as a warning shows it: NaN as "NaN" (JSON would say null), undefined as "missing". */
function describeValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  return JSON.stringify(value) ?? "missing";
}

/** The smallest positive spacing of the starts, ms (the data's resolution); null when there is none. */
function smallestStepMs(startsMs: readonly number[]): number | null {
  const sorted = [...startsMs].sort((a, b) => a - b);
  let smallest: number | null = null;
  for (let index = 1; index < sorted.length; index += 1) {
    const stepMs = (sorted[index] ?? 0) - (sorted[index - 1] ?? 0);
    if (stepMs > 0 && (smallest === null || stepMs < smallest)) smallest = stepMs;
  }
  return smallest;
}

/** Throws when a series meant to hold the latest figure holds none. */
export function requireOnePoint(
  series: IntensitySeries,
  provider: string,
  path: string,
): IntensitySeries {
  const last = series.points[series.points.length - 1];
  if (last === undefined)
    throw unexpectedAnswer(provider, path, "no point with a usable intensity");
  return { ...series, points: [last], gaps: [] };
}

/** The point of a series that contains `timeMs`, else the last one starting before it, else the first one. */
export function pointNearest(series: IntensitySeries, timeMs: number): IntensitySeries {
  let chosen: IntensityPoint | undefined;
  for (const point of series.points) {
    if (point.startMs <= timeMs) chosen = point;
  }
  chosen ??= series.points[0];
  return { ...series, points: chosen === undefined ? [] : [chosen], gaps: [] };
}

/** Joins the series of consecutive windows of one request into one series. */
export function joinSeries(
  parts: readonly IntensitySeries[],
  empty: () => IntensitySeries,
): IntensitySeries {
  const first = parts[0];
  if (first === undefined) return empty();
  const seen = new Set<number>();
  const points: IntensityPoint[] = [];
  for (const part of parts) {
    for (const point of part.points) {
      if (seen.has(point.startMs)) continue;
      seen.add(point.startMs);
      points.push(point);
    }
  }
  const warnings = [...new Set(parts.flatMap((part) => part.warnings))];
  const sources = [...new Set(parts.map((part) => part.source))];
  points.sort((a, b) => a.startMs - b.startMs);
  // Pieces are cut at window edges; a point cut short by its own piece may overlap the next piece's first.
  const disjoint = points.map((point, index) => ({
    ...point,
    endMs: Math.min(point.endMs, points[index + 1]?.startMs ?? Number.POSITIVE_INFINITY),
  }));
  return makeSeries({ ...first, source: sources.join("; "), points: disjoint, warnings });
}

/** A series of no points, for an answer that holds none. */
export function emptySeries(
  input: Omit<BuildSeriesInput, "points" | "defaultStepMs" | "window">,
  reason: string,
): IntensitySeries {
  return makeSeries({
    zone: input.zone,
    signal: input.signal,
    source: input.source,
    originalUnit: input.originalUnit,
    points: [],
    warnings: [...(input.warnings ?? []), `${input.provider}: ${reason}`],
  });
}

// ---- requests ----------------------------------------------------------------------------

/** One series request of an adapter, for {@link fetchSeries}. */
export interface SeriesRequest {
  /** Endpoint path below the base URL: "/v3/carbon-intensity/latest". */
  path: string;
  /** Query parameters (part of the cache key). */
  query?: Record<string, string>;
  /** Request headers (not part of the cache key: keys and tokens stay out of it). */
  headers?: Record<string, string>;
  /** How the credentials are named in a 401 message. */
  credentials?: string;
  authHint?: string;
  clientErrorHint?: string;
  /** Turns the JSON body into a series; throws {@link unexpectedAnswer} for a wrong shape. */
  parse: (body: unknown) => IntensitySeries;
  /** Sends the request instead of a plain GET (WattTime's token flow). */
  send?: (url: URL) => Promise<unknown>;
}

/**
 * GETs one endpoint through the cache (fresh entry: no request; failure: stale entry with a
 * warning) and parses it. Cache notices are added to the series' warnings.
 */
export async function fetchSeries(
  context: ProviderContext,
  request: SeriesRequest,
): Promise<IntensitySeries> {
  const url = new URL(`${context.baseUrl}${request.path}`);
  const query = request.query ?? {};
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const send =
    request.send ??
    (async (target: URL) => {
      const response = await context.http.getJson({
        url: target,
        headers: request.headers,
        credentials: request.credentials,
        authHint: request.authHint,
        clientErrorHint: request.clientErrorHint,
      });
      return response.body;
    });
  const loaded = await loadThroughCache({
    cache: context.cache,
    key: { provider: context.provider, endpoint: request.path, params: query },
    ttlS: context.cacheTtlS,
    request: () => send(url),
    parse: request.parse,
  });
  if (loaded.warnings.length === 0) return loaded.value;
  return { ...loaded.value, warnings: [...loaded.value.warnings, ...loaded.warnings] };
}

/** A plain object, or null. */
export function asObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** UTC ISO 8601 with seconds and "Z": "2024-05-01T10:00:00Z". */
export function isoSeconds(timeMs: number): string {
  return `${new Date(timeMs).toISOString().slice(0, 19)}Z`;
}

// ---- fallback ----------------------------------------------------------------------------

/** One provider call, for {@link withFallback}. */
export type ProviderOperation =
  { kind: "latest" } | { kind: "history"; fromMs: number; toMs: number } | { kind: "forecast" };

/** What {@link withFallback} returns. */
export interface FallbackResult {
  /** The provider's series (possibly from its cache, fresh or stale), or the embedded one. */
  series: IntensitySeries;
  /** "provider" when the provider answered (live, from cache, or from a stale cache after a failure; see the series' warnings); "embedded" when the caller's series stands in. */
  origin: "provider" | "embedded";
  /** The provider's failure when the embedded series stands in; null otherwise. */
  error: WattprintError | null;
}

/**
 * Runs one provider call and, when it fails (after its retries, and after its own stale-cache
 * fallback, which adds a "stale cache from <time>" warning), returns `embedded()` instead
 * with a warning naming the provider's error. The embedded series is typically the region's
 * annual average from the embedded table (`resolveRegion`) or a trace file; when it is of
 * another signal (an average standing in for WattTime's marginal figures) the warning says so.
 * Configuration errors (missing key, bad zone) are not hidden: they are thrown, as is the
 * provider's error when `embedded()` returns null.
 * @throws WattprintError the provider's error when nothing can stand in, or a configuration error.
 */
export async function withFallback(
  provider: IntensityProvider,
  zone: string,
  operation: ProviderOperation,
  embedded: () => IntensitySeries | null,
): Promise<FallbackResult> {
  try {
    const series = await runOperation(provider, zone, operation);
    return { series, origin: "provider", error: null };
  } catch (error) {
    if (!(error instanceof WattprintError) || error.code !== "PROVIDER") throw error;
    if (error instanceof ProviderRequestError && error.kind === "config") throw error;
    const standIn = embedded();
    if (standIn === null) throw error;
    const notes = [`${error.message}; using ${standIn.source} instead`];
    if (standIn.signal !== provider.signal) {
      notes.push(
        `the stand-in is ${standIn.signal === "average" ? "an average" : "a marginal"} intensity, not the ${provider.signal} signal ${provider.name} gives; do not use it for ${provider.signal === "marginal" ? "scheduling decisions" : "accounting"}`,
      );
    }
    return {
      series: { ...standIn, warnings: [...standIn.warnings, ...notes] },
      origin: "embedded",
      error,
    };
  }
}

function runOperation(
  provider: IntensityProvider,
  zone: string,
  operation: ProviderOperation,
): Promise<IntensitySeries> {
  switch (operation.kind) {
    case "latest":
      return provider.latest(zone);
    case "history":
      return provider.history(zone, operation.fromMs, operation.toMs);
    case "forecast":
      return provider.forecast(zone);
  }
}
