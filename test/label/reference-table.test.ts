import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/label/model-file.js";
import { labelProtocol } from "../../src/label/protocol.js";
import { exportReferenceModel, referenceModels } from "../../src/label/reference-family.js";
import {
  formatReferenceCsv,
  loadLabelReference,
  parseReferenceCsv,
  referencePaths,
  type ReferenceRow,
} from "../../src/label/reference-table.js";
import { ratingBoundaries } from "../../src/label/rating.js";
import { LABEL_TASK_NAMES, resolveLabelTask } from "../../src/label/tasks.js";

const dir = mkdtempSync(join(tmpdir(), "wattprint-label-reference-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(LABEL_TASK_NAMES)("shipped reference table for %s", (taskName) => {
  const task = resolveLabelTask(taskName);
  const reference = loadLabelReference(taskName);

  it("holds one measured row per reference model, whose file the family rebuilds byte for byte", () => {
    const models = referenceModels(task);
    expect(reference.rows.map((row) => row.modelId)).toEqual(models.map((model) => model.id));
    for (const [index, model] of models.entries()) {
      const row = reference.rows[index] as ReferenceRow;
      const bytes = exportReferenceModel(model);
      expect(row.sha256).toBe(sha256Hex(bytes));
      expect(row.fileBytes).toBe(bytes.byteLength);
      expect(row.parameters).toBe(model.parameters);
      expect(row.precision).toBe(model.precision);
      expect(row.energyWhPer1kQueries).toBeGreaterThan(0);
      expect(row.minWhPer1kQueries).toBeLessThanOrEqual(row.energyWhPer1kQueries);
      expect(row.maxWhPer1kQueries).toBeGreaterThanOrEqual(row.energyWhPer1kQueries);
    }
  });

  it("was measured with the default protocol and says on what", () => {
    const protocol = labelProtocol(task);
    const measured = reference.conditions.protocol;
    expect([
      measured.name,
      measured.warmupQueries,
      measured.queriesPerRepeat,
      measured.repeats,
    ]).toEqual([
      protocol.name,
      protocol.warmupQueries,
      protocol.queriesPerRepeat,
      protocol.repeats,
    ]);
    expect(reference.conditions.hardware.cpuCount).toBeGreaterThan(0);
    expect(reference.conditions.energySources.map((source) => source.component)).toContain("cpu");
    expect(reference.conditions.software.onnxruntime).toMatch(/^\d+\.\d+/);
  });

  it("gives ascending boundaries inside the reference range", () => {
    const energies = reference.rows.map((row) => row.energyWhPer1kQueries);
    const [b1, b2, b3, b4] = reference.boundaries;
    expect(b1).toBeGreaterThanOrEqual(Math.min(...energies));
    expect(b2).toBeGreaterThanOrEqual(b1);
    expect(b3).toBeGreaterThanOrEqual(b2);
    expect(b4).toBeGreaterThanOrEqual(b3);
    expect(b4).toBeLessThanOrEqual(Math.max(...energies));
  });
});

describe("reference CSV", () => {
  const rows: ReferenceRow[] = [1, 2, 3, 4, 5].map((index) => ({
    modelId: `m${index}`,
    architecture: `MLP 64-${index}-10 ReLU/softmax`,
    precision: index % 2 === 0 ? "int8" : "float32",
    weightsSeed: index,
    parameters: 100 * index,
    fileBytes: 1000 * index,
    sha256: "ab".repeat(32),
    energyWhPer1kQueries: 1.234567e-5 * index,
    minWhPer1kQueries: 1e-5 * index,
    maxWhPer1kQueries: 1.5e-5 * index,
  }));

  it("reads back what it writes, to six significant figures", () => {
    const parsed = parseReferenceCsv(formatReferenceCsv(rows), "test.csv");
    expect(parsed.map((row) => row.modelId)).toEqual(rows.map((row) => row.modelId));
    parsed.forEach((row, index) => {
      const original = rows[index] as ReferenceRow;
      expect(row.energyWhPer1kQueries / original.energyWhPer1kQueries).toBeCloseTo(1, 5);
      expect(row.parameters).toBe(original.parameters);
      expect(row.precision).toBe(original.precision);
    });
  });

  it("refuses a text cell that would break the CSV", () => {
    expect(() =>
      formatReferenceCsv([{ ...(rows[0] as ReferenceRow), architecture: "a, b" }]),
    ).toThrow(/comma/);
  });

  it("names the file and line of a malformed row", () => {
    const text = formatReferenceCsv(rows).replace(
      /\nm3,([^\n]*)/,
      (_, rest: string) => `\nm3,${rest.replace(/,[^,]+$/, ",lots")}`,
    );
    expect(() => parseReferenceCsv(text, "bad.csv")).toThrow(
      /bad\.csv line 4: max_wh_per_1k_queries "lots"/,
    );
    expect(() => parseReferenceCsv("model,energy\nx,1\n", "other.csv")).toThrow(/header/);
  });

  it("loads a table from another directory and reports missing or mismatched files", () => {
    const task = "digits-classification";
    const paths = referencePaths(task, dir);
    expect(() => loadLabelReference(task, dir)).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
    writeFileSync(paths.csvPath, formatReferenceCsv(rows));
    const shipped = loadLabelReference(task);
    writeFileSync(
      paths.conditionsPath,
      JSON.stringify({ ...shipped.conditions, task: "mnist-classification" }),
    );
    expect(() => loadLabelReference(task, dir)).toThrow(/is for task mnist-classification/);
    writeFileSync(paths.conditionsPath, JSON.stringify(shipped.conditions));
    const loaded = loadLabelReference(task, dir);
    const expected = ratingBoundaries(rows.map((row) => row.energyWhPer1kQueries));
    loaded.boundaries.forEach((value, index) =>
      expect(value / (expected[index] as number)).toBeCloseTo(1, 5),
    );
    writeFileSync(paths.conditionsPath, "{ not json");
    expect(() => loadLabelReference(task, dir)).toThrow(
      expect.objectContaining({ code: "BAD_INPUT" }),
    );
  });
});
