import { rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProviderOptions } from "../../../src/grid/providers/provider.js";
import { createWattTimeProvider } from "../../../src/grid/providers/watttime.js";
import {
  FIXTURE_NOW_MS,
  WATTTIME_FORECAST_POINTS,
  WATTTIME_GENERATED_AT,
  WATTTIME_PASSWORD,
  WATTTIME_USERNAME,
  makeTempDir,
  rejectionOf,
  reply,
  startProviderServer,
  wattTimeForecastValue,
  wattTimeHistoricalValue,
  type ProviderServer,
} from "../../fixtures/provider-server.js";

/** 1 lb = 453.59237 g, so 1 lb/MWh = 0.45359237 g/kWh; written out here, not imported. */
const G_PER_KWH_PER_LB_PER_MWH = 0.45359237;
const FIVE_MIN_MS = 300_000;

let server: ProviderServer;
let cacheDir: string;
let nowMs: number;

beforeAll(async () => {
  server = await startProviderServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  cacheDir = makeTempDir();
  nowMs = FIXTURE_NOW_MS;
  server.reset();
});
afterEach(() => {
  rmSync(cacheDir, { recursive: true, force: true });
});

function options(overrides: ProviderOptions = {}): ProviderOptions {
  return {
    baseUrl: server.baseUrl,
    username: WATTTIME_USERNAME,
    password: WATTTIME_PASSWORD,
    cacheDir,
    retries: 2,
    retryBaseDelayMs: 1,
    timeoutMs: 2000,
    now: () => nowMs,
    ...overrides,
  };
}

describe("WattTime: answers", () => {
  it("logs in with basic auth, then reads the current MOER converted from lbs/MWh", async () => {
    const provider = createWattTimeProvider(options());
    const series = await provider.latest("CAISO_NORTH");
    expect(provider.signal).toBe("marginal");
    expect(series.signal).toBe("marginal");
    expect(series.originalUnit).toBe("lbs/MWh");
    expect(series.points).toHaveLength(1);
    const startMs = Date.parse(WATTTIME_GENERATED_AT);
    expect(series.points[0]?.startMs).toBe(startMs);
    expect(series.points[0]?.endMs).toBe(startMs + FIVE_MIN_MS);
    expect(series.points[0]?.intensityGPerKWh).toBeCloseTo(
      wattTimeForecastValue(0) * G_PER_KWH_PER_LB_PER_MWH,
      6,
    );
    expect(series.source).toMatch(/co2_moer.*model 2023-03-01/);
    const [login, data] = server.requests;
    expect(login?.path).toBe("/login");
    expect(login?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${WATTTIME_USERNAME}:${WATTTIME_PASSWORD}`).toString("base64")}`,
    );
    expect(data?.path).toBe("/v3/forecast");
    expect(data?.query).toEqual({
      region: "CAISO_NORTH",
      signal_type: "co2_moer",
      horizon_hours: "0",
    });
    expect(data?.headers.authorization).toMatch(/^Bearer token-\d+$/);
  });

  it("reads the forecast, every point marked forecast", async () => {
    const series = await createWattTimeProvider(options()).forecast("CAISO_NORTH");
    expect(series.points).toHaveLength(WATTTIME_FORECAST_POINTS);
    series.points.forEach((point, index) => {
      expect(point.forecast).toBe(true);
      expect(point.startMs).toBe(Date.parse(WATTTIME_GENERATED_AT) + index * FIVE_MIN_MS);
      expect(point.intensityGPerKWh).toBeCloseTo(
        wattTimeForecastValue(index) * G_PER_KWH_PER_LB_PER_MWH,
        6,
      );
    });
  });

  it("reads history with start and end, in pieces of at most 30 days", async () => {
    const fromMs = Date.parse("2024-03-01T00:00:00Z");
    const toMs = Date.parse("2024-04-05T00:00:00Z");
    const series = await createWattTimeProvider(options()).history("CAISO_NORTH", fromMs, toMs);
    const requests = server.requestsTo("/v3/historical");
    expect(requests.map((request) => [request.query["start"], request.query["end"]])).toEqual([
      ["2024-03-01T00:00:00Z", "2024-03-31T00:00:00Z"],
      ["2024-03-31T00:00:00Z", "2024-04-05T00:00:00Z"],
    ]);
    // One login for both pieces: the token is kept in memory.
    expect(server.requestsTo("/login")).toHaveLength(1);
    expect(series.points).toHaveLength((toMs - fromMs) / FIVE_MIN_MS);
    expect(series.gaps).toEqual([]);
    for (const point of series.points.filter((_, index) => index % 997 === 0)) {
      expect(point.forecast).toBeUndefined();
      expect(point.intensityGPerKWh).toBeCloseTo(
        wattTimeHistoricalValue(point.startMs) * G_PER_KWH_PER_LB_PER_MWH,
        6,
      );
    }
  });

  it("refuses an answer in another unit rather than converting it wrongly", async () => {
    server.enqueue(
      "/v3/forecast",
      reply.json({
        data: [{ point_time: WATTTIME_GENERATED_AT, value: 400 }],
        meta: { units: "kg_co2_per_mwh" },
      }),
    );
    const error = await rejectionOf(createWattTimeProvider(options()).forecast("CAISO_NORTH"));
    expect(error.message).toMatch(/units are "kg_co2_per_mwh"/);
  });

  it("skips points with an unusable time or value and says which", async () => {
    server.enqueue(
      "/v3/forecast",
      reply.json({
        data: [
          { point_time: "2024-05-01T10:00:00+00:00", value: 900 },
          { point_time: "2024-05-01T10:05:00", value: 890 },
          { point_time: "2024-05-01T10:10:00+00:00", value: "880" },
          { point_time: "2024-05-01T10:15:00+00:00", value: 870 },
        ],
        meta: {
          units: "lbs_co2_per_mwh",
          data_point_period_seconds: 300,
          warnings: [{ type: "x", message: "model under review" }],
        },
      }),
    );
    const series = await createWattTimeProvider(options()).forecast("CAISO_NORTH");
    expect(series.points.map((point) => point.intensityGPerKWh / G_PER_KWH_PER_LB_PER_MWH)).toEqual(
      [expect.closeTo(900, 6), expect.closeTo(870, 6)],
    );
    const text = series.warnings.join("\n");
    expect(text).toMatch(/skipped 2 points/);
    expect(text).toMatch(/2024-05-01T10:05:00 \(time without an explicit offset/);
    expect(text).toMatch(/value "880"/);
    expect(text).toMatch(/watttime: model under review/);
  });
});

describe("WattTime: credentials and failures", () => {
  it("refuses to start without a username or password, before any request", () => {
    expect(() => createWattTimeProvider(options({ password: undefined }))).toThrow(
      /watttime: no password given/,
    );
    expect(() => createWattTimeProvider(options({ username: "" }))).toThrow(
      /watttime: no username given/,
    );
    expect(server.requests).toHaveLength(0);
  });

  it("reports a wrong password on login as 401 naming the credentials", async () => {
    const error = await rejectionOf(
      createWattTimeProvider(options({ password: "nope" })).latest("CAISO_NORTH"),
    );
    expect(error.message).toMatch(
      /^watttime: 401 Unauthorized — check the WattTime username and password/,
    );
    expect(server.requestsTo("/v3/")).toHaveLength(0);
  });

  it("renews an expired token once on 401 and carries on", async () => {
    const provider = createWattTimeProvider(options({ cacheDir: null }));
    const loginsBefore = server.loginCount();
    await provider.latest("CAISO_NORTH");
    expect(server.loginCount()).toBe(loginsBefore + 1);
    server.expireTokens();
    const series = await provider.forecast("CAISO_NORTH");
    expect(series.points).toHaveLength(WATTTIME_FORECAST_POINTS);
    expect(server.loginCount()).toBe(loginsBefore + 2);
    const data = server.requestsTo("/v3/forecast");
    const first = `Bearer token-${loginsBefore + 1}`;
    expect(data.map((request) => request.headers.authorization)).toEqual([
      first,
      first,
      `Bearer token-${loginsBefore + 2}`,
    ]);
  });

  it("does not loop when a fresh token is refused too", async () => {
    server.enqueue("/v3/forecast", reply.status(401));
    const provider = createWattTimeProvider(options());
    const error = await rejectionOf(provider.forecast("CAISO_NORTH"));
    expect(error.status).toBe(401);
    expect(server.requestsTo("/login")).toHaveLength(1);
    expect(server.requestsTo("/v3/forecast")).toHaveLength(1);
  });

  it("renews only once: a renewed token that is refused too ends in the 401", async () => {
    const provider = createWattTimeProvider(options({ cacheDir: null }));
    await provider.latest("CAISO_NORTH");
    const loginsBefore = server.loginCount();
    server.expireTokens();
    server.enqueue("/v3/forecast", reply.status(401), reply.status(401));
    const error = await rejectionOf(provider.forecast("CAISO_NORTH"));
    expect(error.status).toBe(401);
    expect(server.loginCount()).toBe(loginsBefore + 1);
    expect(server.requestsTo("/v3/forecast")).toHaveLength(3);
  });

  it("reports a region outside the plan (403) with the server's words", async () => {
    const error = await rejectionOf(createWattTimeProvider(options()).latest("PJM_DC"));
    expect(error.message).toMatch(/403 Forbidden .*no access to region PJM_DC/);
    expect(error.hint).toMatch(/plan does not cover this region/);
  });

  it("honours Retry-After on a 429, then succeeds", async () => {
    server.enqueue("/v3/forecast", reply.status(429, "0"));
    const series = await createWattTimeProvider(
      options({ retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 }),
    ).forecast("CAISO_NORTH");
    expect(series.points).toHaveLength(WATTTIME_FORECAST_POINTS);
    expect(server.requestsTo("/v3/forecast")).toHaveLength(2);
  }, 5000);

  it("gives up after the retries on 500s", async () => {
    server.enqueue("/v3/historical", reply.status(500), reply.status(502));
    const error = await rejectionOf(
      createWattTimeProvider(options({ retries: 1 })).history(
        "CAISO_NORTH",
        nowMs - 3_600_000,
        nowMs,
      ),
    );
    expect(error.message).toMatch(
      /^watttime: 502 Bad Gateway from \/v3\/historical \(after 2 attempts\)/,
    );
  });

  it("times out, retrying once", async () => {
    server.enqueue("/v3/forecast", reply.hang(), reply.hang());
    const error = await rejectionOf(
      createWattTimeProvider(options({ timeoutMs: 150, retries: 1 })).forecast("CAISO_NORTH"),
    );
    expect(error.message).toBe(
      "watttime: no answer within 150 ms from /v3/forecast (after 2 attempts)",
    );
    expect(server.requestsTo("/v3/forecast")).toHaveLength(2);
  });

  it("reports malformed JSON", async () => {
    server.enqueue("/v3/forecast", reply.malformed());
    const error = await rejectionOf(createWattTimeProvider(options()).forecast("CAISO_NORTH"));
    expect(error.message).toBe("watttime: malformed JSON from /v3/forecast");
  });

  it("reports a login answer without a token", async () => {
    server.enqueue("/login", reply.json({ nothing: true }));
    const error = await rejectionOf(createWattTimeProvider(options()).forecast("CAISO_NORTH"));
    expect(error.message).toMatch(/unexpected answer from \/login: no "token"/);
  });
});

describe("WattTime: cache", () => {
  it("serves a repeated call from the cache (no login, no request), and a stale one on failure", async () => {
    const first = await createWattTimeProvider(options({ cacheTtlS: 60 })).forecast("CAISO_NORTH");
    const again = createWattTimeProvider(options({ cacheTtlS: 60, retries: 0 }));
    expect(await again.forecast("CAISO_NORTH")).toEqual(first);
    expect(server.requests).toHaveLength(2); // one login + one data request, from the first provider
    nowMs += 120_000;
    server.enqueue("/v3/forecast", reply.status(500));
    const stale = await again.forecast("CAISO_NORTH");
    expect(stale.points).toEqual(first.points);
    expect(stale.warnings.join("\n")).toMatch(
      /^stale cache from 2024-05-01T10:10:00.000Z used: watttime: 500/,
    );
  });
});
