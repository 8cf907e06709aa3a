/**
 * The ingestion wire format (`POST /api/v1/ingest`, documented in docs/openapi.yaml) and
 * its validation. A batch carries a tracker run's header (again in every batch, so any
 * replica can take any batch in any order), cumulative samples and, at the end, the final
 * state. Everything is cumulative since the tracker run started, so a batch sent twice or
 * out of order changes nothing: samples are keyed by (run, seq) and (run, device, seq).
 */
import type { Component, Method } from "../sensors/sensor.js";
import type { RunStatus } from "../record/run-record.js";
import {
  BodyErrors,
  array,
  isObject,
  isoTime,
  metrics,
  noExtraFields,
  nullableNumber,
  nullableString,
  number,
  object,
  oneOf,
  string,
  type Obj,
} from "./validate.js";

/** Version of the wire format; a batch must say it. */
export const WIRE_VERSION = 1;

/** Limits of one batch; larger ones are refused with 413 or 400 (split them). */
export const INGEST_LIMITS = {
  /** Samples per batch. */
  maxSamples: 1000,
  /** Devices per sample. */
  maxDevicesPerSample: 64,
  /** Device samples (Σ devices over samples) per batch. */
  maxDeviceSamples: 20_000,
  /** Arguments of a command. */
  maxCommandArgs: 256,
  /** Phases open in one sample. */
  maxPhases: 16,
  /** Metrics of a batch. */
  maxMetrics: 32,
} as const;

/** Ids and job keys: letters, digits and . _ : @ / + - (slurm:1234, prterun-node1-4242@1). */
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}$/;
const KEY_TEXT =
  "1–200 characters of letters, digits and . _ : @ / + - (starting with a letter or digit)";

/** What a tracker run is: a command tracked (`track`) or a whole host (`agent`). */
export type RunKind = "track" | "agent";

/** Who is sending: one tracker run (one node, one rank or one agent). */
export interface WireRunHeader {
  /** The tracker's local run id (its run store id). */
  id: string;
  kind: RunKind;
  /** The job the run belongs to (one job on many nodes); null: the run is its own job. */
  job: string | null;
  /** How many nodes the job should have (from the launcher), null when unknown. */
  expectedNodes: number | null;
  host: string;
  command: string[];
  startedAt: string;
  region: string;
  zone: string;
  pue: number;
  trackerVersion: string;
}

/** One device's cumulative energy since the tracker run started. */
export interface WireDevice {
  /** Stable within a host: "cpu|rapl:package-0|package-0". */
  id: string;
  component: Component;
  method: Method;
  source: string;
  label: string;
  /** Energy the device used (whole machine), joules, cumulative; null: not read yet. */
  machineEnergyJ: number | null;
  /** The part attributed to the tracked processes, joules, cumulative. */
  attributedEnergyJ: number | null;
  /** Mean power since the previous sample, watts; null on the first one. */
  powerW: number | null;
}

export interface WirePower {
  cpu: number | null;
  gpu: number | null;
  ram: number | null;
}

/** One sample of a tracker run; all energies and CO2e are cumulative since its start. */
export interface WireSample {
  seq: number;
  t: string;
  elapsedS: number;
  /** Attributed energy, joules. */
  energyJ: number | null;
  /** Machine energy over the measured components, joules. */
  machineEnergyJ: number | null;
  /** CO2e of the attributed energy, grams. */
  co2eG: number | null;
  /** Attributed power per component over the interval, watts. */
  powerW: WirePower;
  machinePowerW: WirePower;
  intensityGPerKWh: number | null;
  phases: string[];
  devices: WireDevice[];
}

/** How a tracker run ended. */
export interface WireFinal {
  status: Exclude<RunStatus, "running">;
  endedAt: string;
  exitCode: number | null;
  energyJ: number | null;
  machineEnergyJ: number | null;
  co2eG: number | null;
  /** The tracker's final run record (RunRecord), kept as given for the run page. */
  record: Obj | null;
}

/** One `POST /api/v1/ingest` body. */
export interface IngestBatch {
  version: typeof WIRE_VERSION;
  run: WireRunHeader;
  samples: WireSample[];
  final: WireFinal | null;
  /** Metrics reported for the job (accuracy...), merged into the job's. */
  metrics: Record<string, number> | null;
}

/** A checked batch with parsed times, or what is wrong with it. */
export type IngestValidation =
  | {
      ok: true;
      batch: IngestBatch;
      startedMs: number;
      sampleMs: number[];
      endedMs: number | null;
      deviceSamples: number;
    }
  | { ok: false; errors: string[]; tooLarge: boolean };

const COMPONENTS: readonly Component[] = ["cpu", "gpu", "ram"];
const METHODS: readonly Method[] = ["counter", "power-integration", "model"];
const FINAL_STATUSES = ["completed", "failed", "interrupted"] as const;
const TEXT = { maxLength: 256 };
const ENERGY = { min: 0 };
const POWER = { min: 0, max: 1e9 };

/** Checks a parsed JSON body against the wire format; nothing unchecked gets through. */
export function validateIngestBatch(body: unknown): IngestValidation {
  const errors = new BodyErrors();
  if (!isObject(body))
    return { ok: false, errors: ["body: must be a JSON object"], tooLarge: false };
  noExtraFields(errors, body, ["version", "run", "samples", "final", "metrics"], "body");
  if (body.version !== WIRE_VERSION) errors.add("version", `must be ${WIRE_VERSION}`);
  const runInput = object(errors, body.run, "run");
  noExtraFields(
    errors,
    runInput,
    [
      "id",
      "kind",
      "job",
      "expectedNodes",
      "host",
      "command",
      "startedAt",
      "region",
      "zone",
      "pue",
      "trackerVersion",
    ],
    "run",
  );
  const commandInput = array(errors, runInput.command, "run.command", INGEST_LIMITS.maxCommandArgs);
  const run: WireRunHeader = {
    id: string(errors, runInput.id, "run.id", {
      maxLength: 200,
      pattern: KEY_PATTERN,
      patternText: KEY_TEXT,
    }),
    kind: oneOf(errors, runInput.kind, "run.kind", ["track", "agent"] as const),
    job: nullableString(errors, runInput.job, "run.job", {
      maxLength: 200,
      pattern: KEY_PATTERN,
      patternText: KEY_TEXT,
    }),
    expectedNodes: nullableNumber(errors, runInput.expectedNodes, "run.expectedNodes", {
      min: 1,
      max: 100_000,
      integer: true,
    }),
    host: string(errors, runInput.host, "run.host", { maxLength: 255 }),
    command: commandInput.map((arg, i) =>
      string(errors, arg, `run.command[${i}]`, { maxLength: 4096, allowEmpty: true }),
    ),
    startedAt: typeof runInput.startedAt === "string" ? runInput.startedAt : "",
    region: string(errors, runInput.region, "run.region", { maxLength: 64 }),
    zone: string(errors, runInput.zone, "run.zone", { maxLength: 64 }),
    pue: number(errors, runInput.pue, "run.pue", { min: 1, max: 5 }),
    trackerVersion: string(errors, runInput.trackerVersion, "run.trackerVersion", {
      maxLength: 64,
    }),
  };
  const startedMs = isoTime(errors, runInput.startedAt, "run.startedAt");

  const samplesInput = array(errors, body.samples, "samples", INGEST_LIMITS.maxSamples);
  const samples: WireSample[] = [];
  const sampleMs: number[] = [];
  let deviceSamples = 0;
  for (let i = 0; i < samplesInput.length; i += 1) {
    const path = `samples[${i}]`;
    const input = object(errors, samplesInput[i], path);
    const devicesInput = array(
      errors,
      input.devices ?? [],
      `${path}.devices`,
      INGEST_LIMITS.maxDevicesPerSample,
    );
    deviceSamples += devicesInput.length;
    if (deviceSamples > INGEST_LIMITS.maxDeviceSamples) {
      return {
        ok: false,
        errors: [
          `samples: more than ${INGEST_LIMITS.maxDeviceSamples} device samples in one batch (split the batch)`,
        ],
        tooLarge: true,
      };
    }
    sampleMs.push(isoTime(errors, input.t, `${path}.t`));
    samples.push(checkSample(errors, input, path, devicesInput));
  }
  const seen = new Set<number>();
  for (const sample of samples) {
    if (seen.has(sample.seq)) errors.add("samples", `seq ${sample.seq} appears twice`);
    seen.add(sample.seq);
  }

  let final: WireFinal | null = null;
  let endedMs: number | null = null;
  if (body.final !== undefined && body.final !== null) {
    const input = object(errors, body.final, "final");
    noExtraFields(
      errors,
      input,
      ["status", "endedAt", "exitCode", "energyJ", "machineEnergyJ", "co2eG", "record"],
      "final",
    );
    endedMs = isoTime(errors, input.endedAt, "final.endedAt");
    const record =
      input.record === undefined || input.record === null
        ? null
        : object(errors, input.record, "final.record");
    if (record !== null && record.id !== run.id) errors.add("final.record.id", "must equal run.id");
    final = {
      status: oneOf(errors, input.status, "final.status", FINAL_STATUSES),
      endedAt: typeof input.endedAt === "string" ? input.endedAt : "",
      exitCode: nullableNumber(errors, input.exitCode, "final.exitCode", { integer: true }),
      energyJ: nullableNumber(errors, input.energyJ, "final.energyJ", ENERGY),
      machineEnergyJ: nullableNumber(errors, input.machineEnergyJ, "final.machineEnergyJ", ENERGY),
      co2eG: nullableNumber(errors, input.co2eG, "final.co2eG", ENERGY),
      record,
    };
    if (endedMs < startedMs) errors.add("final.endedAt", "is before run.startedAt");
  }
  const metricValues =
    body.metrics === undefined || body.metrics === null
      ? null
      : metrics(errors, body.metrics, "metrics", INGEST_LIMITS.maxMetrics);

  if (!errors.ok) return { ok: false, errors: errors.summary(), tooLarge: false };
  return {
    ok: true,
    batch: { version: WIRE_VERSION, run, samples, final, metrics: metricValues },
    startedMs,
    sampleMs,
    endedMs,
    deviceSamples,
  };
}

function checkPower(errors: BodyErrors, value: unknown, path: string): WirePower {
  const input = object(errors, value, path);
  noExtraFields(errors, input, COMPONENTS, path);
  return {
    cpu: nullableNumber(errors, input.cpu, `${path}.cpu`, POWER),
    gpu: nullableNumber(errors, input.gpu, `${path}.gpu`, POWER),
    ram: nullableNumber(errors, input.ram, `${path}.ram`, POWER),
  };
}

function checkSample(
  errors: BodyErrors,
  input: Obj,
  path: string,
  devicesInput: unknown[],
): WireSample {
  noExtraFields(
    errors,
    input,
    [
      "seq",
      "t",
      "elapsedS",
      "energyJ",
      "machineEnergyJ",
      "co2eG",
      "powerW",
      "machinePowerW",
      "intensityGPerKWh",
      "phases",
      "devices",
    ],
    path,
  );
  const phasesInput = array(errors, input.phases ?? [], `${path}.phases`, INGEST_LIMITS.maxPhases);
  return {
    seq: number(errors, input.seq, `${path}.seq`, { min: 0, max: 1e12, integer: true }),
    t: typeof input.t === "string" ? input.t : "",
    elapsedS: number(errors, input.elapsedS, `${path}.elapsedS`, { min: 0 }),
    energyJ: nullableNumber(errors, input.energyJ, `${path}.energyJ`, ENERGY),
    machineEnergyJ: nullableNumber(errors, input.machineEnergyJ, `${path}.machineEnergyJ`, ENERGY),
    co2eG: nullableNumber(errors, input.co2eG, `${path}.co2eG`, ENERGY),
    powerW: checkPower(errors, input.powerW ?? {}, `${path}.powerW`),
    machinePowerW: checkPower(errors, input.machinePowerW ?? {}, `${path}.machinePowerW`),
    intensityGPerKWh: nullableNumber(errors, input.intensityGPerKWh, `${path}.intensityGPerKWh`, {
      min: 0,
      max: 5000,
    }),
    phases: phasesInput.map((phase, i) =>
      string(errors, phase, `${path}.phases[${i}]`, { maxLength: 128 }),
    ),
    devices: devicesInput.map((device, i) => checkDevice(errors, device, `${path}.devices[${i}]`)),
  };
}

function checkDevice(errors: BodyErrors, value: unknown, path: string): WireDevice {
  const input = object(errors, value, path);
  noExtraFields(
    errors,
    input,
    [
      "id",
      "component",
      "method",
      "source",
      "label",
      "machineEnergyJ",
      "attributedEnergyJ",
      "powerW",
    ],
    path,
  );
  return {
    id: string(errors, input.id, `${path}.id`, { maxLength: 300 }),
    component: oneOf(errors, input.component, `${path}.component`, COMPONENTS),
    method: oneOf(errors, input.method, `${path}.method`, METHODS),
    source: string(errors, input.source, `${path}.source`, TEXT),
    label: string(errors, input.label, `${path}.label`, TEXT),
    machineEnergyJ: nullableNumber(errors, input.machineEnergyJ, `${path}.machineEnergyJ`, ENERGY),
    attributedEnergyJ: nullableNumber(
      errors,
      input.attributedEnergyJ,
      `${path}.attributedEnergyJ`,
      ENERGY,
    ),
    powerW: nullableNumber(errors, input.powerW, `${path}.powerW`, POWER),
  };
}
