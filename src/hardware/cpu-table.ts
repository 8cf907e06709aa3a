/**
 * The CPU table (data/hardware/cpus.csv) and the lookup from a CPU model string, as
 * /proc/cpuinfo or `os.cpus()` report it, to a TDP with its provenance. Every result says
 * how its TDP was obtained: an exact table row, a family default per logical CPU, or the
 * generic default. Method: docs/power-models/cpu.md; table sources: data/SOURCES.md.
 */
import { readCsvTable } from "../grid/load-table.js";
import { WattprintError, describeError } from "../errors.js";

/** One row of data/hardware/cpus.csv. */
export interface CpuEntry {
  /** Marketing name: "AMD EPYC 7763". */
  name: string;
  /** "Intel", "AMD", "Ampere". */
  vendor: string;
  /** Table family: "AMD EPYC", "Intel Xeon", "Intel Core (mobile)", ... */
  family: string;
  /** The model number matched against the CPU string: "7763", "8480+", "E5-2686v4". */
  model: string;
  /** Physical cores per package. */
  cores: number;
  /** Hardware threads (logical CPUs) per package. */
  threads: number;
  /** Thermal design power of one package, watts (Intel 12th gen+: Processor Base Power). */
  tdpW: number;
  /** Key of the source in data/SOURCES.md: "intel-ark", "amd-product", "ampere-altra-2020", "cloud-custom". */
  sourceId: string;
  /**
   * null when the vendor publishes the TDP. For custom cloud parts whose TDP is not
   * published: the model of the public part whose TDP stands in for it.
   */
  sameAs: string | null;
}

/** How a {@link CpuMatch} found its TDP. */
export type CpuMatchKind = "exact" | "family" | "none";

/** The result of {@link matchCpu}: a TDP and how it was obtained. */
export interface CpuMatch {
  /** The table row, for exact matches; null otherwise. */
  entry: CpuEntry | null;
  match: CpuMatchKind;
  /** TDP attributed to the logical CPUs visible to this machine, watts. */
  tdpW: number;
  /** How `tdpW` was obtained, in words, with the figures used. */
  tdpSource: string;
  /** What was assumed, for the run's warnings; null when the TDP is a published figure used as is. */
  assumption: string | null;
  /** Short provenance label: "AMD EPYC 7763", "AMD EPYC (family default)", "unknown CPU (generic default)". */
  label: string;
  /** The family recognised in the name ("AMD EPYC"), or null. */
  family: string | null;
  /** The model string with marketing noise removed: "Intel Xeon Platinum 8375C". */
  normalizedName: string;
  /** How an exact match's package TDP was scaled to the visible CPUs; null when not scaled. */
  scaling: string | null;
}

/** A per-logical-CPU TDP default for CPUs of a known family that are not in the table. */
export interface CpuFamilyDefault {
  /** Family name as shown to users: "AMD EPYC". */
  family: string;
  /** Tested against the normalised model string. */
  pattern: RegExp;
  /** Table families whose rows may match exactly once this family is recognised. */
  tableFamilies: readonly string[];
  /** Table families whose rows the default is drawn from. */
  defaultFrom: readonly string[];
  /** Only rows with at least this many cores count towards the default (0: all rows). */
  minCores: number;
  /** TDP per logical CPU, watts: the median over the rows selected above, rounded to 0.1 W. */
  tdpWPerThread: number;
  /** Why this selection. */
  basis: string;
}

/** Where the table ships: data/hardware/cpus.csv, two folders above this module (src/ or dist/). */
export const DEFAULT_CPU_TABLE_URL = new URL("../../data/hardware/cpus.csv", import.meta.url);

const SERVER_BASIS =
  "median TDP per thread of the table's rows of this family with 32 cores or more: a CPU " +
  "whose exact model is hidden is almost always a cloud VM on a high-core-count part";
const CLIENT_BASIS = "median TDP per thread of the table's rows of this family";

/**
 * Family defaults, tried in this order against the normalised name (Threadripper before
 * Ryzen, mobile parts before desktop ones). Each figure is checked against the table by
 * test/hardware/cpu-table.test.ts.
 */
export const CPU_FAMILY_DEFAULTS: readonly CpuFamilyDefault[] = Object.freeze([
  {
    family: "AMD Ryzen Threadripper",
    pattern: /\bthreadripper\b/i,
    tableFamilies: ["AMD Ryzen Threadripper"],
    defaultFrom: ["AMD Ryzen Threadripper"],
    minCores: 0,
    tdpWPerThread: 4.1,
    basis: CLIENT_BASIS,
  },
  {
    family: "AMD Ryzen (mobile)",
    pattern: /\bryzen\b.*\b\d{4}(?:U|H|HS|HX)\b/i,
    tableFamilies: ["AMD Ryzen (mobile)", "AMD Ryzen"],
    defaultFrom: ["AMD Ryzen (mobile)"],
    minCores: 0,
    tdpWPerThread: 2.5,
    basis: CLIENT_BASIS,
  },
  {
    family: "AMD Ryzen",
    pattern: /\bryzen\b/i,
    tableFamilies: ["AMD Ryzen", "AMD Ryzen (mobile)"],
    defaultFrom: ["AMD Ryzen"],
    minCores: 0,
    tdpWPerThread: 5.4,
    basis: CLIENT_BASIS,
  },
  {
    family: "AMD EPYC",
    pattern: /\bepyc\b/i,
    tableFamilies: ["AMD EPYC"],
    defaultFrom: ["AMD EPYC"],
    minCores: 32,
    tdpWPerThread: 2.3,
    basis: SERVER_BASIS,
  },
  {
    family: "Intel Xeon",
    pattern: /\bxeon\b/i,
    tableFamilies: ["Intel Xeon"],
    defaultFrom: ["Intel Xeon"],
    minCores: 32,
    tdpWPerThread: 3.5,
    basis: SERVER_BASIS,
  },
  {
    family: "Intel Core (mobile)",
    pattern: /\b(?:i[3579]-\d{4,5}|ultra [3579] \d{3})(?:U|P|H|HX|HK|HS|V|G\d)\b/i,
    tableFamilies: ["Intel Core (mobile)", "Intel Core"],
    defaultFrom: ["Intel Core (mobile)"],
    minCores: 0,
    tdpWPerThread: 1.8,
    basis: CLIENT_BASIS,
  },
  {
    family: "Intel Core",
    pattern: /\bintel core\b|\bcore i[3579]\b|\bi[3579]-\d{4}/i,
    tableFamilies: ["Intel Core", "Intel Core (mobile)"],
    defaultFrom: ["Intel Core"],
    minCores: 0,
    tdpWPerThread: 6.1,
    basis: CLIENT_BASIS,
  },
  {
    family: "Arm Neoverse",
    pattern: /\bneoverse\b|\bgraviton|\baltra\b|\bampere\b/i,
    tableFamilies: ["Ampere Altra"],
    defaultFrom: ["Ampere Altra"],
    minCores: 0,
    tdpWPerThread: 2.2,
    basis:
      "median TDP per core of the table's Ampere Altra rows (Neoverse N1, one thread per core); " +
      "AWS publishes no TDP for Graviton",
  },
]);

/**
 * TDP per logical CPU for a CPU that is not recognised at all, watts: the median over the
 * table's AMD EPYC and Intel Xeon rows with 32 cores or more (3.125 W, rounded). Unnamed
 * CPUs ("Common KVM processor", "QEMU Virtual CPU") are cloud or hosting VMs on such parts.
 */
export const GENERIC_CPU_DEFAULT: Readonly<Omit<CpuFamilyDefault, "pattern">> = Object.freeze({
  family: "generic",
  tableFamilies: [],
  defaultFrom: ["AMD EPYC", "Intel Xeon"],
  minCores: 32,
  tdpWPerThread: 3.1,
  basis:
    "median TDP per thread of the table's AMD EPYC and Intel Xeon rows with 32 cores or more: " +
    "an unnamed CPU is almost always a VM on a server part",
});

const SOURCE_NAMES: Readonly<Record<string, string>> = {
  "intel-ark": "Intel ARK product specifications",
  "amd-product": "AMD product specifications",
  "ampere-altra-2020": "Ampere Altra product list, 2020",
  "cloud-custom": "custom cloud part, TDP not published",
};

/** Names QEMU gives its Intel CPU models: the host is a server, so these count as Xeon. */
const QEMU_INTEL_MODEL =
  /^Intel (?:Core|Xeon) Processor \(|\((?:Nehalem|Westmere|Sandy ?Bridge|Ivy ?Bridge|Haswell|Broadwell|Skylake|Cascadelake|Cooperlake|Icelake|Sapphire ?Rapids)/i;
/** Names that hide the vendor and model completely. */
const ANONYMOUS_VIRTUAL_CPU =
  /^(?:QEMU Virtual CPU|Common (?:32-bit )?KVM processor|KVM processor)/i;

let defaultTable: CpuEntry[] | null = null;

/**
 * Reads and checks a CPU table. Default: the table shipped in data/hardware/cpus.csv,
 * read once and cached.
 * @throws WattprintError `BAD_INPUT` naming the file and line of the first problem.
 */
export function loadCpuTable(file: string | URL = DEFAULT_CPU_TABLE_URL): CpuEntry[] {
  const isDefault = file === DEFAULT_CPU_TABLE_URL;
  if (isDefault && defaultTable !== null) return defaultTable;
  const columns = [
    "name",
    "vendor",
    "family",
    "model",
    "cores",
    "threads",
    "tdp_w",
    "source_id",
    "tdp_basis",
  ];
  const entries = readCsvTable(file, columns, (record) => {
    const cores = record.optionalInteger("cores");
    const threads = record.optionalInteger("threads");
    const tdpW = record.number("tdp_w");
    if (cores === null || cores < 1) throw record.fail("cores", "must be a whole number ≥ 1");
    if (threads === null || threads < cores)
      throw record.fail("threads", "must be a whole number ≥ cores");
    if (!(tdpW > 0)) throw record.fail("tdp_w", "must be above 0");
    const basis = record.text("tdp_basis");
    let sameAs: string | null = null;
    if (basis.startsWith("same-as:")) sameAs = basis.slice("same-as:".length).trim();
    else if (basis !== "published")
      throw record.fail("tdp_basis", `is "${basis}", expected published or same-as:<model>`);
    return {
      entry: {
        name: record.text("name"),
        vendor: record.text("vendor"),
        family: record.text("family"),
        model: record.text("model"),
        cores,
        threads,
        tdpW,
        sourceId: record.text("source_id"),
        sameAs,
      } satisfies CpuEntry,
      record,
    };
  });
  const byModel = new Map<string, CpuEntry>();
  for (const { entry, record } of entries) {
    const key = `${entry.family}|${entry.model.toLowerCase()}`;
    if (byModel.has(key))
      throw record.fail("model", `"${entry.model}" appears twice in ${entry.family}`);
    byModel.set(key, entry);
  }
  for (const { entry, record } of entries) {
    if (entry.sameAs === null) continue;
    const stand = byModel.get(`${entry.family}|${entry.sameAs.toLowerCase()}`);
    if (stand === undefined || stand.sameAs !== null) {
      throw record.fail(
        "tdp_basis",
        `names ${entry.sameAs}, which is not a published row of ${entry.family}`,
      );
    }
  }
  const table = entries.map(({ entry }) => entry);
  if (isDefault) defaultTable = table;
  return table;
}

/**
 * Removes marketing noise from a CPU model string, keeping the model number:
 * "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz" → "Intel Xeon Platinum 8375C";
 * "AMD EPYC 7763 64-Core Processor" → "AMD EPYC 7763"; "E5-2686 v4" → "E5-2686v4".
 */
export function normalizeCpuName(modelName: string): string {
  return modelName
    .replace(/\((?:R|TM)\)|®|™/gi, " ")
    .replace(/@\s*[\d.]+\s*[GM]Hz/gi, " ")
    .replace(/\s(?:with|w\/)\s+Radeon.*$/i, " ")
    .replace(/\b\d+-Cores?\b/gi, " ")
    .replace(/\b(?:CPU|Processor)\b/gi, " ")
    .replace(/(\S)\s+(v\d)\b/gi, "$1$2")
    .replace(/\s+/g, " ")
    .trim();
}

/** Options of {@link matchCpu}. */
export interface MatchCpuOptions {
  /**
   * Logical CPUs visible to this machine (a VM sees its vCPUs). Family and generic
   * defaults multiply their per-thread figure by it; exact matches scale by it (see
   * `virtualized`). Omitted: exact matches give whole packages, defaults one logical CPU.
   */
  logicalCpus?: number;
  /** Sockets, from /proc/cpuinfo "physical id"; used for bare metal only. */
  sockets?: number;
  /**
   * true in a VM (x86 "hypervisor" flag), false on bare metal, null or omitted when unknown.
   * Bare metal: the TDP of whole packages. Otherwise: the package TDP × logicalCpus / threads.
   */
  virtualized?: boolean | null;
  /** The table to search; default {@link loadCpuTable}(). */
  table?: readonly CpuEntry[];
}

/**
 * Finds the TDP for a CPU model string. Exact: a table row whose model number is in the
 * name (within the recognised family). Family: a recognised family with an unknown or
 * hidden model → the family's W per logical CPU × logical CPUs. None: the generic W per
 * logical CPU × logical CPUs. A broken shipped table gives the generic default with the
 * error in `assumption` rather than failing the run.
 * @throws WattprintError `BAD_INPUT` for a `logicalCpus` or `sockets` that is not a whole number ≥ 1.
 */
export function matchCpu(modelName: string, options: MatchCpuOptions = {}): CpuMatch {
  const { logicalCpus, sockets } = options;
  checkCount("logicalCpus", logicalCpus);
  checkCount("sockets", sockets);
  const raw = modelName.trim();
  const normalizedName = normalizeCpuName(raw);

  let table: readonly CpuEntry[];
  try {
    table = options.table ?? loadCpuTable();
  } catch (error) {
    return genericMatch(
      normalizedName,
      logicalCpus,
      `the CPU table could not be read (${describeError(error)}); `,
    );
  }

  if (normalizedName === "") {
    return genericMatch(normalizedName, logicalCpus, "the CPU has no model name; ");
  }
  if (ANONYMOUS_VIRTUAL_CPU.test(raw)) {
    return genericMatch(
      normalizedName,
      logicalCpus,
      `the CPU name "${raw}" hides the vendor and model (a virtual CPU); `,
    );
  }

  const qemuIntel = QEMU_INTEL_MODEL.test(raw);
  const family = qemuIntel
    ? CPU_FAMILY_DEFAULTS.find((candidate) => candidate.family === "Intel Xeon")
    : CPU_FAMILY_DEFAULTS.find((candidate) => candidate.pattern.test(normalizedName));
  if (family === undefined) {
    return genericMatch(normalizedName, logicalCpus, `the CPU "${raw}" is not recognised; `);
  }

  const found = qemuIntel ? null : findRow(table, family, normalizedName);
  if (found === null) {
    const threads = logicalCpus ?? 1;
    const tdpW = family.tdpWPerThread * threads;
    const why = qemuIntel
      ? `"${raw}" is a QEMU CPU model name, which hides the host CPU; the host is assumed to be an Intel Xeon server, so `
      : `"${normalizedName}" is not in the CPU table, so `;
    return {
      entry: null,
      match: "family",
      tdpW,
      tdpSource: `${family.family} family default: ${family.tdpWPerThread} W per logical CPU × ${threads} logical CPU${threads === 1 ? "" : "s"} = ${trim(tdpW)} W`,
      assumption:
        `${why}its TDP is assumed to be ${family.tdpWPerThread} W per logical CPU, the ${family.family} family default (${family.basis})` +
        (logicalCpus === undefined ? "; no CPU count was given, so one logical CPU" : ""),
      label: `${family.family} (family default)`,
      family: family.family,
      normalizedName,
      scaling: null,
    };
  }

  const { entry, note } = found;
  const scaled = scaleToVisibleCpus(entry, logicalCpus, sockets, options.virtualized ?? null);
  const source = SOURCE_NAMES[entry.sourceId] ?? entry.sourceId;
  const published =
    entry.sameAs === null
      ? `${entry.name}: ${entry.tdpW} W TDP per package (${source})`
      : `${entry.name}: ${entry.tdpW} W, the TDP of the ${entry.sameAs} (${source})`;
  return {
    entry,
    match: "exact",
    tdpW: scaled.tdpW,
    tdpSource: [published, note, scaled.scaling].filter((part) => part !== null).join("; "),
    assumption:
      entry.sameAs === null
        ? null
        : `the ${entry.name} is a custom cloud part whose TDP is not published; it is assumed to equal the TDP of the public ${entry.family} ${entry.sameAs} (${entry.tdpW} W, same core count)`,
    label: entry.name,
    family: family.family,
    normalizedName,
    scaling: scaled.scaling,
  };
}

function findRow(
  table: readonly CpuEntry[],
  family: CpuFamilyDefault,
  normalizedName: string,
): { entry: CpuEntry; note: string | null } | null {
  const tokens = normalizedName
    .split(" ")
    .map((token) => token.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9+]+$/g, "").toLowerCase())
    .filter((token) => /\d/.test(token));
  const rows = table.filter((entry) => family.tableFamilies.includes(entry.family));
  const byModel = new Map(rows.map((entry) => [entry.model.toLowerCase(), entry]));
  for (const token of tokens) {
    const entry = byModel.get(token);
    if (entry !== undefined) return { entry, note: null };
  }
  // An EPYC "P" part is the single-socket version of the same die at the same TDP.
  if (family.family === "AMD EPYC") {
    for (const token of tokens) {
      if (!/^[0-9][0-9a-z]{3}p$/.test(token)) continue;
      const entry = byModel.get(token.slice(0, -1));
      if (entry !== undefined) {
        const model = token.toUpperCase();
        return {
          entry,
          note: `the ${model} is the single-socket version of the ${entry.model}, same TDP`,
        };
      }
    }
  }
  return null;
}

function scaleToVisibleCpus(
  entry: CpuEntry,
  logicalCpus: number | undefined,
  sockets: number | undefined,
  virtualized: boolean | null,
): { tdpW: number; scaling: string | null } {
  if (logicalCpus === undefined || virtualized === false) {
    const packages =
      sockets ??
      (logicalCpus === undefined ? 1 : Math.max(1, Math.ceil(logicalCpus / entry.threads)));
    const why = logicalCpus === undefined ? "no CPU count given" : "bare metal";
    return {
      tdpW: entry.tdpW * packages,
      scaling: packages === 1 ? null : `${why}: ${packages} packages × ${entry.tdpW} W`,
    };
  }
  const tdpW = (entry.tdpW * logicalCpus) / entry.threads;
  if (logicalCpus === entry.threads) return { tdpW, scaling: null };
  const where =
    virtualized === true
      ? "a virtual machine sees a slice of the host's packages"
      : "virtualisation unknown, so the visible logical CPUs' share of the package";
  return {
    tdpW,
    scaling: `${logicalCpus} of ${entry.threads} threads per package visible (${where}): ${entry.tdpW} W × ${logicalCpus}/${entry.threads} = ${trim(tdpW)} W`,
  };
}

function genericMatch(
  normalizedName: string,
  logicalCpus: number | undefined,
  why: string,
): CpuMatch {
  const threads = logicalCpus ?? 1;
  const perThread = GENERIC_CPU_DEFAULT.tdpWPerThread;
  const tdpW = perThread * threads;
  return {
    entry: null,
    match: "none",
    tdpW,
    tdpSource: `generic default: ${perThread} W per logical CPU × ${threads} logical CPU${threads === 1 ? "" : "s"} = ${trim(tdpW)} W`,
    assumption:
      `${why}its TDP is assumed to be ${perThread} W per logical CPU, the generic default (${GENERIC_CPU_DEFAULT.basis})` +
      (logicalCpus === undefined ? "; no CPU count was given, so one logical CPU" : ""),
    label: "unknown CPU (generic default)",
    family: null,
    normalizedName,
    scaling: null,
  };
}

function checkCount(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 1) {
    throw new WattprintError("BAD_INPUT", `${name} must be a whole number ≥ 1, got ${value}`);
  }
}

function trim(value: number): string {
  return Number(value.toPrecision(4)).toString();
}
