/**
 * wattprint's optimize library: compression (pruning, quantization, distillation) and
 * green-training callbacks on TensorFlow.js, with every trade-off measured. Importing it
 * loads TensorFlow.js; `wattprint track` and the main entry never do.
 */
export {
  initTensorflow,
  type TfBackendName,
  type TfRuntime,
  type TensorflowOptions,
} from "./runtime.js";
export {
  loadDataset,
  loadDigits,
  loadMnist,
  loadCsvDataset,
  type Dataset,
  type DataSplit,
  type SplitOptions,
} from "./datasets.js";
export { buildMlp, buildCnn, countParams, type MlpOptions, type CnnOptions } from "./models.js";
export { saveModel, loadModel, fileIoHandler, type SavedModelInfo } from "./model-io.js";
export {
  trainModel,
  evaluateLoss,
  type TrainOptions,
  type TrainResult,
  type TrainingBatch,
} from "./train.js";
export { EnergyMeter, meterTracker, type MeasuredEnergy } from "./energy-meter.js";
export type {
  EpochLogs,
  TrainingCallback,
  TrainingControl,
  TrainingPlan,
  MonitoredMetric,
} from "./callbacks/training-callback.js";
export { EarlyStopping, type EarlyStoppingOptions } from "./callbacks/early-stopping.js";
export {
  ReduceLrOnPlateau,
  type ReduceLrOnPlateauOptions,
} from "./callbacks/reduce-lr-on-plateau.js";
export { EnergyBudget, type EnergyBudgetOptions } from "./callbacks/energy-budget.js";
export { forecastTotal, type BudgetForecast } from "./callbacks/budget-forecast.js";
export { EnergyLogger, type EpochEnergyEntry } from "./callbacks/energy-logger.js";
export { tfjsCallbacks, type TfjsCallbackBridge } from "./callbacks/tfjs-adapter.js";
export { pruneByMagnitude, kernelSparsity, PruningMasks } from "./pruning/magnitude.js";
export {
  pruneGradually,
  type GradualPruningOptions,
  type GradualPruningResult,
} from "./pruning/gradual.js";
export { scheduledSparsity, type PruningSchedule } from "./pruning/schedule.js";
export {
  pruneStructured,
  type StructuredPruneResult,
  type PrunedLayer,
} from "./pruning/structured.js";
export { quantizeModelArtifacts, type WeightQuantization } from "./quantize.js";
export {
  distill,
  buildStudent,
  distillationLoss,
  type DistillOptions,
  type DistillResult,
} from "./distill.js";
export { toLayerSpecs, onnxPredictor } from "./onnx-bridge.js";
export {
  measurePredictor,
  tfjsPredictor,
  type Predictor,
  type InferenceMeasurement,
  type MeasureOptions,
} from "./measure.js";
export {
  paretoFront,
  recommend,
  dominates,
  type TradeOffPoint,
  type RecommendConstraint,
} from "./pareto.js";
export { renderParetoSvg, renderParetoHtml } from "./pareto-chart.js";
export {
  runOptimize,
  type OptimizeOptions,
  type OptimizeResult,
  type OptimizeQuantization,
  type SkippedVariant,
} from "./run-optimize.js";
export type { VariantResult, VariantKind } from "./variant.js";
