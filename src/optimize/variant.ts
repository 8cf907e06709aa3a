/** The result record of one model variant measured by `wattprint optimize`. */

/** How a variant was made. */
export type VariantKind =
  "baseline" | "magnitude-prune" | "structured-prune" | "quantize" | "onnx" | "distill";

export interface VariantResult {
  /** "baseline", "prune-50%", "prune-units-50%", "int8", "float16", "onnx-int8", "distill-w32", "prune-units-50%+int8". */
  name: string;
  kind: VariantKind;
  /** One line saying what was done. */
  description: string;
  /** What ran it: "tfjs-wasm", "tfjs-cpu" or "onnxruntime-cpu". */
  runtime: string;
  /** How it is stored: "TF.js float32", "TF.js int8 weights", "ONNX dynamic int8". */
  format: string;
  /** Weights (biases included); for magnitude pruning, the non-zero ones are in `nonZeroParams`. */
  params: number;
  nonZeroParams: number;
  /** Share of the test samples classified right, 0..1. */
  accuracy: number;
  /** Baseline accuracy minus this one, percentage points (negative: better than the baseline). */
  accuracyDropPoints: number;
  /** Bytes of the stored model (TF.js: model.json + weights.bin; ONNX: the .onnx file). */
  sizeBytes: number;
  /** The same files gzipped (level 9), bytes: what sparsity buys on the wire. */
  sizeBytesGzip: number;
  /** Median milliseconds per call at batch 1 and at batch 64. */
  latencyMsP50: { batch1: number; batch64: number };
  /** Energy per 1,000 inferences at batch 64, joules (tracker; see `energySource`); null when unmeasured. */
  energyJPer1kInferences: number | null;
  /** Lowest and highest measurement window, joules per 1,000 inferences. */
  energyJPer1kRange: [number, number] | null;
  co2eGPer1kInferences: number | null;
  /** CPU time of this process per 1,000 inferences, seconds (the quantity a CPU energy model scales). */
  cpuSPer1kInferences: number | null;
  /**
   * Energy spent producing this variant from the baseline (fine-tuning, distillation with
   * the teacher's outputs, conversion), joules; for the baseline, its training when it was
   * trained here, else null.
   */
  trainingEnergyJ: number | null;
  trainingCo2eG: number | null;
  /** Epochs of (fine-)tuning run; 0 for conversions. */
  trainingEpochs: number;
  /** On the accuracy/energy Pareto front. */
  pareto: boolean;
  /** Meets the accuracy (and size) constraint. */
  meetsConstraint: boolean;
  /** Where the variant was saved, or null. */
  path: string | null;
  /** The variant it was made from ("baseline", "prune-units-50%"). */
  parent: string | null;
}
