/**
 * The label's JSON certificate: the figure, the rating and the scale it was rated on, and
 * every condition needed to run the protocol again and to judge the figure (hardware,
 * how each component's energy was obtained, software versions, date, model hash).
 */
import type { RunRecord } from "../record/run-record.js";
import type { LabelModelFile } from "./model-file.js";
import type { LabelProtocol, ProtocolMeasurement, RepeatMeasurement } from "./protocol.js";
import { RATING_RULE, rateEnergy, type LabelRating, type RatingBoundaries } from "./rating.js";
import type {
  LabelEnergySource,
  LabelHardware,
  LabelReference,
  ReferenceConditions,
} from "./reference-table.js";
import type { LabelSoftware } from "./software-versions.js";
import type { LabelTask } from "./tasks.js";

/** Version of the certificate's JSON layout (docs/label.md). Bump on breaking changes. */
export const LABEL_CERTIFICATE_SCHEMA_VERSION = 1;

/** Whether a rating compares like with like. */
export interface LabelComparability {
  /** Same CPU model, logical CPU count and GPUs as the reference measurement. */
  sameHardware: boolean;
  /** Same method and source for each counted component as the reference measurement. */
  sameEnergyMethods: boolean;
  /** Same protocol name, warm-up, queries per repeat, repeats and threads as the reference. */
  sameProtocol: boolean;
  /** What differs, in words; empty when all three hold. */
  notes: string[];
}

/** A label certificate (`<model>.<task>.label.json`). */
export interface LabelCertificate {
  certificateSchemaVersion: number;
  kind: "wattprint-energy-label";
  task: { name: string; description: string; valuesPerQuery: number; dataSource: string };
  /** Median over repeats of CPU + RAM energy per 1,000 queries, Wh. */
  energyWhPer1kQueries: number;
  /** The spread over repeats, Wh per 1,000 queries; `relativeRange` = (max − min) / median. */
  energySpread: {
    minWhPer1kQueries: number;
    maxWhPer1kQueries: number;
    relativeRange: number | null;
  };
  rating: LabelRating;
  scale: {
    levels: 5;
    best: 5;
    rule: string;
    /** Upper bounds of ratings 5, 4, 3, 2, Wh per 1,000 queries. */
    boundariesWhPer1kQueries: RatingBoundaries;
    referenceTable: string;
    referenceModels: number;
    /** When, on what and how the reference set was measured. */
    reference: Pick<
      ReferenceConditions,
      "measuredAt" | "hardware" | "energySources" | "software"
    > & {
      protocol: LabelProtocol;
    };
    comparability: LabelComparability;
  };
  protocol: LabelProtocol;
  repeats: RepeatMeasurement[];
  model: {
    /** The path as given on the command line. */
    path: string;
    fileName: string;
    sha256: string;
    sizeBytes: number;
    inputName: string;
    inputShape: (number | string)[] | null;
  };
  conditions: {
    /** When the measurement started (ISO 8601). */
    measuredAt: string;
    durationS: number;
    hardware: LabelHardware;
    energy: {
      /** Components whose energy the figure counts. */
      counted: string[];
      sources: LabelEnergySource[];
      unmeasured: RunRecord["unmeasured"];
      /** The tracker's own warnings (modelled energy, assumptions). */
      trackerWarnings: string[];
    };
    software: LabelSoftware;
  };
  /** The command that measures the same thing again. */
  rerun: string;
  warnings: string[];
}

/** Inputs of {@link buildLabelCertificate}. */
export interface CertificateInputs {
  task: LabelTask;
  model: LabelModelFile;
  measurement: ProtocolMeasurement;
  reference: LabelReference;
  software: LabelSoftware;
}

/** Assembles the certificate and rates the figure against the reference. */
export function buildLabelCertificate(inputs: CertificateInputs): LabelCertificate {
  const { task, model, measurement, reference, software } = inputs;
  const protocol = measurement.protocol;
  const run = measurement.run;
  const hardware = hardwareOf(run);
  const energySources = energySourcesOf(run, measurement.countedComponents);
  const comparability = compareWithReference(
    { hardware, energySources, protocol },
    reference.conditions,
  );
  const warnings = [...measurement.warnings];
  if (comparability.notes.length > 0) {
    warnings.push(
      `the rating is indicative only: ${comparability.notes.join("; ")} (ratings are comparable only on the reference hardware and protocol)`,
    );
  }
  return {
    certificateSchemaVersion: LABEL_CERTIFICATE_SCHEMA_VERSION,
    kind: "wattprint-energy-label",
    task: {
      name: task.name,
      description: task.description,
      valuesPerQuery: task.valuesPerQuery,
      dataSource: task.dataSource,
    },
    energyWhPer1kQueries: measurement.energyWhPer1kQueries,
    energySpread: {
      minWhPer1kQueries: measurement.minWhPer1kQueries,
      maxWhPer1kQueries: measurement.maxWhPer1kQueries,
      relativeRange: measurement.relativeRange,
    },
    rating: rateEnergy(measurement.energyWhPer1kQueries, reference.boundaries),
    scale: {
      levels: 5,
      best: 5,
      rule: RATING_RULE,
      boundariesWhPer1kQueries: reference.boundaries,
      referenceTable: `data/label/reference-${task.name}.csv`,
      referenceModels: reference.rows.length,
      reference: {
        measuredAt: reference.conditions.measuredAt,
        hardware: reference.conditions.hardware,
        energySources: reference.conditions.energySources,
        software: reference.conditions.software,
        protocol: reference.conditions.protocol,
      },
      comparability,
    },
    protocol,
    repeats: measurement.repeats,
    model: {
      path: model.path,
      fileName: model.fileName,
      sha256: model.sha256,
      sizeBytes: model.sizeBytes,
      inputName: model.input.name,
      inputShape: model.input.shape,
    },
    conditions: {
      measuredAt: run.startedAt,
      durationS: run.durationS,
      hardware,
      energy: {
        counted: measurement.countedComponents,
        sources: energySources,
        unmeasured: run.unmeasured,
        trackerWarnings: run.warnings,
      },
      software,
    },
    rerun: rerunCommand(model.path, protocol),
    warnings,
  };
}

/** The hardware part of a run's machine facts (the hostname is left out). */
export function hardwareOf(run: RunRecord): LabelHardware {
  return {
    cpuModel: run.machine.cpuModel,
    cpuCount: run.machine.cpuCount,
    memoryTotalBytes: run.machine.memoryTotalBytes,
    gpus: run.machine.gpus.map((gpu) => ({ index: gpu.index, name: gpu.name })),
  };
}

/** The run's sources for the counted components. */
export function energySourcesOf(run: RunRecord, counted: readonly string[]): LabelEnergySource[] {
  return run.sources
    .filter((source) => counted.includes(source.component))
    .map((source) => ({
      component: source.component,
      method: source.method,
      source: source.source,
      attribution: source.attribution,
      notes: source.notes,
    }));
}

/** What differs between a measurement's conditions and the reference's. */
export function compareWithReference(
  measured: {
    hardware: LabelHardware;
    energySources: LabelEnergySource[];
    protocol: LabelProtocol;
  },
  reference: Pick<ReferenceConditions, "hardware" | "energySources" | "protocol">,
): LabelComparability {
  const notes: string[] = [];
  const describeHardware = (hardware: LabelHardware) =>
    `${hardware.cpuModel} ×${hardware.cpuCount}${hardware.gpus.length > 0 ? ` + ${hardware.gpus.map((gpu) => gpu.name).join(", ")}` : ""}`;
  const sameHardware =
    measured.hardware.cpuModel === reference.hardware.cpuModel &&
    measured.hardware.cpuCount === reference.hardware.cpuCount &&
    measured.hardware.gpus.map((gpu) => gpu.name).join("|") ===
      reference.hardware.gpus.map((gpu) => gpu.name).join("|");
  if (!sameHardware) {
    notes.push(
      `measured on ${describeHardware(measured.hardware)}, the reference on ${describeHardware(reference.hardware)}`,
    );
  }
  const methods = (sources: LabelEnergySource[]) =>
    sources
      .map((source) => `${source.component}: ${source.method} (${source.source})`)
      .sort()
      .join("; ");
  const sameEnergyMethods = methods(measured.energySources) === methods(reference.energySources);
  if (!sameEnergyMethods) {
    notes.push(
      `energy obtained as ${methods(measured.energySources) || "nothing"}, the reference's as ${methods(reference.energySources) || "nothing"}`,
    );
  }
  const protocolKey = (protocol: LabelProtocol) =>
    `${protocol.name}, warm-up ${protocol.warmupQueries}, ${protocol.repeats} × ${protocol.queriesPerRepeat} queries, ${protocol.intraOpThreads} thread(s)`;
  const sameProtocol = protocolKey(measured.protocol) === protocolKey(reference.protocol);
  if (!sameProtocol) {
    notes.push(
      `protocol ${protocolKey(measured.protocol)}; the reference used ${protocolKey(reference.protocol)}`,
    );
  }
  return { sameHardware, sameEnergyMethods, sameProtocol, notes };
}

/** `wattprint label --model … --task … --queries … --repeats … --warmup …`. */
export function rerunCommand(modelPath: string, protocol: LabelProtocol): string {
  const quote = (text: string) =>
    /^[\w./:@+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
  return [
    "wattprint label",
    `--model ${quote(modelPath)}`,
    `--task ${protocol.task}`,
    `--queries ${protocol.queriesPerRepeat}`,
    `--repeats ${protocol.repeats}`,
    `--warmup ${protocol.warmupQueries}`,
  ].join(" ");
}
