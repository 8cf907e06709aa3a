// Measures carbon-aware scheduling on real hourly data (2022, 8 US balancing authorities):
//  1. a schedule over a year of hourly data in each of the 8 regions (findGreenestRegion with
//     the deadline at the end of the year; target < 50 ms), contiguous, interruptible, and
//     interruptible with a 1 h minimum chunk;
//  2. a daily backtest over the year (6 h jobs, 24 h window, one a day) per region
//     (target < 1 s each);
//  3. the savings distribution of that backtest on the real traces (mean, median, p10, p90).
// Needs a build (npm run build). Usage:
//   node bench/schedule.js [--data ../shared/data/carbon-intensity/dc-rl] [--repeats 20]
// Without the traces folder it falls back to the shipped copy (data/grid/hourly/).
import { existsSync, readdirSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    data: { type: "string", default: resolve(root, "../shared/data/carbon-intensity/dc-rl") },
    repeats: { type: "string", default: "20" },
  },
});
const REPEATS = Number(values.repeats);
if (!(Number.isInteger(REPEATS) && REPEATS >= 1))
  throw new Error("--repeats must be a whole number >= 1");
const SCHEDULE_TARGET_MS = 50;
const BACKTEST_TARGET_MS = 1000;
const YEAR_START_MS = Date.UTC(2022, 0, 1);
const YEAR_END_MS = Date.UTC(2023, 0, 1);
const HOUR_S = 3600;
/** Longest gap filled for the year-long schedule (PJM lacks 22 h in March); the backtest does not fill. */
const FILL_GAPS_MS = 24 * 3_600_000;

const { loadIntensityFile } = await import("../dist/grid/series-files.js");
const { embeddedSeriesZones, loadEmbeddedSeries } = await import("../dist/grid/embedded-series.js");
const { interpolateGaps } = await import("../dist/grid/series.js");
const { findGreenestRegion } = await import("../dist/schedule/region.js");
const { backtestSchedule } = await import("../dist/schedule/backtest.js");

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
/** Wall and CPU ms of the first call (cold) and the median of `REPEATS` more (warm). */
function time(body) {
  let wall = nowMs();
  let cpu = cpuMs();
  const result = body();
  const cold = { wallMs: nowMs() - wall, cpuMs: cpuMs() - cpu };
  const walls = [];
  const cpuTimes = [];
  for (let repeat = 0; repeat < REPEATS; repeat += 1) {
    wall = nowMs();
    cpu = cpuMs();
    body();
    walls.push(nowMs() - wall);
    cpuTimes.push(cpuMs() - cpu);
  }
  return {
    result,
    cold,
    warm: { wallMs: median(walls), cpuMs: median(cpuTimes) },
    maxWallMs: Math.max(...walls),
  };
}
const ms = (value) => `${value.toFixed(1)} ms`;

function loadTraces() {
  if (existsSync(values.data)) {
    const files = readdirSync(values.data)
      .filter((name) => name.endsWith(".csv"))
      .sort();
    return {
      origin: values.data,
      traces: files.map((name) => ({
        region: name.replace(/\.csv$/, ""),
        series: loadIntensityFile(join(values.data, name)),
      })),
    };
  }
  return {
    origin: "data/grid/hourly/ (shipped copy)",
    traces: embeddedSeriesZones().map((zone) => ({
      region: zone,
      series: loadEmbeddedSeries(zone),
    })),
  };
}

const { origin, traces } = loadTraces();
console.log(
  `wattprint schedule bench — node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log(
  `data: ${origin}: ${traces.map((t) => `${t.region} (${t.series.points.length} h, ${t.series.gaps.length} gaps)`).join(", ")}`,
);
console.log(
  `timings: cold = first call in this process; warm = median of ${REPEATS} further calls; wall and CPU time\n`,
);

// 1. A year-long schedule in each region.
const filled = traces.map((trace) => ({
  region: trace.region,
  series: interpolateGaps(trace.series, FILL_GAPS_MS),
}));
const yearOptions = {
  durationS: 6 * HOUR_S,
  nowMs: YEAR_START_MS,
  deadlineMs: YEAR_END_MS,
  powerW: 300,
};
console.log(
  `1. schedule a 6 h job over a year of hourly data in ${filled.length} regions (gaps ≤ 24 h interpolated; target < ${SCHEDULE_TARGET_MS} ms)`,
);
let scheduleWorst = 0;
for (const [label, extra] of [
  ["contiguous", {}],
  ["interruptible", { interruptible: true }],
  ["interruptible, min chunk 1 h", { interruptible: true, minChunkS: HOUR_S }],
]) {
  const { result, cold, warm, maxWallMs } = time(() =>
    findGreenestRegion(filled, { ...yearOptions, ...extra }),
  );
  scheduleWorst = Math.max(scheduleWorst, warm.wallMs);
  const best = result.best;
  console.log(
    `   ${label.padEnd(30)} cold ${ms(cold.wallMs)} (cpu ${ms(cold.cpuMs)}), warm ${ms(warm.wallMs)} (cpu ${ms(warm.cpuMs)}, max ${ms(maxWallMs)}) — best ${best.region} from ${new Date(best.startMs).toISOString()}, ${best.meanIntensityGPerKWh.toFixed(1)} g/kWh in ${best.slots.length} slot(s)`,
  );
}
console.log(
  `   → warm worst ${ms(scheduleWorst)}: ${scheduleWorst < SCHEDULE_TARGET_MS ? "within" : "OVER"} the ${SCHEDULE_TARGET_MS} ms target\n`,
);

// 2 and 3. Daily backtests over the year, on the raw traces (jobs over a gap are skipped).
const policy = { durationS: 6 * HOUR_S, windowS: 24 * HOUR_S, everyS: 24 * HOUR_S };
console.log(
  `2. daily backtest over the year per region: 6 h jobs, deadline 24 h after submission, one a day (target < ${BACKTEST_TARGET_MS} ms each)`,
);
const rows = [];
let backtestWorst = 0;
for (const trace of traces) {
  for (const interruptible of [false, true]) {
    const { result, cold, warm } = time(() =>
      backtestSchedule(trace.series, { ...policy, interruptible }),
    );
    backtestWorst = Math.max(backtestWorst, warm.wallMs, cold.wallMs);
    rows.push({ region: trace.region, interruptible, result, cold, warm });
  }
}
for (const row of rows) {
  console.log(
    `   ${row.region.padEnd(6)} ${(row.interruptible ? "interruptible" : "contiguous").padEnd(14)} cold ${ms(row.cold.wallMs)}, warm ${ms(row.warm.wallMs)} (cpu ${ms(row.warm.cpuMs)})`,
  );
}
console.log(
  `   → worst ${ms(backtestWorst)}: ${backtestWorst < BACKTEST_TARGET_MS ? "within" : "OVER"} the ${BACKTEST_TARGET_MS} ms target\n`,
);

console.log(
  "3. savings against starting at once, % of run-now CO2e (average intensity, per job; overall = Σ over jobs)",
);
console.log(
  "   region mode            jobs skipped   mean  median    p10    p90    min    max  overall  run-now → planned g/kWh",
);
const pct = (value) => (value === null || value === undefined ? "—" : value.toFixed(1)).padStart(6);
for (const row of rows) {
  const s = row.result.savingsPercent;
  console.log(
    `   ${row.region.padEnd(6)} ${(row.interruptible ? "interruptible" : "contiguous").padEnd(14)} ${String(row.result.jobs).padStart(5)} ${String(row.result.skipped.count).padStart(7)} ${pct(s?.mean)} ${pct(s?.median)} ${pct(s?.p10)} ${pct(s?.p90)} ${pct(s?.min)} ${pct(s?.max)} ${pct(row.result.overallSavingsPercent)}   ${row.result.meanRunNowIntensityGPerKWh?.toFixed(1)} → ${row.result.meanPlannedIntensityGPerKWh?.toFixed(1)}`,
  );
}
