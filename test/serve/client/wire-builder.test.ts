// From tracker records to wire samples: device ids and cumulative readings from the
// record's sources, power from consecutive readings, and the cumulative totals rebuilt
// from a stored timeline for push.
import { describe, expect, it } from "vitest";
import {
  WireSampleBuilder,
  deviceId,
  finalOf,
  runHeader,
  samplesFromTimeline,
} from "../../../src/serve/client/wire-builder.js";
import { validateIngestBatch } from "../../../src/serve/ingest-schema.js";
import type { SourceRecord } from "../../../src/record/run-record.js";
import { makeRunRecord, makeSample } from "../../fixtures/store/record-factory.js";

const source = (machineEnergyJ: number, attributedEnergyJ: number): SourceRecord => ({
  component: "cpu",
  method: "counter",
  source: "rapl:package-0",
  label: "package-0",
  attribution: "cpu-time",
  machineEnergyJ,
  attributedEnergyJ,
  notes: [],
});

describe("wire builder", () => {
  it("turns sources into devices with power between samples", () => {
    const builder = new WireSampleBuilder();
    const first = builder.build(makeRunRecord({ sources: [source(100, 40)] }), makeSample(0));
    const second = builder.build(makeRunRecord({ sources: [source(190, 70)] }), makeSample(1));
    expect(first.devices[0]).toMatchObject({
      id: "cpu|rapl:package-0|package-0",
      machineEnergyJ: 100,
      attributedEnergyJ: 40,
      powerW: null,
    });
    // 90 J over the 1 s between the two samples' times.
    expect(second.devices[0]?.powerW).toBeCloseTo(90);
    expect(second.energyJ).toBe(9000);
    expect(deviceId({ component: "gpu", source: "nvml:total-energy", label: "GPU 1" })).toBe(
      "gpu|nvml:total-energy|GPU 1",
    );
  });

  it("makes batches the server accepts, with the final record", () => {
    const record = makeRunRecord({ sources: [source(100, 40)] });
    const builder = new WireSampleBuilder();
    const body = {
      version: 1,
      run: runHeader(record, { kind: "track", job: "slurm:1", expectedNodes: 2 }),
      samples: [builder.build(record, makeSample(0))],
      final: finalOf(record, record.startedAt),
      metrics: null,
    };
    const result = validateIngestBatch(JSON.parse(JSON.stringify(body)));
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(body.final.record?.id).toBe(record.id);
    expect(
      finalOf({ ...record, status: "running", endedAt: null }, "2025-03-01T10:05:00.000Z"),
    ).toMatchObject({
      status: "interrupted",
      endedAt: "2025-03-01T10:05:00.000Z",
    });
  });

  it("rebuilds cumulative energy and CO2e from a stored timeline", () => {
    const record = makeRunRecord({ pue: 1.5, sources: [source(500, 200)] });
    const timeline = [0, 1, 2].map((seq) => makeSample(seq));
    const samples = samplesFromTimeline(record, timeline);
    // Attributed power per sample: cpu 50+seq + ram 2.5 W over 1 s intervals.
    const expectedJ = [52.5, 52.5 + 53.5, 52.5 + 53.5 + 54.5];
    samples.forEach((s, i) => expect(s.energyJ).toBeCloseTo(expectedJ[i] ?? -1));
    expect(samples[2]?.co2eG).toBeCloseTo((expectedJ[2]! / 3.6e6) * 56 * 1.5, 12);
    expect(samples[2]?.machineEnergyJ).toBeCloseTo(95 + 96 + 97);
    expect(samples.map((s) => s.devices.length)).toEqual([0, 0, 1]);
  });
});
