import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type WasmKernelFunc = (args: {
  inputs: Record<string, tf.TensorInfo>;
  backend: BackendWasm;
  attrs: Record<string, unknown>;
}) => tf.TensorInfo;

/**
 * Registers the kernels the TF.js wasm backend (4.22) lacks for training CNNs:
 * `Conv2DBackpropFilter`, the gradient of a 2-D convolution with respect to its filter.
 * Without it `tf.grads` through `conv2d` throws on wasm. Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  if (hasKernel(tf.Conv2DBackpropFilter, "wasm")) return;
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: "wasm",
    kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
  });
}

function hasKernel(kernelName: string, backendName: string): boolean {
  return tf.getKernelsForBackend(backendName).some((kernel) => kernel.kernelName === kernelName);
}

/**
 * dW[kh, kw, ci, co] = Σ over batch and output positions of x[...] · dy[..., co].
 * Written as one matrix product: patchesᵀ [kh·kw·ci, positions] × dy [positions, co], the
 * patches gathered here (im2col) and the product left to the backend's own BatchMatMul,
 * which is fast only without transposed operands, hence patchesᵀ built directly.
 */
const conv2dBackpropFilterWasm: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== "NHWC") {
    throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { dilationHeight, dilationWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const positions = batchSize * outHeight * outWidth;
  const patchSize = filterHeight * filterWidth * inChannels;

  const patchesT = backend.makeOutput([patchSize, positions], "float32");
  // Views over the wasm heap: taken after the last allocation, used before the next.
  const xValues = backend.typedArrayFromHeap(x) as Float32Array;
  const patchValues = backend.typedArrayFromHeap(patchesT) as Float32Array;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const position = (b * outHeight + oh) * outWidth + ow;
        for (let fh = 0; fh < filterHeight; fh++) {
          const ih = oh * strideHeight + fh * dilationHeight - padTop;
          for (let fw = 0; fw < filterWidth; fw++) {
            const iw = ow * strideWidth + fw * dilationWidth - padLeft;
            const rowBase = (fh * filterWidth + fw) * inChannels;
            const inside = ih >= 0 && ih < inHeight && iw >= 0 && iw < inWidth;
            const xBase = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              patchValues[(rowBase + ci) * positions + position] = inside
                ? (xValues[xBase + ci] as number)
                : 0;
            }
          }
        }
      }
    }
  }
  const matMul = tf.getKernel(tf.BatchMatMul, "wasm").kernelFunc as unknown as WasmKernelFunc;
  const dyMatrix: tf.TensorInfo = {
    dataId: dy.dataId,
    shape: [positions, outChannels],
    dtype: "float32",
  };
  const product = matMul({
    inputs: { a: patchesT, b: dyMatrix },
    backend,
    attrs: { transposeA: false, transposeB: false },
  });
  backend.disposeData(patchesT.dataId);
  return { dataId: product.dataId, shape: [...filterShape], dtype: "float32" };
};
