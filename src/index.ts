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
