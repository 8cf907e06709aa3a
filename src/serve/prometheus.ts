/**
 * `/metrics` in the Prometheus text exposition format (version 0.0.4), base units only
 * (joules, watts, grams, seconds) and bounded labels:
 * - host series come from `wattprint agent` runs (whole-host measurement);
 * - project counters sum every tracked job of the project, devices counted once;
 * - per-run series only for running jobs and jobs finished in the last
 *   {@link RECENT_RUN_WINDOW_MS}, at most {@link MAX_RUN_SERIES}; the rest fold into
 *   `run="_other"`;
 * - grid intensity per zone of running trackers, tracker last-seen per (project, host),
 *   and this process's ingestion counters.
 */
import type { ServerStore } from "../store/server-store.js";
import { wattprintVersion } from "../version.js";
import { J_PER_KWH } from "../units/energy.js";
import { computeJobTotals, POWER_FRESH_MS, type JobTotals } from "./job-totals.js";

/** Finished jobs keep their per-run series this long, ms. */
export const RECENT_RUN_WINDOW_MS = 15 * 60_000;
/** Per-run series at most (the rest fold into run="_other"). */
export const MAX_RUN_SERIES = 100;
/** Trackers not seen for this long leave the last-seen series, ms. */
export const TRACKER_SEEN_WINDOW_MS = 24 * 3_600_000;
/** (project, host) pairs in the last-seen series at most. */
export const MAX_TRACKER_SERIES = 500;
/** Hosts × devices in the host series at most. */
export const MAX_HOST_DEVICE_SERIES = 2000;
/** Longest label value; longer ones are cut. */
const MAX_LABEL_LENGTH = 128;

/** This process's ingestion and HTTP counters (a replica counts its own; Prometheus sums them). */
export class ServeCounters {
  readonly ingestRequests = new Map<string, number>();
  readonly deviceSamples = new Map<"written" | "duplicate", number>([
    ["written", 0],
    ["duplicate", 0],
  ]);
  readonly runSamples = new Map<"written" | "duplicate", number>([
    ["written", 0],
    ["duplicate", 0],
  ]);
  readonly httpRequests = new Map<string, number>();

  countIngest(outcome: string): void {
    this.ingestRequests.set(outcome, (this.ingestRequests.get(outcome) ?? 0) + 1);
  }

  countHttp(route: string, status: number): void {
    const key = `${route}\u0000${status}`;
    this.httpRequests.set(key, (this.httpRequests.get(key) ?? 0) + 1);
  }
}

/** Outcomes of an ingest request, each a value of the `outcome` label. */
export const INGEST_OUTCOMES = [
  "accepted",
  "unauthorized",
  "forbidden",
  "invalid",
  "too_large",
  "rate_limited",
  "error",
] as const;

/** Escapes a label value: backslash, double quote and newline; cut to a bounded length. */
export function escapeLabel(value: string): string {
  const cut = value.length > MAX_LABEL_LENGTH ? `${value.slice(0, MAX_LABEL_LENGTH - 1)}…` : value;
  return cut.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Builds one exposition text family by family. */
class Exposition {
  private readonly lines: string[] = [];

  family(
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: [Record<string, string>, number][],
  ): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.lines.push(`# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels)
        .map(([key, v]) => `${key}="${escapeLabel(v)}"`)
        .join(",");
      this.lines.push(`${name}${text === "" ? "" : `{${text}}`} ${formatValue(value)}`);
    }
  }

  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

/** The whole /metrics answer, from the store (shared state) and this process's counters. */
export async function renderMetrics(
  store: ServerStore,
  counters: ServeCounters,
  nowMs: number,
): Promise<string> {
  const snapshot = await store.metricsSnapshot();
  const out = new Exposition();
  out.family("wattprint_build_info", "gauge", "wattprint version serving these metrics.", [
    [{ version: wattprintVersion() }, 1],
  ]);

  // Host series: agents measure whole hosts.
  const hostEnergy = new Map<string, { labels: Record<string, string>; energyJ: number }>();
  const hostPower = new Map<
    string,
    { labels: Record<string, string>; powerW: number; tMs: number }
  >();
  for (const device of snapshot.devices) {
    if (device.kind !== "agent") continue;
    const key = `${device.host}\u0000${device.device}`;
    const labels = { host: device.host, component: device.component, device: device.label };
    if (!hostEnergy.has(key) && hostEnergy.size >= MAX_HOST_DEVICE_SERIES) continue;
    const entry = hostEnergy.get(key) ?? { labels, energyJ: 0 };
    entry.energyJ += device.machineEnergyJ ?? 0;
    hostEnergy.set(key, entry);
    if (device.powerW !== null && nowMs - device.tMs <= POWER_FRESH_MS) {
      const seen = hostPower.get(key);
      if (seen === undefined || device.tMs > seen.tMs)
        hostPower.set(key, { labels, powerW: device.powerW, tMs: device.tMs });
    }
  }
  out.family(
    "wattprint_host_energy_joules_total",
    "counter",
    "Energy used by a host's device since wattprint agent first measured it, joules (agents only).",
    [...hostEnergy.values()].map((e) => [e.labels, e.energyJ]),
  );
  out.family(
    "wattprint_host_power_watts",
    "gauge",
    "Mean power of a host's device over the agent's last interval, watts.",
    [...hostPower.values()].map((e) => [e.labels, e.powerW]),
  );

  // Jobs of tracked commands, totalled with devices counted once.
  type JobEntry = {
    project: string;
    key: string;
    members: typeof snapshot.members;
    devices: typeof snapshot.devices;
  };
  const jobs = new Map<string, JobEntry>();
  for (const member of snapshot.members) {
    if (member.kind !== "track") continue;
    const id = `${member.project}\u0000${member.jobKey}`;
    const job = jobs.get(id) ?? {
      project: member.project,
      key: member.jobKey,
      members: [],
      devices: [],
    };
    job.members.push(member);
    jobs.set(id, job);
  }
  for (const device of snapshot.devices) {
    if (device.kind !== "track") continue;
    jobs.get(`${device.project}\u0000${device.jobKey}`)?.devices.push(device);
  }
  const projectEnergy = new Map<string, number>();
  const projectCo2 = new Map<string, number>();
  const recent: { project: string; key: string; totals: JobTotals }[] = [];
  for (const job of jobs.values()) {
    const expected = null;
    const totals = computeJobTotals(job.key, job.members, job.devices, expected, nowMs);
    projectEnergy.set(job.project, (projectEnergy.get(job.project) ?? 0) + (totals.energyJ ?? 0));
    projectCo2.set(job.project, (projectCo2.get(job.project) ?? 0) + (totals.co2eG ?? 0));
    if (totals.endedMs === null || nowMs - totals.endedMs <= RECENT_RUN_WINDOW_MS) {
      recent.push({ project: job.project, key: job.key, totals });
    }
  }
  out.family(
    "wattprint_project_energy_joules_total",
    "counter",
    "Energy attributed to a project's tracked runs, each device counted once per job, joules.",
    [...projectEnergy.entries()].map(([project, energyJ]) => [{ project }, energyJ]),
  );
  out.family(
    "wattprint_project_emissions_grams_total",
    "counter",
    "CO2e of a project's tracked runs (operational, with PUE), grams.",
    [...projectCo2.entries()].map(([project, co2eG]) => [{ project }, co2eG]),
  );

  // Running jobs first, then the most recently finished.
  recent.sort(
    (a, b) =>
      Number(a.totals.endedMs !== null) - Number(b.totals.endedMs !== null) ||
      (b.totals.endedMs ?? b.totals.lastSeenMs) - (a.totals.endedMs ?? a.totals.lastSeenMs),
  );
  const shown = recent.slice(0, MAX_RUN_SERIES);
  const folded = recent.slice(MAX_RUN_SERIES);
  const runEnergy: [Record<string, string>, number][] = shown.map((r) => [
    { project: r.project, run: r.key, status: r.totals.status },
    r.totals.energyJ ?? 0,
  ]);
  const runCo2: [Record<string, string>, number][] = shown.map((r) => [
    { project: r.project, run: r.key, status: r.totals.status },
    r.totals.co2eG ?? 0,
  ]);
  const runPower: [Record<string, string>, number][] = shown
    .filter((r) => r.totals.powerW !== null)
    .map((r) => [{ project: r.project, run: r.key }, r.totals.powerW ?? 0]);
  const runNodes: [Record<string, string>, number][] = shown.map((r) => [
    { project: r.project, run: r.key },
    r.totals.nodes.reporting,
  ]);
  if (folded.length > 0) {
    const byProject = new Map<string, { energyJ: number; co2eG: number }>();
    for (const r of folded) {
      const sum = byProject.get(r.project) ?? { energyJ: 0, co2eG: 0 };
      sum.energyJ += r.totals.energyJ ?? 0;
      sum.co2eG += r.totals.co2eG ?? 0;
      byProject.set(r.project, sum);
    }
    for (const [project, sum] of byProject) {
      runEnergy.push([{ project, run: "_other", status: "mixed" }, sum.energyJ]);
      runCo2.push([{ project, run: "_other", status: "mixed" }, sum.co2eG]);
    }
  }
  out.family(
    "wattprint_run_energy_joules_total",
    "counter",
    `Energy attributed to a running or recently finished job, devices counted once, joules (at most ${MAX_RUN_SERIES} jobs; the rest in run="_other").`,
    runEnergy,
  );
  out.family(
    "wattprint_run_emissions_grams_total",
    "counter",
    "CO2e of a running or recently finished job, grams.",
    runCo2,
  );
  out.family(
    "wattprint_run_power_watts",
    "gauge",
    "Current power of a running job's devices, watts.",
    runPower,
  );
  out.family(
    "wattprint_run_nodes_reporting",
    "gauge",
    "Nodes (hosts) reporting for a running or recently finished job.",
    runNodes,
  );

  // Grid intensity per zone, from the trackers running now.
  const zones = new Map<string, { intensity: number; seenMs: number }>();
  for (const member of snapshot.members) {
    if (member.status !== "running" || member.intensityGPerKWh === null) continue;
    if (nowMs - member.lastSeenMs > RECENT_RUN_WINDOW_MS) continue;
    const seen = zones.get(member.zone);
    if (seen === undefined || member.lastSeenMs > seen.seenMs) {
      zones.set(member.zone, { intensity: member.intensityGPerKWh, seenMs: member.lastSeenMs });
    }
  }
  out.family(
    "wattprint_grid_intensity_grams_per_joule",
    "gauge",
    "Grid carbon intensity used by running trackers per zone, grams CO2e per joule (× 3.6e6 = g/kWh).",
    [...zones.entries()].map(([zone, z]) => [{ zone }, z.intensity / J_PER_KWH]),
  );

  const lastSeen = new Map<string, { labels: Record<string, string>; ms: number }>();
  for (const member of snapshot.members) {
    if (nowMs - member.lastSeenMs > TRACKER_SEEN_WINDOW_MS) continue;
    const key = `${member.project}\u0000${member.host}\u0000${member.kind}`;
    const seen = lastSeen.get(key);
    if (seen === undefined && lastSeen.size >= MAX_TRACKER_SERIES) continue;
    if (seen === undefined || member.lastSeenMs > seen.ms) {
      lastSeen.set(key, {
        labels: { project: member.project, host: member.host, kind: member.kind },
        ms: member.lastSeenMs,
      });
    }
  }
  out.family(
    "wattprint_tracker_last_seen_timestamp_seconds",
    "gauge",
    "When a host's tracker or agent last sent a batch, Unix seconds (hosts seen in the last 24 h).",
    [...lastSeen.values()].map((s) => [s.labels, s.ms / 1000]),
  );

  out.family(
    "wattprint_ingest_requests_total",
    "counter",
    "Ingest requests handled by this server process, by outcome.",
    [...counters.ingestRequests.entries()].map(([outcome, n]) => [{ outcome }, n]),
  );
  out.family(
    "wattprint_ingest_device_samples_total",
    "counter",
    "Device samples received by this server process: written, or already stored (a batch sent again).",
    [...counters.deviceSamples.entries()].map(([result, n]) => [{ result }, n]),
  );
  out.family(
    "wattprint_ingest_run_samples_total",
    "counter",
    "Run samples received by this server process: written, or already stored.",
    [...counters.runSamples.entries()].map(([result, n]) => [{ result }, n]),
  );
  out.family(
    "wattprint_http_requests_total",
    "counter",
    "HTTP requests answered by this server process, by route and status code.",
    [...counters.httpRequests.entries()].map(([key, n]) => {
      const [route = "", code = ""] = key.split("\u0000");
      return [{ route, code }, n];
    }),
  );
  return out.text();
}
