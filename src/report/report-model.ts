/**
 * The report model: one normalised view of a run or an estimate that every report format
 * (HTML, Markdown, JSON, model card) renders. It echoes every figure with where it came
 * from, keeps unknowns as null with a reason, and adds the embodied share, the SCI score
 * and everyday equivalents when asked.
 */
import {
  embodiedShare,
  computeSci,
  type EmbodiedHardware,
  type EmbodiedShare,
} from "../carbon/sci.js";
import type { FunctionalUnit, SciResult } from "../carbon/sci.js";
import { WattprintError } from "../errors.js";
import { resolveRegion } from "../grid/regions.js";
import type {
  EnergyBreakdownJ,
  PhaseRecord,
  RunRecord,
  SourceRecord,
  TimelineSample,
} from "../record/run-record.js";
import { J_PER_KWH } from "../units/energy.js";
import { wattprintVersion } from "../version.js";
import { computeEquivalents, type Equivalent, type EquivalentFactor } from "./equivalents.js";
import { describeInput, type EstimateDocument, type ReportInput } from "./load-input.js";

/** Version of the JSON report layout (`--format json`); bumped on breaking changes. */
export const REPORT_SCHEMA_VERSION = 1;

/** One interval of a time-resolved intensity series to draw. */
export interface ReportIntensityPoint {
  /** UTC epoch ms, start of the interval (inclusive). */
  startMs: number;
  /** UTC epoch ms, end of the interval (exclusive). */
  endMs: number;
  intensityGPerKWh: number;
}

/** Options of {@link buildReportModel}. */
export interface ReportOptions {
  /**
   * Hardware whose embodied emissions the job takes a share of (TE, EL, RS). A run reserves
   * it for its duration; an estimate for its device-hours (TE is then per device).
   */
  embodied?: EmbodiedHardware;
  /** Compute the SCI per this functional unit and count (R). */
  functionalUnit?: { unit: FunctionalUnit; count: number };
  /** A time-resolved intensity series to draw instead of the run's constant figure. */
  intensitySeries?: { points: ReportIntensityPoint[]; source: string };
  /** HF model cards: "pre-training" or "fine-tuning"; omitted when not given. */
  trainingType?: "pre-training" | "fine-tuning";
  /** Where the work ran, in words, overriding the region's name ("Paris, France"). */
  location?: string;
  /** Time stamped on the report; default now. */
  generatedAt?: Date;
  /** The equivalents table; default the package's. */
  equivalentFactors?: readonly EquivalentFactor[];
}

/** One assumption or input that drove the result, with its source. */
export interface ReportAssumption {
  name: string;
  value: string | number | boolean | null;
  /** Unit of `value`; null when it has none. */
  unit: string | null;
  source: string | null;
}

/** The normalised report; `--format json` prints it as is. */
export interface ReportModel {
  reportSchemaVersion: number;
  /** ISO time the report was made. */
  generatedAt: string;
  /** "wattprint 0.1.0". */
  generator: string;
  kind: "run" | "estimate";
  /** Where the input was read. */
  origin: string;
  /** "run 1f2e3d4c (python train.py)". */
  title: string;
  /** Run id; null for estimates. */
  runId: string | null;
  status: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** Wall time of the run, seconds; for an estimate its device-hours are in `assumptions`. */
  durationS: number | null;
  energy: {
    /** Energy of the work, joules: attributed to the tracked tree (runs) or estimated. */
    totalJ: number;
    /** What `totalJ` is and where it comes from. */
    basis: string;
    /** Per component, joules; null for estimates. */
    byComponentJ: EnergyBreakdownJ | null;
    /** The whole machine over the same time, joules; null for estimates. */
    machineTotalJ: number | null;
    shareOfMachine: number | null;
  };
  operational: {
    /** Operational emissions, grams CO2e (energy × PUE × intensity); null when unknown. */
    co2eG: number | null;
    reason: string | null;
    /** The whole machine's, grams CO2e; null for estimates. */
    machineCo2eG: number | null;
  };
  intensity: {
    /** Location-based intensity used, gCO2e/kWh; null when unknown. */
    intensityGPerKWh: number | null;
    region: string | null;
    zone: string | null;
    /** Who published it, licence, year. */
    source: string | null;
    year: number | null;
    signal: "average" | "marginal" | null;
    /** True when a default or coarser figure stood in. */
    fallback: boolean | null;
    /** Time-resolved series when one was given; null: the constant above applies. */
    series: ReportIntensityPoint[] | null;
    seriesSource: string | null;
  };
  pue: { value: number | null; source: string | null };
  embodied: {
    /** Embodied share, grams CO2e; null when unknown. */
    co2eG: number | null;
    reason: string | null;
    /** The amortisation (TE, TiR/EL, RR/ToR) when computed here. */
    share: EmbodiedShare | null;
    source: string | null;
  };
  /** Operational + embodied, grams CO2e; null when either is unknown. */
  totalCo2eG: number | null;
  /** "France (FR)", for statements and model cards; null when unknown. */
  location: string | null;
  /** "2 × NVIDIA H100 80GB HBM3", "AMD EPYC 7763 (128 logical CPUs)". */
  hardware: string[];
  trainingType: "pre-training" | "fine-tuning" | null;
  phases: PhaseRecord[];
  sources: SourceRecord[];
  unmeasured: { component: string; reason: string }[];
  warnings: string[];
  assumptions: ReportAssumption[];
  timeline: { available: boolean; samples: number; note: string | null };
  sci: SciResult | null;
  equivalents: Equivalent[];
  /** wattprint version that measured the run or made the estimate, when known. */
  producedBy: string | null;
}

/**
 * Builds the report model of `input`.
 * @throws WattprintError `USAGE` when options contradict the input (embodied hardware for
 *   an estimate that already has embodied emissions, or none of its device-hours);
 *   `BAD_INPUT` for invalid embodied or functional-unit figures.
 */
export function buildReportModel(input: ReportInput, options: ReportOptions = {}): ReportModel {
  const base =
    input.kind === "run" ? fromRun(input.run, options) : fromEstimate(input.estimate, options);
  const title = describeInput(input);
  const timeline =
    input.kind === "run"
      ? {
          available: input.samples !== null && input.samples.length > 0,
          samples: input.samples?.length ?? 0,
          note: input.samplesNote,
        }
      : { available: false, samples: 0, note: "an estimate has no timeline" };
  const series =
    options.intensitySeries ??
    (input.kind === "run" ? seriesFromSamples(input.run, input.samples) : undefined);
  const intensity = {
    ...base.intensity,
    series: series === undefined ? null : series.points,
    seriesSource: series === undefined ? null : series.source,
  };
  const totalCo2eG =
    base.operational.co2eG !== null && base.embodied.co2eG !== null
      ? base.operational.co2eG + base.embodied.co2eG
      : null;
  const sci =
    options.functionalUnit === undefined
      ? null
      : computeSci({
          ...base.sciEnergy,
          embodied:
            base.embodied.co2eG === null
              ? null
              : { embodiedCo2eG: base.embodied.co2eG, source: base.embodied.source ?? "" },
          embodiedUnknownReason: base.embodied.reason ?? undefined,
          functionalUnit: options.functionalUnit.unit,
          functionalUnits: options.functionalUnit.count,
        });
  const assumptions = [...base.assumptions];
  if (base.embodied.share !== null) assumptions.push(...embodiedAssumptions(base.embodied.share));
  if (sci !== null) {
    assumptions.push({
      name: "functional units (R)",
      value: sci.functionalUnits,
      unit: sci.functionalUnit,
      source: "user",
    });
  }
  return {
    reportSchemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: (options.generatedAt ?? new Date()).toISOString(),
    generator: `wattprint ${wattprintVersion()}`,
    kind: input.kind,
    origin: input.origin,
    title,
    runId: base.runId,
    status: base.status,
    startedAt: base.startedAt,
    endedAt: base.endedAt,
    durationS: base.durationS,
    energy: base.energy,
    operational: base.operational,
    intensity,
    pue: base.pue,
    embodied: base.embodied,
    totalCo2eG,
    location: options.location ?? base.location,
    hardware: base.hardware,
    trainingType: options.trainingType ?? null,
    phases: base.phases,
    sources: base.sources,
    unmeasured: base.unmeasured,
    warnings: base.warnings,
    assumptions,
    timeline,
    sci,
    equivalents: computeEquivalents(
      base.energy.totalJ,
      base.operational.co2eG,
      options.equivalentFactors,
    ),
    producedBy: base.producedBy,
  };
}

type BaseModel = Omit<
  ReportModel,
  | "reportSchemaVersion"
  | "generatedAt"
  | "generator"
  | "kind"
  | "origin"
  | "title"
  | "intensity"
  | "totalCo2eG"
  | "trainingType"
  | "timeline"
  | "sci"
  | "equivalents"
> & {
  intensity: Omit<ReportModel["intensity"], "series" | "seriesSource">;
  /** What the SCI's O is computed from. */
  sciEnergy: {
    energyJ: number | null;
    intensityGPerKWh: number | null;
    pue: number | null;
    operationalCo2eG: number | null;
    operationalSource: string;
  };
};

function fromRun(run: RunRecord, options: ReportOptions): BaseModel {
  const source = run.intensitySource;
  const totalJ = run.energyJ.total;
  if (totalJ === null) {
    throw new WattprintError(
      "BAD_INPUT",
      `run ${run.id.slice(0, 8)} has no energy: nothing was measured`,
      {
        hint: "run `wattprint doctor` to see what can be measured here, then track the run again",
      },
    );
  }
  const embodied =
    options.embodied === undefined
      ? {
          co2eG: null,
          reason:
            "a run record holds no embodied emissions; give the hardware's (--embodied-kg) to include them",
          share: null,
          source: null,
        }
      : (() => {
          const share = embodiedShare(options.embodied, run.durationS);
          return { co2eG: share.embodiedCo2eG, reason: null, share, source: share.source };
        })();
  const assumptions: ReportAssumption[] = [
    {
      name: "grid carbon intensity (location-based)",
      value: run.intensityGPerKWh,
      unit: "gCO2e/kWh",
      source: `${source.source}; zone ${source.zone}${source.year === null ? "" : `, ${source.year}`}, ${source.signal}${source.fallback ? ", fallback" : ""}${source.series ? `; per interval from ${source.series.source}` : ""}`,
    },
    { name: "PUE", value: run.pue, unit: "ratio", source: run.pueSource },
  ];
  for (const channel of run.sources) {
    assumptions.push({
      name: `${channel.component} energy, ${channel.label}`,
      value: channel.attributedEnergyJ,
      unit: "J",
      source: `${channel.method} ${channel.source}; attribution: ${channel.attribution}`,
    });
  }
  if (run.cpuSplitJ !== null) {
    assumptions.push({
      name: "CPU idle energy (attributed to nobody)",
      value: run.cpuSplitJ.idleJ,
      unit: "J",
      source: run.cpuSplitJ.idleSource,
    });
  }
  return {
    runId: run.id,
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    durationS: run.durationS,
    energy: {
      totalJ,
      basis: "attributed to the tracked processes, measured",
      byComponentJ: run.energyJ,
      machineTotalJ: run.machineEnergyJ.total,
      shareOfMachine: run.shareOfMachine,
    },
    operational: {
      co2eG: run.co2eG,
      reason: run.co2eG === null ? "the run record has no CO2e" : null,
      machineCo2eG: run.machineCo2eG,
    },
    intensity: {
      intensityGPerKWh: run.intensityGPerKWh,
      region: run.region,
      zone: source.zone,
      source: source.source,
      year: source.year,
      signal: source.signal,
      fallback: source.fallback,
    },
    pue: { value: run.pue, source: run.pueSource },
    embodied,
    location: regionName(run.region),
    hardware: runHardware(run),
    phases: run.phases,
    sources: run.sources,
    unmeasured: run.unmeasured,
    warnings: run.warnings,
    assumptions,
    producedBy: `wattprint ${run.trackerVersion}`,
    sciEnergy: {
      energyJ: run.energyJ.total,
      intensityGPerKWh: run.intensityGPerKWh,
      pue: run.pue,
      operationalCo2eG: run.co2eG,
      operationalSource: "the run's CO2e: E × PUE × I summed over its sampling intervals",
    },
  };
}

function fromEstimate(estimate: EstimateDocument, options: ReportOptions): BaseModel {
  let embodied: BaseModel["embodied"];
  if (estimate.embodiedCo2eKg !== null) {
    if (options.embodied !== undefined) {
      throw new WattprintError(
        "USAGE",
        "the estimate already holds embodied emissions (embodiedCo2eKg)",
        { hint: "drop --embodied-kg, or estimate again without embodied emissions" },
      );
    }
    embodied = {
      co2eG: estimate.embodiedCo2eKg * 1000,
      reason: null,
      share: null,
      source: "the estimate (embodiedCo2eKg)",
    };
  } else if (options.embodied !== undefined) {
    if (estimate.deviceHours === null) {
      throw new WattprintError(
        "USAGE",
        "cannot amortise embodied emissions: the estimate has no deviceHours",
        { hint: "drop --embodied-kg, or give an estimate that states its device-hours" },
      );
    }
    const share = embodiedShare(options.embodied, estimate.deviceHours * 3600);
    embodied = { co2eG: share.embodiedCo2eG, reason: null, share, source: share.source };
  } else {
    embodied = {
      co2eG: null,
      reason: "the estimate gives no embodied emissions (embodiedCo2eKg is null)",
      share: null,
      source: null,
    };
  }
  // The estimator's own fields first; a generic estimate's assumptions otherwise.
  const intensityAssumption = findAssumption(
    estimate,
    (a) => /g\s*co2e?\s*\/\s*kwh/i.test(a.unit ?? "") && typeof a.value === "number",
  );
  const pueAssumption = findAssumption(
    estimate,
    (a) => /\bpue\b/i.test(a.name) && typeof a.value === "number",
  );
  const regionAssumption = findAssumption(
    estimate,
    (a) => /region|location|zone/i.test(a.name) && typeof a.value === "string",
  );
  const intensityValue =
    estimate.intensityGPerKWh ??
    (typeof intensityAssumption?.value === "number" ? intensityAssumption.value : null);
  const pueValue =
    estimate.pue ?? (typeof pueAssumption?.value === "number" ? pueAssumption.value : null);
  const regionValue =
    estimate.region ??
    (typeof regionAssumption?.value === "string" ? regionAssumption.value : null);
  const hardware =
    estimate.hardwareName !== null
      ? [
          estimate.devices !== null && estimate.devices > 1
            ? `${estimate.devices} × ${estimate.hardwareName}`
            : estimate.hardwareName,
        ]
      : estimate.assumptions
          .filter((a) => /hardware|gpu|accelerator|device type/i.test(a.name))
          .filter((a) => typeof a.value === "string")
          .map((a) => String(a.value));
  const version = estimate.raw.wattprintVersion ?? estimate.raw.version;
  const assumptions: ReportAssumption[] = estimate.assumptions.map((a) => ({ ...a }));
  if (estimate.deviceHours !== null && !assumptions.some((a) => /device.?hours/i.test(a.name))) {
    assumptions.unshift({
      name: "device-hours",
      value: estimate.deviceHours,
      unit: "h",
      source: "the estimate",
    });
  }
  const co2eG = estimate.co2eKg === null ? null : estimate.co2eKg * 1000;
  return {
    runId: null,
    status: null,
    startedAt: null,
    endedAt: null,
    durationS: null,
    energy: {
      totalJ: estimate.energyKWh * J_PER_KWH,
      basis:
        estimate.itEnergyKWh !== null && estimate.itEnergyKWh !== estimate.energyKWh
          ? "estimated facility energy (IT energy × PUE), see the assumptions"
          : "estimated, see the assumptions",
      byComponentJ: null,
      machineTotalJ: null,
      shareOfMachine: null,
    },
    operational: {
      co2eG,
      reason: co2eG === null ? "the estimate gives no CO2e (co2eKg is null)" : null,
      machineCo2eG: null,
    },
    intensity: {
      intensityGPerKWh: intensityValue,
      region: regionValue,
      zone: null,
      source: intensityValue === null ? null : (intensityAssumption?.source ?? "the estimate"),
      year: null,
      signal: intensityValue === null ? null : "average",
      fallback: null,
    },
    pue: {
      value: pueValue,
      source: pueValue === null ? null : (pueAssumption?.source ?? "the estimate"),
    },
    embodied,
    location: regionValue === null ? null : regionName(regionValue),
    hardware,
    phases: [],
    sources: [],
    unmeasured: [],
    warnings: estimate.warnings,
    assumptions,
    producedBy: typeof version === "string" ? `wattprint ${version}` : null,
    sciEnergy: {
      energyJ: null,
      intensityGPerKWh: null,
      pue: null,
      operationalCo2eG: co2eG,
      operationalSource: "the estimate's CO2e (co2eKg)",
    },
  };
}

/**
 * The intensity booked per sampling interval, when the run used a time-resolved series
 * (`intensitySource.series`); undefined when the annual figure applied throughout or the
 * samples do not carry intensities (stored by an older wattprint).
 */
function seriesFromSamples(
  run: RunRecord,
  samples: readonly TimelineSample[] | null,
): ReportOptions["intensitySeries"] {
  const series = run.intensitySource.series;
  if (series === undefined || series === null || samples === null) return undefined;
  const points: ReportIntensityPoint[] = [];
  for (const sample of samples) {
    const value = (sample as { intensityGPerKWh?: unknown }).intensityGPerKWh;
    const endMs = Date.parse(sample.t);
    if (typeof value !== "number" || !Number.isFinite(value) || !Number.isFinite(endMs)) continue;
    points.push({ startMs: endMs - sample.intervalS * 1000, endMs, intensityGPerKWh: value });
  }
  if (points.length === 0) return undefined;
  const covered =
    series.coveredEnergyShare === null
      ? ""
      : `; ${Math.round(series.coveredEnergyShare * 1000) / 10}% of the energy covered, the rest at the annual figure`;
  return {
    points,
    source: `${series.source} (${series.signal}, zone ${series.zone}${covered})`,
  };
}

function findAssumption(
  estimate: EstimateDocument,
  test: (assumption: EstimateDocument["assumptions"][number]) => boolean,
) {
  return estimate.assumptions.find(test);
}

function embodiedAssumptions(share: EmbodiedShare): ReportAssumption[] {
  return [
    {
      name: "embodied emissions of the hardware (TE)",
      value: share.totalEmbodiedG / 1000,
      unit: "kgCO2e",
      source: share.source,
    },
    {
      name: "time share (TiR / EL)",
      value: share.timeShare,
      unit: `ratio: ${share.timeReservedS} s of a ${share.expectedLifespanS / (365 * 24 * 3600)}-year lifespan`,
      source: share.source,
    },
    {
      name: "resource share (RR / ToR)",
      value: share.resourceShare,
      unit: "ratio",
      source: share.source,
    },
  ];
}

/** "France (FR)"; the bare code when the region tables do not know it. */
function regionName(code: string): string {
  try {
    const region = resolveRegion(code);
    return region.name === region.code ? region.code : `${region.name} (${region.code})`;
  } catch {
    return code;
  }
}

function runHardware(run: RunRecord): string[] {
  const counts = new Map<string, number>();
  for (const gpu of run.machine.gpus) counts.set(gpu.name, (counts.get(gpu.name) ?? 0) + 1);
  const gpus = [...counts].map(([name, count]) => `${count} × ${name}`);
  const cpu = `${run.machine.cpuModel} (${run.machine.cpuCount} logical CPUs)`;
  return [...gpus, cpu];
}
