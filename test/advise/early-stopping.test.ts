import { describe, expect, it } from "vitest";
import { adviseRun } from "../../src/advise/advise.js";
import type { AdviseOptions } from "../../src/advise/types.js";
import { recordRun, type PhaseSpec } from "./fixtures.js";

const START = "2022-06-16T12:00:00.000Z";

/** Epochs of 300 s, GPU busy at 500 W, CPU at 100 + 10 × i W (so each epoch costs differently). */
function epochs(metric: string, values: number[]): PhaseSpec[] {
  return values.map((value, index) => ({
    name: `epoch ${index + 1}`,
    durationS: 300,
    gpuW: 500,
    cpuW: 100 + 10 * index,
    metrics: { [metric]: value, loss: 1 / (index + 1) },
  }));
}

async function earlyStopping(phases: PhaseSpec[], options: AdviseOptions = {}) {
  const { run, samples } = recordRun({
    startedAt: START,
    phases,
    command: ["python", "train.py", "--epochs", String(phases.length)],
  });
  const report = await adviseRun({ run, samples }, options);
  const rule = report.rules.find((item) => item.rule === "early-stopping");
  if (rule === undefined) throw new Error("early-stopping missing");
  return { rule, run };
}

const energyOf = (phases: PhaseSpec[], from: number) =>
  phases
    .slice(from)
    .reduce((sum, phase) => sum + ((phase.gpuW ?? 0) + phase.cpuW) * phase.durationS, 0);

describe("early-stopping: a plateaued validation loss", () => {
  // Best 0.65 at epoch 4; 0.65 again at epoch 7 is no improvement.
  const phases = epochs("val_loss", [1.0, 0.8, 0.7, 0.65, 0.66, 0.67, 0.65, 0.68, 0.69, 0.7]);

  it("counts the epochs after patience ran out and their energy", async () => {
    const { rule, run } = await earlyStopping(phases);
    expect(rule.status).toBe("findings");
    const finding = rule.findings[0];
    expect(finding?.title).toBe(
      "Stop training after epoch 7: 3 of 10 epochs came after val_loss stopped improving",
    );
    // Patience 3 stops after epoch 7 (index 6): epochs 8-10 are saved.
    expect(finding?.saving.energyJ).toBeCloseTo(energyOf(phases, 7), 6);
    const co2 = run.phases.slice(7).reduce((sum, phase) => sum + (phase.co2eG ?? 0), 0);
    expect(finding?.saving.co2eG).toBeCloseTo(co2, 9);
    // Patience 6 would never have stopped; stopping right after the best epoch saves epochs 5-10.
    expect(finding?.saving.low.energyJ).toBe(0);
    expect(finding?.saving.high.energyJ).toBeCloseTo(energyOf(phases, 4), 6);
    expect(finding?.command).toBe("wattprint track -- python train.py --epochs 7");
    expect(finding?.confidence).toBe("high");
    expect(finding?.notes.join(" ")).toMatch(/restore_best_weights/);
  });

  it("follows --patience", async () => {
    const { rule } = await earlyStopping(phases, { patience: 2 });
    // Patience 2: epochs 5 and 6 bring nothing, stop after epoch 6 (index 5).
    expect(rule.findings[0]?.saving.energyJ).toBeCloseTo(energyOf(phases, 6), 6);
  });
});

describe("early-stopping: other metrics", () => {
  it("reads accuracies upwards", async () => {
    const phases = epochs("val_accuracy", [0.5, 0.7, 0.8, 0.85, 0.85, 0.84, 0.85, 0.83]);
    const { rule } = await earlyStopping(phases, { patience: 2 });
    // Best 0.85 at epoch 4; epochs 5 and 6 do not beat it: stop after epoch 6.
    expect(rule.findings[0]?.saving.energyJ).toBeCloseTo(energyOf(phases, 6), 6);
    expect(rule.findings[0]?.evidence.find((item) => item.label === "metric")?.value).toBe(
      "val_accuracy",
    );
  });

  it("counts only improvements larger than --min-delta", async () => {
    const phases = epochs("val_loss", [1.0, 0.9, 0.899, 0.898, 0.897, 0.896]);
    const strict = await earlyStopping(phases);
    expect(strict.rule.status).toBe("ok");
    const { rule } = await earlyStopping(phases, { minDelta: 0.01 });
    expect(rule.findings[0]?.saving.energyJ).toBeCloseTo(energyOf(phases, 5), 6);
  });

  it("warns with low confidence when the metric improved again later", async () => {
    const phases = epochs("val_loss", [1.0, 0.9, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7]);
    const { rule } = await earlyStopping(phases);
    const finding = rule.findings[0];
    expect(finding?.confidence).toBe("low");
    expect(finding?.notes.join(" ")).toMatch(/improved again later \(best 0\.5 at epoch 6/);
  });

  it("finds nothing while the metric keeps improving", async () => {
    const { rule } = await earlyStopping(epochs("val_loss", [1, 0.9, 0.8, 0.7, 0.6, 0.5]));
    expect(rule.status).toBe("ok");
  });
});

describe("early-stopping: missing data", () => {
  it("says that no phase reports metrics", async () => {
    const { rule } = await earlyStopping([{ name: "train", durationS: 600, gpuW: 500, cpuW: 100 }]);
    expect(rule.status).toBe("not-enough-data");
    expect(rule.missing[0]).toMatch(/no phase of the run reports metrics/);
    expect(rule.hint).toMatch(/endPhase/);
  });

  it("does not stop on a training metric", async () => {
    const phases = epochs("val_loss", [1, 0.9, 0.8]).map(({ metrics, ...phase }) => ({
      ...phase,
      metrics: { loss: metrics?.loss ?? 0 },
    }));
    const { rule } = await earlyStopping(phases);
    expect(rule.status).toBe("not-enough-data");
    expect(rule.missing[0]).toMatch(/none named val_\*/);
  });

  it("needs three epochs", async () => {
    const { rule } = await earlyStopping(epochs("val_loss", [1, 1.1]));
    expect(rule.status).toBe("not-enough-data");
    expect(rule.missing[0]).toMatch(/at least 3 phases reporting val_loss \(found 2\)/);
  });
});
