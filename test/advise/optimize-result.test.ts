import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOptimizeResult, parseOptimizeResult } from "../../src/advise/optimize-result.js";

describe("optimize result", () => {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-optimize-result-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads variants, the baseline and the recommended one from a file", () => {
    const file = join(dir, "optimize.json");
    writeFileSync(
      file,
      JSON.stringify({
        variants: [
          {
            name: "fp32",
            accuracy: 0.98,
            sizeBytes: 400,
            latencyMsP50: { batch1: 1 },
            energyJPer1kInferences: 12,
            pareto: true,
            baseline: true,
          },
          {
            name: "int8",
            accuracy: 0.975,
            sizeBytes: 100,
            energyJPer1kInferences: 5,
            pareto: true,
          },
        ],
        recommended: { name: "int8" },
      }),
    );
    const result = loadOptimizeResult(file);
    expect(result.baseline).toBe("fp32");
    expect(result.recommended).toBe("int8");
    expect(result.variants[1]?.energyJPer1kInferences).toBe(5);
    expect(result.origin).toBe(`file ${file}`);
  });

  it("takes the variant named baseline, else the first, as the baseline", () => {
    const named = parseOptimizeResult(
      JSON.stringify({
        variants: [
          { name: "a", energyJPer1kInferences: 1 },
          { name: "baseline", energyJPer1kInferences: 2 },
        ],
        recommended: "a",
      }),
      "x",
    );
    expect(named.baseline).toBe("baseline");
    const first = parseOptimizeResult(
      JSON.stringify({ variants: [{ name: "a" }, { name: "b" }], recommended: null }),
      "x",
    );
    expect(first.baseline).toBe("a");
    expect(first.recommended).toBeNull();
  });

  it("names the field that does not fit", () => {
    expect(() => parseOptimizeResult("{", "file o.json")).toThrow(/not valid JSON/);
    expect(() => parseOptimizeResult(JSON.stringify({ variants: [] }), "file o.json")).toThrow(
      /variants must be a non-empty array/,
    );
    expect(() =>
      parseOptimizeResult(
        JSON.stringify({ variants: [{ name: "a", energyJPer1kInferences: "5" }] }),
        "file o.json",
      ),
    ).toThrow(/variants\[0\]\.energyJPer1kInferences must be a number/);
    expect(() =>
      parseOptimizeResult(
        JSON.stringify({ variants: [{ name: "a" }], recommended: "zzz" }),
        "file o.json",
      ),
    ).toThrow(/"zzz" is not among the variants/);
  });

  it("reports a missing file as not found", () => {
    expect(() => loadOptimizeResult(join(dir, "nope.json"))).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
  });
});
