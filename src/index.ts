export { trackCommand, Tracker, track, type TrackCommandOptions } from "./api/track.js";
export type { TrackOptions } from "./api/options.js";
export type {
  RunRecord,
  RunStatus,
  EnergyBreakdownJ,
  PhaseRecord,
  SourceRecord,
  CpuSplitJ,
  IntensitySource,
  MachineInfo,
  TimelineSample,
  PowerBreakdownW,
} from "./record/run-record.js";
export { RUN_RECORD_SCHEMA_VERSION } from "./record/run-record.js";
export type {
  Sensor,
  ChannelInfo,
  ChannelReading,
  ChannelValue,
  Availability,
  Component,
  Method,
} from "./sensors/sensor.js";
export { WattprintError, type ErrorCode } from "./errors.js";
export {
  resolveRegion,
  listRegions,
  worldAverageRegion,
  type ResolvedRegion,
} from "./grid/regions.js";
export { RunStore } from "./store/run-store.js";
export {
  getIntensity,
  getIntensitySeries,
  type IntensityOptions,
  type IntensityAtResult,
  type IntensitySeriesResult,
} from "./grid/intensity.js";
export {
  makeSeries,
  intensityAt,
  averageIntensity,
  sliceSeries,
  type IntensitySeries,
  type IntensityPoint,
  type IntensitySignal,
} from "./grid/series.js";
export { loadIntensityFile } from "./grid/series-files.js";
export { createProvider, PROVIDER_NAMES } from "./grid/providers/registry.js";
export type { IntensityProvider, ProviderOptions } from "./grid/providers/provider.js";
export {
  estimateTraining,
  type TrainingInput,
  type TrainingEstimate,
} from "./estimate/training.js";
export {
  estimateInference,
  type InferenceInput,
  type InferenceEstimate,
} from "./estimate/inference.js";
export { compareTraining, compareInference } from "./estimate/compare.js";
export { resolveAccelerator, listAccelerators } from "./hardware/accelerators.js";
export { findGreenestWindow, type WindowOptions, type WindowPlan } from "./schedule/window.js";
export { findGreenestRegion, type RegionSearch } from "./schedule/region.js";
export { backtestSchedule, type BacktestResult } from "./schedule/backtest.js";
export {
  runWhenGreen,
  type GreenRunOptions,
  type GreenRunOutcome,
} from "./schedule/run-when-green.js";
export { adviseRun, rankFindings } from "./advise/advise.js";
export type { AdviceReport, AdviseOptions, Finding, RuleOutcome, RuleId } from "./advise/types.js";
export { startServer, type ServeOptions } from "./serve/server.js";
export { openServerStore } from "./store/server-store.js";
export { pushRun } from "./serve/client/push.js";
export { detectJob } from "./serve/client/job-key.js";
export { runStudy, renderStudyText, STUDY_NAMES } from "./study/index.js";
export type { StudyResult, StudyOptions } from "./study/index.js";
