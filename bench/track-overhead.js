// Measures what `wattprint track` costs the machine it measures: its own CPU time, its peak
// resident memory and how soon it takes its first sample, while it tracks a 20-process tree
// at a 1 s interval. Needs a build (npm run build). Usage:
//   node bench/track-overhead.js [--seconds 30] [--processes 20] [--interval 1s]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "30" },
    processes: { type: "string", default: "20" },
    interval: { type: "string", default: "1s" },
  },
});
const root = resolve(import.meta.dirname, "..");
const home = mkdtempSync(join(tmpdir(), "wattprint-bench-"));
const out = join(home, "run.json");
const CLOCK_TICKS_PER_S = 100;

function readSelfStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { cpuS, peakRssMB: hwmKb / 1024 };
  } catch {
    return null;
  }
}

const spawnedAtMs = Date.now();
const tracker = spawn(
  process.execPath,
  [
    join(root, "bin/wattprint.js"),
    "track",
    "--interval",
    values.interval,
    "--out",
    out,
    "--quiet",
    "--",
    process.execPath,
    join(root, "bench/workload.js"),
    values.processes,
    values.seconds,
  ],
  { stdio: "inherit", env: { ...process.env, WATTPRINT_HOME: home } },
);
let last = null;
let atTwoSeconds = null;
const poll = setInterval(() => {
  const stats = readSelfStats(tracker.pid);
  if (!stats) return;
  last = { ...stats, atMs: Date.now() };
  if (atTwoSeconds === null && Date.now() - spawnedAtMs >= 2000) atTwoSeconds = last;
}, 100);
const exitCode = await new Promise((resolve) => tracker.on("exit", resolve));
clearInterval(poll);

const run = JSON.parse(readFileSync(out, "utf8"));
const firstSampleMs = Date.parse(run.startedAt) - spawnedAtMs;
const steadyCpuS = last.cpuS - atTwoSeconds.cpuS;
const steadyWallS = (last.atMs - atTwoSeconds.atMs) / 1000;
const figures = {
  trackedProcessesPeak: run.sampling.peakTreeProcesses,
  intervalS: run.sampling.intervalS,
  samples: run.sampling.samples,
  runDurationS: Number(run.durationS.toFixed(2)),
  trackerCpuS: Number(last.cpuS.toFixed(3)),
  trackerCpuPercentOfOneCore: Number(((100 * last.cpuS) / run.durationS).toFixed(2)),
  steadyStateCpuPercentOfOneCore: Number(((100 * steadyCpuS) / steadyWallS).toFixed(2)),
  peakRssMB: Number(last.peakRssMB.toFixed(1)),
  firstSampleAfterStartMs: firstSampleMs,
  exitCode,
};
console.log(JSON.stringify(figures, null, 2));
console.log(
  `\ntargets: CPU <= 1% of one core (${figures.trackerCpuPercentOfOneCore <= 1 ? "met" : "NOT met"}), ` +
    `peak RSS <= 100 MB (${figures.peakRssMB <= 100 ? "met" : "NOT met"}), ` +
    `first sample <= 300 ms (${firstSampleMs <= 300 ? "met" : "NOT met"})`,
);
console.log(
  "how: wattprint's utime+stime and VmHWM read from /proc/<pid> every 100 ms until it exits (the last 100 ms of its CPU may be missed); " +
    "first sample = run.startedAt (taken at the first sample) minus the time the bench spawned wattprint, so it includes Node's start-up.",
);
rmSync(home, { recursive: true, force: true });
