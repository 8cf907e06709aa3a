/**
 * What the API and the dashboard show about jobs ("runs" on the server: a job on many
 * nodes, or one tracker run on its own): the list, one job in detail, its live state,
 * and a project's totals per day. Built from the store's rows with job-totals.ts.
 */
import type {
  ServerStore,
  StoredJob,
  StoredRunSample,
  MemberState,
} from "../store/server-store.js";
import type { RunKind } from "./ingest-schema.js";
import {
  computeJobTotals,
  type JobTotals,
  type DeviceTotal,
  type NodeTotal,
} from "./job-totals.js";

/** A job in the runs list. */
export interface JobSummary {
  key: string;
  kind: RunKind;
  status: JobTotals["status"];
  startedAt: string;
  endedAt: string | null;
  durationS: number;
  /** Attributed energy, each device counted once, joules. */
  energyJ: number | null;
  machineEnergyJ: number | null;
  co2eG: number | null;
  /** Current power of the job's devices, watts; null when finished. */
  powerW: number | null;
  nodes: { expected: number | null; reporting: number };
  hosts: string[];
  trackers: number;
  commands: string[][];
  regions: string[];
  metrics: Record<string, number>;
  lastSeenAt: string;
  warnings: string[];
}

/** A tracker run of a job, as shown on the run page. */
export interface TrackerView {
  runId: string;
  host: string;
  kind: RunKind;
  status: MemberState["status"];
  startedAt: string;
  endedAt: string | null;
  region: string;
  zone: string;
  pue: number;
  energyJ: number | null;
  machineEnergyJ: number | null;
  co2eG: number | null;
  samples: number;
  lastSeenAt: string;
  command: string[];
}

/** One job in detail. */
export interface JobDetail extends JobSummary {
  energyByComponentJ: JobTotals["energyByComponentJ"];
  machineEnergyByComponentJ: JobTotals["machineEnergyByComponentJ"];
  byNode: NodeTotal[];
  devices: DeviceTotal[];
  /** Attributed energy per phase, joules, scaled like the job's total (devices counted once). */
  phases: { name: string; energyJ: number }[];
  trackersDetail: TrackerView[];
}

/** Filters of {@link listJobs}. */
export interface JobListFilter {
  status?: JobTotals["status"];
  host?: string;
  text?: string;
  kind?: RunKind;
  sinceMs?: number;
  limit?: number;
}

/** The most jobs a list returns. */
export const MAX_LIST_LIMIT = 500;
const NO_PHASE = "(no phase)";

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The summary of a loaded job. */
export function summarizeJob(
  stored: StoredJob,
  nowMs: number,
): { summary: JobSummary; totals: JobTotals } {
  const expected = stored.job.expectedNodes;
  const totals = computeJobTotals(
    stored.job.jobKey,
    stored.members,
    stored.devices,
    expected,
    nowMs,
  );
  const kind: RunKind = stored.members.every((m) => m.kind === "agent") ? "agent" : "track";
  return {
    totals,
    summary: {
      key: stored.job.jobKey,
      kind,
      status: totals.status,
      startedAt: iso(totals.startedMs),
      endedAt: totals.endedMs === null ? null : iso(totals.endedMs),
      durationS: totals.durationS,
      energyJ: totals.energyJ,
      machineEnergyJ: totals.machineEnergyJ,
      co2eG: totals.co2eG,
      powerW: totals.powerW,
      nodes: { expected: totals.nodes.expected, reporting: totals.nodes.reporting },
      hosts: totals.nodes.hosts.map((h) => h.host),
      trackers: totals.trackers,
      commands: totals.commands,
      regions: totals.regions,
      metrics: stored.job.metrics,
      lastSeenAt: iso(totals.lastSeenMs),
      warnings: totals.warnings,
    },
  };
}

/** Jobs of a project, newest first, filtered. */
export async function listJobs(
  store: ServerStore,
  project: string,
  filter: JobListFilter,
  nowMs: number,
): Promise<JobSummary[]> {
  const limit = Math.min(MAX_LIST_LIMIT, Math.max(1, filter.limit ?? 50));
  // The status is known only once totalled: look at more candidates when filtering by it.
  const keys = await store.listJobKeys(project, {
    host: filter.host,
    text: filter.text,
    kind: filter.kind,
    sinceMs: filter.sinceMs,
    running: filter.status === "running" ? true : undefined,
    limit: filter.status === undefined ? limit : MAX_LIST_LIMIT * 2,
  });
  const jobs = await store.loadJobs(project, keys);
  const out: JobSummary[] = [];
  for (const key of keys) {
    const stored = jobs.get(key);
    if (stored === undefined) continue;
    const { summary } = summarizeJob(stored, nowMs);
    if (filter.status !== undefined && summary.status !== filter.status) continue;
    out.push(summary);
    if (out.length >= limit) break;
  }
  return out;
}

/** One job in detail (by job key, tracker run id or unique prefix), or null when not in the project. */
export async function getJobDetail(
  store: ServerStore,
  project: string,
  key: string,
  nowMs: number,
): Promise<{ detail: JobDetail; stored: StoredJob } | null> {
  const jobKey = await store.resolveJobKey(project, key);
  if (jobKey === null) return null;
  const stored = (await store.loadJobs(project, [jobKey])).get(jobKey);
  if (stored === undefined) return null;
  const { summary, totals } = summarizeJob(stored, nowMs);
  const records = await store.finalRecords(
    project,
    stored.members.map((m) => m.runId),
  );
  const samples = await store.runSamples(project, stored.members, { maxPoints: 2000 });
  const phases = phaseEnergy(stored.members, records, samples, totals);
  return {
    stored,
    detail: {
      ...summary,
      energyByComponentJ: totals.energyByComponentJ,
      machineEnergyByComponentJ: totals.machineEnergyByComponentJ,
      byNode: totals.nodes.hosts,
      devices: totals.devices,
      phases,
      trackersDetail: stored.members.map((m) => ({
        runId: m.runId,
        host: m.host,
        kind: m.kind,
        status: m.status,
        startedAt: iso(m.startedMs),
        endedAt: m.endedMs === null ? null : iso(m.endedMs),
        region: m.region,
        zone: m.zone,
        pue: m.pue,
        energyJ: m.energyJ,
        machineEnergyJ: m.machineEnergyJ,
        co2eG: m.co2eG,
        samples: m.lastSeq + 1,
        lastSeenAt: iso(m.lastSeenMs),
        command: m.command,
      })),
    },
  };
}

/**
 * Attributed energy per phase: from a tracker's final record when it sent one (its phases
 * are exact), else from its samples (each interval's energy goes to the phases open in it,
 * split evenly). Scaled by job energy / Σ trackers' energy, so phases add up like the job.
 */
export function phaseEnergy(
  members: readonly MemberState[],
  records: ReadonlyMap<string, Record<string, unknown>>,
  samples: readonly StoredRunSample[],
  totals: Pick<JobTotals, "energyJ">,
): { name: string; energyJ: number }[] {
  const byPhase = new Map<string, number>();
  const addTo = (name: string, energyJ: number) =>
    byPhase.set(name, (byPhase.get(name) ?? 0) + energyJ);
  let memberSumJ = 0;
  for (const member of members) {
    memberSumJ += member.energyJ ?? 0;
    const phases = records.get(member.runId)?.phases;
    if (Array.isArray(phases) && phases.length > 0) {
      let inPhasesJ = 0;
      for (const phase of phases as { name?: unknown; energyJ?: { total?: unknown } }[]) {
        const energy = phase.energyJ?.total;
        if (
          typeof phase.name === "string" &&
          typeof energy === "number" &&
          Number.isFinite(energy)
        ) {
          addTo(phase.name, energy);
          inPhasesJ += energy;
        }
      }
      // Phases may overlap (nested), so the remainder is only shown when positive.
      const rest = (member.energyJ ?? 0) - inPhasesJ;
      if (rest > 0.001 * (member.energyJ ?? 0)) addTo(NO_PHASE, rest);
      continue;
    }
    let previousJ = 0;
    for (const sample of samples) {
      if (sample.runId !== member.runId || sample.energyJ === null) continue;
      const deltaJ = sample.energyJ - previousJ;
      previousJ = sample.energyJ;
      if (deltaJ <= 0) continue;
      const names = sample.phases.length === 0 ? [NO_PHASE] : sample.phases;
      for (const name of names) addTo(name, deltaJ / names.length);
    }
  }
  const scale =
    totals.energyJ !== null && memberSumJ > 0 ? Math.min(1, totals.energyJ / memberSumJ) : 1;
  return [...byPhase.entries()].map(([name, energyJ]) => ({ name, energyJ: energyJ * scale }));
}

/** A project's energy and CO2e per UTC day over the last `days` days. */
export interface DailyTotal {
  day: string;
  energyJ: number;
  co2eG: number;
}

/**
 * Energy and CO2e per UTC day: each tracker run's cumulative figures at the end of each
 * day, differenced, scaled per job like its total (devices counted once). Tracker runs
 * without samples (pushed with their totals only) count on the day they ended.
 */
export async function projectDailyTotals(
  store: ServerStore,
  project: string,
  days: number,
  nowMs: number,
): Promise<DailyTotal[]> {
  const dayMs = 86_400_000;
  const startMs = Math.floor(nowMs / dayMs) * dayMs - (days - 1) * dayMs;
  const rows = await store.dailyCumulative(project, 0);
  const keys = await store.listJobKeys(project, { sinceMs: 0, limit: 100_000 });
  const jobs = await store.loadJobs(project, keys);
  const scaleByRun = new Map<string, number>();
  const memberByRun = new Map<string, MemberState>();
  for (const stored of jobs.values()) {
    const { totals } = summarizeJob(stored, nowMs);
    const memberSum = stored.members.reduce((sum, m) => sum + (m.energyJ ?? 0), 0);
    const scale =
      totals.energyJ !== null && memberSum > 0 ? Math.min(1, totals.energyJ / memberSum) : 1;
    for (const member of stored.members) {
      scaleByRun.set(member.runId, scale);
      memberByRun.set(member.runId, member);
    }
  }
  const out = new Map<string, DailyTotal>();
  for (let ms = startMs; ms <= nowMs; ms += dayMs) {
    const day = iso(ms).slice(0, 10);
    out.set(day, { day, energyJ: 0, co2eG: 0 });
  }
  const previous = new Map<string, { energyJ: number; co2eG: number }>();
  const withSamples = new Set<string>();
  for (const row of rows) {
    withSamples.add(row.runId);
    const before = previous.get(row.runId) ?? { energyJ: 0, co2eG: 0 };
    const energyJ = row.energyJ ?? before.energyJ;
    const co2eG = row.co2eG ?? before.co2eG;
    previous.set(row.runId, { energyJ, co2eG });
    const total = out.get(row.day);
    if (total === undefined) continue;
    const scale = scaleByRun.get(row.runId) ?? 1;
    total.energyJ += Math.max(0, energyJ - before.energyJ) * scale;
    total.co2eG += Math.max(0, co2eG - before.co2eG) * scale;
  }
  for (const [runId, member] of memberByRun) {
    if (withSamples.has(runId) || member.endedMs === null) continue;
    const total = out.get(iso(member.endedMs).slice(0, 10));
    if (total === undefined) continue;
    const scale = scaleByRun.get(runId) ?? 1;
    total.energyJ += (member.energyJ ?? 0) * scale;
    total.co2eG += (member.co2eG ?? 0) * scale;
  }
  // A run's final totals can exceed its last sample (the final interval): add that remainder on its last day.
  for (const [runId, member] of memberByRun) {
    const last = previous.get(runId);
    if (last === undefined || member.endedMs === null) continue;
    const total = out.get(iso(member.endedMs).slice(0, 10));
    if (total === undefined) continue;
    const scale = scaleByRun.get(runId) ?? 1;
    total.energyJ += Math.max(0, (member.energyJ ?? 0) - last.energyJ) * scale;
    total.co2eG += Math.max(0, (member.co2eG ?? 0) - last.co2eG) * scale;
  }
  return [...out.values()];
}
