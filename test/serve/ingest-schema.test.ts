// Validation of ingest batches: a good batch passes with its times parsed; every field
// that does not fit is reported with its path; limits are enforced.
import { describe, expect, it } from "vitest";
import { INGEST_LIMITS, validateIngestBatch } from "../../src/serve/ingest-schema.js";
import { T0, batch, device, sample } from "./helpers.js";

const good = () =>
  batch("run-1", [
    sample(0, T0, [device("cpu|a|b", "cpu", 10, 5)]),
    sample(1, T0, [device("cpu|a|b", "cpu", 20, 9)]),
  ]);

function errorsOf(body: unknown): string[] {
  const result = validateIngestBatch(body);
  return result.ok ? [] : result.errors;
}

describe("validateIngestBatch", () => {
  it("accepts a good batch and parses its times", () => {
    const result = validateIngestBatch(JSON.parse(JSON.stringify(good())));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.startedMs).toBe(T0);
    expect(result.sampleMs).toEqual([T0 + 1000, T0 + 2000]);
    expect(result.deviceSamples).toBe(2);
    expect(result.endedMs).toBeNull();
  });

  it("reports each wrong field with its path", () => {
    const body = good() as unknown as {
      run: Record<string, unknown>;
      samples: Record<string, unknown>[];
    };
    body.run.id = "../etc/passwd";
    body.run.pue = 0.5;
    body.run.kind = "daemon";
    (body.samples[0] as { devices: Record<string, unknown>[] }).devices[0]!.component = "fpga";
    (body.samples[1] as Record<string, unknown>).energyJ = Number.NaN;
    (body.samples[1] as Record<string, unknown>).extra = 1;
    const errors = errorsOf(body);
    expect(errors).toContain("run.pue: must be at least 1");
    expect(errors).toContain("run.kind: must be one of track, agent");
    expect(errors.some((e) => e.startsWith("run.id: must be 1–200 characters"))).toBe(true);
    expect(errors).toContain("samples[0].devices[0].component: must be one of cpu, gpu, ram");
    expect(errors).toContain("samples[1].energyJ: must be a finite number");
    expect(errors).toContain("samples[1].extra: is not a known field");
  });

  it("checks the final state against the run", () => {
    const wrongId = batch("run-1", [], {
      final: {
        status: "completed",
        endedAt: "2025-03-01T09:00:00Z",
        exitCode: 0,
        energyJ: 1,
        machineEnergyJ: 1,
        co2eG: 0,
        record: { id: "other" },
      },
    });
    const errors = errorsOf(wrongId);
    expect(errors).toContain("final.record.id: must equal run.id");
    expect(errors).toContain("final.endedAt: is before run.startedAt");
    const running = batch("run-1", [], {
      final: {
        status: "running" as "completed",
        endedAt: "2025-03-01T11:00:00Z",
        exitCode: null,
        energyJ: null,
        machineEnergyJ: null,
        co2eG: null,
        record: null,
      },
    });
    expect(errorsOf(running)).toContain(
      "final.status: must be one of completed, failed, interrupted",
    );
  });

  it("enforces the batch limits", () => {
    const many = Array.from({ length: 400 }, (_v, i) =>
      sample(
        i,
        T0,
        Array.from({ length: 60 }, (_d, j) => device(`cpu|s|${j}`, "cpu", 1, 1)),
      ),
    );
    const result = validateIngestBatch(batch("run-1", many));
    expect(result.ok).toBe(false);
    expect(result.ok ? false : result.tooLarge).toBe(true);
    expect(400 * 60).toBeGreaterThan(INGEST_LIMITS.maxDeviceSamples);
    const tooManyDevices = [
      sample(
        0,
        T0,
        Array.from({ length: INGEST_LIMITS.maxDevicesPerSample + 1 }, (_d, j) =>
          device(`cpu|s|${j}`, "cpu", 1, 1),
        ),
      ),
    ];
    expect(errorsOf(batch("run-1", tooManyDevices))[0]).toMatch(/at most 64 items/);
  });

  it("caps the number of reported errors", () => {
    const body = batch(
      "run-1",
      Array.from({ length: 50 }, (_v, i) => ({ ...sample(i, T0, []), t: "no" })),
    );
    const errors = errorsOf(body);
    expect(errors).toHaveLength(21);
    expect(errors.at(-1)).toBe("… and 30 more");
  });
});
