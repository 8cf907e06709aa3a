import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeSeries, type IntensitySeries } from "../../src/grid/series.js";
import type { TimelineSample } from "../../src/record/run-record.js";
import {
  createPlanClock,
  greenRunEmissions,
  runWhenGreen,
  type GreenRunEvent,
} from "../../src/schedule/run-when-green.js";
import { isolatedEnv, tempDir } from "../helpers/cli.js";

const HOUR_MS = 3_600_000;
const T0 = Date.parse("2022-06-01T00:00:00Z");
const J_PER_KWH = 3_600_000;

function hourly(values: readonly number[]): IntensitySeries {
  return makeSeries({
    zone: "TEST",
    signal: "average",
    source: "test",
    originalUnit: "gCO2e/kWh",
    points: values.map((value, index) => ({
      startMs: T0 + index * HOUR_MS,
      endMs: T0 + (index + 1) * HOUR_MS,
      intensityGPerKWh: value,
    })),
  });
}

/** A sample of `powerW` attributed CPU power over the `intervalS` ending at real time `endMs`. */
function sample(endMs: number, intervalS: number, powerW: number): TimelineSample {
  return {
    seq: 0,
    t: new Date(endMs).toISOString(),
    elapsedS: 0,
    intervalS,
    machinePowerW: { cpu: powerW, gpu: null, ram: null },
    attributedPowerW: { cpu: powerW, gpu: null, ram: null },
    channelPowerW: {},
    treeProcesses: 1,
    treeCpuShare: 1,
    intensityGPerKWh: 0,
    phases: [],
  } as TimelineSample;
}

describe("createPlanClock", () => {
  it("replays from a start time at a time scale and sleeps in plan time", async () => {
    const clock = createPlanClock({ startMs: T0, timeScale: 3600 });
    expect(clock.isRealTime).toBe(false);
    expect(clock.now() - T0).toBeLessThan(0.5 * HOUR_MS);
    const before = Date.now();
    await clock.sleepUntil(T0 + 0.5 * HOUR_MS);
    const sleptMs = Date.now() - before;
    expect(sleptMs).toBeGreaterThanOrEqual(400);
    expect(sleptMs).toBeLessThan(2000);
    expect(clock.now()).toBeGreaterThanOrEqual(T0 + 0.5 * HOUR_MS);
    expect(clock.toPlanTime(before + 1000) - clock.toPlanTime(before)).toBeCloseTo(HOUR_MS, 6);
  });

  it("wakes at once when aborted", async () => {
    const clock = createPlanClock({ startMs: T0, timeScale: 1 });
    const controller = new AbortController();
    const before = Date.now();
    setTimeout(() => controller.abort("test"), 100);
    await clock.sleepUntil(T0 + HOUR_MS, controller.signal);
    expect(Date.now() - before).toBeLessThan(1500);
  });

  it("refuses a bad time scale", () => {
    expect(() => createPlanClock({ timeScale: 0 })).toThrow(/invalid time scale/);
    expect(() => createPlanClock({ timeScale: Number.NaN })).toThrow(/invalid time scale/);
  });
});

describe("greenRunEmissions", () => {
  // Plan time runs 3600× real time from T0 at real time R0.
  const R0 = 1_700_000_000_000;
  const clock = { toPlanTime: (realMs: number) => T0 + (realMs - R0) * 3600 };
  const series = hourly([300, 200, 100, 50, 400]);

  it("books energy at the plan times it was used, and the run-now counterfactual from planning time without pauses", () => {
    // Started at plan 02:00 (real R0 + 2 s); 100 W for 0.5 s, paused 1 s, 100 W for 0.5 s.
    const samples = [
      sample(R0 + 2250, 0.25, 100),
      sample(R0 + 2500, 0.25, 100),
      sample(R0 + 2750, 0.25, 0),
      sample(R0 + 3000, 0.25, 0),
      sample(R0 + 3250, 0.25, 0),
      sample(R0 + 3500, 0.25, 0),
      sample(R0 + 3750, 0.25, 100),
      sample(R0 + 4000, 0.25, 100),
    ];
    const result = greenRunEmissions({
      series,
      samples,
      record: {
        energyJ: { total: 100, cpu: 100, gpu: null, ram: null },
        pue: 1.5,
        intensityGPerKWh: 999,
      },
      clock,
      plannedAtMs: T0,
      startedRealMs: R0 + 2000,
      endedRealMs: R0 + 4000,
      pauses: [{ startMs: R0 + 2500, endMs: R0 + 3500 }],
    });
    // Realised: 50 J in 02:00–02:30 (100 g/kWh), 50 J in 03:30–04:00 (50 g/kWh).
    expect(result.co2eG).toBeCloseTo((1.5 * (50 * 100 + 50 * 50)) / J_PER_KWH, 12);
    // Run now: the same 100 J over 00:00–01:00 (300 g/kWh), the pause squeezed out.
    expect(result.runNowCo2eG).toBeCloseTo((1.5 * 100 * 300) / J_PER_KWH, 12);
    expect(result.uncoveredEnergyJ).toBe(0);
    expect(result.warnings).toEqual([]);
  });

  it("scales the samples to the run's total and counts energy outside the data at the run's intensity", () => {
    const result = greenRunEmissions({
      series,
      samples: [sample(R0 + 4500, 0.5, 10), sample(R0 + 5500, 1, 10)],
      record: {
        energyJ: { total: 30, cpu: 30, gpu: null, ram: null },
        pue: 1,
        intensityGPerKWh: 1000,
      },
      clock,
      plannedAtMs: T0,
      startedRealMs: R0 + 4000,
      endedRealMs: R0 + 5500,
      pauses: [],
    });
    // 5 J and 10 J sampled, scaled to 10 J (04:00–04:30, 400 g/kWh) and 20 J (04:30–05:30:
    // half in hour 4, half past the data at the run's 1000 g/kWh).
    expect(result.co2eG).toBeCloseTo((10 * 400 + 10 * 400 + 10 * 1000) / J_PER_KWH, 12);
    expect(result.uncoveredEnergyJ).toBeCloseTo(10, 9);
    expect(result.warnings.join("\n")).toMatch(/realised: 10.0 J fell outside the intensity data/);
    // Run now: 00:00–01:30 → 10 J at 300, 20 J spread over 00:30–01:30 (half 300, half 200).
    expect(result.runNowCo2eG).toBeCloseTo((10 * 300 + 10 * 300 + 10 * 200) / J_PER_KWH, 12);
  });

  it("gives null, not zero, when the energy is unknown", () => {
    const result = greenRunEmissions({
      series,
      samples: [],
      record: {
        energyJ: { total: null, cpu: null, gpu: null, ram: null },
        pue: 1,
        intensityGPerKWh: 100,
      },
      clock,
      plannedAtMs: T0,
      startedRealMs: R0,
      endedRealMs: R0 + 1000,
      pauses: [],
    });
    expect(result.co2eG).toBeNull();
    expect(result.runNowCo2eG).toBeNull();
    expect(result.warnings.join()).toMatch(/energy is unknown/);
  });
});

describe("runWhenGreen (real child processes, 1 h of plan per second)", () => {
  const dir = tempDir("wattprint-green-");
  afterAll(() => dir.cleanup());
  // Clean at hours 2 and 5: a 2 h interruptible job runs 02–03 and 05–06.
  const series = hourly([500, 500, 100, 500, 500, 100, 500, 500]);
  /** A command that appends a timestamp every 50 ms until it has ticked `ticks` times; marks signals. */
  const ticker = (name: string, ticks: number) => [
    process.execPath,
    "-e",
    `const fs=require("fs");const f=${JSON.stringify(join(dir.path, name))};let n=0;` +
      `for (const s of ["SIGINT","SIGTERM"]) process.on(s,()=>{fs.appendFileSync(f,s+"\\n");process.exit(0);});` +
      `const t=setInterval(()=>{fs.appendFileSync(f,Date.now()+"\\n");if(++n>=${ticks}){clearInterval(t);}},50);`,
  ];
  const base = (events: GreenRunEvent[]) => ({
    series,
    deadlineMs: T0 + 8 * HOUR_MS,
    durationS: 2 * 3600,
    interruptible: true,
    clock: createPlanClock({ startMs: T0, timeScale: 3600 }),
    store: false as const,
    env: isolatedEnv(dir.path),
    intervalS: 0.1,
    stdio: "ignore" as const,
    handleSignals: false,
    onEvent: (event: GreenRunEvent): void => {
      events.push(event);
    },
  });

  it("waits for the first clean slot, pauses the command between slots and resumes it", async () => {
    const events: GreenRunEvent[] = [];
    const options = base(events);
    const outcome = await runWhenGreen(ticker("ticks.txt", 25), options);
    expect(outcome.status).toBe("completed");
    expect(outcome.exitCode).toBe(0);
    expect(outcome.plan.slots).toEqual([
      { startMs: T0 + 2 * HOUR_MS, endMs: T0 + 3 * HOUR_MS },
      { startMs: T0 + 5 * HOUR_MS, endMs: T0 + 6 * HOUR_MS },
    ]);
    expect(events.map((event) => event.type).slice(0, 5)).toEqual([
      "planned",
      "waiting",
      "started",
      "paused",
      "resumed",
    ]);
    expect(outcome.waitedS / 3600).toBeGreaterThan(1.9);
    expect(outcome.waitedS / 3600).toBeLessThan(2.5);
    expect(outcome.pauses).toHaveLength(1);
    expect(outcome.pausedS / 3600).toBeGreaterThan(1.7);
    // While stopped the command did not tick: no tick inside the pause (real time).
    const pause = outcome.pauses[0] as { startMs: number; endMs: number };
    const now = Date.now();
    const realOf = (planMs: number) => now + (planMs - options.clock.toPlanTime(now)) / 3600;
    const ticks = readFileSync(join(dir.path, "ticks.txt"), "utf8").trim().split("\n").map(Number);
    expect(ticks).toHaveLength(25);
    const inside = ticks.filter(
      (t) => t > realOf(pause.startMs) + 150 && t < realOf(pause.endMs) - 150,
    );
    expect(inside).toEqual([]);
    expect(ticks[ticks.length - 1] as number).toBeGreaterThan(realOf(pause.endMs) - 150);
    expect(outcome.run?.status).toBe("completed");
    expect(outcome.co2eG).not.toBeNull();
    expect(outcome.runNowCo2eG).not.toBeNull();
    // Running at 100 g/kWh against 500 if run at once (the paused command's resident memory
    // still draws power during the pause, at 500 g/kWh, so the saving is less than 80%).
    expect(outcome.co2eG as number).toBeLessThan(outcome.runNowCo2eG as number);
    expect(outcome.savingsPercent as number).toBeGreaterThan(0);
  }, 20_000);

  it("cancels during the wait without starting the command", async () => {
    const events: GreenRunEvent[] = [];
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const outcome = await runWhenGreen(ticker("never.txt", 5), {
      ...base(events),
      signal: controller.signal,
    });
    expect(outcome.status).toBe("cancelled");
    expect(outcome.stoppedBy).toBe("abort");
    expect(outcome.run).toBeNull();
    expect(outcome.exitCode).toBeNull();
    expect(outcome.waitedS / 3600).toBeGreaterThan(0.3);
    expect(outcome.waitedS / 3600).toBeLessThan(1.9);
    expect(existsSync(join(dir.path, "never.txt"))).toBe(false);
    expect(events.map((event) => event.type)).toEqual(["planned", "waiting", "stopping"]);
  }, 20_000);

  it("stopped during a pause, resumes the command so that it ends, and keeps the run", async () => {
    const events: GreenRunEvent[] = [];
    const controller = new AbortController();
    const options = base(events);
    options.onEvent = (event) => {
      events.push(event);
      if (event.type === "paused") setTimeout(() => controller.abort(), 300);
    };
    const outcome = await runWhenGreen(ticker("stopped.txt", 1000), {
      ...options,
      signal: controller.signal,
    });
    expect(outcome.status).toBe("interrupted");
    expect(outcome.stoppedBy).toBe("abort");
    expect(outcome.run?.status).toBe("interrupted");
    const lines = readFileSync(join(dir.path, "stopped.txt"), "utf8").trim().split("\n");
    expect(lines[lines.length - 1]).toBe("SIGTERM");
    expect(outcome.pauses).toHaveLength(1);
    // The pause ended at the stop, well before the planned resume at 05:00.
    expect(outcome.pauses[0]?.endMs ?? Infinity).toBeLessThan(T0 + 4.5 * HOUR_MS);
    expect(events.some((event) => event.type === "resumed")).toBe(true);
  }, 20_000);

  it("refuses an interruptible run without a duration", async () => {
    await expect(
      runWhenGreen(ticker("x.txt", 1), { ...base([]), durationS: undefined }),
    ).rejects.toThrow(/needs the command's duration/);
  });
});
