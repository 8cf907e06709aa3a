import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WattprintError } from "../../src/errors.js";
import { loadModel } from "../../src/optimize/model-io.js";
import { meetsConstraint, paretoFront } from "../../src/optimize/pareto.js";
import {
  runOptimize,
  type OptimizeOptions,
  type OptimizeResult,
} from "../../src/optimize/run-optimize.js";
import { tempDir, testTracker } from "./helpers.js";

/** Settings that keep a whole optimize run to seconds on the digits. */
const QUICK: Partial<OptimizeOptions> & { data: string } = {
  data: "digits",
  trainLimit: 500,
  epochs: 3,
  fineTuneEpochs: 1,
  energyMinDurationS: 0.15,
  latencyDurationS: 0.03,
  warmupS: 0.02,
};

describe("wattprint optimize (library)", () => {
  const dir = tempDir();
  const home = tempDir();
  let result: OptimizeResult;
  const tracker = testTracker(home.path);

  beforeAll(async () => {
    await tracker.start();
    result = await runOptimize({
      ...QUICK,
      data: "digits",
      trainBaseline: "mlp",
      prune: [0.5],
      quantize: ["int8", "onnx"],
      distill: [0.5],
      outDir: join(dir.path, "out"),
      tracker,
    });
  }, 120_000);
  afterAll(async () => {
    await tracker.stop();
    dir.cleanup();
    home.cleanup();
  });

  it("measures every variant asked for, each with accuracy, size, latency, energy and its cost", () => {
    expect(result.status).toBe("complete");
    expect(result.skipped).toEqual([]);
    expect(result.variants.map((v) => v.name)).toEqual([
      "baseline",
      "prune-50%",
      "prune-units-50%",
      "prune-units-50%+int8",
      "prune-units-50%+onnx-int8",
      "int8",
      "onnx-fp32",
      "onnx-int8",
      "distill-x0.5",
      "distill-x0.5+int8",
      "distill-x0.5+onnx-int8",
    ]);
    for (const v of result.variants) {
      expect(v.accuracy, v.name).toBeGreaterThan(0.1);
      expect(v.accuracy, v.name).toBeLessThanOrEqual(1);
      expect(v.sizeBytes, v.name).toBeGreaterThan(0);
      expect(v.latencyMsP50.batch1, v.name).toBeGreaterThan(0);
      expect(v.latencyMsP50.batch64, v.name).toBeGreaterThan(0);
      expect(v.energyJPer1kInferences, v.name).toBeGreaterThan(0);
      expect(v.accuracyDropPoints, v.name).toBeCloseTo(
        (result.baseline.accuracy! - v.accuracy) * 100,
        9,
      );
    }
    const byName = new Map(result.variants.map((v) => [v.name, v]));
    const baseline = byName.get("baseline")!;
    expect(baseline.trainingEnergyJ).toBeGreaterThan(0);
    expect(baseline.trainingEpochs).toBeGreaterThanOrEqual(1);
    expect(result.dataset).toMatchObject({
      name: "digits",
      classes: 10,
      trainSamples: 500,
      testSamples: 359,
    });
    // Magnitude pruning keeps the shape, zeroes half the kernel weights and compresses better.
    const magnitude = byName.get("prune-50%")!;
    expect(magnitude.params).toBe(baseline.params);
    expect(magnitude.nonZeroParams).toBeLessThan(0.55 * baseline.params);
    expect(magnitude.sizeBytesGzip).toBeLessThan(baseline.sizeBytesGzip);
    expect(magnitude.trainingEnergyJ).toBeGreaterThan(0);
    // Structured pruning really removes parameters; int8 weights are about a quarter of the bytes.
    expect(byName.get("prune-units-50%")!.params).toBeLessThan(0.6 * baseline.params);
    expect(byName.get("int8")!.sizeBytes).toBeLessThan(0.35 * baseline.sizeBytes);
    expect(byName.get("distill-x0.5")!.params).toBeLessThan(0.6 * baseline.params);
    expect(byName.get("onnx-int8")!.runtime).toBe("onnxruntime-cpu");
    expect(byName.get("prune-units-50%+int8")!.parent).toBe("prune-units-50%");
  });

  it("marks the Pareto front and recommends the lowest-energy variant within a point of the baseline", () => {
    const front = new Set(
      paretoFront(
        result.variants.map((v) => ({ accuracy: v.accuracy, energyJ: v.energyJPer1kInferences })),
      ),
    );
    result.variants.forEach((v, i) => expect(v.pareto, v.name).toBe(front.has(i)));
    expect(result.recommended).not.toBeNull();
    const chosen = result.variants.find((v) => v.name === result.recommended?.name)!;
    expect(chosen.pareto).toBe(true);
    expect(chosen.meetsConstraint).toBe(true);
    const constraint = { baselineAccuracy: result.baseline.accuracy!, maxAccuracyDropPoints: 1 };
    for (const v of result.variants) {
      expect(v.meetsConstraint, v.name).toBe(
        meetsConstraint({ ...v, energyJ: v.energyJPer1kInferences }, constraint),
      );
      if (v.meetsConstraint)
        expect(chosen.energyJPer1kInferences!).toBeLessThanOrEqual(v.energyJPer1kInferences!);
    }
    expect(result.recommended?.reason).toMatch(/lowest energy per inference/);
  });

  it("writes results.json, the chart and the models", async () => {
    const out = join(dir.path, "out");
    const written = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as OptimizeResult;
    expect(written.status).toBe("complete");
    expect(written.variants.map((v) => [v.name, v.energyJPer1kInferences])).toEqual(
      result.variants.map((v) => [v.name, v.energyJPer1kInferences]),
    );
    expect(written.recommended).toEqual(result.recommended);
    const html = readFileSync(join(out, "pareto.html"), "utf8");
    expect(html).toContain('data-chart="pareto"');
    expect(html).toContain('data-series="pareto-front"');
    for (const v of result.variants) expect(html).toContain(v.name.replace(/%/g, "%"));
    expect(readFileSync(join(out, "pareto.svg"), "utf8")).toMatch(/^<svg/);
    const reloaded = await loadModel(join(out, "models", "prune-units-50pct"));
    expect(reloaded.countParams()).toBe(
      result.variants.find((v) => v.name === "prune-units-50%")!.params,
    );
    expect(existsSync(join(out, "models", "onnx-int8.onnx"))).toBe(true);
  });

  it("returns no recommendation when no variant meets the constraint, with every result kept", async () => {
    const impossible = await runOptimize({
      ...QUICK,
      model: join(dir.path, "out", "models", "baseline"),
      prune: [],
      quantize: ["int8"],
      minAccuracy: 1,
      outDir: join(dir.path, "impossible"),
      tracker,
    });
    expect(impossible.recommended).toBeNull();
    expect(impossible.variants.map((v) => v.name)).toEqual(["baseline", "int8"]);
    expect(impossible.variants.every((v) => !v.meetsConstraint)).toBe(true);
    expect(impossible.baseline.accuracy).toBeCloseTo(result.baseline.accuracy!, 10);
    expect(
      JSON.parse(readFileSync(join(dir.path, "impossible", "results.json"), "utf8")).recommended,
    ).toBeNull();
  });

  it("keeps what was measured when a later step fails", async () => {
    const out = join(dir.path, "partial");
    mkdirSync(join(out, "models"), { recursive: true });
    writeFileSync(
      join(out, "models", "float16"),
      "a file where the float16 model directory must go",
    );
    const error = await runOptimize({
      ...QUICK,
      model: join(dir.path, "out", "models", "baseline"),
      prune: [],
      quantize: ["int8", "float16"],
      outDir: out,
      tracker,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).code).toBe("OUTPUT_UNWRITABLE");
    const written = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as OptimizeResult;
    expect(written.status).toBe("failed");
    expect(written.error).toMatch(/float16/);
    expect(written.variants.map((v) => v.name)).toEqual(["baseline", "int8"]);
    expect(written.variants[1]?.energyJPer1kInferences).toBeGreaterThan(0);
  });

  it("rejects data that do not fit the model before measuring anything, and says so in results.json", async () => {
    const csv = join(dir.path, "four-features.csv");
    writeFileSync(csv, Array.from({ length: 30 }, (_, i) => `${i},1,2,3,${i % 2}`).join("\n"));
    const out = join(dir.path, "mismatch");
    const error = await runOptimize({
      ...QUICK,
      model: join(dir.path, "out", "models", "baseline"),
      data: csv,
      outDir: out,
      tracker,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).message).toMatch(
      /shape mismatch: the model takes inputs of shape \[8, 8, 1\] \(64 values\)/,
    );
    const written = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as OptimizeResult;
    expect(written.status).toBe("failed");
    expect(written.variants).toEqual([]);
  });
});
