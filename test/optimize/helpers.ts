import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { Tracker } from "../../src/api/track.js";
import type { DataSplit } from "../../src/optimize/datasets.js";

/** A temp dir and its removal. */
export function tempDir(prefix = "wattprint-optimize-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A tracker of this process that saves nothing and reads no user settings beyond the defaults. */
export function testTracker(home: string): Tracker {
  return new Tracker({
    store: false,
    intervalS: 60,
    env: {
      HOME: home,
      WATTPRINT_HOME: join(home, ".wattprint"),
      WATTPRINT_NVML: "off",
      PATH: "/usr/bin:/bin",
    },
  });
}

/** The model's outputs for `x` as a flat array. */
export function predictValues(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

/** The first `count` samples of a split. */
export function headOf(split: DataSplit, count: number): DataSplit {
  const features = split.x.length / split.count;
  const n = Math.min(count, split.count);
  return { x: split.x.slice(0, n * features), y: split.y.slice(0, n), count: n };
}

/** Busy CPU work for about `ms` milliseconds. */
export function burnCpu(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 1000; i++) x += Math.sqrt(i + x);
  return x;
}
