/**
 * WattTime API v3: marginal operating emissions rate (`signal_type=co2_moer`) per balancing
 * region, lbs CO2/MWh, converted to gCO2e/kWh. Login: `GET /login` with HTTP basic auth
 * gives a bearer token, kept in memory and renewed once when a data request answers 401.
 * Data: `GET /v3/forecast` (the current value with `horizon_hours=0`, else the forecast)
 * and `GET /v3/historical` (`start`/`end`), points `{ point_time, value }`.
 * See docs/providers.md.
 */
import { LBS_PER_MWH_TO_G_PER_KWH, type IntensitySeries } from "../series.js";
import { ProviderRequestError } from "./http.js";
import {
  asObject,
  buildSeries,
  checkWindow,
  configError,
  emptySeries,
  fetchSeries,
  isoSeconds,
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
export const WATTTIME = "watttime";
/** The public API root. */
export const WATTTIME_DEFAULT_BASE_URL = "https://api.watttime.org";
/** The only unit WattTime documents for co2_moer. */
const MOER_UNITS = "lbs_co2_per_mwh";

const MS_PER_DAY = 86_400_000;
/** Longest window asked of `/v3/historical` in one request (the documented limit is 32 days). */
const HISTORICAL_MAX_SPAN_MS = 30 * MS_PER_DAY;
/** Spacing of co2_moer points when the answer does not say, ms (5 minutes). */
const DEFAULT_PERIOD_MS = 300_000;

const CREDENTIALS = "the WattTime username and password";
const AUTH_HINT =
  "give the WattTime username and password (register at https://watttime.org); a 403 also means your plan does not cover this region";
const REGION_HINT =
  "check the region: WattTime spells regions like CAISO_NORTH, PJM_DC (see /v3/region-from-loc)";

/**
 * A WattTime provider (marginal signal). Needs `username` and `password`; `baseUrl`
 * defaults to {@link WATTTIME_DEFAULT_BASE_URL}.
 * @throws ProviderRequestError kind "config" when a credential is missing (no request is sent).
 */
export function createWattTimeProvider(options: ProviderOptions): IntensityProvider {
  const context = resolveProviderOptions(WATTTIME, options, WATTTIME_DEFAULT_BASE_URL);
  const { username, password } = context;
  if (username === null || password === null) {
    throw configError(
      WATTTIME,
      `no ${username === null ? "username" : "password"} given`,
      AUTH_HINT,
    );
  }
  const basic = Buffer.from(`${username}:${password}`, "utf8").toString("base64");
  let token: Promise<string> | null = null;

  const login = (): Promise<string> => {
    const attempt = context.http
      .getJson({
        url: `${context.baseUrl}/login`,
        headers: { authorization: `Basic ${basic}` },
        credentials: CREDENTIALS,
        authHint: AUTH_HINT,
      })
      .then((response) => {
        const value = asObject(response.body)?.["token"];
        if (typeof value !== "string" || value === "") {
          throw unexpectedAnswer(WATTTIME, "/login", 'no "token" string');
        }
        return value;
      });
    token = attempt;
    // A failed login must not be reused by the next call.
    attempt.catch(() => {
      if (token === attempt) token = null;
    });
    return attempt;
  };

  const send = async (url: URL): Promise<unknown> => {
    const reused = token !== null;
    const get = async (bearer: string) =>
      (
        await context.http.getJson({
          url,
          headers: { authorization: `Bearer ${bearer}` },
          credentials: CREDENTIALS,
          authHint: AUTH_HINT,
          clientErrorHint: REGION_HINT,
        })
      ).body;
    const bearer = await (token ?? login());
    try {
      return await get(bearer);
    } catch (error) {
      // Tokens expire after about 30 minutes: renew once, and only a token that was reused.
      if (reused && error instanceof ProviderRequestError && error.status === 401) {
        return get(await login());
      }
      throw error;
    }
  };

  const request = (
    path: string,
    region: string,
    extra: Record<string, string>,
    operation: string,
    forecast: boolean,
    window?: { fromMs: number; toMs: number },
  ) =>
    fetchSeries(context, {
      path,
      query: { region: checkRegion(region), signal_type: "co2_moer", ...extra },
      send,
      parse: (body) => seriesOf(path, region.trim(), operation, body, forecast, window),
    });

  return {
    name: WATTTIME,
    signal: "marginal",

    async latest(region) {
      const series = await request("/v3/forecast", region, { horizon_hours: "0" }, "latest", false);
      return requireOnePoint(
        { ...series, points: series.points.slice(0, 1) },
        WATTTIME,
        "/v3/forecast",
      );
    },

    async history(region, fromMs, toMs) {
      checkWindow(WATTTIME, fromMs, toMs);
      const window = { fromMs, toMs };
      const parts: IntensitySeries[] = [];
      for (const [startMs, endMs] of splitWindow(fromMs, toMs, HISTORICAL_MAX_SPAN_MS)) {
        parts.push(
          await request(
            "/v3/historical",
            region,
            { start: isoSeconds(startMs), end: isoSeconds(endMs) },
            "historical",
            false,
            window,
          ),
        );
      }
      return joinSeries(parts, () =>
        seriesOf("/v3/historical", region.trim(), "historical", { data: [] }, false, window),
      );
    },

    async forecast(region) {
      return request("/v3/forecast", region, {}, "forecast", true);
    },
  };
}

function checkRegion(region: string): string {
  const trimmed = region.trim();
  if (!/^[A-Za-z0-9_.-]+$/.test(trimmed)) {
    throw configError(WATTTIME, `"${region}" is not a WattTime region code`, REGION_HINT);
  }
  return trimmed;
}

/** The series of a v3 data answer `{ data: [{ point_time, value }], meta: { units, data_point_period_seconds, warnings, model } }`. */
function seriesOf(
  path: string,
  region: string,
  operation: string,
  body: unknown,
  forecast: boolean,
  window?: { fromMs: number; toMs: number },
): IntensitySeries {
  const record = asObject(body);
  const data = record?.["data"];
  if (record === null || !Array.isArray(data)) {
    throw unexpectedAnswer(WATTTIME, path, 'no "data" list');
  }
  const meta = asObject(record["meta"]) ?? {};
  const units = meta["units"];
  if (units !== undefined && units !== MOER_UNITS) {
    throw unexpectedAnswer(
      WATTTIME,
      path,
      `units are ${JSON.stringify(units)}, expected "${MOER_UNITS}"`,
    );
  }
  const periodS = meta["data_point_period_seconds"];
  const periodMs = typeof periodS === "number" && periodS > 0 ? periodS * 1000 : DEFAULT_PERIOD_MS;
  const warnings: string[] = [];
  if (Array.isArray(meta["warnings"])) {
    for (const warning of meta["warnings"]) {
      const message = asObject(warning)?.["message"] ?? warning;
      warnings.push(
        `${WATTTIME}: ${typeof message === "string" ? message : JSON.stringify(message)}`,
      );
    }
  }
  const model = asObject(meta["model"])?.["date"];
  const details = ["co2_moer", typeof model === "string" ? `model ${model}` : null].filter(
    (part): part is string => part !== null,
  );
  const input = {
    provider: WATTTIME,
    path,
    zone: region,
    signal: "marginal" as const,
    source: `${WATTTIME}:${operation} (${details.join(", ")})`,
    originalUnit: "lbs/MWh",
    warnings,
  };
  if (data.length === 0) return emptySeries(input, `no points in the answer from ${path}`);
  const points: RawPoint[] = data.map((item) => {
    const point = asObject(item) ?? {};
    return { start: point["point_time"], value: point["value"], durationMs: periodMs, forecast };
  });
  return buildSeries({
    ...input,
    toGPerKWh: (lbsPerMWh) => lbsPerMWh * LBS_PER_MWH_TO_G_PER_KWH,
    points,
    defaultStepMs: periodMs,
    window,
  });
}
