/**
 * Rule "serving": what the variant `wattprint optimize` recommends (quantized, pruned,
 * distilled) would save per 1,000 inferences against the baseline model, from the energies
 * optimize measured, at the run's intensity and PUE. Formulas: docs/advise.md, "Serving".
 */
import { formatEnergy, trimNumber } from "../units/energy.js";
import { energySaving, notEnoughData, nothingFound, withFindings } from "./outcome.js";
import type { OptimizeVariant } from "./optimize-result.js";
import { RULE_TITLES, type Evidence, type RuleContext, type RuleOutcome } from "./types.js";

const TITLE = RULE_TITLES.serving;

/** An accuracy drop above this many points lowers the finding's confidence. */
export const SERVING_ACCURACY_DROP_POINTS = 1;

const PER = 1000;

/** Runs the rule. */
export function checkServing(context: RuleContext): RuleOutcome {
  const result = context.options.optimizeResult;
  if (result === null) {
    return notEnoughData(
      "serving",
      TITLE,
      ["measured model variants (--optimize-result FILE from `wattprint optimize --json`)"],
      "run `wattprint optimize --model DIR --data DATA --json > optimize.json`, then pass --optimize-result optimize.json",
    );
  }
  const byName = new Map(result.variants.map((variant) => [variant.name, variant]));
  const baseline = byName.get(result.baseline) as OptimizeVariant;
  if (result.recommended === null || result.recommended === baseline.name) {
    return nothingFound(
      "serving",
      TITLE,
      `optimize recommends no variant other than the baseline (${baseline.name}) in ${result.origin}`,
    );
  }
  const recommended = byName.get(result.recommended) as OptimizeVariant;
  const baseJ = baseline.energyJPer1kInferences;
  const recommendedJ = recommended.energyJPer1kInferences;
  if (baseJ === null || recommendedJ === null) {
    return notEnoughData(
      "serving",
      TITLE,
      [
        `energy per 1,000 inferences of ${baseJ === null ? `the baseline (${baseline.name})` : `the recommended variant (${recommended.name})`} in ${result.origin}`,
      ],
      "measure the variants with `wattprint optimize` (it measures energy per 1,000 inferences)",
    );
  }
  const per1kJ = baseJ - recommendedJ;
  if (!(per1kJ > 0)) {
    return nothingFound(
      "serving",
      TITLE,
      `the recommended variant (${recommended.name}) uses no less energy than the baseline`,
    );
  }
  const scale = context.options.inferences === null ? 1 : context.options.inferences / PER;
  const basis =
    context.options.inferences === null
      ? "per 1,000 inferences"
      : `per ${context.options.inferences.toLocaleString("en-US")} inferences`;
  // The most accurate variant on the front that still saves: the cautious choice.
  const cautious = result.variants
    .filter(
      (variant) =>
        variant.pareto === true &&
        variant.name !== baseline.name &&
        variant.energyJPer1kInferences !== null &&
        variant.energyJPer1kInferences < baseJ &&
        (variant.accuracy ?? -Infinity) >= (recommended.accuracy ?? Infinity),
    )
    .map((variant) => baseJ - (variant.energyJPer1kInferences as number));
  const lowPer1kJ = Math.min(per1kJ, ...cautious);
  const drop = accuracyDrop(baseline, recommended);
  const evidence: Evidence[] = [
    variantEvidence(baseline, "baseline", result.origin),
    variantEvidence(recommended, "recommended", result.origin),
    {
      label: "energy saved per 1,000 inferences",
      value: per1kJ,
      unit: "J",
      source: "baseline − recommended",
    },
  ];
  if (drop !== null) {
    evidence.push({ label: "accuracy drop", value: drop, unit: "points", source: result.origin });
  }
  if (baseline.sizeBytes !== null && recommended.sizeBytes !== null && recommended.sizeBytes > 0) {
    evidence.push({
      label: "size reduction",
      value: baseline.sizeBytes / recommended.sizeBytes,
      unit: "×",
      source: result.origin,
    });
  }
  const bigDrop = drop !== null && drop > SERVING_ACCURACY_DROP_POINTS;
  const notes = [
    `${formatEnergy(per1kJ)} saved per 1,000 inferences (${trimNumber((100 * per1kJ) / baseJ)}% of the baseline's ${formatEnergy(baseJ)}).`,
    "CO2e at the run's intensity and PUE: serving elsewhere changes it.",
  ];
  if (context.options.inferences === null) {
    notes.push("Give --inferences N (your traffic over a period) to scale the saving.");
  }
  return withFindings(
    "serving",
    TITLE,
    `${recommended.name} saves ${trimNumber((100 * per1kJ) / baseJ)}% per inference`,
    [
      {
        rule: "serving",
        title: `Serve ${recommended.name} instead of ${baseline.name}: ${trimNumber((100 * per1kJ) / baseJ)}% less energy per inference${drop === null ? "" : ` for ${trimNumber(drop)} accuracy point${drop === 1 ? "" : "s"}`}`,
        evidence,
        saving: energySaving(
          context.run,
          { central: per1kJ * scale, low: lowPer1kJ * scale, high: per1kJ * scale },
          basis,
          `(baseline − recommended energy per 1,000 inferences, measured by wattprint optimize) × ${trimNumber(scale)} (${basis}); CO2e at the run's intensity and PUE; low: the most accurate variant on the Pareto front that still saves energy${cautious.length === 0 ? " (none other than the recommended one)" : ""}`,
        ),
        confidence: bigDrop ? "low" : "medium",
        confidenceReason: bigDrop
          ? `measured by optimize, but accuracy drops by more than ${SERVING_ACCURACY_DROP_POINTS} point`
          : "measured by optimize on its evaluation data; production inputs and batch sizes may differ",
        command:
          "wattprint optimize --model <model-dir> --data <data> --max-accuracy-drop 1 --json",
        notes,
      },
    ],
  );
}

/** Accuracy points lost (percent points; fractions ≤ 1 are read as shares). */
function accuracyDrop(baseline: OptimizeVariant, variant: OptimizeVariant): number | null {
  if (baseline.accuracy === null || variant.accuracy === null) return null;
  const asFraction = baseline.accuracy <= 1 && variant.accuracy <= 1;
  return (baseline.accuracy - variant.accuracy) * (asFraction ? 100 : 1);
}

function variantEvidence(variant: OptimizeVariant, role: string, origin: string): Evidence {
  return {
    label: `${role} ${variant.name}: energy per 1,000 inferences${variant.accuracy === null ? "" : ` (accuracy ${trimNumber(variant.accuracy)})`}`,
    value: variant.energyJPer1kInferences,
    unit: "J",
    source: origin,
  };
}
