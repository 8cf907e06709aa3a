/**
 * The accelerator table (data/hardware/accelerators.csv): GPUs, TPUs and a CPU-server
 * default with TDP, measured training power where published, peak dense FLOP/s, memory,
 * memory bandwidth and embodied carbon, each with its source; and the lookup by name with
 * aliases ("A100-80GB", "a100 80gb", "H100-SXM", "tpu-v4"). Sources: data/SOURCES.md,
 * section "Accelerators and embodied carbon"; method: docs/estimate.md.
 */
import { WattprintError } from "../errors.js";
import { readCsvTable } from "../grid/load-table.js";
import { normalizeKey, suggestClosest } from "../grid/suggest.js";

/** What kind of device a row is. */
export type AcceleratorKind = "gpu" | "tpu" | "cpu";

/** Precision of the peak FLOP/s figure: the one training and serving normally use. */
export type PeakPrecision = "bf16" | "fp16" | "fp32";

/**
 * How a row's embodied figure was obtained: published for this device, taken from another
 * row (`same-as`, named in {@link Accelerator.embodiedSameAs}), or counted in the host
 * (`in-host`, the CPU row).
 */
export type EmbodiedBasis = "published" | "same-as" | "in-host";

/** One row of data/hardware/accelerators.csv. */
export interface Accelerator {
  /** Canonical id: "A100-80GB", "H100-SXM", "TPU-v4", "CPU". */
  id: string;
  /** Full name: "NVIDIA A100 SXM4 80 GB". */
  name: string;
  vendor: string;
  kind: AcceleratorKind;
  /** Other names accepted by the lookup (case, spaces, `-`/`_` do not matter). */
  aliases: string[];
  /** Thermal design power of one device, W; null when the vendor publishes none. */
  tdpW: number | null;
  /** Where `tdpW` comes from, or why it is null. */
  tdpSource: string;
  /** Measured average power per device under training load, W; null when none is published. */
  trainingPowerW: number | null;
  /** Where `trainingPowerW` comes from; null with it. */
  trainingPowerSource: string | null;
  /** Peak dense (no sparsity) throughput at `peakPrecision`, TFLOP/s. */
  peakDenseTflops: number;
  peakPrecision: PeakPrecision;
  peakSource: string;
  /** On-device memory, GB; null for the CPU row (host RAM). */
  memoryGB: number | null;
  /** Memory bandwidth, GB/s. */
  memoryBandwidthGBPerS: number;
  /** Where memory and bandwidth come from. */
  specSource: string;
  /** Manufacturing emissions of one device (card or module), kgCO2e. */
  embodiedDeviceKg: number;
  embodiedBasis: EmbodiedBasis;
  /** For `same-as`: the id of the row whose figure stands in. */
  embodiedSameAs: string | null;
  embodiedSource: string;
  /** Manufacturing emissions of the host server without its accelerators, kgCO2e. */
  hostEmbodiedKg: number;
  /** Devices sharing one host; each carries hostEmbodiedKg / devicesPerHost. */
  devicesPerHost: number;
  hostSource: string;
  note: string | null;
}

/** The power an estimate uses for one device, and why. */
export interface DevicePower {
  /** Average power per device, W; null when the table has no figure. */
  powerW: number | null;
  /** "measured-training-average" when published, else "tdp"; "unknown" when neither. */
  basis: "measured-training-average" | "tdp" | "unknown";
  source: string;
}

/** Where the table ships: two folders above this module (src/ or dist/). */
export const DEFAULT_ACCELERATOR_TABLE_URL = new URL(
  "../../data/hardware/accelerators.csv",
  import.meta.url,
);

const COLUMNS = [
  "id",
  "name",
  "vendor",
  "kind",
  "aliases",
  "tdp_w",
  "tdp_source",
  "training_power_w",
  "training_power_source",
  "peak_dense_tflops",
  "peak_precision",
  "peak_source",
  "memory_gb",
  "memory_bandwidth_gb_per_s",
  "spec_source",
  "embodied_device_kg",
  "embodied_basis",
  "embodied_source",
  "host_embodied_kg",
  "devices_per_host",
  "host_source",
  "note",
] as const;

/**
 * Reads and checks an accelerator table. Every figure must be positive (embodied ≥ 0), every
 * `same-as` must name another row, and no id or alias may belong to two rows.
 * @param file default {@link DEFAULT_ACCELERATOR_TABLE_URL}.
 * @throws WattprintError `BAD_INPUT` naming the file, line and column.
 */
export function loadAcceleratorTable(
  file: string | URL = DEFAULT_ACCELERATOR_TABLE_URL,
): Accelerator[] {
  const rows = readCsvTable(file, COLUMNS, (record) => {
    const positive = (column: string): number => {
      const value = record.number(column);
      if (value <= 0) throw record.fail(column, `is ${value}, must be > 0`);
      return value;
    };
    const optionalPositive = (column: string): number | null => {
      const value = record.optionalNumber(column);
      if (value !== null && value <= 0) throw record.fail(column, `is ${value}, must be > 0`);
      return value;
    };
    const embodiedDeviceKg = record.number("embodied_device_kg");
    if (embodiedDeviceKg < 0) throw record.fail("embodied_device_kg", "is negative");
    const basisText = record.text("embodied_basis");
    let embodiedBasis: EmbodiedBasis;
    let embodiedSameAs: string | null = null;
    if (basisText.startsWith("same-as:")) {
      embodiedBasis = "same-as";
      embodiedSameAs = basisText.slice("same-as:".length).trim();
      if (embodiedSameAs === "") throw record.fail("embodied_basis", "names no row after same-as:");
    } else if (basisText === "published" || basisText === "in-host") {
      embodiedBasis = basisText;
    } else {
      throw record.fail(
        "embodied_basis",
        `is "${basisText}", expected published, in-host or same-as:<id>`,
      );
    }
    const trainingPowerW = optionalPositive("training_power_w");
    const trainingPowerSource = record.optionalText("training_power_source");
    if ((trainingPowerW === null) !== (trainingPowerSource === null)) {
      throw record.fail("training_power_source", "must be given exactly when training_power_w is");
    }
    const devicesPerHost = positive("devices_per_host");
    if (!Number.isInteger(devicesPerHost))
      throw record.fail("devices_per_host", "is not a whole number");
    return {
      id: record.text("id"),
      name: record.text("name"),
      vendor: record.text("vendor"),
      kind: record.oneOf("kind", ["gpu", "tpu", "cpu"] as const),
      aliases: record.list("aliases"),
      tdpW: optionalPositive("tdp_w"),
      tdpSource: record.text("tdp_source"),
      trainingPowerW,
      trainingPowerSource,
      peakDenseTflops: positive("peak_dense_tflops"),
      peakPrecision: record.oneOf("peak_precision", ["bf16", "fp16", "fp32"] as const),
      peakSource: record.text("peak_source"),
      memoryGB: optionalPositive("memory_gb"),
      memoryBandwidthGBPerS: positive("memory_bandwidth_gb_per_s"),
      specSource: record.text("spec_source"),
      embodiedDeviceKg,
      embodiedBasis,
      embodiedSameAs,
      embodiedSource: record.text("embodied_source"),
      hostEmbodiedKg: (() => {
        const value = record.number("host_embodied_kg");
        if (value < 0) throw record.fail("host_embodied_kg", "is negative");
        return value;
      })(),
      devicesPerHost,
      hostSource: record.text("host_source"),
      note: record.optionalText("note"),
      record,
    };
  });

  const ids = new Map(rows.map((row) => [row.id, row]));
  const keys = new Map<string, string>();
  for (const row of rows) {
    for (const name of [row.id, ...row.aliases]) {
      const key = lookupKey(name);
      const owner = keys.get(key);
      if (owner !== undefined && owner !== row.id) {
        throw row.record.fail("aliases", `"${name}" is also a name of ${owner}`);
      }
      keys.set(key, row.id);
    }
    if (row.embodiedSameAs !== null) {
      const target = ids.get(row.embodiedSameAs);
      if (target === undefined || target === row) {
        throw row.record.fail("embodied_basis", `same-as:${row.embodiedSameAs} is not another row`);
      }
    }
  }
  return rows.map(({ record: _record, ...row }) => row);
}

/** The form names are compared in: "A100-SXM4 80GB" → "a100sxm480gb". */
function lookupKey(name: string): string {
  return normalizeKey(name).replace(/ /g, "");
}

/** A loaded table with its name index. */
export interface AcceleratorCatalog {
  list(): Accelerator[];
  /** The row named `name` (id or alias, loosely spelled), or null. */
  find(name: string): Accelerator | null;
  /** Like {@link find}, but unknown names throw `USAGE` with close names in the hint. */
  resolve(name: string): Accelerator;
  /** Up to `limit` (default 3) ids close to `name`, best first. */
  suggest(name: string, limit?: number): string[];
}

/** A catalog over the table in `file` (default: the package's). */
export function createAcceleratorCatalog(
  file: string | URL = DEFAULT_ACCELERATOR_TABLE_URL,
): AcceleratorCatalog {
  const rows = loadAcceleratorTable(file);
  const byKey = new Map<string, Accelerator>();
  for (const row of rows) {
    for (const name of [row.id, ...row.aliases]) byKey.set(lookupKey(name), row);
  }
  const candidates = rows.map((row) => ({ code: row.id, keys: [row.id, ...row.aliases] }));
  const suggest = (name: string, limit = 3): string[] => suggestClosest(name, candidates, limit);
  const find = (name: string): Accelerator | null => {
    const row = byKey.get(lookupKey(name));
    return row === undefined ? null : copy(row);
  };
  return {
    list: () => rows.map(copy),
    find,
    suggest,
    resolve: (name) => {
      const row = find(name);
      if (row !== null) return row;
      const close = suggest(name, 3);
      throw new WattprintError("USAGE", `unknown hardware "${name.trim()}"`, {
        hint:
          close.length > 0
            ? `did you mean ${close.join(", ")}? run \`wattprint estimate hardware\` for the list`
            : "run `wattprint estimate hardware` for the accepted names",
      });
    },
  };
}

function copy(row: Accelerator): Accelerator {
  return { ...row, aliases: [...row.aliases] };
}

let packageCatalog: AcceleratorCatalog | undefined;

function defaultCatalog(): AcceleratorCatalog {
  packageCatalog ??= createAcceleratorCatalog();
  return packageCatalog;
}

/** Every row of the package's table, in table order. */
export function listAccelerators(): Accelerator[] {
  return defaultCatalog().list();
}

/** The package table's row named `name` (id or alias), or null. */
export function findAccelerator(name: string): Accelerator | null {
  return defaultCatalog().find(name);
}

/**
 * The package table's row named `name`.
 * @throws WattprintError `USAGE` `unknown hardware "…"` with up to 3 close names in the hint.
 */
export function resolveAccelerator(name: string): Accelerator {
  return defaultCatalog().resolve(name);
}

/** Up to `limit` (default 3) ids of the package table close to `name`. */
export function suggestAccelerators(name: string, limit = 3): string[] {
  return defaultCatalog().suggest(name, limit);
}

/**
 * The average power an estimate assumes for one device: the measured training average
 * where one is published (TPU v2/v3, V100: Patterson et al. 2021), else the TDP, else
 * unknown (null).
 */
export function devicePower(accelerator: Accelerator): DevicePower {
  if (accelerator.trainingPowerW !== null) {
    return {
      powerW: accelerator.trainingPowerW,
      basis: "measured-training-average",
      source: accelerator.trainingPowerSource ?? "measured training average",
    };
  }
  if (accelerator.tdpW !== null) {
    return { powerW: accelerator.tdpW, basis: "tdp", source: `TDP: ${accelerator.tdpSource}` };
  }
  return { powerW: null, basis: "unknown", source: accelerator.tdpSource };
}
