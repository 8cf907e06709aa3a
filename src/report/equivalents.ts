/**
 * Everyday equivalents of a footprint ("as much CO2 as driving 3 km"), from the table
 * `data/report/equivalents.csv` (origins in `data/SOURCES.md`, "Everyday equivalents").
 * Each equivalent is either energy-based (smartphone charges: the same energy whatever the
 * grid) or CO2e-based (km by car), and carries its source and year.
 */
import { readCsvTable } from "../grid/load-table.js";
import { J_PER_KWH } from "../units/energy.js";

/** What an equivalent is computed from. */
export type EquivalentBasis = "energy" | "co2e";

/** One row of the equivalents table. */
export interface EquivalentFactor {
  /** Stable id: "car-km", "smartphone-charge", "us-home-day". */
  id: string;
  /** What one unit is: "km driven by an average US passenger car (tailpipe CO2)". */
  label: string;
  basis: EquivalentBasis;
  /**
   * Amount of the basis per unit: grams CO2e per unit when `basis` is "co2e", kWh per unit
   * when it is "energy".
   */
  amount: number;
  /** Unit of `amount`, as written in the table: "g per km", "kWh per charge". */
  amountUnit: string;
  /** Publisher and title of the figure. */
  source: string;
  url: string;
  licence: string;
  year: number;
  /** How `amount` follows from the published figures. */
  derivation: string;
}

/** One computed equivalent. */
export interface Equivalent {
  id: string;
  label: string;
  basis: EquivalentBasis;
  /** How many units the footprint equals; null when its basis is unknown. */
  value: number | null;
  /** Why `value` is null; null otherwise. */
  reason: string | null;
  /** The factor used: "248.5 g per km". */
  factor: string;
  source: string;
  url: string;
  year: number;
}

/** The package's `data/report/` folder (two levels above src/report and dist/report). */
export const DEFAULT_REPORT_DATA_DIR = new URL("../../data/report/", import.meta.url);

const COLUMNS = [
  "id",
  "label",
  "basis",
  "amount",
  "amount_unit",
  "source",
  "url",
  "licence",
  "year",
  "derivation",
] as const;

let packageFactors: EquivalentFactor[] | undefined;

/**
 * The equivalents table: `equivalents.csv` in `dataDir` (default: the package's
 * {@link DEFAULT_REPORT_DATA_DIR}, read once and kept).
 * @throws WattprintError `BAD_INPUT` naming the file and line when the table is damaged.
 */
export function loadEquivalentFactors(dataDir?: string | URL): EquivalentFactor[] {
  if (dataDir === undefined) {
    packageFactors ??= readFactors(DEFAULT_REPORT_DATA_DIR);
    return packageFactors.map((factor) => ({ ...factor }));
  }
  return readFactors(dataDir);
}

function readFactors(dataDir: string | URL): EquivalentFactor[] {
  const file =
    typeof dataDir === "string"
      ? `${dataDir.replace(/\/?$/, "/")}equivalents.csv`
      : new URL("equivalents.csv", dataDir);
  return readCsvTable(file, COLUMNS, (record) => {
    const amount = record.number("amount");
    if (amount <= 0) throw record.fail("amount", "must be greater than 0");
    const year = record.optionalInteger("year");
    if (year === null) throw record.fail("year", "is empty");
    return {
      id: record.text("id"),
      label: record.text("label"),
      basis: record.oneOf("basis", ["energy", "co2e"] as const),
      amount,
      amountUnit: record.text("amount_unit"),
      source: record.text("source"),
      url: record.text("url"),
      licence: record.text("licence"),
      year,
      derivation: record.text("derivation"),
    };
  });
}

/**
 * Expresses a footprint in everyday units.
 * @param energyJ energy the footprint stands for, joules (null: unknown).
 * @param co2eG its emissions, grams CO2e (null: unknown).
 * @param factors the table; default {@link loadEquivalentFactors}().
 */
export function computeEquivalents(
  energyJ: number | null,
  co2eG: number | null,
  factors: readonly EquivalentFactor[] = loadEquivalentFactors(),
): Equivalent[] {
  return factors.map((factor) => {
    const quantity = factor.basis === "energy" ? energyJ : co2eG;
    const base = {
      id: factor.id,
      label: factor.label,
      basis: factor.basis,
      factor: `${factor.amount} ${factor.amountUnit}`,
      source: factor.source,
      url: factor.url,
      year: factor.year,
    };
    if (quantity === null) {
      return {
        ...base,
        value: null,
        reason: factor.basis === "energy" ? "the energy is unknown" : "the CO2e is unknown",
      };
    }
    const value =
      factor.basis === "energy" ? quantity / J_PER_KWH / factor.amount : quantity / factor.amount;
    return { ...base, value, reason: null };
  });
}
