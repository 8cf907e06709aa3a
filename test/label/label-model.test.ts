// Labels real ONNX models under the in-process tracker on this machine (CPU and RAM
// from the power models: the environment points the RAPL and hwmon roots at nothing).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { J_PER_WH } from "../../src/units/energy.js";
import { labelFilePaths, labelModel, type EnergyLabel } from "../../src/label/label-model.js";
import { loadLabelReference } from "../../src/label/reference-table.js";
import { noHardwareEnv, writeModel } from "./model-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "wattprint-label-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = noHardwareEnv(dir);
const SMALL_PROTOCOL = { queriesPerRepeat: 400, repeats: 3, warmupQueries: 20 };

describe("labelModel on mnist-classification", () => {
  let small: EnergyLabel;
  let big: EnergyLabel;
  let smallPath: string;

  beforeAll(async () => {
    smallPath = writeModel(dir, "small", "mnist-classification", { kind: "mlp", hidden: [16] });
    const bigPath = writeModel(dir, "big", "mnist-classification", {
      kind: "mlp",
      hidden: [2048, 2048],
    });
    small = await labelModel({
      modelPath: smallPath,
      task: "mnist-classification",
      env,
      ...SMALL_PROTOCOL,
    });
    big = await labelModel({
      modelPath: bigPath,
      task: "mnist-classification",
      env,
      ...SMALL_PROTOCOL,
    });
  }, 120_000);

  it("writes every field of the certificate", () => {
    const certificate = small.certificate;
    expect(certificate.kind).toBe("wattprint-energy-label");
    expect(certificate.energyWhPer1kQueries).toBeGreaterThan(0);
    expect([1, 2, 3, 4, 5]).toContain(certificate.rating);
    expect(certificate.protocol).toMatchObject({
      name: "wattprint-label/1",
      task: "mnist-classification",
      queriesPerRepeat: 400,
      repeats: 3,
      warmupQueries: 20,
      batchSize: 1,
      intraOpThreads: 1,
    });
    expect(certificate.repeats).toHaveLength(3);
    expect(certificate.model.inputShape?.slice(1)).toEqual([784]);
    expect(certificate.conditions.hardware.cpuCount).toBe(cpus().length);
    expect(certificate.conditions.energy.counted).toEqual(["cpu", "ram"]);
    const methods = certificate.conditions.energy.sources.map((s) => `${s.component}:${s.method}`);
    expect(methods.sort()).toEqual(["cpu:model", "ram:model"]);
    expect(certificate.conditions.energy.trackerWarnings.join(" ")).toMatch(
      /CPU energy is modelled/,
    );
    expect(certificate.conditions.software.node).toBe(process.version);
    expect(certificate.conditions.software.onnxruntime).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.parse(certificate.conditions.measuredAt)).toBeGreaterThan(Date.now() - 600_000);
    expect(certificate.scale.referenceModels).toBeGreaterThanOrEqual(5);
    expect(certificate.rerun).toBe(
      `wattprint label --model ${smallPath} --task mnist-classification --queries 400 --repeats 3 --warmup 20`,
    );
    // The reduced protocol is not the reference's, so the certificate says the rating is indicative.
    expect(certificate.scale.comparability.sameProtocol).toBe(false);
    expect(certificate.warnings.join(" ")).toMatch(/indicative only/);
  });

  it("hashes the model file as sha256sum does", () => {
    const result = spawnSync("sha256sum", [smallPath]);
    if (result.status !== 0) return;
    expect(small.certificate.model.sha256).toBe(result.stdout.toString().split(" ")[0]);
  });

  it("derives the figure from the repeats: median of energy × 1,000 / queries", () => {
    const certificate = small.certificate;
    const perRepeat = certificate.repeats.map((repeat) => {
      const countedJ = (repeat.energyJ.cpu ?? 0) + (repeat.energyJ.ram ?? 0);
      expect(repeat.energyWhPer1kQueries).toBeCloseTo((countedJ * 1000) / 400 / J_PER_WH, 15);
      return repeat.energyWhPer1kQueries;
    });
    const sorted = [...perRepeat].sort((a, b) => a - b);
    expect(certificate.energyWhPer1kQueries).toBeCloseTo(sorted[1] as number, 15);
    expect(certificate.energySpread.minWhPer1kQueries).toBeCloseTo(sorted[0] as number, 15);
    expect(certificate.energySpread.maxWhPer1kQueries).toBeCloseTo(sorted[2] as number, 15);
  });

  it("rates the figure on the shipped scale", () => {
    const { boundaries } = loadLabelReference("mnist-classification");
    const energy = small.certificate.energyWhPer1kQueries;
    const expected =
      energy <= boundaries[0]
        ? 5
        : energy <= boundaries[1]
          ? 4
          : energy <= boundaries[2]
            ? 3
            : energy <= boundaries[3]
              ? 2
              : 1;
    expect(small.certificate.rating).toBe(expected);
    expect(small.certificate.scale.boundariesWhPer1kQueries).toEqual(boundaries);
  });

  it("gives a much bigger model more energy and a worse or equal rating", () => {
    // 784-2048-2048-10 does ~370 times the multiply-adds of 784-16-10.
    expect(big.certificate.energyWhPer1kQueries).toBeGreaterThan(
      2 * small.certificate.energyWhPer1kQueries,
    );
    expect(big.certificate.rating).toBeLessThanOrEqual(small.certificate.rating);
  });

  it("draws the badge from the certificate", () => {
    expect(small.badgeSvg).toContain(`${small.certificate.rating}/5`);
    expect(small.badgeSvg).toContain(
      `data-energy-wh-per-1k-queries="${small.certificate.energyWhPer1kQueries}"`,
    );
  });
});

describe("labelModel refuses bad input before measuring", () => {
  it("an unknown task", async () => {
    await expect(labelModel({ modelPath: "x.onnx", task: "imagenet", env })).rejects.toMatchObject({
      code: "USAGE",
      message: expect.stringMatching(/unknown label task "imagenet"/),
    });
  });

  it("a model made for another task", async () => {
    const path = writeModel(dir, "digits", "digits-classification", {
      kind: "cnn",
      channels: 4,
      dense: 8,
    });
    const started = Date.now();
    await expect(
      labelModel({ modelPath: path, task: "mnist-classification", env, ...SMALL_PROTOCOL }),
    ).rejects.toMatchObject({
      code: "BAD_INPUT",
      message: expect.stringMatching(/takes 64 values per query/),
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a task without a reference table", async () => {
    const path = writeModel(dir, "m", "mnist-classification", { kind: "mlp", hidden: [4] });
    await expect(
      labelModel({
        modelPath: path,
        task: "mnist-classification",
        env,
        referenceDir: join(dir, "none"),
      }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("labelFilePaths", () => {
  it("names the files after the model and task", () => {
    expect(labelFilePaths("out", "models/net.onnx", "mnist-classification")).toEqual({
      badgePath: join("out", "net.mnist-classification.label.svg"),
      certificatePath: join("out", "net.mnist-classification.label.json"),
    });
    expect(labelFilePaths("out", "net.bin", "digits-classification").badgePath).toBe(
      join("out", "net.bin.digits-classification.label.svg"),
    );
  });
});
