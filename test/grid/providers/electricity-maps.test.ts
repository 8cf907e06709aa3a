import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createElectricityMapsProvider } from "../../../src/grid/providers/electricity-maps.js";
import type { ProviderOptions } from "../../../src/grid/providers/provider.js";
import {
  EM_API_KEY,
  EM_FORECAST,
  EM_HISTORY,
  EM_LATEST,
  FIXTURE_NOW_MS,
  emPastRangeValue,
  makeTempDir,
  rejectionOf,
  reply,
  startProviderServer,
  type ProviderServer,
} from "../../fixtures/provider-server.js";

const HOUR_MS = 3_600_000;
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
    apiKey: EM_API_KEY,
    cacheDir,
    retries: 2,
    retryBaseDelayMs: 1,
    timeoutMs: 2000,
    now: () => nowMs,
    ...overrides,
  };
}

describe("Electricity Maps: answers", () => {
  it("reads the latest figure with its time, unit and lifecycle basis, sending the key as auth-token", async () => {
    const series = await createElectricityMapsProvider(options()).latest("DE");
    expect(series.points).toHaveLength(1);
    const [point] = series.points;
    expect(point?.startMs).toBe(Date.parse(EM_LATEST.datetime));
    expect(point?.endMs).toBe(Date.parse(EM_LATEST.datetime) + HOUR_MS);
    expect(point?.intensityGPerKWh).toBeCloseTo(EM_LATEST.carbonIntensity, 6);
    expect(point?.forecast).toBeUndefined();
    expect(series.signal).toBe("average");
    expect(series.zone).toBe("DE");
    expect(series.originalUnit).toBe("gCO2eq/kWh");
    expect(series.source).toContain("lifecycle");
    const [request] = server.requestsTo("/v3/carbon-intensity/latest");
    expect(request?.headers["auth-token"]).toBe(EM_API_KEY);
    expect(request?.query).toEqual({ zone: "DE" });
  });

  it("reads the last 24 hours from /history, skipping a point without a value and naming it", async () => {
    const fromMs = Date.parse("2024-05-01T06:00:00Z");
    const series = await createElectricityMapsProvider(options()).history("DE", fromMs, nowMs);
    expect(server.requestsTo("/v3/carbon-intensity/history")).toHaveLength(1);
    const usable = EM_HISTORY.history.filter((point) => point.carbonIntensity !== null);
    expect(series.points.map((point) => point.startMs)).toEqual(
      usable.map((point) => Date.parse(point.datetime)),
    );
    usable.forEach((point, index) =>
      expect(series.points[index]?.intensityGPerKWh).toBeCloseTo(point.carbonIntensity ?? -1, 6),
    );
    // The 08:00 value is missing: a gap, reported, not a zero.
    expect(series.gaps).toEqual([
      { startMs: Date.parse("2024-05-01T08:00:00Z"), endMs: Date.parse("2024-05-01T09:00:00Z") },
    ]);
    expect(series.warnings.join("\n")).toMatch(/skipped 1 point .*2024-05-01T08:00:00.000Z/);
    expect(series.warnings.join("\n")).toMatch(
      /Electricity Maps estimated 1 of the 4 figures \(TIME_SLICER_AVERAGE\)/,
    );
  });

  it("keeps only the points overlapping the window asked for", async () => {
    const fromMs = Date.parse("2024-05-01T07:30:00Z");
    const toMs = Date.parse("2024-05-01T08:00:00Z");
    const series = await createElectricityMapsProvider(options()).history("DE", fromMs, toMs);
    expect(series.points.map((point) => point.startMs)).toEqual([
      Date.parse("2024-05-01T07:00:00Z"),
    ]);
    // The missing 08:00 value and the estimated 09:00 one lie outside the window: no warning.
    expect(series.warnings).toEqual([]);
  });

  it("asks /past-range for windows older than 24 hours, in pieces of at most 10 days", async () => {
    const fromMs = Date.parse("2024-04-10T00:00:00Z");
    const toMs = Date.parse("2024-04-25T00:00:00Z");
    const series = await createElectricityMapsProvider(options()).history("DE", fromMs, toMs);
    const requests = server.requestsTo("/v3/carbon-intensity/past-range");
    expect(requests.map((request) => [request.query["start"], request.query["end"]])).toEqual([
      ["2024-04-10T00:00:00Z", "2024-04-20T00:00:00Z"],
      ["2024-04-20T00:00:00Z", "2024-04-25T00:00:00Z"],
    ]);
    expect(series.points).toHaveLength((toMs - fromMs) / HOUR_MS);
    expect(series.gaps).toEqual([]);
    for (const point of series.points) {
      expect(point.endMs - point.startMs).toBe(HOUR_MS);
      expect(point.intensityGPerKWh).toBeCloseTo(emPastRangeValue(point.startMs), 6);
    }
  });

  it("marks forecast points and reports the lifecycle default when the answer names no factor type", async () => {
    const series = await createElectricityMapsProvider(options()).forecast("DE");
    expect(series.points.map((point) => point.forecast)).toEqual([true, true, true]);
    EM_FORECAST.forecast.forEach((point, index) => {
      expect(series.points[index]?.startMs).toBe(Date.parse(point.datetime));
      expect(series.points[index]?.intensityGPerKWh).toBeCloseTo(point.carbonIntensity, 6);
    });
    expect(series.points[2]?.endMs).toBe(Date.parse("2024-05-01T14:00:00Z"));
    expect(series.source).toMatch(/lifecycle .*default/);
  });
});

describe("Electricity Maps: failures", () => {
  it("refuses to start without a key, before any request", () => {
    expect(() => createElectricityMapsProvider(options({ apiKey: undefined }))).toThrow(
      /electricitymaps: no API key given/,
    );
    expect(server.requests).toHaveLength(0);
  });

  it("reports a wrong key as 401 without retrying", async () => {
    const error = await rejectionOf(
      createElectricityMapsProvider(options({ apiKey: "wrong" })).latest("DE"),
    );
    expect(error.code).toBe("PROVIDER");
    expect(error.message).toMatch(/^electricitymaps: 401 Unauthorized — check the API key/);
    expect(error.hint).toMatch(/auth-token/);
    expect(server.requests).toHaveLength(1);
  });

  it("reports an unknown zone with the server's words", async () => {
    const error = await rejectionOf(createElectricityMapsProvider(options()).latest("XX"));
    expect(error.kind).toBe("client");
    expect(error.message).toMatch(/404 Not Found .*Zone 'XX' does not exist/);
    expect(error.hint).toMatch(/zone/);
  });

  it("waits as long as Retry-After says after a 429, not the (huge) backoff, and then succeeds", async () => {
    server.enqueue("/v3/carbon-intensity/latest", reply.status(429, "0"));
    const provider = createElectricityMapsProvider(
      options({ retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 }),
    );
    const series = await provider.latest("DE");
    expect(series.points[0]?.intensityGPerKWh).toBeCloseTo(EM_LATEST.carbonIntensity, 6);
    expect(server.requestsTo("/v3/carbon-intensity/latest")).toHaveLength(2);
  }, 5000);

  it("gives up after the retries on 500s", async () => {
    server.enqueue("/v3/", reply.status(500), reply.status(500), reply.status(500));
    const error = await rejectionOf(createElectricityMapsProvider(options()).forecast("DE"));
    expect(error.message).toMatch(
      /^electricitymaps: 500 Internal Server Error from \/v3\/carbon-intensity\/forecast \(after 3 attempts\)/,
    );
    expect(error.attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
  });

  it("times out a request that gets no answer", async () => {
    server.enqueue("/v3/", reply.hang());
    const error = await rejectionOf(
      createElectricityMapsProvider(options({ timeoutMs: 150, retries: 0 })).latest("DE"),
    );
    expect(error.kind).toBe("timeout");
    expect(error.message).toBe(
      "electricitymaps: no answer within 150 ms from /v3/carbon-intensity/latest",
    );
  });

  it("reports malformed JSON without retrying it", async () => {
    server.enqueue("/v3/", reply.malformed());
    const error = await rejectionOf(createElectricityMapsProvider(options()).latest("DE"));
    expect(error.message).toBe("electricitymaps: malformed JSON from /v3/carbon-intensity/latest");
    expect(server.requests).toHaveLength(1);
  });

  it("reports JSON of the wrong shape", async () => {
    server.enqueue("/v3/", reply.json({ zone: "DE", data: [] }));
    const error = await rejectionOf(createElectricityMapsProvider(options()).forecast("DE"));
    expect(error.kind).toBe("unexpected");
    expect(error.message).toMatch(
      /unexpected answer from \/v3\/carbon-intensity\/forecast: no "forecast" list/,
    );
  });
});

describe("Electricity Maps: cache", () => {
  it("answers a second call from the cache without a request, until the TTL runs out", async () => {
    const provider = createElectricityMapsProvider(options({ cacheTtlS: 60 }));
    const first = await provider.latest("DE");
    nowMs += 59_000;
    const second = await provider.latest("DE");
    expect(second).toEqual(first);
    expect(server.requests).toHaveLength(1);
    expect(readdirSync(cacheDir).filter((name) => name.endsWith(".json"))).toHaveLength(1);
    nowMs += 2_000;
    await provider.latest("DE");
    expect(server.requests).toHaveLength(2);
  });

  it("is shared between provider objects through the folder, and kept apart per zone and endpoint", async () => {
    await createElectricityMapsProvider(options()).latest("DE");
    await createElectricityMapsProvider(options()).latest("DE");
    expect(server.requests).toHaveLength(1);
    await createElectricityMapsProvider(options()).forecast("DE");
    expect(server.requests).toHaveLength(2);
  });

  it("falls back to an expired entry when the service fails, saying so", async () => {
    const provider = createElectricityMapsProvider(options({ cacheTtlS: 60, retries: 0 }));
    const storedAtMs = nowMs;
    const fresh = await provider.latest("DE");
    nowMs += 3_600_000;
    server.enqueue("/v3/", reply.status(503));
    const stale = await provider.latest("DE");
    expect(stale.points).toEqual(fresh.points);
    expect(stale.warnings).toEqual([
      `stale cache from ${new Date(storedAtMs).toISOString()} used: electricitymaps: 503 Service Unavailable from /v3/carbon-intensity/latest (server said: "{\\"message\\":\\"scripted 503\\"}")`,
    ]);
    expect(server.requests).toHaveLength(2);
  });

  it("does not hide a failure when there is no cache at all", async () => {
    server.enqueue("/v3/", reply.status(503));
    const error = await rejectionOf(
      createElectricityMapsProvider(options({ cacheDir: null, retries: 0 })).latest("DE"),
    );
    expect(error.status).toBe(503);
  });

  it("ignores a corrupt cache file and replaces it", async () => {
    const provider = createElectricityMapsProvider(options());
    await provider.latest("DE");
    const [file] = readdirSync(cacheDir);
    writeFileSync(join(cacheDir, file ?? "missing"), "{ not json");
    const series = await provider.latest("DE");
    expect(series.points[0]?.intensityGPerKWh).toBeCloseTo(EM_LATEST.carbonIntensity, 6);
    expect(server.requests).toHaveLength(2);
    await provider.latest("DE");
    expect(server.requests).toHaveLength(2);
  });
});
