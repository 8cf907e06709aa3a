import { rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WattprintError } from "../../../src/errors.js";
import { createElectricityMapsProvider } from "../../../src/grid/providers/electricity-maps.js";
import {
  buildSeries,
  parseTimestampMs,
  resolveProviderOptions,
  splitWindow,
  withFallback,
  type ProviderOptions,
} from "../../../src/grid/providers/provider.js";
import { createWattTimeProvider } from "../../../src/grid/providers/watttime.js";
import { makeSeries, type IntensitySeries } from "../../../src/grid/series.js";
import {
  EM_API_KEY,
  EM_LATEST,
  FIXTURE_NOW_MS,
  WATTTIME_PASSWORD,
  WATTTIME_USERNAME,
  makeTempDir,
  rejectionOf,
  reply,
  startProviderServer,
  type ProviderServer,
} from "../../fixtures/provider-server.js";

const HOUR_MS = 3_600_000;

describe("parseTimestampMs", () => {
  it("reads ISO 8601 times with an explicit offset, with or without seconds and fractions", () => {
    const utcMs = Date.UTC(2024, 4, 1, 10, 30, 0);
    expect(parseTimestampMs("2024-05-01T10:30Z")).toBe(utcMs);
    expect(parseTimestampMs("2024-05-01T10:30:00Z")).toBe(utcMs);
    expect(parseTimestampMs("2024-05-01T10:30:00.250Z")).toBe(utcMs + 250);
    expect(parseTimestampMs("2024-05-01T10:30:00.1234567Z")).toBe(utcMs + 123);
    expect(parseTimestampMs("2024-05-01T12:30:00+02:00")).toBe(utcMs);
    expect(parseTimestampMs("2024-05-01T05:00:00-0530")).toBe(utcMs);
    expect(parseTimestampMs("2024-05-01 10:30:00+00:00")).toBe(utcMs);
  });

  it("refuses times without an offset, impossible dates and other types", () => {
    for (const text of [
      "2024-05-01T10:30:00",
      "2024-05-01",
      "2024-04-31T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-05-01T24:00:00Z",
      "2024-05-01T10:60:00Z",
      "2024-05-01T10:30:00+25:00",
      "May 1 2024 10:30 GMT",
      "",
    ]) {
      expect(parseTimestampMs(text), text).toBeNull();
    }
    expect(parseTimestampMs("2024-02-29T00:00:00Z")).toBe(Date.UTC(2024, 1, 29));
    expect(parseTimestampMs(1714559400000)).toBeNull();
    expect(parseTimestampMs(null)).toBeNull();
  });
});

describe("buildSeries", () => {
  const base = {
    provider: "p",
    path: "/x",
    zone: "Z",
    signal: "average" as const,
    source: "p:test",
    originalUnit: "u",
    defaultStepMs: HOUR_MS,
  };

  it("orders points, drops repeated starts, ends each at the data's resolution and converts units", () => {
    const series = buildSeries({
      ...base,
      toGPerKWh: (value) => value * 2,
      points: [
        { start: "2024-05-01T02:00:00Z", value: 3, forecast: false },
        { start: "2024-05-01T00:00:00Z", value: 1, forecast: false },
        { start: "2024-05-01T00:00:00Z", value: 99, forecast: false },
        { start: "2024-05-01T00:30:00Z", value: 2, forecast: true },
      ],
    });
    const t0 = Date.parse("2024-05-01T00:00:00Z");
    expect(series.points).toEqual([
      { startMs: t0, endMs: t0 + HOUR_MS / 2, intensityGPerKWh: 2 },
      { startMs: t0 + HOUR_MS / 2, endMs: t0 + HOUR_MS, intensityGPerKWh: 4, forecast: true },
      { startMs: t0 + 2 * HOUR_MS, endMs: t0 + 2.5 * HOUR_MS, intensityGPerKWh: 6 },
    ]);
    expect(series.gaps).toEqual([{ startMs: t0 + HOUR_MS, endMs: t0 + 2 * HOUR_MS }]);
  });

  it("uses the default step for a single point, and given ends or durations when present", () => {
    const one = buildSeries({
      ...base,
      points: [{ start: "2024-05-01T00:00:00Z", value: 5, forecast: false }],
    });
    expect((one.points[0]?.endMs ?? 0) - (one.points[0]?.startMs ?? 0)).toBe(HOUR_MS);
    const given = buildSeries({
      ...base,
      points: [
        { start: "2024-05-01T00:00Z", end: "2024-05-01T00:30Z", value: 5, forecast: false },
        { start: "2024-05-01T01:00Z", durationMs: 600_000, value: 6, forecast: false },
      ],
    });
    expect(given.points.map((point) => (point.endMs - point.startMs) / 60_000)).toEqual([30, 10]);
  });

  it("never produces NaN or negative figures: such points are skipped and listed, the list capped", () => {
    const series = buildSeries({
      ...base,
      points: [
        { start: "2024-05-01T00:00:00Z", value: Number.NaN, forecast: false },
        { start: "2024-05-01T01:00:00Z", value: -4, forecast: false },
        { start: "2024-05-01T02:00:00Z", value: "12", forecast: false },
        { start: "2024-05-01T03:00:00", value: 12, forecast: false },
        { start: "2024-05-01T04:00:00Z", end: "2024-05-01T03:00:00Z", value: 12, forecast: false },
        { start: "2024-05-01T05:00:00Z", value: 12, forecast: false },
      ],
    });
    expect(series.points.map((point) => point.intensityGPerKWh)).toEqual([12]);
    expect(series.warnings).toHaveLength(1);
    expect(series.warnings[0]).toMatch(
      /^p: skipped 5 points without a usable time or intensity from \/x: /,
    );
    expect(series.warnings[0]).toMatch(
      /\(value NaN\); .*\(value -4\); .*\(value "12"\); … 2 more$/,
    );
  });

  it("keeps only points overlapping a window", () => {
    const series = buildSeries({
      ...base,
      points: ["00", "01", "02", "03"].map((hour, index) => ({
        start: `2024-05-01T${hour}:00:00Z`,
        value: index,
        forecast: false,
      })),
      window: {
        fromMs: Date.parse("2024-05-01T01:30:00Z"),
        toMs: Date.parse("2024-05-01T03:00:00Z"),
      },
    });
    expect(series.points.map((point) => point.intensityGPerKWh)).toEqual([1, 2]);
  });
});

describe("options", () => {
  it("cuts a window into pieces of a maximum length", () => {
    expect(splitWindow(0, 25, 10)).toEqual([
      [0, 10],
      [10, 20],
      [20, 25],
    ]);
    expect(splitWindow(0, 10, 10)).toEqual([[0, 10]]);
  });

  it("refuses bad base URLs and TTLs, and trims a trailing slash", () => {
    expect(() => resolveProviderOptions("p", { baseUrl: "not a url" }, null)).toThrow(
      /p: the base URL "not a url" is not a URL/,
    );
    expect(() => resolveProviderOptions("p", { baseUrl: "ftp://example.org" }, null)).toThrow(
      /not http or https/,
    );
    expect(() => resolveProviderOptions("p", { cacheTtlS: -1 }, "http://127.0.0.1:1")).toThrow(
      /cacheTtlS is -1/,
    );
    expect(() => resolveProviderOptions("p", { timeoutMs: -1 }, "http://127.0.0.1:1")).toThrow(
      /timeoutMs is -1/,
    );
    const context = resolveProviderOptions(
      "p",
      { baseUrl: "http://127.0.0.1:9/api/", cacheDir: null },
      null,
    );
    expect(context.baseUrl).toBe("http://127.0.0.1:9/api");
    expect(context.cache).toBeNull();
  });
});

describe("withFallback", () => {
  let server: ProviderServer;
  let cacheDir: string;

  beforeAll(async () => {
    server = await startProviderServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
    cacheDir = makeTempDir();
  });
  afterEach(() => {
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const options = (overrides: ProviderOptions = {}): ProviderOptions => ({
    baseUrl: server.baseUrl,
    apiKey: EM_API_KEY,
    username: WATTTIME_USERNAME,
    password: WATTTIME_PASSWORD,
    cacheDir,
    retries: 1,
    retryBaseDelayMs: 1,
    timeoutMs: 2000,
    now: () => FIXTURE_NOW_MS,
    ...overrides,
  });

  /** The kind of stand-in the CLI will pass: the region's annual average as one long point. */
  const annualAverage = (intensityGPerKWh: number): IntensitySeries =>
    makeSeries({
      zone: "DE",
      signal: "average",
      source: "Ember yearly electricity data (CC BY 4.0), 2024",
      originalUnit: "gCO2e/kWh",
      points: [
        { startMs: FIXTURE_NOW_MS - HOUR_MS, endMs: FIXTURE_NOW_MS + HOUR_MS, intensityGPerKWh },
      ],
    });

  it("returns the provider's series when it answers, without calling the stand-in", async () => {
    let calls = 0;
    const result = await withFallback(
      createElectricityMapsProvider(options()),
      "DE",
      { kind: "latest" },
      () => {
        calls += 1;
        return annualAverage(380);
      },
    );
    expect(result.origin).toBe("provider");
    expect(result.error).toBeNull();
    expect(result.series.points[0]?.intensityGPerKWh).toBeCloseTo(EM_LATEST.carbonIntensity, 6);
    expect(calls).toBe(0);
  });

  it("uses the stand-in after the retries fail, with a warning naming the provider error", async () => {
    server.enqueue("/v3/", reply.status(500), reply.status(500));
    const result = await withFallback(
      createElectricityMapsProvider(options()),
      "DE",
      { kind: "history", fromMs: FIXTURE_NOW_MS - HOUR_MS, toMs: FIXTURE_NOW_MS },
      () => annualAverage(380),
    );
    expect(result.origin).toBe("embedded");
    expect(result.error?.code).toBe("PROVIDER");
    expect(result.series.points[0]?.intensityGPerKWh).toBeCloseTo(380, 6);
    expect(result.series.warnings).toEqual([
      'electricitymaps: 500 Internal Server Error from /v3/carbon-intensity/history (after 2 attempts) (server said: "{\\"message\\":\\"scripted 500\\"}"); using Ember yearly electricity data (CC BY 4.0), 2024 instead',
    ]);
    expect(server.requests).toHaveLength(2);
  });

  it("prefers a stale cache to the stand-in", async () => {
    let nowMs = FIXTURE_NOW_MS;
    const provider = createElectricityMapsProvider(
      options({ now: () => nowMs, cacheTtlS: 1, retries: 0 }),
    );
    await provider.latest("DE");
    nowMs += 10_000;
    server.enqueue("/v3/", reply.status(500));
    const result = await withFallback(provider, "DE", { kind: "latest" }, () => annualAverage(380));
    expect(result.origin).toBe("provider");
    expect(result.series.points[0]?.intensityGPerKWh).toBeCloseTo(EM_LATEST.carbonIntensity, 6);
    expect(result.series.warnings[0]).toMatch(/^stale cache from .* used: electricitymaps: 500/);
  });

  it("says when an average stands in for a marginal signal", async () => {
    server.enqueue("/v3/forecast", reply.status(503), reply.status(503));
    const result = await withFallback(
      createWattTimeProvider(options()),
      "CAISO_NORTH",
      { kind: "forecast" },
      () => annualAverage(250),
    );
    expect(result.origin).toBe("embedded");
    expect(result.series.warnings[1]).toMatch(
      /stand-in is an average intensity, not the marginal signal watttime gives; do not use it for scheduling decisions/,
    );
  });

  it("rethrows when nothing can stand in, and never hides a configuration error", async () => {
    server.enqueue("/v3/", reply.status(500), reply.status(500));
    const provider = createElectricityMapsProvider(options());
    const error = await rejectionOf(withFallback(provider, "DE", { kind: "forecast" }, () => null));
    expect(error.status).toBe(500);
    const config = await rejectionOf(
      withFallback(provider, "not a zone!", { kind: "latest" }, () => annualAverage(1)),
    );
    expect(config.kind).toBe("config");
    expect(config).toBeInstanceOf(WattprintError);
  });
});
