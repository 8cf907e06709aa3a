/**
 * Rule "region": the run's energy in each allowed region at the same hours
 * (src/schedule/region.ts with no slack, on the shipped hourly data or the annual average),
 * with each region's PUE, against the run's own region. Formulas and thresholds:
 * docs/advise.md, "Region".
 */
import { embeddedSeriesZones, loadEmbeddedSeries } from "../grid/embedded-series.js";
import { annualAverageSeries, getIntensitySeries } from "../grid/intensity.js";
import { resolveRegion, type ResolvedRegion } from "../grid/regions.js";
import { interpolateGaps, type IntensitySeries } from "../grid/series.js";
import { findGreenestRegion, type RegionCandidate } from "../schedule/region.js";
import { joulesToKWh, trimNumber } from "../units/energy.js";
import { commandLine, spanArgument } from "./command-line.js";
import { notEnoughData, nothingFound, orderedRange, withFindings } from "./outcome.js";
import { MAX_FILLED_GAP_MS, replayShiftMs } from "./run-intensity.js";
import { RULE_TITLES, type Evidence, type RuleContext, type RuleOutcome } from "./types.js";

const TITLE = RULE_TITLES.region;

/** Smallest saving, percent of the run's CO2e in its own region, worth a finding. */
export const MIN_REGION_SAVING_PERCENT = 5;

const MS_PER_S = 1000;

/** One region's figures at the run's hours. */
interface RegionFigures {
  region: ResolvedRegion;
  /** How the user wrote it. */
  given: string;
  hourly: boolean;
  meanIntensityGPerKWh: number;
  pue: number;
  pueSource: string;
  /** Grams at the run's hours, and with the annual average. */
  co2eG: number;
  annualCo2eG: number;
}

/** Runs the rule. */
export async function checkRegion(context: RuleContext): Promise<RuleOutcome> {
  const { run, options } = context;
  if (options.regions.length === 0) {
    return notEnoughData(
      "region",
      TITLE,
      ["the regions the job may run in (--regions)"],
      "give the allowed regions, such as --regions US-CA,US-WA,FR",
    );
  }
  const energyJ = run.energyJ.total;
  const startMs = Date.parse(run.startedAt);
  if (energyJ === null || !(energyJ > 0) || !(run.durationS > 0) || !Number.isFinite(startMs)) {
    return notEnoughData("region", TITLE, ["the run's energy, duration and start time"], null);
  }
  const own = resolveRegion(run.region);
  const others = options.regions
    .map((given) => ({ given, region: resolveRegion(given) }))
    .filter((item, index, all) => {
      const code = item.region.code;
      return code !== own.code && all.findIndex((other) => other.region.code === code) === index;
    });
  if (others.length === 0) {
    return nothingFound("region", TITLE, `the allowed regions are the run's own (${own.code})`);
  }
  const durationMs = run.durationS * MS_PER_S;
  // One shift for all regions: the shipped series all cover the same year.
  const sample = loadEmbeddedSeries(embeddedSeriesZones()[0] as string);
  const shiftMs = sample === null ? 0 : replayShiftMs(sample, startMs, durationMs);
  const fromMs = startMs + shiftMs;
  const all = [{ given: run.region, region: own }, ...others];
  const warnings: string[] = [];
  const candidates: RegionCandidate[] = [];
  const hourly: boolean[] = [];
  for (const item of all) {
    const series = await seriesAt(item.region, fromMs, fromMs + durationMs, warnings);
    candidates.push({ region: item.region.code, series: series.series });
    hourly.push(series.hourly);
  }
  const search = findGreenestRegion(candidates, {
    durationS: run.durationS,
    nowMs: fromMs,
    deadlineMs: fromMs + durationMs,
    powerW: energyJ / run.durationS,
  });
  const kWh = joulesToKWh(energyJ);
  const figures: RegionFigures[] = search.plans.map((plan, index) => {
    const item = all[index] as (typeof all)[number];
    const isOwn = index === 0;
    const pue = isOwn ? run.pue : (item.region.pue ?? run.pue);
    const pueSource = isOwn
      ? `run record: ${run.pueSource}`
      : item.region.pue !== undefined
        ? (item.region.pueSource ?? "the cloud region's published PUE")
        : "the run's PUE (no published figure for this region)";
    return {
      region: item.region,
      given: item.given,
      hourly: hourly[index] === true,
      meanIntensityGPerKWh: plan.meanIntensityGPerKWh,
      pue,
      pueSource,
      co2eG: (plan.co2eG ?? kWh * plan.meanIntensityGPerKWh) * pue,
      annualCo2eG: kWh * pue * item.region.intensityGPerKWh,
    };
  });
  const base = figures[0] as RegionFigures;
  const best = figures.reduce((lowest, item) => (item.co2eG < lowest.co2eG ? item : lowest), base);
  const savingG = base.co2eG - best.co2eG;
  const percent = base.co2eG > 0 ? (100 * savingG) / base.co2eG : 0;
  if (best === base || percent < MIN_REGION_SAVING_PERCENT) {
    return nothingFound(
      "region",
      TITLE,
      best === base
        ? `${own.code} is already the cleanest of the allowed regions at the run's hours`
        : `the cleanest allowed region (${best.region.code}) saves only ${trimNumber(percent)}%`,
    );
  }
  const annualSavingG = base.annualCo2eG - best.annualCo2eG;
  const range = orderedRange(savingG, annualSavingG, savingG);
  const evidence: Evidence[] = figures.map((item) => ({
    label: `${item.region.code}: intensity at the run's hours${item.hourly ? "" : " (annual average)"}, PUE ${trimNumber(item.pue)}`,
    value: item.meanIntensityGPerKWh,
    unit: "gCO2e/kWh",
    source: `${item.hourly ? "shipped hourly data" : item.region.source}; PUE: ${item.pueSource}`,
  }));
  evidence.push({
    label: "energy of the run",
    value: energyJ,
    unit: "J",
    source: "run record: energyJ.total",
  });
  const bothHourly = base.hourly && best.hourly;
  const notes = [...new Set(warnings)];
  if (shiftMs !== 0) {
    notes.push(
      `the run is outside the shipped hourly data's year: regions with hourly data were replayed on the same hour and weekday of that year (from ${new Date(fromMs).toISOString()})`,
    );
  }
  notes.push("Moving a job also moves its data: check data-residency rules and transfer costs.");
  return withFindings(
    "region",
    TITLE,
    `${best.region.code} would have been ${trimNumber(percent)}% cleaner`,
    [
      {
        rule: "region",
        title: `Run in ${best.region.code} (${best.region.name}) instead of ${own.code}: ${trimNumber(percent)}% less CO2e for the same energy`,
        evidence,
        saving: {
          energyJ: 0,
          co2eG: range.central,
          low: { energyJ: 0, co2eG: range.low },
          high: { energyJ: 0, co2eG: range.high },
          basis: "this run",
          derivation:
            "energy × (PUE × intensity of the run's region − PUE × intensity of the cleanest allowed region), intensities at the run's own hours (findGreenestRegion with no slack; hourly data where wattprint ships it, else the annual average); the range spans that figure and the same difference with both regions' annual averages",
        },
        confidence: bothHourly ? "medium" : "low",
        confidenceReason: bothHourly
          ? "hourly average intensities; the marginal effect of moving load can differ"
          : "an annual average intensity: the hours of the run are not resolved",
        command: bothHourly
          ? commandLine([
              "wattprint",
              "schedule",
              "--duration",
              spanArgument(run.durationS),
              "--deadline",
              spanArgument(run.durationS),
              "--regions",
              figures
                .filter((item) => item.hourly)
                .map((item) => item.region.code)
                .join(","),
              "--now",
              new Date(fromMs).toISOString(),
            ])
          : commandLine(["wattprint", "regions", "show", best.region.code]),
        notes,
      },
    ],
  );
}

/** The region's shipped hourly series over the span, or its annual average (with a warning). */
async function seriesAt(
  region: ResolvedRegion,
  fromMs: number,
  toMs: number,
  warnings: string[],
): Promise<{ series: IntensitySeries; hourly: boolean }> {
  const result = await getIntensitySeries(region.code, fromMs, toMs);
  const series = interpolateGaps(result.series, MAX_FILLED_GAP_MS);
  const first = series.points[0];
  const last = series.points[series.points.length - 1];
  const covers =
    result.origin === "embedded-hourly" &&
    first !== undefined &&
    last !== undefined &&
    first.startMs <= fromMs &&
    last.endMs >= toMs &&
    series.gaps.length === 0;
  if (covers) return { series, hourly: true };
  if (result.origin === "embedded-hourly") {
    warnings.push(
      `${region.code}: the shipped hourly data does not cover the run's hours; annual average used`,
    );
  }
  return { series: annualAverageSeries(region, fromMs, toMs), hourly: false };
}
