// Runs the estimators over published footprints and prints the error of each row and the
// mean absolute percentage error (MAPE); then cross-validates the inference model.
// Needs a build (npm run build). Usage:
//   node bench/estimate-validation.js [--published ../shared/data/published-footprints-dev.csv] [--mfu 0.4] [--json]
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  crossValidateInferenceModel,
  loadPublishedFootprints,
  validateTrainingEstimates,
  VALIDATION_TARGETS,
} from "../dist/estimate/validate.js";

const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    published: {
      type: "string",
      default: resolve(root, "../shared/data/published-footprints-dev.csv"),
    },
    mfu: { type: "string" },
    json: { type: "boolean" },
  },
});
if (!existsSync(values.published)) {
  console.error(`estimate-validation: no published-footprints file at ${values.published}`);
  console.error("  hint: pass --published <file> (CI keeps ../shared beside the clone)");
  process.exit(2);
}

const report = validateTrainingEstimates(loadPublishedFootprints(values.published), {
  mfu: values.mfu === undefined ? undefined : Number(values.mfu),
});
const inference = crossValidateInferenceModel();
if (values.json) {
  console.log(JSON.stringify({ file: values.published, ...report, inference }, null, 2));
  process.exit(0);
}

const pad = (text, width) => String(text).padEnd(width);
const num = (value, digits = 3) =>
  value === null ? "-" : Number(value.toPrecision(digits)).toString();
const pct = (value) => (value === null ? "-" : `${value >= 0 ? "+" : ""}${value.toFixed(1)}%`);

console.log(`published footprints: ${values.published}\n`);
console.log(
  "Energy from device-hours (energy = device-hours × power per device × PUE; PUE 1 where the row gives none)",
);
console.log(
  `${pad("model", 44)}${pad("hardware", 12)}${pad("device-h", 12)}${pad("PUE", 6)}${pad("published MWh", 15)}${pad("estimated MWh", 15)}${pad("error", 9)}note`,
);
for (const row of report.energy.rows) {
  console.log(
    `${pad(row.model.slice(0, 43), 44)}${pad(row.hardwareId ?? "?", 12)}${pad(num(row.deviceHours), 12)}${pad(num(row.pue), 6)}${pad(num(row.publishedEnergyMWh), 15)}${pad(num(row.estimatedEnergyMWh), 15)}${pad(pct(row.errorPct), 9)}${row.note ?? ""}`,
  );
}
console.log(
  `\nMAPE ${num(report.energy.mapePct)}% over ${report.energy.counted} rows whose hardware is in the table (target ≤ ${VALIDATION_TARGETS.energyMapePct}%: ${report.energy.met ? "met" : "NOT met"}); ${num(report.energy.mapeWithUncertainPct)}% with uncertain rows`,
);

console.log(
  `\nDevice-hours from params and tokens (6·N·D at MFU ${report.deviceHours.mfu}; N = active parameters)`,
);
console.log(
  `${pad("model", 44)}${pad("hardware", 12)}${pad("published h", 13)}${pad("estimated h", 13)}${pad("est/pub", 9)}${pad("factor", 8)}${pad("implied MFU", 12)}note`,
);
for (const row of report.deviceHours.rows) {
  console.log(
    `${pad(row.model.slice(0, 43), 44)}${pad(row.hardwareId, 12)}${pad(num(row.publishedDeviceHours), 13)}${pad(num(row.estimatedDeviceHours), 13)}${pad(num(row.ratio), 9)}${pad(num(row.factor), 8)}${pad(num(row.impliedMfu), 12)}${row.counted ? "" : "uncertain row: not counted"}`,
  );
}
console.log(
  `\nmedian factor ${num(report.deviceHours.medianFactor)} over ${report.deviceHours.counted} rows (target ≤ ${VALIDATION_TARGETS.deviceHoursMedianFactor}: ${report.deviceHours.met ? "met" : "NOT met"}); median estimated/published ${num(report.deviceHours.medianRatio)}`,
);

console.log("\nInference model, leave-one-model-out (ML.ENERGY v3.0 chat measurements)");
console.log(`${pad("model", 52)}${pad("rows", 6)}${pad("median factor", 15)}bias (pred/measured)`);
for (const row of inference.perModel) {
  console.log(
    `${pad(row.modelId, 52)}${pad(row.rows, 6)}${pad(num(row.medianFactor), 15)}${num(row.bias)}`,
  );
}
console.log(
  `\nmedian of per-model median factors ${num(inference.medianFactor)}; median over all rows ${num(inference.rowMedianFactor)}`,
);
