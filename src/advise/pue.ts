/**
 * Rule "pue": the data-centre overhead the run was charged (its PUE) against an efficient
 * facility's, with the published hyperscaler PUEs of data/grid/cloud-regions.csv for the
 * range. Formulas and thresholds: docs/advise.md, "Data centre: PUE".
 */
import { listRegions } from "../grid/regions.js";
import { trimNumber } from "../units/energy.js";
import { commandLine } from "./command-line.js";
import { notEnoughData, nothingFound, runCo2eG, withFindings } from "./outcome.js";
import { DEFAULT_EFFICIENT_PUE, RULE_TITLES, type RuleContext, type RuleOutcome } from "./types.js";

const TITLE = RULE_TITLES.pue;

/** Smallest saving, share of the run's CO2e, worth a finding. */
export const MIN_PUE_SAVING_SHARE = 0.05;

/** A published PUE and where it comes from. */
interface PublishedPue {
  pue: number;
  source: string;
}

/** The lowest and highest PUE published for the cloud regions in the region table. */
export function publishedPueRange(): { lowest: PublishedPue; highest: PublishedPue } | null {
  const published = listRegions("cloud").flatMap((region) =>
    region.pue === undefined ? [] : [{ pue: region.pue, source: region.pueSource ?? region.code }],
  );
  if (published.length === 0) return null;
  const sorted = [...published].sort((a, b) => a.pue - b.pue);
  return { lowest: sorted[0] as PublishedPue, highest: sorted[sorted.length - 1] as PublishedPue };
}

/** Runs the rule. */
export function checkPue(context: RuleContext): RuleOutcome {
  const { run, options } = context;
  const pue = run.pue;
  const target = options.efficientPue;
  if (run.pueSource.startsWith("default") && pue <= 1) {
    return notEnoughData(
      "pue",
      TITLE,
      [`the data centre's PUE: the run counted none (${run.pueSource})`],
      "if the run was in a data centre, track it with --pue (or a cloud region that publishes one)",
    );
  }
  if (pue <= target * (1 + 1e-9)) {
    return nothingFound(
      "pue",
      TITLE,
      `PUE ${trimNumber(pue)} is already at or below ${trimNumber(target)}`,
    );
  }
  const energyJ = run.energyJ.total;
  if (energyJ === null) return notEnoughData("pue", TITLE, ["the run's energy"], null);
  const co2eG = run.co2eG ?? runCo2eG(run, energyJ);
  // CO2e and facility energy both scale with PUE at a fixed IT energy.
  const savingAt = (efficient: number) => {
    const pueDrop = Math.max(0, pue - efficient);
    return { energyJ: energyJ * pueDrop, co2eG: (co2eG * pueDrop) / pue };
  };
  const central = savingAt(target);
  if (central.co2eG < MIN_PUE_SAVING_SHARE * co2eG) {
    return nothingFound(
      "pue",
      TITLE,
      `PUE ${trimNumber(pue)} is within ${MIN_PUE_SAVING_SHARE * 100}% of an efficient ${trimNumber(target)}`,
    );
  }
  const published = publishedPueRange();
  const lowTarget = Math.max(target, published?.highest.pue ?? target);
  const highTarget = Math.min(target, published?.lowest.pue ?? target);
  const low = savingAt(lowTarget);
  const high = savingAt(highTarget);
  return withFindings(
    "pue",
    TITLE,
    `PUE ${trimNumber(pue)} against an efficient ${trimNumber(target)}`,
    [
      {
        rule: "pue",
        title: `Run in a data centre with a PUE near ${trimNumber(target)}: ${trimNumber(100 * (1 - target / pue))}% less CO2e than at PUE ${trimNumber(pue)}`,
        evidence: [
          {
            label: "PUE of the run",
            value: pue,
            unit: "ratio",
            source: `run record: ${run.pueSource}`,
          },
          {
            label: "efficient PUE",
            value: target,
            unit: "ratio",
            source:
              target === DEFAULT_EFFICIENT_PUE
                ? "default: Google fleet-wide PUE 2023, the lowest published in data/grid/cloud-regions.csv"
                : "--efficient-pue",
          },
          {
            label: "IT energy of the run",
            value: energyJ,
            unit: "J",
            source: "run record: energyJ.total",
          },
          {
            label: "CO2e of the run",
            value: co2eG,
            unit: "g",
            source: run.co2eG === null ? "energy × PUE × intensity" : "run record: co2eG",
          },
          {
            label: "facility overhead energy",
            value: energyJ * (pue - 1),
            unit: "J",
            source: "IT energy × (PUE − 1)",
          },
        ],
        saving: {
          ...central,
          low,
          high,
          basis: "this run (facility energy)",
          derivation: `energy: IT energy × (PUE − efficient PUE), the overhead not drawn; CO2e: run CO2e × (PUE − efficient PUE) / PUE; central at ${trimNumber(target)}, low at ${trimNumber(lowTarget)}${published === null ? "" : ` (${published.highest.source})`}, high at ${trimNumber(highTarget)}${published === null ? "" : ` (${published.lowest.source})`}, the highest and lowest PUE published for the cloud regions in data/grid/cloud-regions.csv`,
        },
        confidence: run.pueSource === "user" ? "medium" : "low",
        confidenceReason:
          run.pueSource === "user"
            ? "the run's PUE was given by the user; efficient figures are fleet-wide annual averages"
            : `the run's PUE comes from "${run.pueSource}"; efficient figures are fleet-wide annual averages`,
        command: commandLine(["wattprint", "regions", "cloud"]),
        notes: [
          "The energy saved is facility overhead (cooling, power conversion), not IT energy.",
          "A facility's PUE varies with season and load; published figures are annual averages.",
        ],
      },
    ],
  );
}
