import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnergyBudget } from "../../../src/optimize/callbacks/energy-budget.js";
import { EnergyLogger } from "../../../src/optimize/callbacks/energy-logger.js";
import type { TrainingCallback } from "../../../src/optimize/callbacks/training-callback.js";
import { loadDigits } from "../../../src/optimize/datasets.js";
import { EnergyMeter } from "../../../src/optimize/energy-meter.js";
import { buildMlp } from "../../../src/optimize/models.js";
import { initTensorflow } from "../../../src/optimize/runtime.js";
import { trainModel } from "../../../src/optimize/train.js";
import { burnCpu, headOf, tempDir, testTracker } from "../helpers.js";
import { recordingControl } from "./fake-control.js";

/** Each epoch burns a known amount of CPU: the first (warm-up) `warmupMs`, the others `epochMs`. */
function knownCost(warmupMs: number, epochMs: number): TrainingCallback {
  return {
    name: "known-cost",
    onEpochBegin: (epoch) => void burnCpu(epoch === 0 ? warmupMs : epochMs),
  };
}

describe("energy budget", () => {
  const home = tempDir();
  beforeAll(async () => {
    await initTensorflow();
  });
  afterAll(() => home.cleanup());

  it("warns once when the forecast passes the budget, or stops the run (scripted energies)", () => {
    const energies = [50, 10, 10.5, 9.5, 10];
    for (const action of ["warn", "stop"] as const) {
      const budget = new EnergyBudget({ energyJ: 100, action });
      const control = recordingControl();
      budget.onTrainBegin({ epochs: 10 });
      energies.forEach((energyJ, epoch) =>
        budget.onEpochEnd({ epoch, loss: 1, durationS: 1, energyJ }, control),
      );
      // After epoch 3 (warm-up + 2): 70.5 spent + 7 × 10.25 = 142.25 J forecast > 100 J.
      expect(budget.forecasts[0]?.predictedTotal).toBeCloseTo(142.25);
      expect(budget.exceeded?.epoch).toBe(2);
      if (action === "warn") {
        expect(control.warnings).toHaveLength(1);
        expect(control.warnings[0]).toMatch(
          /forecast 142 J \(95%: .*\) for 10 epochs exceeds the budget of 100 J/,
        );
        expect(control.stops).toHaveLength(0);
      } else {
        expect(control.stops[0]).toMatch(/exceeds the budget/);
      }
    }
  });

  it("stays quiet under budget, and counts spending over the budget as exceeded", () => {
    const quiet = new EnergyBudget({ co2eG: 1 });
    const control = recordingControl();
    quiet.onTrainBegin({ epochs: 4 });
    [0.2, 0.1, 0.1, 0.1].forEach((co2eG, epoch) =>
      quiet.onEpochEnd({ epoch, loss: 1, durationS: 1, co2eG }, control),
    );
    expect(quiet.exceeded).toBeNull();
    expect(quiet.forecasts.at(-1)?.predictedTotal).toBeCloseTo(0.5);
    const spent = new EnergyBudget({ energyJ: 30, action: "stop" });
    spent.onTrainBegin({ epochs: 3 });
    spent.onEpochEnd({ epoch: 0, loss: 1, durationS: 1, energyJ: 31 }, control);
    expect(control.stops[0]).toMatch(/31 J spent after 1 epochs, over the budget of 30 J/);
  });

  it("forecasts a real run from the tracker, warm-up excluded, with an interval that covers the real total", async () => {
    const tracker = testTracker(home.path);
    await tracker.start();
    try {
      const meter = new EnergyMeter(tracker);
      const digits = loadDigits();
      const budget = new EnergyBudget({
        energyJ: 1e6,
        warmupEpochs: 1,
        minEpochs: 2,
        confidence: 0.99,
      });
      const logger = new EnergyLogger();
      const planned = 7;
      const result = await trainModel(
        buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [4], classes: 10 }),
        headOf(digits.train, 32),
        {
          epochs: planned,
          batchSize: 32,
          meter,
          callbacks: [knownCost(700, 150), logger, budget],
        },
      );
      const perEpoch = result.history.map((h) => h.energyJ as number);
      expect(perEpoch.every((e) => e > 0)).toBe(true);
      // The warm-up epoch burnt ~4.7× the CPU of the others, and the tracker saw it.
      expect(perEpoch[0]).toBeGreaterThan(2 * Math.max(...perEpoch.slice(1)));
      const realTotal = perEpoch.reduce((a, b) => a + b, 0);
      expect(result.energyJ).toBeCloseTo(realTotal, 9);
      expect(logger.entries.at(-1)?.totalEnergyJ).toBeCloseTo(realTotal, 9);

      const first = budget.forecasts[0];
      expect(first?.epochsSeen).toBe(3);
      expect(first?.low as number).toBeLessThanOrEqual(realTotal);
      expect(first?.high as number).toBeGreaterThanOrEqual(realTotal);
      for (const forecast of budget.forecasts.filter((f) => f.epochsSeen < planned)) {
        // Leaving the warm-up out beats a naive mean over every epoch seen.
        const seen = perEpoch.slice(0, forecast.epochsSeen);
        const naive = (seen.reduce((a, b) => a + b, 0) / seen.length) * planned;
        expect(Math.abs(forecast.predictedTotal - realTotal)).toBeLessThan(
          Math.abs(naive - realTotal),
        );
      }
    } finally {
      await tracker.stop();
    }
  });

  it("stops a real run when the forecast passes a small budget", async () => {
    const tracker = testTracker(home.path);
    await tracker.start();
    try {
      const meter = new EnergyMeter(tracker);
      const digits = loadDigits();
      const probe = new EnergyMeter(tracker);
      const { energy } = await probe.measure("probe", () => burnCpu(150));
      // Budget: about 5 epochs of 150 ms; 12 planned.
      const budget = new EnergyBudget({
        energyJ: (energy.energyJ as number) * 5,
        action: "stop",
        warmupEpochs: 1,
      });
      const result = await trainModel(
        buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [4], classes: 10 }),
        headOf(digits.train, 32),
        {
          epochs: 12,
          batchSize: 32,
          meter,
          callbacks: [knownCost(150, 150), budget],
        },
      );
      expect(result.epochsRun).toBeLessThan(12);
      expect(result.stopReason).toMatch(/energy-budget: forecast .* exceeds the budget/);
    } finally {
      await tracker.stop();
    }
  });
});
