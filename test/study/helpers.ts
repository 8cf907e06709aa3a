import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tracker } from "../../src/api/track.js";
import type { DataSplit } from "../../src/optimize/datasets.js";
import type {
  EpochLogs,
  TrainingCallback,
  TrainingControl,
} from "../../src/optimize/callbacks/training-callback.js";

/** A temp dir and its removal. */
export function tempDir(prefix = "wattprint-study-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A tracker of this process with no hardware counters (CPU and RAM from the power models),
 * saving nothing and reading no user settings.
 */
export function studyTracker(home: string): Tracker {
  return new Tracker({
    store: false,
    intervalS: 60,
    env: {
      HOME: home,
      WATTPRINT_HOME: join(home, ".wattprint"),
      WATTPRINT_POWERCAP_ROOT: join(home, "no-powercap"),
      WATTPRINT_HWMON_ROOT: join(home, "no-hwmon"),
      WATTPRINT_NVML: "off",
      PATH: "/usr/bin:/bin",
    },
  });
}

/** The first `count` samples of a split. */
export function headOf(split: DataSplit, count: number): DataSplit {
  const features = split.x.length / split.count;
  const n = Math.min(count, split.count);
  return { x: split.x.slice(0, n * features), y: split.y.slice(0, n), count: n };
}

/** A callback that records every epoch's logs and a copy of the weights at its end. */
export class Recorder implements TrainingCallback {
  readonly name = "recorder";
  readonly logs: EpochLogs[] = [];
  readonly weights: Float32Array[][] = [];

  onEpochEnd(logs: EpochLogs, control: TrainingControl): void {
    this.logs.push({ ...logs });
    const copies = control.getWeights();
    this.weights.push(copies.map((t) => t.dataSync() as Float32Array));
    for (const t of copies) t.dispose();
  }
}
