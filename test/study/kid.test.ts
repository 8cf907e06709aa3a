import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/optimize/datasets.js";
import { GaussianSource } from "../../src/study/ops.js";
import { kernelInceptionDistance } from "../../src/study/kid.js";

/** `count` samples of `dims` normal values with mean `shift`. */
function gaussianSet(count: number, dims: number, seed: number, shift = 0): Float32Array {
  const noise = new GaussianSource(seed);
  return Float32Array.from({ length: count * dims }, () => noise.next() + shift);
}

/** The unbiased MMD² written out from full kernel matrices, for comparison. */
function referenceKid(x: number[][], y: number[][]): number {
  const d = (x[0] as number[]).length;
  const k = (a: number[], b: number[]) =>
    (a.reduce((s, v, i) => s + v * (b[i] as number), 0) / d + 1) ** 3;
  const m = x.length;
  const n = y.length;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) if (i !== j) xx += k(x[i] as number[], x[j] as number[]);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) if (i !== j) yy += k(y[i] as number[], y[j] as number[]);
  for (const a of x) for (const b of y) xy += k(a, b);
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - (2 * xy) / (m * n);
}

/** The biased (V-statistic) MMD²: the same sums with the i = j terms kept. */
function biasedMmd2(x: number[][], y: number[][]): number {
  const d = (x[0] as number[]).length;
  const k = (a: number[], b: number[]) =>
    (a.reduce((s, v, i) => s + v * (b[i] as number), 0) / d + 1) ** 3;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (const a of x) for (const b of x) xx += k(a, b);
  for (const a of y) for (const b of y) yy += k(a, b);
  for (const a of x) for (const b of y) xy += k(a, b);
  return xx / x.length ** 2 + yy / y.length ** 2 - (2 * xy) / (x.length * y.length);
}

function rows(values: Float32Array, dims: number): number[][] {
  return Array.from({ length: values.length / dims }, (_, i) =>
    Array.from(values.subarray(i * dims, (i + 1) * dims)),
  );
}

describe("kernel inception distance", () => {
  it("matches the estimator written out from full kernel matrices, for sets of different sizes", () => {
    const random = seededRandom(3);
    const x = Float32Array.from({ length: 7 * 3 }, () => random() * 2 - 1);
    const y = Float32Array.from({ length: 5 * 3 }, () => random() * 3);
    const result = kernelInceptionDistance(x, y, 3);
    expect(result.kid).toBeCloseTo(referenceKid(rows(x, 3), rows(y, 3)), 10);
    expect(result.realCount).toBe(7);
    expect(result.generatedCount).toBe(5);
  });

  it("is symmetric in its two sets", () => {
    const x = gaussianSet(40, 4, 1);
    const y = gaussianSet(30, 4, 2, 0.5);
    expect(kernelInceptionDistance(x, y, 4).kid).toBeCloseTo(
      kernelInceptionDistance(y, x, 4).kid,
      10,
    );
  });

  it("averages to zero over draws from one distribution (unbiased), while the estimate with the diagonal does not", () => {
    const dims = 4;
    let sum = 0;
    let biasedSum = 0;
    const draws = 60;
    for (let draw = 0; draw < draws; draw++) {
      const x = gaussianSet(12, dims, 1000 + draw);
      const y = gaussianSet(12, dims, 5000 + draw);
      sum += kernelInceptionDistance(x, y, dims).kid;
      biasedSum += biasedMmd2(rows(x, dims), rows(y, dims));
    }
    expect(biasedSum / draws).toBeGreaterThan(0.5);
    expect(Math.abs(sum / draws)).toBeLessThan((0.1 * biasedSum) / draws);
  });

  it("grows with the distance between the distributions", () => {
    const real = gaussianSet(200, 8, 11);
    const near = kernelInceptionDistance(real, gaussianSet(200, 8, 12, 0.1), 8).kid;
    const far = kernelInceptionDistance(real, gaussianSet(200, 8, 13, 1), 8).kid;
    expect(far).toBeGreaterThan(near);
    expect(far).toBeGreaterThan(0);
  });

  it("gives a standard error from disjoint subsets that shrinks with more samples", () => {
    const small = kernelInceptionDistance(
      gaussianSet(100, 4, 21),
      gaussianSet(100, 4, 22, 0.3),
      4,
      { subsets: 5 },
    );
    const large = kernelInceptionDistance(
      gaussianSet(1000, 4, 23),
      gaussianSet(1000, 4, 24, 0.3),
      4,
      { subsets: 5 },
    );
    expect(small.subsets).toBe(5);
    expect(small.standardError).not.toBeNull();
    expect(large.standardError as number).toBeLessThan(small.standardError as number);
    // Too few samples for two subsets of 10: no standard error rather than a made-up one.
    expect(
      kernelInceptionDistance(gaussianSet(15, 4, 25), gaussianSet(15, 4, 26), 4).standardError,
    ).toBeNull();
  });

  it("refuses sets it cannot estimate from", () => {
    expect(() => kernelInceptionDistance(new Float32Array(4), new Float32Array(8), 4)).toThrow(
      RangeError,
    );
    expect(() => kernelInceptionDistance(new Float32Array(9), new Float32Array(8), 4)).toThrow(
      RangeError,
    );
  });
});
