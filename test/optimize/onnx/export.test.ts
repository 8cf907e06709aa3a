import { afterAll, describe, expect, it } from "vitest";
import {
  exportModelToOnnx,
  onnxSizeBytes,
  quantizeOnnxDynamicInt8,
  type ModelSpec,
} from "../../../src/optimize/onnx/export.js";
import { createOnnxRunner, type OnnxRunner } from "../../../src/optimize/onnx/session.js";
import { WattprintError } from "../../../src/errors.js";
import { cnnModel, convLayer, denseLayer, mlpModel, sampleSize } from "./model-fixtures.js";
import { decodeOnnxModel } from "./protobuf-decoder.js";
import { randomValues, referenceForwardBatch, seededRandom } from "./reference.js";

const runners: OnnxRunner[] = [];
afterAll(async () => {
  for (const runner of runners) await runner.close();
});

async function runOnnx(
  bytes: Uint8Array,
  input: Float32Array,
  batch: number,
): Promise<Float32Array> {
  const runner = await createOnnxRunner(bytes, { intraOpThreads: 1 });
  runners.push(runner);
  return runner.run(input, batch);
}

/** Exports `spec` as float32, runs `batch` seeded inputs in onnxruntime and compares every element with the reference. */
async function expectMatchesReference(spec: ModelSpec, seed: number, batch = 5): Promise<void> {
  const input = randomValues(seededRandom(seed), batch * sampleSize(spec));
  const output = await runOnnx(exportModelToOnnx(spec), input, batch);
  const expected = referenceForwardBatch(spec, input, batch).flatMap((sample) =>
    Array.from(sample),
  );
  expect(output).toHaveLength(expected.length);
  expected.forEach((value, index) => expect(output[index]).toBeCloseTo(value, 4));
}

describe("exportModelToOnnx (float32) in onnxruntime", () => {
  it("computes an MLP as the reference does", async () => {
    await expectMatchesReference(mlpModel(seededRandom(1), [20, 16, 8, 5]), 101);
  });

  it("computes a CNN (NHWC input, same and strided valid conv, pooling, flatten, dense) as the reference does", async () => {
    await expectMatchesReference(cnnModel(seededRandom(2)), 102);
  });

  it("pads `same` convolutions as TF.js does when the padding is odd (extra row and column at the end)", async () => {
    const random = seededRandom(3);
    const spec: ModelSpec = {
      inputShape: [8, 7, 3],
      layers: [
        convLayer(random, {
          inChannels: 3,
          outChannels: 4,
          kernelSize: [3, 2],
          strides: [2, 2],
          padding: "same",
          activation: "linear",
        }),
      ],
    };
    await expectMatchesReference(spec, 103);
  });

  it("keeps TF.js's flatten order when flatten is the last layer and applies softmax over channels of a conv output", async () => {
    const random = seededRandom(4);
    const flattenLast: ModelSpec = {
      inputShape: [5, 4, 2],
      layers: [
        convLayer(random, {
          inChannels: 2,
          outChannels: 3,
          kernelSize: [2, 2],
          padding: "valid",
          activation: "relu",
        }),
        { kind: "flatten" },
      ],
    };
    await expectMatchesReference(flattenLast, 104);
    const softmaxImage: ModelSpec = {
      inputShape: [4, 4, 2],
      layers: [
        convLayer(random, {
          inChannels: 2,
          outChannels: 5,
          kernelSize: [3, 3],
          padding: "same",
          activation: "softmax",
        }),
      ],
    };
    await expectMatchesReference(softmaxImage, 105);
  });

  it("flattens an image input without any conv (the MNIST MLP shape) and passes a flat input through a no-op flatten", async () => {
    const random = seededRandom(5);
    const imageMlp: ModelSpec = {
      inputShape: [6, 5, 1],
      layers: [{ kind: "flatten" }, denseLayer(random, 30, 4, "softmax")],
    };
    await expectMatchesReference(imageMlp, 106);
    const flatOnly: ModelSpec = { inputShape: [3], layers: [{ kind: "flatten" }] };
    await expectMatchesReference(flatOnly, 107);
  });

  it("gives the same per-sample outputs for a batch of 1 and a batch of 9", async () => {
    const spec = cnnModel(seededRandom(6));
    const bytes = exportModelToOnnx(spec);
    const input = randomValues(seededRandom(106), 9 * sampleSize(spec));
    const batched = await runOnnx(bytes, input, 9);
    const size = sampleSize(spec);
    const last = await runOnnx(bytes, input.subarray(8 * size), 1);
    Array.from(last).forEach((value, index) =>
      expect(batched[8 * last.length + index]).toBeCloseTo(value, 5),
    );
  });
});

describe("exported graph structure", () => {
  it("declares a symbolic batch axis, TF.js-layout shapes, opset 13 and NCHW conv kernels", () => {
    const spec = cnnModel(seededRandom(7));
    const bytes = exportModelToOnnx(spec);
    const model = decodeOnnxModel(bytes);
    expect(model.irVersion).toBe(7);
    expect(model.producerName).toBe("wattprint");
    expect(model.opsets).toEqual([{ domain: "", version: 13 }]);
    expect(model.inputs).toEqual([{ name: "input", elemType: 1, shape: ["batch", 12, 10, 2] }]);
    expect(model.outputs).toEqual([{ name: "output", elemType: 1, shape: ["batch", 7] }]);
    const convKernels = model.initializers
      .filter((tensor) => tensor.dims.length === 4)
      .map((tensor) => tensor.dims);
    expect(convKernels).toEqual([
      [6, 2, 3, 3],
      [5, 6, 2, 3],
    ]);
    expect(model.nodes.map((node) => node.opType)).toEqual([
      "Transpose",
      "Conv",
      "Relu",
      "MaxPool",
      "Conv",
      "Relu",
      "Flatten",
      "Gemm",
      "Relu",
      "Gemm",
      "Softmax",
    ]);
    expect(onnxSizeBytes(bytes)).toBe(bytes.byteLength);
  });
});

describe("malformed specs", () => {
  const random = seededRandom(8);
  const cases: { title: string; spec: ModelSpec; message: RegExp }[] = [
    {
      title: "dense inputSize that does not match the previous layer",
      spec: {
        inputShape: [10],
        layers: [denseLayer(random, 10, 6, "relu"), denseLayer(random, 5, 2, "linear")],
      },
      message: /layer 2 \(dense\): inputSize is 5 but the previous layer gives 6/,
    },
    {
      title: "dense weights of the wrong length",
      spec: {
        inputShape: [4],
        layers: [{ ...denseLayer(random, 4, 3, "relu"), weights: new Float32Array(11) }],
      },
      message: /layer 1 \(dense\): weights has 11 values but shape \[4, 3\] needs 12/,
    },
    {
      title: "dense bias of the wrong length",
      spec: {
        inputShape: [4],
        layers: [{ ...denseLayer(random, 4, 3, "relu"), bias: new Float32Array(4) }],
      },
      message: /layer 1 \(dense\): bias has 4 values/,
    },
    {
      title: "dense on an image without a flatten",
      spec: { inputShape: [4, 4, 1], layers: [denseLayer(random, 16, 3, "relu")] },
      message: /layer 1 \(dense\): needs a flat input but receives shape \[4, 4, 1\]/,
    },
    {
      title: "conv whose inChannels do not match the input",
      spec: {
        inputShape: [6, 6, 3],
        layers: [
          convLayer(random, {
            inChannels: 1,
            outChannels: 2,
            kernelSize: [3, 3],
            padding: "same",
            activation: "relu",
          }),
        ],
      },
      message: /layer 1 \(conv2d\): inChannels is 1 but the input has 3 channels/,
    },
    {
      title: "conv over a flat input",
      spec: {
        inputShape: [6, 6, 1],
        layers: [
          { kind: "flatten" },
          convLayer(random, {
            inChannels: 1,
            outChannels: 2,
            kernelSize: [3, 3],
            padding: "same",
            activation: "relu",
          }),
        ],
      },
      message: /layer 2 \(conv2d\): needs an image input/,
    },
    {
      title: "a valid conv kernel larger than its input",
      spec: {
        inputShape: [2, 6, 1],
        layers: [
          convLayer(random, {
            inChannels: 1,
            outChannels: 2,
            kernelSize: [3, 3],
            padding: "valid",
            activation: "relu",
          }),
        ],
      },
      message: /layer 1 \(conv2d\): kernel 3x3 does not fit the 2x6 input/,
    },
    {
      title: "a pool larger than its input",
      spec: {
        inputShape: [3, 3, 1],
        layers: [{ kind: "maxpool2d", poolSize: [4, 4], strides: [1, 1] }],
      },
      message: /layer 1 \(maxpool2d\): pool 4x4 does not fit/,
    },
    {
      title: "a weight that is not finite",
      spec: {
        inputShape: [2],
        layers: [
          { ...denseLayer(random, 2, 2, "relu"), weights: Float32Array.of(1, Number.NaN, 0, 0) },
        ],
      },
      message: /layer 1 \(dense\): weights\[1\] is not a finite number/,
    },
    {
      title: "an unknown activation",
      spec: {
        inputShape: [2],
        layers: [{ ...denseLayer(random, 2, 2, "relu"), activation: "tanh" as "relu" }],
      },
      message: /layer 1 \(dense\): activation must be relu, linear or softmax/,
    },
    {
      title: "no layers",
      spec: { inputShape: [2], layers: [] },
      message: /model: it has no layers/,
    },
    {
      title: "a bad input shape",
      spec: { inputShape: [28, 0, 1], layers: [{ kind: "flatten" }] },
      message: /inputShape \[28, 0, 1\]/,
    },
  ];

  for (const { title, spec, message } of cases) {
    it(`rejects ${title} with BAD_INPUT, in both exporters`, () => {
      for (const exporter of [exportModelToOnnx, quantizeOnnxDynamicInt8]) {
        let caught: unknown;
        try {
          exporter(spec);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(WattprintError);
        expect((caught as WattprintError).code).toBe("BAD_INPUT");
        expect((caught as WattprintError).message).toMatch(message);
      }
    });
  }
});
