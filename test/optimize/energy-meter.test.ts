import { afterAll, describe, expect, it } from "vitest";
import { EnergyMeter } from "../../src/optimize/energy-meter.js";
import { burnCpu, tempDir, testTracker } from "./helpers.js";

describe("energy meter", () => {
  const home = tempDir();
  afterAll(() => home.cleanup());

  it("gives each piece of work its own energy: busy work several times idle waiting, in proportion to CPU time", async () => {
    const tracker = testTracker(home.path);
    await tracker.start();
    try {
      const meter = new EnergyMeter(tracker);
      const busy = await meter.measure("busy", () => burnCpu(400));
      const idle = await meter.measure(
        "idle",
        () => new Promise((resolve) => setTimeout(resolve, 400)),
      );
      const short = await meter.measure("short", () => burnCpu(100));
      expect(busy.energy.durationS).toBeGreaterThan(0.39);
      expect(busy.energy.energyJ).toBeGreaterThan(0);
      expect(busy.energy.energyJ as number).toBeGreaterThan(5 * (idle.energy.energyJ as number));
      const ratio = (busy.energy.energyJ as number) / (short.energy.energyJ as number);
      expect(ratio).toBeGreaterThan(2);
      expect(ratio).toBeLessThan(8);
      expect(busy.energy.cpuEnergyJ as number).toBeLessThanOrEqual(busy.energy.energyJ as number);
      expect(busy.energy.co2eG).toBeGreaterThan(0);
      expect(meter.describeSource()).toMatch(/cpu: (model|counter|power-integration) \(/);
      // The phases are in the tracker's record, each closed.
      const phases = tracker.snapshot().phases.map((p) => p.name.replace(/#\d+$/, "#"));
      expect(phases).toEqual(["busy #", "idle #", "short #"]);
    } finally {
      await tracker.stop();
    }
  });

  it("keeps the phases of two meters on one tracker apart, even with the same names", async () => {
    const tracker = testTracker(home.path);
    await tracker.start();
    try {
      const first = await new EnergyMeter(tracker).measure("work", () => burnCpu(300));
      const second = await new EnergyMeter(tracker).measure("work", () => burnCpu(75));
      const ratio = (first.energy.energyJ as number) / (second.energy.energyJ as number);
      expect(ratio).toBeGreaterThan(2);
      expect(ratio).toBeLessThan(8);
      const names = tracker.snapshot().phases.map((p) => p.name);
      expect(new Set(names).size).toBe(2);
    } finally {
      await tracker.stop();
    }
  });
});
