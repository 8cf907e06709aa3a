/**
 * Connects TF.js models to the ONNX exporter and runner in `onnx/`: a sequential TF.js
 * model becomes the exporter's {@link ModelSpec}, and an onnxruntime session becomes a
 * {@link Predictor} measured like the TF.js variants.
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { WattprintError } from "../errors.js";
import { layerActivation } from "./forward.js";
import type { Predictor } from "./measure.js";
import { modelInputShape, modelOutputSize } from "./models.js";
import type { Activation, LayerSpec, ModelSpec } from "./onnx/export.js";

const ONNX_ACTIVATIONS = new Set<string>(["relu", "linear", "softmax"]);

/**
 * The exporter's description of a sequential TF.js model: Dense, Conv2D (NHWC, no
 * dilation), MaxPooling2D (valid padding) and Flatten layers, with their weights copied.
 * Dropout is left out (it does nothing at inference).
 *
 * @throws WattprintError BAD_INPUT naming the first layer the exporter cannot express.
 */
export function toLayerSpecs(model: tfl.LayersModel): ModelSpec {
  const layers: LayerSpec[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    const config = layer.getConfig();
    const unsupported = (why: string) =>
      new WattprintError(
        "BAD_INPUT",
        `layer ${layer.name} (${className}) cannot be exported to ONNX: ${why}`,
        {
          hint: "ONNX export supports Dense, Conv2D, MaxPooling2D, Flatten and Dropout layers with relu, linear or softmax activations",
        },
      );
    if (className === "Dropout") continue;
    if (className === "Flatten") {
      layers.push({ kind: "flatten" });
      continue;
    }
    if (className === "MaxPooling2D") {
      if (config.padding !== "valid") throw unsupported(`padding "${String(config.padding)}"`);
      if (config.dataFormat === "channelsFirst") throw unsupported("channels-first data");
      layers.push({
        kind: "maxpool2d",
        poolSize: pair(config.poolSize),
        strides: pair(config.strides ?? config.poolSize),
      });
      continue;
    }
    if (className !== "Dense" && className !== "Conv2D")
      throw unsupported("layer kind not supported");
    const activation = layerActivation(layer);
    if (!ONNX_ACTIVATIONS.has(activation)) throw unsupported(`activation "${activation}"`);
    const [kernel, bias] = layer.getWeights();
    if (kernel === undefined) throw unsupported("no weights");
    const weights = Float32Array.from(kernel.dataSync());
    const units = kernel.shape[kernel.shape.length - 1] as number;
    const biasValues =
      bias === undefined || config.useBias === false
        ? new Float32Array(units)
        : Float32Array.from(bias.dataSync());
    if (className === "Dense") {
      if (kernel.rank !== 2) throw unsupported("kernel is not 2-D");
      layers.push({
        kind: "dense",
        inputSize: kernel.shape[0] as number,
        outputSize: units,
        weights,
        bias: biasValues,
        activation: activation as Activation,
      });
      continue;
    }
    if (config.dataFormat === "channelsFirst") throw unsupported("channels-first data");
    const dilation = pair(config.dilationRate ?? 1);
    if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupported("dilated convolution");
    layers.push({
      kind: "conv2d",
      inChannels: kernel.shape[2] as number,
      outChannels: units,
      kernelSize: [kernel.shape[0] as number, kernel.shape[1] as number],
      strides: pair(config.strides ?? 1),
      padding: config.padding === "same" ? "same" : "valid",
      weights,
      bias: biasValues,
      activation: activation as Activation,
    });
  }
  return { inputShape: modelInputShape(model), layers };
}

/** An onnxruntime runner as a {@link Predictor}. */
export function onnxPredictor(
  runner: {
    run(input: Float32Array, batch: number): Promise<Float32Array>;
    close(): Promise<void>;
  },
  model: tfl.LayersModel,
): Predictor {
  return {
    features: modelInputShape(model).reduce((product, dim) => product * dim, 1),
    classes: modelOutputSize(model),
    predict: (input, batch) => runner.run(input, batch),
    close: () => runner.close(),
  };
}

function pair(value: unknown): [number, number] {
  if (Array.isArray(value)) return [Number(value[0]), Number(value[1] ?? value[0])];
  return [Number(value), Number(value)];
}
