/**
 * One entry point for "how clean is the grid here, then": the intensity of a region at a
 * time, or over a span, from a trace file, a live provider, the shipped hourly data, or
 * the annual average — whichever applies, with where it came from and every fallback in
 * `warnings`.
 */
import { WattprintError } from "../errors.js";
import { loadEmbeddedSeries } from "./embedded-series.js";
import { resolveRegion, type ResolvedRegion } from "./regions.js";
import { loadIntensityFile } from "./series-files.js";
import { intensityAt, makeSeries, sliceSeries, type IntensitySeries } from "./series.js";
import { createProvider } from "./providers/registry.js";
import { withFallback, type ProviderOptions } from "./providers/provider.js";

export interface IntensityOptions {
  /** A live provider by name (electricitymaps, watttime, uk-carbon-intensity, carbon-aware-sdk). */
  source?: string;
  providerOptions?: ProviderOptions;
  /** A trace file instead (see loadIntensityFile). */
  file?: string;
  /** IANA time zone for a file's timestamps without an offset. */
  timezone?: string;
  /** The provider's or file's own zone id, when it differs from the region's grid zone (WattTime "CAISO_NORTH"). */
  zone?: string;
  /** "now" for forecasts and latest values; default Date.now(). */
  nowMs?: number;
}

export interface IntensitySeriesResult {
  region: ResolvedRegion;
  series: IntensitySeries;
  /** Where the series came from: a provider, a file, the shipped hourly data, or the annual average. */
  origin: "provider" | "file" | "embedded-hourly" | "annual-average";
  warnings: string[];
}

export interface IntensityAtResult {
  region: string;
  zone: string;
  /** gCO2e/kWh. */
  intensityGPerKWh: number;
  signal: "average" | "marginal";
  source: string;
  origin: IntensitySeriesResult["origin"];
  /** The point's span, ISO 8601. */
  from: string;
  to: string;
  forecast: boolean;
  warnings: string[];
}

/** A constant series at the region's annual average over [fromMs, toMs). */
export function annualAverageSeries(
  region: ResolvedRegion,
  fromMs: number,
  toMs: number,
): IntensitySeries {
  return makeSeries({
    zone: region.zone,
    signal: "average",
    source: region.source,
    originalUnit: "gCO2e/kWh",
    points: [
      {
        startMs: fromMs,
        endMs: Math.max(toMs, fromMs + 1),
        intensityGPerKWh: region.intensityGPerKWh,
      },
    ],
    warnings: [
      `annual average of ${region.code} (${region.intensityGPerKWh} gCO2e/kWh): no hourly data for this time`,
    ],
  });
}

function checkSpan(fromMs: number, toMs: number): void {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs) {
    throw new WattprintError("USAGE", "the time range is empty: --to must be after --from", {
      hint: "give ISO 8601 times with an offset, for example --from 2022-07-01T00:00:00Z --to 2022-07-02T00:00:00Z",
    });
  }
}

/** The intensity series of a region over [fromMs, toMs). */
export async function getIntensitySeries(
  regionCode: string,
  fromMs: number,
  toMs: number,
  options: IntensityOptions = {},
): Promise<IntensitySeriesResult> {
  checkSpan(fromMs, toMs);
  const region = resolveRegion(regionCode);
  const zone = options.zone ?? region.zone;
  if (options.file !== undefined) {
    const series = sliceSeries(
      loadIntensityFile(options.file, { timezone: options.timezone, zone }),
      fromMs,
      toMs,
    );
    if (series.points.length === 0) {
      throw new WattprintError(
        "BAD_INPUT",
        `${options.file} has no data between ${iso(fromMs)} and ${iso(toMs)}`,
        {
          hint: "choose a time range the file covers",
        },
      );
    }
    return { region, series, origin: "file", warnings: [...series.warnings] };
  }
  if (options.source !== undefined) {
    const provider = createProvider(options.source, options.providerOptions ?? {});
    const nowMs = options.nowMs ?? Date.now();
    const operation =
      fromMs >= nowMs
        ? ({ kind: "forecast" } as const)
        : ({ kind: "history", fromMs, toMs } as const);
    const result = await withFallback(provider, zone, operation, () =>
      annualAverageSeries(region, fromMs, toMs),
    );
    const series =
      result.origin === "provider" ? sliceSeries(result.series, fromMs, toMs) : result.series;
    return {
      region,
      series,
      origin: result.origin === "provider" ? "provider" : "annual-average",
      warnings: [...series.warnings],
    };
  }
  const embedded = loadEmbeddedSeries(zone);
  if (embedded !== null) {
    const series = sliceSeries(embedded, fromMs, toMs);
    if (series.points.length > 0) {
      return { region, series, origin: "embedded-hourly", warnings: [...series.warnings] };
    }
  }
  const series = annualAverageSeries(region, fromMs, toMs);
  return { region, series, origin: "annual-average", warnings: [...series.warnings] };
}

/** The intensity of a region at one instant (latest or forecast for now and later). */
export async function getIntensity(
  regionCode: string,
  atMs: number,
  options: IntensityOptions = {},
): Promise<IntensityAtResult> {
  if (!Number.isFinite(atMs)) {
    throw new WattprintError("USAGE", "invalid time", {
      hint: "give an ISO 8601 time with an offset, or now",
    });
  }
  const nowMs = options.nowMs ?? Date.now();
  let result: IntensitySeriesResult;
  if (
    options.source !== undefined &&
    options.file === undefined &&
    Math.abs(atMs - nowMs) < 5 * 60_000
  ) {
    const region = resolveRegion(regionCode);
    const provider = createProvider(options.source, options.providerOptions ?? {});
    const fallback = await withFallback(
      provider,
      options.zone ?? region.zone,
      { kind: "latest" },
      () => annualAverageSeries(region, atMs, atMs + 3_600_000),
    );
    result = {
      region,
      series: fallback.series,
      origin: fallback.origin === "provider" ? "provider" : "annual-average",
      warnings: [...fallback.series.warnings],
    };
  } else {
    result = await getIntensitySeries(regionCode, atMs - 3_600_000, atMs + 3_600_000, {
      ...options,
      nowMs,
    });
  }
  const point =
    intensityAt(result.series, atMs) ??
    (options.source !== undefined ? result.series.points.at(-1) : undefined) ??
    null;
  if (point === null) {
    const annual = annualAverageSeries(result.region, atMs, atMs + 1);
    return describePoint(result.region, annual, annual.points[0]!, "annual-average", [
      ...result.warnings,
      `no figure for ${iso(atMs)} in ${result.series.source}`,
      ...annual.warnings,
    ]);
  }
  return describePoint(result.region, result.series, point, result.origin, result.warnings);
}

function describePoint(
  region: ResolvedRegion,
  series: IntensitySeries,
  point: IntensitySeries["points"][number],
  origin: IntensitySeriesResult["origin"],
  warnings: string[],
): IntensityAtResult {
  return {
    region: region.code,
    zone: series.zone,
    intensityGPerKWh: point.intensityGPerKWh,
    signal: series.signal,
    source: series.source,
    origin,
    from: iso(point.startMs),
    to: iso(point.endMs),
    forecast: point.forecast === true,
    warnings,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
