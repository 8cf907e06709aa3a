/**
 * The Kernel Inception Distance (Bińkowski, Sutherland, Arbel & Gretton 2018, "Demystifying
 * MMD GANs", arXiv:1801.01401): the squared maximum mean discrepancy between two sets of
 * feature vectors under the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³, estimated
 * without bias:
 *
 *   KID = Σ_{i≠j} k(xᵢ, xⱼ) / (m(m−1)) + Σ_{i≠j} k(yᵢ, yⱼ) / (n(n−1)) − 2 Σ_{i,j} k(xᵢ, yⱼ) / (mn).
 *
 * Chosen over the Fréchet distance (FID) because the FID's estimator is biased, and the
 * bias depends on the sample size and is large for the few hundred samples a small study
 * has; the KID's is unbiased (it can come out slightly negative when the sets match).
 */

export interface KidResult {
  /** The unbiased estimate over all samples (feature units squared, cubed kernel). */
  kid: number;
  /**
   * Standard error of `kid`, from the spread of the estimates on `subsets` disjoint
   * subsets (their standard deviation / √subsets); null with fewer than 2 subsets.
   */
  standardError: number | null;
  subsets: number;
  /** Samples of each set used. */
  realCount: number;
  generatedCount: number;
}

/**
 * KID between `real` (count × dims, row after row) and `generated`, with a standard error
 * from `subsets` disjoint subsets (default 5, each at least 10 samples of each set).
 */
export function kernelInceptionDistance(
  real: Float32Array,
  generated: Float32Array,
  dims: number,
  options: { subsets?: number } = {},
): KidResult {
  const m = real.length / dims;
  const n = generated.length / dims;
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 2 || n < 2) {
    throw new RangeError(
      `KID needs at least 2 samples of ${dims} values in each set, got ${m} and ${n}`,
    );
  }
  const kid = unbiasedMmd2(real, 0, m, generated, 0, n, dims);
  const subsets = Math.min(options.subsets ?? 5, Math.floor(Math.min(m, n) / 10));
  let standardError: number | null = null;
  if (subsets >= 2) {
    const realSize = Math.floor(m / subsets);
    const generatedSize = Math.floor(n / subsets);
    const estimates: number[] = [];
    for (let s = 0; s < subsets; s++) {
      estimates.push(
        unbiasedMmd2(
          real,
          s * realSize,
          realSize,
          generated,
          s * generatedSize,
          generatedSize,
          dims,
        ),
      );
    }
    const mean = estimates.reduce((a, b) => a + b, 0) / subsets;
    const variance = estimates.reduce((a, b) => a + (b - mean) ** 2, 0) / (subsets - 1);
    // A subset estimate's variance shrinks about as 1/size, so the full estimate's SE is
    // the subsets' spread over √subsets.
    standardError = Math.sqrt(variance / subsets);
  }
  return { kid, standardError, subsets: Math.max(subsets, 1), realCount: m, generatedCount: n };
}

function kernel(a: Float32Array, i: number, b: Float32Array, j: number, dims: number): number {
  let dot = 0;
  const ai = i * dims;
  const bj = j * dims;
  for (let k = 0; k < dims; k++) dot += (a[ai + k] as number) * (b[bj + k] as number);
  const base = dot / dims + 1;
  return base * base * base;
}

/** Unbiased MMD² between rows [xStart, xStart+m) of x and [yStart, yStart+n) of y. */
function unbiasedMmd2(
  x: Float32Array,
  xStart: number,
  m: number,
  y: Float32Array,
  yStart: number,
  n: number,
  dims: number,
): number {
  let xx = 0;
  for (let i = 0; i < m; i++)
    for (let j = i + 1; j < m; j++) xx += kernel(x, xStart + i, x, xStart + j, dims);
  let yy = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) yy += kernel(y, yStart + i, y, yStart + j, dims);
  let xy = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) xy += kernel(x, xStart + i, y, yStart + j, dims);
  return (2 * xx) / (m * (m - 1)) + (2 * yy) / (n * (n - 1)) - (2 * xy) / (m * n);
}
