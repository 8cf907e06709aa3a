import { performance } from "node:perf_hooks";
import { randomUUID } from "node:crypto";
import type {
  CpuSplitJ,
  IntensitySource,
  MachineInfo,
  RunRecord,
  RunStatus,
  SourceRecord,
  TimelineSample,
} from "../record/run-record.js";
import { RUN_RECORD_SCHEMA_VERSION } from "../record/run-record.js";
import type { ChannelInfo, ChannelReading, Component, Sensor } from "../sensors/sensor.js";
import { EmissionsLedger } from "../carbon/emissions-ledger.js";
import type { IntensitySeries } from "../grid/series.js";
import { ChannelIntegrator } from "./channel-integrator.js";
import { attributeInterval, type ChannelInterval, type ComponentJ } from "./attribution.js";
import { PhaseTimeline, breakdown } from "./phases.js";
import { MarksFileReader, type PhaseMark } from "./marks-file.js";
import {
  readMachineCpuTimes,
  readMemoryInfo,
  readSelfReapedChildrenCpuS,
  readTreeSnapshot,
} from "./proc.js";

/** Where a run's records go as it runs (the SQLite store implements this). */
export interface RunSink {
  begin(record: RunRecord): void;
  progress(record: RunRecord, sample: TimelineSample): void;
  finish(record: RunRecord): void;
}

/** A chosen sensor plan: which sensors feed which component, and what stands in on failure. */
export interface SensorPlan {
  /** The sensors read at every sample, each with the channels its probe found. */
  sensors: { sensor: Sensor; channels: ChannelInfo[] }[];
  /** Per component, a model channel that takes over if every hardware channel fails. */
  fallbacks: Partial<Record<Component, { sensor: Sensor; channel: ChannelInfo }>>;
  /** The CPU's idle power estimate and how it was obtained (reported apart). */
  cpuIdle: { powerW: number; source: string } | null;
  unmeasured: { component: Component; reason: string }[];
  warnings: string[];
}

export interface SamplerCarbon {
  region: string;
  /** The region's annual average: used wherever no time series covers an interval. */
  intensityGPerKWh: number;
  intensitySource: IntensitySource;
  pue: number;
  pueSource: string;
  /** An hourly (or finer) intensity series known before the run (a trace file). */
  series?: IntensitySeries | null;
  /**
   * Fetches a series covering the run once it ends (a live provider's history); null when
   * none could be had. Its warnings are added to the run's.
   */
  seriesForRun?: (
    fromMs: number,
    toMs: number,
  ) => Promise<{ series: IntensitySeries | null; warnings: string[] }>;
}

export interface SamplerOptions {
  plan: SensorPlan;
  carbon: SamplerCarbon;
  machine: MachineInfo;
  /** The process whose tree is tracked; default this process. */
  rootPid?: number;
  /** The root is a child of this process: count its CPU time after it is reaped. */
  rootIsChild?: boolean;
  command?: string[];
  /** Seconds between samples; default 1. */
  intervalS?: number;
  sink?: RunSink | null;
  /** Marks file to read phases from (created if missing). */
  marksPath?: string | null;
  procRoot?: string;
  trackerVersion: string;
  onSample?: (sample: TimelineSample) => void;
}

export interface StopOptions {
  status?: RunStatus;
  exitCode?: number | null;
  signal?: string | null;
}

interface MachineState {
  timeS: number;
  busyS: number;
  totalS: number;
  treeCpuS: number;
}

const COMPONENTS: readonly Component[] = ["cpu", "gpu", "ram"];
/** Shortest interval a phase boundary may cut, seconds. */
const MIN_BOUNDARY_GAP_S = 0.05;

/**
 * Samples sensors and the process tree at a fixed interval, integrates energy per channel,
 * attributes it to the tracked tree, to phases, and hands the running record to a sink
 * after every sample, so nothing measured is lost if the process dies.
 */
export class Sampler {
  readonly id = randomUUID();
  private readonly options: Required<
    Pick<SamplerOptions, "intervalS" | "rootPid" | "rootIsChild" | "command">
  > &
    SamplerOptions;
  private readonly integrators = new Map<string, ChannelIntegrator>();
  private readonly phasesTimeline = new PhaseTimeline();
  private readonly marks: MarksFileReader | null;
  private readonly warnings: string[] = [];
  private readonly machineJ: ComponentJ = { cpu: null, gpu: null, ram: null };
  private readonly attributedJ: ComponentJ = { cpu: null, gpu: null, ram: null };
  /** Energy per channel over the intervals in which it counted: machine and attributed. */
  private readonly channelJ = new Map<string, { machineJ: number; attributedJ: number }>();
  private readonly channelAttribution = new Map<string, Set<string>>();
  private readonly fallbackActive = new Set<Component>();
  /** Channels whose energy counts in the run (primary ones, or a model standing in). */
  private readonly contributing = new Set<string>();
  private readonly ledger: EmissionsLedger;
  private cpuIdleJ = 0;
  private cpuOtherJ = 0;
  private startWallMs = 0;
  private startMonoMs = 0;
  private previous: MachineState | null = null;
  private reapedBaselineS = 0;
  private sensorChildCpuS = 0;
  private rootExited = false;
  private samples = 0;
  private peakTreeProcesses = 0;
  private treeCpuBaselineS: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;
  private status: RunStatus = "running";
  private exitCode: number | null = null;
  private signal: string | null = null;
  private endedAtS: number | null = null;

  constructor(options: SamplerOptions) {
    this.options = {
      intervalS: 1,
      rootPid: process.pid,
      rootIsChild: false,
      command: [],
      ...options,
    };
    for (const { channels } of options.plan.sensors) {
      for (const channel of channels) {
        this.integrators.set(channel.id, new ChannelIntegrator(channel));
      }
    }
    for (const fallback of Object.values(options.plan.fallbacks)) {
      if (fallback && !this.integrators.has(fallback.channel.id)) {
        this.integrators.set(fallback.channel.id, new ChannelIntegrator(fallback.channel));
      }
    }
    this.warnings.push(...options.plan.warnings);
    this.ledger = new EmissionsLedger(
      options.carbon.intensityGPerKWh,
      options.carbon.pue,
      options.carbon.series ?? null,
    );
    this.marks = options.marksPath ? new MarksFileReader(options.marksPath) : null;
  }

  /** Seconds since the run started (monotonic). */
  elapsedS(): number {
    return (performance.now() - this.startMonoMs) / 1000;
  }

  /** Takes the first sample now and starts the sampling loop. */
  async start(): Promise<void> {
    this.startWallMs = Date.now();
    this.startMonoMs = performance.now();
    if (this.options.rootIsChild) {
      this.reapedBaselineS = readSelfReapedChildrenCpuS(this.options.procRoot);
    }
    this.toSink((sink) => sink.begin(this.buildRecord()));
    this.marks?.watch((marks) => {
      this.applyMarks(marks);
      this.sampleAtBoundary();
    });
    await this.runSample();
    this.schedule();
  }

  /**
   * Marks a phase. Call the returned function (or `endPhase`) to end it, or pass a
   * function to run inside the phase.
   */
  phase(name: string): () => void;
  phase<T>(name: string, body: () => T): T;
  phase<T>(name: string, body?: () => T): T | (() => void) {
    this.phasesTimeline.start(name, this.elapsedS());
    this.sampleAtBoundary();
    const end = () => {
      this.phasesTimeline.end(name, this.elapsedS());
      this.sampleAtBoundary();
    };
    if (body === undefined) return end;
    let result: T;
    try {
      result = body();
    } catch (error) {
      end();
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(end) as T;
    }
    end();
    return result;
  }

  endPhase(name: string, metrics?: Record<string, number>): void {
    this.phasesTimeline.end(name, this.elapsedS(), metrics);
    this.sampleAtBoundary();
  }

  /** Sets the tracked root once it is known (a command spawned after the sampler was made). */
  setRoot(pid: number): void {
    this.options.rootPid = pid;
  }

  /** Tells the tracker the root process has exited (its time is now in our reaped total). */
  noteRootExited(): void {
    this.rootExited = true;
  }

  /** Takes a last sample, closes open phases and returns the finished record. */
  async stop(options: StopOptions = {}): Promise<RunRecord> {
    if (this.stopped) return this.buildRecord();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.runSample();
    this.marks?.unwatch();
    this.endedAtS = this.elapsedS();
    this.phasesTimeline.closeAll(this.endedAtS);
    await this.fetchSeriesForRun();
    this.status = options.status ?? "completed";
    this.exitCode = options.exitCode ?? null;
    this.signal = options.signal ?? null;
    await Promise.all(this.allSensors().map(async ({ sensor }) => sensor.close?.()));
    this.toSink((sink) => sink.finish(this.buildRecord()));
    return this.buildRecord();
  }

  /** Asks for a series covering the whole run (a live provider) and re-books emissions with it. */
  private async fetchSeriesForRun(): Promise<void> {
    const fetch = this.options.carbon.seriesForRun;
    if (!fetch) return;
    try {
      const { series, warnings } = await fetch(this.startWallMs, this.wallMs(this.endedAtS ?? 0));
      this.warnings.push(...warnings);
      if (series === null) return;
      this.ledger.setSeries(series);
      this.phasesTimeline.reallocateCo2(
        this.ledger.slices.map((slice) => ({
          fromS: (slice.fromMs - this.startWallMs) / 1000,
          toS: (slice.toMs - this.startWallMs) / 1000,
          co2eG: slice.co2eG,
        })),
      );
    } catch (error) {
      this.warnings.push(
        `intensity series for the run could not be had (${(error as Error).message}); the annual average stands in`,
      );
    }
  }

  private wallMs(atS: number): number {
    return this.startWallMs + atS * 1000;
  }

  /** The record as it stands now (status "running" until stopped). */
  snapshot(): RunRecord {
    return this.buildRecord();
  }

  /**
   * A phase started or ended: sample now, so the boundary falls between two intervals and
   * each phase gets the energy of its own time, not a share of an even spread. At most one
   * extra sample per MIN_BOUNDARY_GAP_S; faster marks fall back to the even spread.
   */
  private sampleAtBoundary(): void {
    if (this.stopped || this.inFlight !== null || this.previous === null) return;
    if (this.elapsedS() - this.previous.timeS < MIN_BOUNDARY_GAP_S) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight = this.runSample().finally(() => {
      this.inFlight = null;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.runSample().finally(() => {
        this.inFlight = null;
        this.schedule();
      });
    }, this.options.intervalS * 1000);
    this.timer.unref();
  }

  private async runSample(): Promise<void> {
    try {
      await this.sample();
    } catch (error) {
      this.warnOnce(`a sample failed and was skipped: ${(error as Error).message}`);
    }
  }

  private async sample(): Promise<void> {
    const { procRoot, rootPid, rootIsChild } = this.options;
    if (this.marks) this.applyMarks(this.marks.read());
    const nowS = this.elapsedS();
    const cpuTimes = readMachineCpuTimes(procRoot);
    const memory = readMemoryInfo(procRoot);
    const tree = readTreeSnapshot(rootPid, procRoot);
    const rootExitedBefore = this.rootExited;
    const reapedBeforeS = readSelfReapedChildrenCpuS(procRoot);

    const previous = this.previous;
    const intervalS = previous ? nowS - previous.timeS : null;
    const machineTotalDeltaS = previous ? cpuTimes.totalS - previous.totalS : 0;
    const machineBusyDeltaS = previous ? Math.max(0, cpuTimes.busyS - previous.busyS) : 0;
    const readings = await this.readSensors({
      intervalS,
      machineCpuUtilization:
        previous && machineTotalDeltaS > 0
          ? Math.min(1, machineBusyDeltaS / machineTotalDeltaS)
          : null,
      machineMemoryUsedBytes: memory.usedBytes,
    });
    // Sensors that spawn programs (nvidia-smi) add their CPU time to ours; keep it out of the tree.
    const reapedAfterS = readSelfReapedChildrenCpuS(procRoot);
    if (rootExitedBefore === this.rootExited || !rootIsChild) {
      this.sensorChildCpuS += Math.max(0, reapedAfterS - reapedBeforeS);
    }
    const reapedS = rootIsChild ? reapedBeforeS - this.reapedBaselineS : 0;
    const treeCpuS = Math.max(
      previous?.treeCpuS ?? 0,
      tree.cpuTimeS + reapedS - this.sensorChildCpuS,
    );
    this.peakTreeProcesses = Math.max(this.peakTreeProcesses, tree.pids.length);
    this.treeCpuBaselineS ??= treeCpuS;

    const channelIntervals = this.integrate(nowS, readings);
    this.previous = { timeS: nowS, busyS: cpuTimes.busyS, totalS: cpuTimes.totalS, treeCpuS };
    if (previous === null || intervalS === null || intervalS <= 0) return;

    const attribution = attributeInterval({
      intervalS,
      channels: channelIntervals,
      treeCpuS: treeCpuS - previous.treeCpuS,
      machineBusyS: machineBusyDeltaS,
      treeRssBytes: tree.rssBytes,
      machineMemoryUsedBytes: memory.usedBytes,
      treePids: new Set(tree.pids),
      cpuIdlePowerW: this.options.plan.cpuIdle?.powerW ?? null,
    });
    for (const component of COMPONENTS) {
      addTo(this.machineJ, component, attribution.machineJ[component]);
      addTo(this.attributedJ, component, attribution.attributedJ[component]);
    }
    this.cpuIdleJ += attribution.cpuIdleJ;
    this.cpuOtherJ += attribution.cpuOtherProcessesJ;
    for (const interval of channelIntervals) {
      const share = attribution.channels.get(interval.info.id);
      if (interval.energyJ === null || share === undefined) continue;
      const totals = this.channelJ.get(interval.info.id) ?? { machineJ: 0, attributedJ: 0 };
      totals.machineJ += interval.energyJ;
      totals.attributedJ += share.attributedJ;
      this.channelJ.set(interval.info.id, totals);
    }
    for (const [channelId, share] of attribution.channels) {
      const methods = this.channelAttribution.get(channelId) ?? new Set<string>();
      methods.add(share.attribution);
      this.channelAttribution.set(channelId, methods);
    }
    const phaseNames = this.phasesTimeline.activeBetween(previous.timeS, nowS);
    const booked = this.ledger.add(
      this.wallMs(previous.timeS),
      this.wallMs(nowS),
      breakdown(attribution.attributedJ).total,
      breakdown(attribution.machineJ).total,
    );
    this.phasesTimeline.allocate(previous.timeS, nowS, attribution.attributedJ, booked.co2eG);

    const sample: TimelineSample = {
      seq: this.samples,
      t: new Date(this.startWallMs + nowS * 1000).toISOString(),
      elapsedS: nowS,
      intervalS,
      machinePowerW: perSecond(attribution.machineJ, intervalS),
      attributedPowerW: perSecond(attribution.attributedJ, intervalS),
      channelPowerW: Object.fromEntries(
        channelIntervals.map((c) => [c.info.id, c.energyJ === null ? null : c.energyJ / intervalS]),
      ),
      treeProcesses: tree.pids.length,
      treeCpuShare: attribution.treeCpuShare,
      intensityGPerKWh: booked.intensityGPerKWh,
      phases: phaseNames,
    };
    this.samples += 1;
    this.options.onSample?.(sample);
    this.toSink((sink) => sink.progress(this.buildRecord(), sample));
  }

  /** The planned sensors plus the fallback models, each once. */
  private allSensors(): { sensor: Sensor; channels: ChannelInfo[] }[] {
    const all = [...this.options.plan.sensors];
    for (const fallback of Object.values(this.options.plan.fallbacks)) {
      if (fallback && !all.some((s) => s.sensor === fallback.sensor)) {
        all.push({ sensor: fallback.sensor, channels: [fallback.channel] });
      }
    }
    return all;
  }

  private async readSensors(context: Parameters<Sensor["read"]>[0]): Promise<ChannelReading[]> {
    const results = await Promise.all(
      this.allSensors().map(async ({ sensor, channels }) => {
        try {
          return await sensor.read(context);
        } catch (error) {
          const message = (error as Error).message;
          return channels.map((c) => ({ channelId: c.id, value: null, error: message }));
        }
      }),
    );
    return results.flat();
  }

  /** Feeds readings to integrators, switching a component to its model if its hardware died. */
  private integrate(nowS: number, readings: ChannelReading[]): ChannelInterval[] {
    const byId = new Map(readings.map((r) => [r.channelId, r]));
    const intervals: ChannelInterval[] = [];
    const { plan } = this.options;
    const fallbackIds = new Set(
      Object.values(plan.fallbacks).flatMap((f) => (f ? [f.channel.id] : [])),
    );
    for (const component of COMPONENTS) {
      const primary = plan.sensors
        .flatMap((s) => s.channels)
        .filter((c) => c.component === component && !fallbackIds.has(c.id));
      const fallback = plan.fallbacks[component];
      const fallbackReading = fallback ? byId.get(fallback.channel.id) : undefined;
      const fallbackIntegrator = fallback ? this.integrators.get(fallback.channel.id) : undefined;
      const fallbackEnergyJ =
        fallbackIntegrator && fallbackReading
          ? fallbackIntegrator.add(nowS, fallbackReading.value, fallbackReading.error)
          : null;
      const usePrimary = primary.length > 0 && !this.fallbackActive.has(component);
      if (!usePrimary) {
        if (fallback) {
          intervals.push({ info: fallback.channel, energyJ: fallbackEnergyJ });
        }
        continue;
      }
      let anyRead = false;
      const primaryIntervals: ChannelInterval[] = [];
      for (const channel of primary) {
        const reading = byId.get(channel.id);
        const integrator = this.integrators.get(channel.id);
        if (!integrator) continue;
        const energyJ = integrator.add(nowS, reading?.value ?? null, reading?.error ?? "not read");
        if (reading?.value) anyRead = true;
        primaryIntervals.push({ info: channel, energyJ, processes: reading?.processes });
      }
      if (!anyRead && fallback && this.samples + (this.previous ? 1 : 0) > 0) {
        this.fallbackActive.add(component);
        const reason =
          primary.map((c) => this.integrators.get(c.id)?.lastError).find((e) => e) ?? "unreadable";
        this.warnings.push(
          `${component.toUpperCase()}: ${primary.map((c) => c.source).join(", ")} stopped reading at ${nowS.toFixed(1)} s (${reason}); ` +
            `from then on ${fallback.channel.source} (a model) stands in`,
        );
        intervals.push({ info: fallback.channel, energyJ: fallbackEnergyJ });
        continue;
      }
      intervals.push(...primaryIntervals);
    }
    for (const interval of intervals) this.contributing.add(interval.info.id);
    return intervals;
  }

  private applyMarks(marks: PhaseMark[]): void {
    for (const mark of marks) {
      const atS = Math.max(0, (mark.timeMs - this.startWallMs) / 1000);
      if (mark.event === "start") this.phasesTimeline.start(mark.phase, atS);
      else this.phasesTimeline.end(mark.phase, atS, mark.metrics);
    }
  }

  /** The store failing (disk full, locked) must not stop the measurement: warn and go on. */
  private toSink(write: (sink: RunSink) => void): void {
    const sink = this.options.sink;
    if (!sink) return;
    try {
      write(sink);
    } catch (error) {
      this.warnOnce(`the run store could not be written: ${(error as Error).message}`);
    }
  }

  private warnOnce(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  /** Where the run's intensity came from: the annual figure, or a series and how much it covered. */
  private intensitySource(): IntensitySource {
    const base = this.options.carbon.intensitySource;
    const series = this.ledger.timeSeries;
    if (series === null) return { ...base, series: null };
    const energyJ = this.ledger.slices.reduce((sum, s) => sum + (s.attributedJ ?? 0), 0);
    const outsideJ = this.ledger.energyOutsideSeriesJ();
    return {
      ...base,
      series: {
        source: series.source,
        zone: series.zone,
        signal: series.signal,
        coveredEnergyShare: energyJ > 0 ? 1 - outsideJ / energyJ : null,
      },
    };
  }

  private buildRecord(): RunRecord {
    const { carbon, plan } = this.options;
    const nowS = this.endedAtS ?? (this.startMonoMs === 0 ? 0 : this.elapsedS());
    const energyJ = breakdown(this.attributedJ);
    const machineEnergyJ = breakdown(this.machineJ);
    const toIso = (atS: number) => new Date(this.startWallMs + atS * 1000).toISOString();
    const usedChannels = [...this.integrators.values()].filter((i) =>
      this.contributing.has(i.channel.id),
    );
    const sources: SourceRecord[] = usedChannels.map((i) => ({
      component: i.channel.component,
      method: i.channel.method,
      source: i.channel.source,
      label: i.channel.label,
      attribution: [...(this.channelAttribution.get(i.channel.id) ?? [])].join("; ") || "none yet",
      machineEnergyJ: this.channelJ.get(i.channel.id)?.machineJ ?? null,
      attributedEnergyJ: this.channelJ.get(i.channel.id)?.attributedJ ?? null,
      notes: i.channel.notes ?? [],
    }));
    const warnings = [
      ...this.warnings,
      ...this.phasesTimeline.warnings,
      ...(this.marks?.warnings ?? []),
    ];
    for (const integrator of this.integrators.values()) {
      if (!usedChannels.includes(integrator)) continue;
      for (const event of new Set(integrator.events)) warnings.push(event);
      if (integrator.failedReads > 0 && integrator.goodReads > 0) {
        warnings.push(
          `${integrator.channel.source}: ${integrator.failedReads} of ${integrator.failedReads + integrator.goodReads} reads failed (last: ${integrator.lastError}); gaps bridged by the next good read`,
        );
      }
    }
    const intensitySource = this.intensitySource();
    const covered = intensitySource.series?.coveredEnergyShare;
    if (covered !== undefined && covered !== null && covered < 0.999) {
      warnings.push(
        `${Math.round((1 - covered) * 100)}% of the run's energy fell outside the intensity series (${intensitySource.series?.source}); counted at the annual average (${carbon.intensityGPerKWh} gCO2e/kWh, ${carbon.intensitySource.source})`,
      );
    }
    const cpuSplitJ: CpuSplitJ | null =
      this.machineJ.cpu === null
        ? null
        : {
            attributedJ: this.attributedJ.cpu ?? 0,
            idleJ: this.cpuIdleJ,
            otherProcessesJ: this.cpuOtherJ,
            idleSource:
              plan.cpuIdle?.source ??
              "unknown: no idle power estimate, idle counted as other processes",
          };
    return {
      schemaVersion: RUN_RECORD_SCHEMA_VERSION,
      id: this.id,
      command: this.options.command,
      exitCode: this.exitCode,
      signal: this.signal,
      status: this.status,
      startedAt: new Date(this.startWallMs).toISOString(),
      endedAt: this.endedAtS === null ? null : toIso(this.endedAtS),
      durationS: nowS,
      energyJ,
      machineEnergyJ,
      shareOfMachine:
        energyJ.total !== null && machineEnergyJ.total !== null && machineEnergyJ.total > 0
          ? energyJ.total / machineEnergyJ.total
          : null,
      cpuSplitJ,
      cpuTimeS: this.previous === null ? 0 : this.previous.treeCpuS - (this.treeCpuBaselineS ?? 0),
      co2eG: energyJ.total === null ? null : this.ledger.co2eG,
      machineCo2eG: machineEnergyJ.total === null ? null : this.ledger.machineCo2eG,
      region: carbon.region,
      intensityGPerKWh: this.ledger.meanIntensityGPerKWh(),
      intensitySource,
      pue: carbon.pue,
      pueSource: carbon.pueSource,
      sources,
      unmeasured: plan.unmeasured,
      phases: this.phasesTimeline.records(toIso),
      warnings,
      sampling: {
        intervalS: this.options.intervalS,
        samples: this.samples,
        peakTreeProcesses: this.peakTreeProcesses,
      },
      machine: this.options.machine,
      trackerVersion: this.options.trackerVersion,
    };
  }
}

function addTo(target: ComponentJ, component: Component, value: number | null): void {
  if (value === null) return;
  target[component] = (target[component] ?? 0) + value;
}

function perSecond(energyJ: ComponentJ, intervalS: number) {
  const rate = (v: number | null) => (v === null ? null : v / intervalS);
  return { cpu: rate(energyJ.cpu), gpu: rate(energyJ.gpu), ram: rate(energyJ.ram) };
}
