// /metrics: the exposition format (HELP/TYPE before samples, escaped labels), counters that
// count each device once per job, per-run series capped with the rest folded into "_other",
// and access: open from loopback, a read token when asked for.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_RUN_SERIES, escapeLabel } from "../../src/serve/prometheus.js";
import { createToken } from "../../src/serve/tokens.js";
import {
  batch,
  device,
  request,
  sample,
  sqliteDatabase,
  startTestServer,
  type TestServer,
} from "./helpers.js";

/** Samples of one metric family: labels → value. */
function samplesOf(
  text: string,
  name: string,
): { labels: Record<string, string>; value: number }[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const match = /^([a-z_]+)(?:\{(.*)\})? (.+)$/.exec(line);
      const labels: Record<string, string> = {};
      for (const pair of (match?.[2] ?? "").matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g))
        labels[pair[1] as string] = pair[2] as string;
      return { labels, value: Number(match?.[3]) };
    });
}

describe("/metrics", () => {
  let t: TestServer;
  let text: string;
  const nowMs = Date.now();

  beforeAll(async () => {
    t = await startTestServer(sqliteDatabase());
    const started = new Date(nowMs - 60_000).toISOString();
    const ingest = (body: unknown) =>
      request(`${t.url}/api/v1/ingest`, { method: "POST", json: body });
    // One job on one host read by two ranks: the project counts the CPU package once.
    for (const rank of ["r0", "r1"]) {
      await ingest(
        batch(
          rank,
          [sample(0, nowMs - 60_000, [device("cpu|rapl:package-0|package-0", "cpu", 1000, 300)])],
          { job: "j1", startedAt: started },
        ),
      );
    }
    // Many short finished runs, more than the per-run cap.
    for (let i = 0; i < MAX_RUN_SERIES + 5; i += 1) {
      await ingest(
        batch(`done-${i}`, [sample(0, nowMs - 60_000, [device("cpu|x|y", "cpu", 2, 1)])], {
          startedAt: started,
          final: {
            status: "completed",
            endedAt: new Date(nowMs - 30_000).toISOString(),
            exitCode: 0,
            energyJ: 1,
            machineEnergyJ: 2,
            co2eG: 0.001,
            record: null,
          },
        }),
      );
    }
    await ingest(
      batch(
        "agent-x",
        [sample(0, nowMs - 60_000, [device('gpu|nvml|GPU "0"', "gpu", 500, 500, 50)])],
        { kind: "agent", host: "rack\\7", startedAt: started },
      ),
    );
    const answer = await request(`${t.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    text = answer.text;
  });
  afterAll(async () => t?.close());

  it("writes HELP and TYPE once per family, before its samples", () => {
    const families = [...text.matchAll(/^# TYPE (\S+) (counter|gauge)$/gm)].map((m) => m[1]);
    expect(new Set(families).size).toBe(families.length);
    for (const name of [
      "wattprint_host_energy_joules_total",
      "wattprint_host_power_watts",
      "wattprint_project_energy_joules_total",
      "wattprint_project_emissions_grams_total",
      "wattprint_grid_intensity_grams_per_joule",
      "wattprint_tracker_last_seen_timestamp_seconds",
      "wattprint_ingest_requests_total",
    ]) {
      expect(families).toContain(name);
      const help = text.indexOf(`# HELP ${name} `);
      const first = text.indexOf(`\n${name}`);
      expect(help).toBeGreaterThanOrEqual(0);
      if (first >= 0) expect(help).toBeLessThan(first);
    }
    expect(text.endsWith("\n")).toBe(true);
  });

  it("counts a device read by two ranks once in the project counter", () => {
    const project = samplesOf(text, "wattprint_project_energy_joules_total");
    // j1: min(1000, 300 + 300) = 600; each finished run 1 J.
    expect(project).toEqual([{ labels: { project: "default" }, value: 600 + MAX_RUN_SERIES + 5 }]);
  });

  it("caps per-run series and folds the rest into run=_other", () => {
    const runs = samplesOf(text, "wattprint_run_energy_joules_total");
    const named = runs.filter((r) => r.labels.run !== "_other");
    expect(named).toHaveLength(MAX_RUN_SERIES);
    expect(named[0]?.labels.run).toBe("j1");
    const other = runs.find((r) => r.labels.run === "_other");
    // 106 recent jobs: j1 and 99 of the 1 J runs shown, 6 runs of 1 J folded.
    expect(other?.value).toBeCloseTo(6);
    const total = runs.reduce((sum, r) => sum + r.value, 0);
    expect(total).toBeCloseTo(600 + MAX_RUN_SERIES + 5);
  });

  it("escapes label values and reports host series from agents only", () => {
    const host = samplesOf(text, "wattprint_host_energy_joules_total");
    expect(host).toHaveLength(1);
    expect(host[0]?.labels).toEqual({ host: "rack\\\\7", component: "gpu", device: 'GPU \\"0\\"' });
    expect(host[0]?.value).toBe(500);
    expect(samplesOf(text, "wattprint_host_power_watts")[0]?.value).toBe(50);
    expect(escapeLabel("a\nb")).toBe("a\\nb");
    expect(escapeLabel("x".repeat(300)).length).toBeLessThanOrEqual(128);
  });

  it("gives grid intensity in grams per joule, and ingestion counters", () => {
    const zones = samplesOf(text, "wattprint_grid_intensity_grams_per_joule");
    expect(zones.find((z) => z.labels.zone === "FR")?.value).toBeCloseTo(100 / 3.6e6, 12);
    const accepted = samplesOf(text, "wattprint_ingest_requests_total").find(
      (s) => s.labels.outcome === "accepted",
    );
    expect(accepted?.value).toBe(2 + MAX_RUN_SERIES + 5 + 1);
  });

  it("needs a read token when the server is told so, even from loopback", async () => {
    const strict = await startTestServer(sqliteDatabase(), { metricsRequireToken: true });
    try {
      const ingestOnly = (await createToken(strict.store, { project: "p", scope: "ingest" })).token;
      const read = (await createToken(strict.store, { project: "p", scope: "read" })).token;
      expect((await request(`${strict.url}/metrics`)).status).toBe(401);
      expect((await request(`${strict.url}/metrics`, { token: ingestOnly })).status).toBe(403);
      expect((await request(`${strict.url}/metrics`, { token: read })).status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});
