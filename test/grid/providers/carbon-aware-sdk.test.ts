import { rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createCarbonAwareSdkProvider,
  parseTimeSpanMs,
} from "../../../src/grid/providers/carbon-aware-sdk.js";
import type { ProviderOptions } from "../../../src/grid/providers/provider.js";
import {
  CARBON_AWARE_FORECAST_POINTS,
  CARBON_AWARE_GENERATED_AT,
  FIXTURE_NOW_MS,
  carbonAwareForecastValue,
  carbonAwareRating,
  makeTempDir,
  rejectionOf,
  reply,
  startProviderServer,
  type ProviderServer,
} from "../../fixtures/provider-server.js";

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
  nowMs = FIXTURE_NOW_MS + 60_000; // 10:11, inside the 10:10 point
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

describe("Carbon Aware SDK: answers", () => {
  it("reads the latest figure: the point of the last hour that contains now", async () => {
    const series = await createCarbonAwareSdkProvider(options()).latest("eastus");
    const [request] = server.requests;
    expect(request?.path).toBe("/emissions/bylocation");
    expect(request?.query).toEqual({
      location: "eastus",
      time: "2024-05-01T09:15:00Z",
      toTime: "2024-05-01T10:15:00Z",
    });
    const startMs = Date.parse("2024-05-01T10:10:00Z");
    expect(series.points).toEqual([
      {
        startMs,
        endMs: startMs + FIVE_MIN_MS,
        intensityGPerKWh: expect.closeTo(carbonAwareRating(startMs), 6),
      },
    ]);
    expect(series.zone).toBe("eastus");
    expect(series.signal).toBe("average");
    expect(series.source).toMatch(/Carbon Aware SDK/);
  });

  it("reads history with time and toTime, durations from the TimeSpan", async () => {
    const fromMs = Date.parse("2024-05-01T08:00:00Z");
    const toMs = Date.parse("2024-05-01T09:00:00Z");
    const series = await createCarbonAwareSdkProvider(options()).history(
      "westeurope",
      fromMs,
      toMs,
    );
    expect(server.requests[0]?.query).toEqual({
      location: "westeurope",
      time: "2024-05-01T08:00:00Z",
      toTime: "2024-05-01T09:00:00Z",
    });
    expect(series.points).toHaveLength(12);
    expect(series.gaps).toEqual([]);
    for (const point of series.points) {
      expect(point.endMs - point.startMs).toBe(FIVE_MIN_MS);
      expect(point.intensityGPerKWh).toBeCloseTo(carbonAwareRating(point.startMs), 6);
    }
  });

  it("reads the current forecast, durations in minutes, points marked forecast", async () => {
    const series = await createCarbonAwareSdkProvider(options()).forecast("eastus");
    expect(server.requests[0]?.path).toBe("/emissions/forecasts/current");
    expect(series.points).toHaveLength(CARBON_AWARE_FORECAST_POINTS);
    series.points.forEach((point, index) => {
      expect(point.forecast).toBe(true);
      expect(point.startMs).toBe(Date.parse(CARBON_AWARE_GENERATED_AT) + index * FIVE_MIN_MS);
      expect(point.endMs - point.startMs).toBe(FIVE_MIN_MS);
      expect(point.intensityGPerKWh).toBeCloseTo(carbonAwareForecastValue(index), 6);
    });
  });

  it("skips ratings that are not numbers, keeping the hole as a gap", async () => {
    server.enqueue(
      "/emissions/",
      reply.json([
        {
          location: "eastus",
          time: "2024-05-01T08:00:00+00:00",
          rating: 410,
          duration: "00:05:00",
        },
        {
          location: "eastus",
          time: "2024-05-01T08:05:00+00:00",
          rating: null,
          duration: "00:05:00",
        },
        {
          location: "eastus",
          time: "2024-05-01T08:10:00+00:00",
          rating: 430,
          duration: "00:05:00",
        },
      ]),
    );
    const fromMs = Date.parse("2024-05-01T08:00:00Z");
    const series = await createCarbonAwareSdkProvider(options()).history(
      "eastus",
      fromMs,
      fromMs + 3 * FIVE_MIN_MS,
    );
    expect(series.points.map((point) => point.intensityGPerKWh)).toEqual([410, 430]);
    expect(series.gaps).toEqual([
      { startMs: fromMs + FIVE_MIN_MS, endMs: fromMs + 2 * FIVE_MIN_MS },
    ]);
    expect(series.warnings.join("\n")).toMatch(/skipped 1 point .*08:05:00\+00:00 \(value null\)/);
  });

  it("parses .NET TimeSpans and refuses other text", () => {
    expect(parseTimeSpanMs("00:05:00")).toBe(300_000);
    expect(parseTimeSpanMs("1.02:00:30.5")).toBe(((24 + 2) * 3600 + 30) * 1000 + 500);
    expect(parseTimeSpanMs("00:61:00")).toBeNull();
    expect(parseTimeSpanMs("5 minutes")).toBeNull();
    expect(parseTimeSpanMs(300)).toBeNull();
  });
});

describe("Carbon Aware SDK: failures and cache", () => {
  it("needs a base URL: there is no public service", () => {
    expect(() => createCarbonAwareSdkProvider({ cacheDir: null })).toThrow(
      /carbon-aware-sdk: no base URL given/,
    );
  });

  it("reports an unknown location with the SDK's problem details", async () => {
    const error = await rejectionOf(createCarbonAwareSdkProvider(options()).forecast("mars"));
    expect(error.message).toMatch(/400 Bad Request .*Unknown location: 'mars'/);
    expect(error.hint).toMatch(/location name/);
  });

  it("reports a 401 from an SDK deployed behind authentication", async () => {
    server.enqueue("/emissions/", reply.status(401));
    const error = await rejectionOf(createCarbonAwareSdkProvider(options()).forecast("eastus"));
    expect(error.kind).toBe("unauthorized");
    expect(server.requests).toHaveLength(1);
  });

  it("honours Retry-After on a 429 and then succeeds", async () => {
    server.enqueue("/emissions/", reply.status(429, "0"));
    const series = await createCarbonAwareSdkProvider(
      options({ retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 }),
    ).forecast("eastus");
    expect(series.points).toHaveLength(CARBON_AWARE_FORECAST_POINTS);
    expect(server.requests).toHaveLength(2);
  }, 5000);

  it("gives up after the retries on 500s", async () => {
    server.enqueue("/emissions/", reply.status(500), reply.status(500), reply.status(500));
    const error = await rejectionOf(createCarbonAwareSdkProvider(options()).latest("eastus"));
    expect(error.message).toMatch(
      /^carbon-aware-sdk: 500 Internal Server Error from \/emissions\/bylocation \(after 3 attempts\)/,
    );
    expect(server.requests).toHaveLength(3);
  });

  it("times out", async () => {
    server.enqueue("/emissions/", reply.hang());
    const error = await rejectionOf(
      createCarbonAwareSdkProvider(options({ timeoutMs: 120, retries: 0 })).forecast("eastus"),
    );
    expect(error.message).toBe(
      "carbon-aware-sdk: no answer within 120 ms from /emissions/forecasts/current",
    );
  });

  it("reports malformed JSON and a body of the wrong shape", async () => {
    server.enqueue("/emissions/", reply.malformed(), reply.json({ forecastData: [] }));
    const provider = createCarbonAwareSdkProvider(options());
    expect((await rejectionOf(provider.forecast("eastus"))).message).toBe(
      "carbon-aware-sdk: malformed JSON from /emissions/forecasts/current",
    );
    expect((await rejectionOf(provider.forecast("eastus"))).message).toMatch(
      /unexpected answer from \/emissions\/forecasts\/current: no forecast with a "forecastData" list/,
    );
  });

  it("keeps the latest answer for the TTL, and a stale one when the SDK fails", async () => {
    const provider = createCarbonAwareSdkProvider(options({ cacheTtlS: 120, retries: 0 }));
    const first = await provider.latest("eastus");
    nowMs += 60_000; // 10:12: the same 5-minute-aligned window, so the same cache key
    expect(await provider.latest("eastus")).toEqual(first);
    expect(server.requests).toHaveLength(1);
    nowMs += 90_000; // 10:13:30: expired
    server.enqueue("/emissions/", reply.status(503));
    const stale = await provider.latest("eastus");
    expect(stale.points).toEqual(first.points);
    expect(stale.warnings[0]).toMatch(
      /^stale cache from 2024-05-01T10:11:00.000Z used: carbon-aware-sdk: 503/,
    );
  });
});
