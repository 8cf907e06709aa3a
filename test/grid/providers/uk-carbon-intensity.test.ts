import { rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProviderOptions } from "../../../src/grid/providers/provider.js";
import { createUkCarbonIntensityProvider } from "../../../src/grid/providers/uk-carbon-intensity.js";
import {
  FIXTURE_NOW_MS,
  UK_ACTUALS_UNTIL_MS,
  UK_CURRENT,
  makeTempDir,
  rejectionOf,
  reply,
  startProviderServer,
  ukActualValue,
  ukForecastValue,
  ukRegionalValue,
  type ProviderServer,
} from "../../fixtures/provider-server.js";

const HALF_HOUR_MS = 1_800_000;
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
    cacheDir,
    retries: 2,
    retryBaseDelayMs: 1,
    timeoutMs: 2000,
    now: () => nowMs,
    ...overrides,
  };
}

describe("GB Carbon Intensity: national", () => {
  it("reads the current half hour, preferring the actual figure to the forecast", async () => {
    const series = await createUkCarbonIntensityProvider(options()).latest("GB");
    const current = UK_CURRENT.data[0];
    expect(series.zone).toBe("GB");
    expect(series.signal).toBe("average");
    expect(series.points).toEqual([
      {
        startMs: Date.parse("2024-05-01T10:00:00Z"),
        endMs: Date.parse("2024-05-01T10:30:00Z"),
        intensityGPerKWh: current?.intensity.actual,
      },
    ]);
    expect(series.source).toMatch(/national .*CC BY 4\.0/);
    expect(server.requests.map((request) => request.path)).toEqual(["/intensity"]);
  });

  it("uses the forecast, marked, when the current half hour has no actual yet", async () => {
    server.enqueue(
      "/intensity",
      reply.json({
        data: [
          {
            from: "2024-05-01T10:00Z",
            to: "2024-05-01T10:30Z",
            intensity: { forecast: 190, actual: null, index: "moderate" },
          },
        ],
      }),
    );
    const series = await createUkCarbonIntensityProvider(options()).latest("GB");
    expect(series.points[0]?.forecast).toBe(true);
    expect(series.points[0]?.intensityGPerKWh).toBeCloseTo(190, 6);
  });

  it("reads history as half hours, actuals where published and forecasts after", async () => {
    const fromMs = Date.parse("2024-05-01T08:00:00Z");
    const toMs = Date.parse("2024-05-01T12:00:00Z");
    const series = await createUkCarbonIntensityProvider(options()).history("GB", fromMs, toMs);
    expect(server.requests.map((request) => request.path)).toEqual([
      "/intensity/2024-05-01T08:00Z/2024-05-01T12:00Z",
    ]);
    expect(series.points).toHaveLength(8);
    expect(series.gaps).toEqual([]);
    for (const point of series.points) {
      expect(point.endMs - point.startMs).toBe(HALF_HOUR_MS);
      if (point.startMs < UK_ACTUALS_UNTIL_MS) {
        expect(point.forecast).toBeUndefined();
        expect(point.intensityGPerKWh).toBeCloseTo(ukActualValue(point.startMs), 6);
      } else {
        expect(point.forecast).toBe(true);
        expect(point.intensityGPerKWh).toBeCloseTo(ukForecastValue(point.startMs), 6);
      }
    }
  });

  it("splits windows longer than 14 days (the API refuses them)", async () => {
    const fromMs = Date.parse("2024-04-01T00:00:00Z");
    const toMs = Date.parse("2024-04-20T00:00:00Z");
    const series = await createUkCarbonIntensityProvider(options()).history("GB", fromMs, toMs);
    expect(server.requests.map((request) => request.path)).toEqual([
      "/intensity/2024-04-01T00:00Z/2024-04-15T00:00Z",
      "/intensity/2024-04-15T00:00Z/2024-04-20T00:00Z",
    ]);
    expect(series.points).toHaveLength((toMs - fromMs) / HALF_HOUR_MS);
    expect(series.gaps).toEqual([]);
  });

  it("reads the 24-hour forecast from the current half hour", async () => {
    const series = await createUkCarbonIntensityProvider(options()).forecast("GB");
    expect(server.requests.map((request) => request.path)).toEqual([
      "/intensity/2024-05-01T10:00Z/fw24h",
    ]);
    expect(series.points).toHaveLength(48);
    expect(series.points.every((point) => point.forecast === true)).toBe(true);
    const third = series.points[2];
    expect(third?.intensityGPerKWh).toBeCloseTo(ukForecastValue(third?.startMs ?? 0), 6);
  });
});

describe("GB Carbon Intensity: regional", () => {
  it("reads a region's current half hour (forecast only, as the API gives)", async () => {
    const series = await createUkCarbonIntensityProvider(options()).latest("gb-13");
    expect(series.zone).toBe("GB-13");
    expect(series.source).toMatch(/region 13 London/);
    expect(server.requests.map((request) => request.path)).toEqual(["/regional/regionid/13"]);
    const [point] = series.points;
    expect(point?.forecast).toBe(true);
    expect(point?.intensityGPerKWh).toBeCloseTo(ukRegionalValue(13, point?.startMs ?? 0), 6);
  });

  it("reads a region's forecast and history", async () => {
    const provider = createUkCarbonIntensityProvider(options());
    const forecast = await provider.forecast("GB-16");
    expect(forecast.points).toHaveLength(48);
    forecast.points.forEach((point) =>
      expect(point.intensityGPerKWh).toBeCloseTo(ukRegionalValue(16, point.startMs), 6),
    );
    const fromMs = Date.parse("2024-04-30T00:00:00Z");
    const history = await provider.history("GB-16", fromMs, fromMs + 6 * HALF_HOUR_MS);
    expect(history.points).toHaveLength(6);
    expect(server.requests.map((request) => request.path)).toEqual([
      "/regional/intensity/2024-05-01T10:00Z/fw24h/regionid/16",
      "/regional/intensity/2024-04-30T00:00Z/2024-04-30T03:00Z/regionid/16",
    ]);
  });

  it("refuses zones it does not serve before any request", async () => {
    const provider = createUkCarbonIntensityProvider(options());
    expect((await rejectionOf(provider.latest("FR"))).message).toMatch(
      /"FR" is not a zone of this API/,
    );
    const error = await rejectionOf(provider.forecast("GB-18"));
    expect(error.message).toMatch(/there is no region 18/);
    expect(error.hint).toMatch(/13 London/);
    expect(server.requests).toHaveLength(0);
  });

  it("reports an answer for another region than the one asked", async () => {
    server.enqueue(
      "/regional/",
      reply.json({ data: [{ regionid: 16, shortname: "Scotland", data: [] }] }),
    );
    const error = await rejectionOf(createUkCarbonIntensityProvider(options()).latest("GB-13"));
    expect(error.message).toMatch(/asked for region 13, got region 16/);
  });
});

describe("GB Carbon Intensity: failures and cache", () => {
  it("passes on a 401 (for a proxy in front of the API) without retrying", async () => {
    server.enqueue("/intensity", reply.status(401));
    const error = await rejectionOf(createUkCarbonIntensityProvider(options()).latest("GB"));
    expect(error.message).toMatch(/^uk-carbon-intensity: 401 Unauthorized/);
    expect(server.requests).toHaveLength(1);
  });

  it("honours Retry-After on a 429 and then succeeds", async () => {
    server.enqueue("/intensity", reply.status(429, "0"));
    const series = await createUkCarbonIntensityProvider(
      options({ retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 }),
    ).latest("GB");
    expect(series.points).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  }, 5000);

  it("does not wait when Retry-After asks for longer than the cap", async () => {
    server.enqueue("/intensity", reply.status(429, "3600"));
    const error = await rejectionOf(createUkCarbonIntensityProvider(options()).latest("GB"));
    expect(error.kind).toBe("rate-limited");
    expect(error.message).toMatch(/asks to wait 3600 s, more than the 10000 ms wattprint waits/);
    expect(server.requests).toHaveLength(1);
  });

  it("gives up after the retries on 500s", async () => {
    server.enqueue("/intensity", reply.status(500), reply.status(500), reply.status(500));
    const error = await rejectionOf(createUkCarbonIntensityProvider(options()).latest("GB"));
    expect(error.message).toMatch(
      /^uk-carbon-intensity: 500 Internal Server Error from \/intensity \(after 3 attempts\)/,
    );
  });

  it("times out", async () => {
    server.enqueue("/intensity", reply.hang());
    const error = await rejectionOf(
      createUkCarbonIntensityProvider(options({ timeoutMs: 120, retries: 0 })).latest("GB"),
    );
    expect(error.message).toBe("uk-carbon-intensity: no answer within 120 ms from /intensity");
  });

  it("reports malformed JSON naming the endpoint", async () => {
    server.enqueue("/intensity", reply.malformed());
    const error = await rejectionOf(createUkCarbonIntensityProvider(options()).latest("GB"));
    expect(error.message).toBe("uk-carbon-intensity: malformed JSON from /intensity");
  });

  it("caches per path, then serves a stale answer when the API is down", async () => {
    const provider = createUkCarbonIntensityProvider(options({ cacheTtlS: 300, retries: 0 }));
    const live = await provider.forecast("GB");
    nowMs += 60_000;
    expect(await provider.forecast("GB")).toEqual(live);
    expect(server.requests).toHaveLength(1);
    nowMs += 300_000;
    server.enqueue("/intensity", reply.hang());
    const stale = await createUkCarbonIntensityProvider(
      options({ cacheTtlS: 300, retries: 0, timeoutMs: 100 }),
    ).forecast("GB");
    expect(stale.points).toEqual(live.points);
    expect(stale.warnings).toEqual([
      "stale cache from 2024-05-01T10:10:00.000Z used: uk-carbon-intensity: no answer within 100 ms from /intensity/2024-05-01T10:00Z/fw24h",
    ]);
  });
});
