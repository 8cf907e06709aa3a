/**
 * wattprint's measured case studies as a library: `runStudy("transformer" | "gan" | "vae")`
 * trains a baseline and efficient variants, measures quality and energy, and reports the
 * trade-off. TensorFlow.js loads when a study runs, not when this module is imported.
 */
export {
  runStudy,
  runStudyDefinition,
  inferenceFigures,
  isStudyName,
  STUDY_NAMES,
  compareVariants,
  savingPct,
  validateStudyOptions,
} from "./run-study.js";
export type {
  StudyOptions,
  StudyContext,
  StudyDefinition,
  StudyVariantPlan,
  VariantOutcome,
} from "./study-definition.js";
export type {
  StudyName,
  StudyResult,
  StudyVariantResult,
  QualityMetric,
  TrainingFigures,
  InferenceFigures,
  SkippedStudyVariant,
} from "./study-result.js";
export { FINDING_SAVING_PCT } from "./study-result.js";
export { renderStudyText, renderStudyMarkdownTable, comparisonRows } from "./render-table.js";
export { renderStudyHtml } from "./study-report.js";
export { renderStudyChart } from "./study-chart.js";
export { kernelInceptionDistance, type KidResult } from "./kid.js";
