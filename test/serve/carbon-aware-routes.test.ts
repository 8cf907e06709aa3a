// The Carbon Aware SDK routes answered from wattprint's grid data, in the SDK's shapes:
// checked field by field, against the shipped tables, and by wattprint's own Carbon Aware
// SDK client (src/grid/providers/carbon-aware-sdk.ts) reading them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCarbonAwareSdkProvider } from "../../src/grid/providers/carbon-aware-sdk.js";
import { loadEmbeddedSeries } from "../../src/grid/embedded-series.js";
import { intensityAt } from "../../src/grid/series.js";
import { resolveRegion } from "../../src/grid/regions.js";
import { createToken } from "../../src/serve/tokens.js";
import { request, sqliteDatabase, startTestServer, type TestServer } from "./helpers.js";

interface EmissionsData {
  location: string;
  time: string;
  rating: number;
  duration: string;
}
interface Forecast {
  generatedAt: string;
  requestedAt: string;
  location: string;
  dataStartAt: string;
  dataEndAt: string;
  windowSize: number;
  optimalDataPoint: { location: string; timestamp: string; duration: number; value: number };
  forecastData: { location: string; timestamp: string; duration: number; value: number }[];
}

describe("Carbon Aware SDK routes", () => {
  let t: TestServer;
  const fr = resolveRegion("FR").intensityGPerKWh;
  const pl = resolveRegion("PL").intensityGPerKWh;

  beforeAll(async () => {
    t = await startTestServer(sqliteDatabase());
  });
  afterAll(async () => t?.close());

  it("lists locations, Azure names included", async () => {
    const answer = await request(`${t.url}/locations`);
    const body = answer.body as Record<string, { name: string; latitude: null; longitude: null }>;
    expect(body.FR?.name).toBe("France");
    expect(body.eastus).toMatchObject({ latitude: null, longitude: null });
    expect(body["aws:us-east-1"]).toBeDefined();
  });

  it("answers bylocation with hourly EmissionsData at the annual average outside the hourly data", async () => {
    const answer = await request(
      `${t.url}/emissions/bylocation?location=FR&time=2025-05-01T00:00:00Z&toTime=2025-05-01T03:00:00Z`,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-wattprint-source")).toMatch(/^annual average/);
    const data = answer.body as EmissionsData[];
    expect(data.map((d) => d.time)).toEqual([
      "2025-05-01T00:00:00.000Z",
      "2025-05-01T01:00:00.000Z",
      "2025-05-01T02:00:00.000Z",
    ]);
    for (const item of data) {
      expect(item).toEqual({ location: "FR", time: item.time, rating: fr, duration: "01:00:00" });
    }
  });

  it("answers with the shipped hourly series where it has one", async () => {
    const from = Date.parse("2022-07-01T00:00:00Z");
    const answer = await request(
      `${t.url}/emissions/bylocation?location=US-CAL-CISO&time=2022-07-01T00:00:00Z&toTime=2022-07-01T04:00:00Z`,
    );
    const data = answer.body as EmissionsData[];
    const series = loadEmbeddedSeries("US-CAL-CISO");
    expect(series).not.toBeNull();
    expect(data).toHaveLength(4);
    data.forEach((item, hour) => {
      expect(Date.parse(item.time)).toBe(from + hour * 3_600_000);
      expect(item.rating).toBeCloseTo(
        intensityAt(series!, from + hour * 3_600_000 + 1)?.intensityGPerKWh ?? -1,
        9,
      );
    });
    expect(new Set(data.map((d) => d.rating)).size).toBeGreaterThan(1);
  });

  it("picks the lowest of several locations for bylocations/best", async () => {
    const window = "time=2025-05-01T00:00:00Z&toTime=2025-05-01T01:00:00Z";
    const all = (await request(`${t.url}/emissions/bylocations?location=PL&location=FR&${window}`))
      .body as EmissionsData[];
    expect(all.map((d) => [d.location, d.rating])).toEqual([
      ["PL", pl],
      ["FR", fr],
    ]);
    const best = (
      await request(
        `${t.url}/emissions/bylocations/best?location=PL&location=eastus&location=FR&${window}`,
      )
    ).body as EmissionsData[];
    const eastus = resolveRegion("azure:eastus").intensityGPerKWh;
    const lowest = Math.min(fr, pl, eastus);
    expect(best).toHaveLength(1);
    expect(best[0]?.rating).toBe(lowest);
  });

  it("answers forecasts/current in the SDK's shape, the optimal point being the lowest window", async () => {
    const flat = (await request(`${t.url}/emissions/forecasts/current?location=FR&windowSize=60`))
      .body as Forecast[];
    expect(flat).toHaveLength(1);
    const [forecast] = flat;
    expect(Object.keys(forecast ?? {}).sort()).toEqual(
      [
        "dataEndAt",
        "dataStartAt",
        "forecastData",
        "generatedAt",
        "location",
        "optimalDataPoint",
        "requestedAt",
        "windowSize",
      ].sort(),
    );
    expect(forecast?.location).toBe("FR");
    expect(forecast?.windowSize).toBe(60);
    expect(forecast?.forecastData.length).toBeGreaterThanOrEqual(23);
    for (const point of forecast?.forecastData ?? []) expect(point.value).toBeCloseTo(fr, 6);
    const profile = (
      await request(`${t.url}/emissions/forecasts/current?location=CISO&windowSize=120`)
    ).body as Forecast[];
    const values = profile[0]?.forecastData.map((p) => p.value) ?? [];
    expect(new Set(values).size).toBeGreaterThan(1);
    expect(profile[0]?.optimalDataPoint.value).toBe(Math.min(...values));
    expect(profile[0]?.optimalDataPoint.duration).toBe(120);
  });

  it("answers average-carbon-intensity over the window", async () => {
    const answer = await request(
      `${t.url}/emissions/average-carbon-intensity?location=FR&startTime=2025-05-01T00:00:00Z&endTime=2025-05-01T02:30:00Z`,
    );
    expect(answer.body).toEqual({
      location: "FR",
      startTime: "2025-05-01T00:00:00.000Z",
      endTime: "2025-05-01T02:30:00.000Z",
      carbonIntensity: fr,
    });
  });

  it("refuses unknown locations and bad times as the SDK does (400 ValidationProblemDetails)", async () => {
    const unknown = await request(`${t.url}/emissions/bylocation?location=atlantis`);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      status: 400,
      errors: { location: [expect.stringContaining("atlantis")] },
    });
    expect((await request(`${t.url}/emissions/bylocations/best`)).status).toBe(400);
    expect((await request(`${t.url}/emissions/bylocation?location=FR&time=soon`)).status).toBe(400);
  });

  it("is read by wattprint's own Carbon Aware SDK client", async () => {
    const provider = createCarbonAwareSdkProvider({ baseUrl: t.url, cacheDir: null, retries: 0 });
    const from = Date.parse("2022-07-01T00:00:00Z");
    const history = await provider.history("US-CAL-CISO", from, from + 3 * 3_600_000);
    expect(history.points).toHaveLength(3);
    expect(history.points[0]?.endMs).toBe(from + 3_600_000);
    const forecast = await provider.forecast("FR");
    expect(forecast.points.length).toBeGreaterThan(20);
    expect(forecast.points[0]?.intensityGPerKWh).toBeCloseTo(fr, 6);
  });

  it("needs a read token from outside loopback once tokens exist, and none from loopback", async () => {
    await createToken(t.store, { project: "p", scope: "ingest" });
    expect((await request(`${t.url}/locations`)).status).toBe(200);
  });
});
