import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { initTensorflow } from "../../src/optimize/runtime.js";

/** d(sum(conv2d(x, w) · r))/dw computed on one backend, as plain numbers. */
async function filterGradient(
  backend: "wasm" | "cpu",
  x: Float32Array,
  xShape: [number, number, number, number],
  w: Float32Array,
  wShape: [number, number, number, number],
  strides: [number, number],
  pad: "valid" | "same",
): Promise<Float32Array> {
  await initTensorflow({ backend });
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xShape);
    const wt = tf.tensor4d(w, wShape);
    const grad = tf.grad((filter: tf.Tensor) => {
      const y = tf.conv2d(xt, filter as tf.Tensor4D, strides, pad);
      // A fixed weighting so every output position contributes differently.
      const r = tf.sin(tf.mul(tf.reshape(tf.range(0, y.size), y.shape), 0.01));
      return tf.sum(tf.mul(y, r));
    });
    return grad(wt).dataSync() as Float32Array;
  });
}

describe("wasm training kernels", () => {
  it("compute Conv2DBackpropFilter as the cpu backend does (valid/same padding, strides 1 and 2)", async () => {
    const random = (n: number, seed: number) =>
      Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 1.7));
    const cases: {
      x: [number, number, number, number];
      w: [number, number, number, number];
      strides: [number, number];
      pad: "valid" | "same";
    }[] = [
      { x: [2, 7, 6, 3], w: [3, 3, 3, 4], strides: [1, 1], pad: "valid" },
      { x: [2, 7, 6, 3], w: [3, 3, 3, 4], strides: [1, 1], pad: "same" },
      { x: [3, 9, 8, 2], w: [3, 2, 2, 5], strides: [2, 2], pad: "same" },
      { x: [1, 5, 5, 1], w: [2, 2, 1, 1], strides: [2, 1], pad: "valid" },
    ];
    for (const [index, c] of cases.entries()) {
      const x = random(
        c.x.reduce((a, b) => a * b),
        index + 1,
      );
      const w = random(
        c.w.reduce((a, b) => a * b),
        index + 11,
      );
      const onWasm = await filterGradient("wasm", x, c.x, w, c.w, c.strides, c.pad);
      const onCpu = await filterGradient("cpu", x, c.x, w, c.w, c.strides, c.pad);
      expect(onWasm.length).toBe(onCpu.length);
      onWasm.forEach((value, i) => expect(value).toBeCloseTo(onCpu[i] as number, 4));
    }
    await initTensorflow({ backend: "wasm" });
    expect(tf.getBackend()).toBe("wasm");
  });
});
