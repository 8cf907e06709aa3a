// Job totals over trackers: devices counted once per (host, device), attributed energy
// capped at the device's machine energy, duration first start to last end, status and
// node counts. Property: adding a tracker that repeats another's readings changes nothing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeJobTotals, dedupeDevices, SILENT_AFTER_MS } from "../../src/serve/job-totals.js";
import type { DeviceState, MemberState } from "../../src/store/server-store.js";

const NOW = Date.parse("2025-03-01T12:00:00Z");

function member(runId: string, host: string, extra: Partial<MemberState> = {}): MemberState {
  return {
    runId,
    jobKey: "job",
    kind: "track",
    host,
    command: ["python", "train.py"],
    status: "completed",
    startedMs: NOW - 3_600_000,
    endedMs: NOW - 60_000,
    region: "FR",
    zone: "FR",
    pue: 1,
    energyJ: null,
    machineEnergyJ: null,
    co2eG: null,
    intensityGPerKWh: null,
    lastSeq: 10,
    lastSeenMs: NOW - 60_000,
    ...extra,
  };
}

function reading(
  runId: string,
  host: string,
  device: string,
  machineEnergyJ: number | null,
  attributedEnergyJ: number | null,
  extra: Partial<DeviceState> = {},
): DeviceState {
  return {
    runId,
    host,
    device,
    component: device.startsWith("gpu") ? "gpu" : "cpu",
    method: "counter",
    source: "src",
    label: device,
    tMs: NOW - 60_000,
    machineEnergyJ,
    attributedEnergyJ,
    powerW: null,
    ...extra,
  };
}

describe("dedupeDevices", () => {
  it("keeps the largest machine reading and caps the summed attribution at it", () => {
    const totals = dedupeDevices(
      [
        reading("a", "h", "cpu0", 100, 60),
        reading("b", "h", "cpu0", 120, 70),
        reading("c", "h2", "cpu0", 50, 10),
      ],
      NOW,
    );
    expect(
      totals.map((d) => [d.host, d.machineEnergyJ, d.attributedEnergyJ, d.reportedBy]),
    ).toEqual([
      ["h", 120, 120, 2],
      ["h2", 50, 10, 1],
    ]);
  });

  it("keeps unknown as null and sums attribution without a machine reading", () => {
    const totals = dedupeDevices(
      [reading("a", "h", "gpu0", null, 5), reading("b", "h", "gpu0", null, 7)],
      NOW,
    );
    expect(totals[0]?.machineEnergyJ).toBeNull();
    expect(totals[0]?.attributedEnergyJ).toBe(12);
  });

  it("does not change when a tracker repeats another's readings (property)", () => {
    const device = fc.record({
      host: fc.constantFrom("h1", "h2", "h3"),
      device: fc.constantFrom("cpu0", "cpu1", "gpu0"),
      machine: fc.double({ min: 0, max: 1e6, noNaN: true }),
      share: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(device, { minLength: 1, maxLength: 20 }), (rows) => {
        const readings = rows.map((r, i) =>
          reading(`run${i}`, r.host, r.device, r.machine, r.machine * r.share * 0.5),
        );
        const machineOf = (list: DeviceState[]) =>
          dedupeDevices(list, NOW).reduce((s, d) => s + (d.machineEnergyJ ?? 0), 0);
        const doubled = [
          ...readings,
          ...readings.map((r) => ({ ...r, runId: `${r.runId}-twin`, attributedEnergyJ: 0 })),
        ];
        expect(machineOf(doubled)).toBeCloseTo(machineOf(readings), 6);
        for (const total of dedupeDevices(readings, NOW)) {
          expect(total.attributedEnergyJ ?? 0).toBeLessThanOrEqual(
            (total.machineEnergyJ ?? 0) + 1e-9,
          );
        }
      }),
    );
  });
});

describe("computeJobTotals", () => {
  it("runs from the first start to the last end, and is running while any tracker runs", () => {
    const members = [
      member("a", "h1", { startedMs: NOW - 100_000, endedMs: NOW - 10_000 }),
      member("b", "h2", { startedMs: NOW - 90_000, endedMs: NOW - 5_000, status: "failed" }),
    ];
    const done = computeJobTotals("job", members, [], 4, NOW);
    expect(done.durationS).toBeCloseTo(95);
    expect(done.status).toBe("failed");
    expect(done.nodes).toMatchObject({ expected: 4, reporting: 2 });
    expect(done.warnings).toContain("2 of 4 expected nodes report");
    const running = computeJobTotals(
      "job",
      [
        ...members,
        member("c", "h3", {
          status: "running",
          startedMs: NOW - 50_000,
          endedMs: null,
          lastSeenMs: NOW - 1000,
        }),
      ],
      [],
      null,
      NOW,
    );
    expect(running.status).toBe("running");
    expect(running.endedMs).toBeNull();
    expect(running.durationS).toBeCloseTo(100);
  });

  it("warns about a running tracker that went silent", () => {
    const silent = computeJobTotals(
      "job",
      [
        member("a", "h", {
          status: "running",
          endedMs: null,
          lastSeenMs: NOW - SILENT_AFTER_MS - 1,
        }),
      ],
      [],
      null,
      NOW,
    );
    expect(silent.warnings.join()).toMatch(/has not reported since/);
  });

  it("counts a tracker without device readings by its own totals and scales CO2e like energy", () => {
    const members = [
      member("a", "h", { energyJ: 300, machineEnergyJ: 400, co2eG: 3 }),
      member("b", "h", { energyJ: 300, machineEnergyJ: 400, co2eG: 3 }),
      member("c", "h2", { energyJ: 50, machineEnergyJ: 80, co2eG: 1 }),
    ];
    // a and b read the same whole device, each attributing 300 of its 400 J.
    const devices = [reading("a", "h", "gpu0", 400, 300), reading("b", "h", "gpu0", 400, 300)];
    const totals = computeJobTotals("job", members, devices, null, NOW);
    expect(totals.energyJ).toBeCloseTo(400 + 50);
    expect(totals.machineEnergyJ).toBeCloseTo(400 + 80);
    expect(totals.co2eG).toBeCloseTo(7 * (450 / 650));
    expect(totals.energyByComponentJ).toEqual({ cpu: null, gpu: 400, ram: null });
    expect(totals.nodes.hosts.map((n) => [n.host, n.energyJ])).toEqual([
      ["h", 400],
      ["h2", 50],
    ]);
  });

  it("reports power only from fresh readings of a running job", () => {
    const running = [member("a", "h", { status: "running", endedMs: null, lastSeenMs: NOW })];
    const fresh = computeJobTotals(
      "job",
      running,
      [reading("a", "h", "gpu0", 10, 10, { tMs: NOW - 1000, powerW: 250 })],
      null,
      NOW,
    );
    expect(fresh.powerW).toBe(250);
    const stale = computeJobTotals(
      "job",
      running,
      [reading("a", "h", "gpu0", 10, 10, { tMs: NOW - 3_600_000, powerW: 250 })],
      null,
      NOW,
    );
    expect(stale.powerW).toBeNull();
  });
});
