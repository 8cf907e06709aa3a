/**
 * Builders of rule outcomes and savings, and the run's carbon arithmetic shared by the
 * rules (energy × PUE × intensity, from src/carbon/operational.ts).
 */
import { operationalCo2eG } from "../carbon/operational.js";
import type { RunRecord } from "../record/run-record.js";
import type { Finding, RuleId, RuleOutcome, Saving, SavingFigures } from "./types.js";

/** "Not enough data": the rule could not run; `missing` lists what it lacked. */
export function notEnoughData(
  rule: RuleId,
  title: string,
  missing: string[],
  hint: string | null,
): RuleOutcome {
  return {
    rule,
    title,
    status: "not-enough-data",
    summary: `not enough data: ${missing.join("; ")}`,
    findings: [],
    missing,
    hint,
  };
}

/** The rule ran and found nothing worth changing; `summary` says what it saw. */
export function nothingFound(rule: RuleId, title: string, summary: string): RuleOutcome {
  return { rule, title, status: "ok", summary, findings: [], missing: [], hint: null };
}

/** The rule's findings (at least one). */
export function withFindings(
  rule: RuleId,
  title: string,
  summary: string,
  findings: Finding[],
): RuleOutcome {
  return { rule, title, status: "findings", summary, findings, missing: [], hint: null };
}

/**
 * Operational CO2e of `energyJ` drawn by the run's IT equipment at the run's own PUE and
 * energy-weighted intensity, grams (the run record's convention: kWh × PUE × intensity).
 */
export function runCo2eG(run: RunRecord, energyJ: number): number {
  return operationalCo2eG(energyJ, { intensityGPerKWh: run.intensityGPerKWh, pue: run.pue });
}

/** A saving whose CO2e follows from its energy at the run's PUE and intensity. */
export function energySaving(
  run: RunRecord,
  energyJ: { central: number; low: number; high: number },
  basis: string,
  derivation: string,
): Saving {
  const figures = (value: number): SavingFigures => ({
    energyJ: value,
    co2eG: runCo2eG(run, value),
  });
  return {
    ...figures(energyJ.central),
    low: figures(energyJ.low),
    high: figures(energyJ.high),
    basis,
    derivation,
  };
}

/** Orders low ≤ central ≤ high (a central figure outside the range widens it). */
export function orderedRange(central: number, a: number, b: number) {
  return {
    central,
    low: Math.min(central, a, b),
    high: Math.max(central, a, b),
  };
}
