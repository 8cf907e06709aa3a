// Measures the hourly intensity series: loading a year of data for the 8 shipped US grids
// (target: < 200 ms in total, cold, in a fresh process) and point lookups with intensityAt
// (binary search). Needs a build (npm run build). Usage:
//   node bench/intensity-series.js [--lookups 1000000] [--repeats 20] [--seed 42]
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    lookups: { type: "string", default: "1000000" },
    repeats: { type: "string", default: "20" },
    seed: { type: "string", default: "42" },
  },
});
const LOOKUPS = Number(values.lookups);
const REPEATS = Number(values.repeats);
if (!(Number.isInteger(LOOKUPS) && LOOKUPS >= 1 && Number.isInteger(REPEATS) && REPEATS >= 1)) {
  throw new Error("--lookups and --repeats must be whole numbers >= 1");
}
const LOAD_TARGET_MS = 200;
const YEAR_START_MS = Date.UTC(2022, 0, 1);
const YEAR_END_MS = Date.UTC(2023, 0, 1);

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
/** CPU time of this process (user + system), ms: less disturbed than wall time by other load. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const importStartMs = nowMs();
const { embeddedSeriesZones, loadEmbeddedSeries } = await import("../dist/grid/embedded-series.js");
const { intensityAt } = await import("../dist/grid/series.js");
const importMs = nowMs() - importStartMs;

function loadAll() {
  return embeddedSeriesZones().map((zone) => {
    const series = loadEmbeddedSeries(zone);
    if (series === null) throw new Error(`no embedded series for ${zone}`);
    return series;
  });
}

// Cold: the first load in this process, JIT not warmed up: what a CLI run pays.
const coldStartMs = nowMs();
const coldCpuStartMs = cpuMs();
const all = loadAll();
const coldCpuMs = cpuMs() - coldCpuStartMs;
const coldMs = nowMs() - coldStartMs;

const warmTimes = [];
const warmCpuTimes = [];
for (let repeat = 0; repeat < REPEATS; repeat += 1) {
  const startMs = nowMs();
  const startCpuMs = cpuMs();
  loadAll();
  warmCpuTimes.push(cpuMs() - startCpuMs);
  warmTimes.push(nowMs() - startMs);
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
warmTimes.sort((a, b) => a - b);
const warmMedianMs = median(warmTimes);

// Lookup times drawn beforehand (xorshift32, seeded) over all of 2022, gap hours included.
let state = Number(values.seed) >>> 0 || 1;
function random() {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 2 ** 32;
}
const times = new Float64Array(LOOKUPS);
const which = new Uint8Array(LOOKUPS);
for (let index = 0; index < LOOKUPS; index += 1) {
  times[index] = Math.floor(YEAR_START_MS + random() * (YEAR_END_MS - YEAR_START_MS));
  which[index] = Math.floor(random() * all.length);
}

function lookUp() {
  let sum = 0;
  let misses = 0;
  for (let index = 0; index < LOOKUPS; index += 1) {
    const point = intensityAt(all[which[index]], times[index]);
    if (point === null) misses += 1;
    else sum += point.intensityGPerKWh;
  }
  return { sum, misses };
}

const firstStartMs = nowMs();
const first = lookUp();
const firstLookupMs = nowMs() - firstStartMs;
const lookupTimes = [];
const lookupCpuTimes = [];
for (let repeat = 0; repeat < 5; repeat += 1) {
  const startMs = nowMs();
  const startCpuMs = cpuMs();
  lookUp();
  lookupCpuTimes.push(cpuMs() - startCpuMs);
  lookupTimes.push(nowMs() - startMs);
}
const lookupMedianMs = median(lookupTimes);
const lookupCpuMedianMs = median(lookupCpuTimes);

const points = all.reduce((sum, series) => sum + series.points.length, 0);
const fmt = (value, digits = 1) => value.toFixed(digits);
console.log(`wattprint intensity-series bench`);
console.log(
  `load average at the end: ${loadavg()
    .map((value) => value.toFixed(2))
    .join(", ")}`,
);
console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} logical CPUs)`,
);
console.log(`series: ${all.length} zones, ${points} hourly points of 2022`);
console.log(`module import (dist/grid/series*.js, embedded-series.js): ${fmt(importMs)} ms`);
console.log(
  `load all ${all.length} zones, cold (first call in this process): ${fmt(coldMs)} ms ` +
    `(CPU ${fmt(coldCpuMs)} ms; target < ${LOAD_TARGET_MS} ms: ${coldMs < LOAD_TARGET_MS ? "met" : "NOT met"})`,
);
console.log(
  `load all ${all.length} zones, warm: median ${fmt(warmMedianMs)} ms of ${REPEATS} ` +
    `(min ${fmt(warmTimes[0])}, max ${fmt(warmTimes[warmTimes.length - 1])}; ` +
    `CPU median ${fmt(median(warmCpuTimes))} ms)`,
);
console.log(
  `${LOOKUPS} intensityAt lookups, first pass: ${fmt(firstLookupMs)} ms ` +
    `(${fmt(LOOKUPS / (firstLookupMs / 1000) / 1e6, 2)} M lookups/s)`,
);
console.log(
  `${LOOKUPS} intensityAt lookups, median of 5 passes: ${fmt(lookupMedianMs)} ms ` +
    `(${fmt(LOOKUPS / (lookupMedianMs / 1000) / 1e6, 2)} M lookups/s, ` +
    `${fmt((lookupMedianMs * 1e6) / LOOKUPS, 0)} ns each; CPU ${fmt(lookupCpuMedianMs)} ms)`,
);
console.log(
  `lookups in a gap (null): ${first.misses} of ${LOOKUPS}; checksum ${fmt(first.sum, 0)}`,
);
