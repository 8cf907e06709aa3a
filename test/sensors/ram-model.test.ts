import { freemem, totalmem } from "node:os";
import { describe, expect, it } from "vitest";
import {
  BYTES_PER_GB,
  RAM_POWER_W_PER_GB,
  createRamModelSensor,
} from "../../src/sensors/ram-model.js";
import type { SampleContext, Sensor } from "../../src/sensors/sensor.js";
import { WattprintError } from "../../src/errors.js";

function context(machineMemoryUsedBytes: number): SampleContext {
  return { intervalS: 1, machineCpuUtilization: 0.5, machineMemoryUsedBytes };
}

async function powerFor(sensor: Sensor, usedBytes: number): Promise<number | null> {
  const [reading] = await sensor.read(context(usedBytes));
  return reading?.value?.kind === "mean-power" ? reading.value.powerW : null;
}

describe("createRamModelSensor", () => {
  it("uses the Green Algorithms figure per SI gigabyte by default", () => {
    expect(RAM_POWER_W_PER_GB).toBe(0.3725);
    expect(BYTES_PER_GB).toBe(1e9);
  });

  it("is always available with one labelled model channel", async () => {
    const sensor = createRamModelSensor();
    expect(sensor.name).toBe("ram-model");
    expect(sensor.components).toEqual(["ram"]);
    const availability = await sensor.probe();
    expect(availability.available).toBe(true);
    if (!availability.available) return;
    expect(availability.channels).toHaveLength(1);
    const channel = availability.channels[0];
    expect(channel?.id).toBe("ram-model");
    expect(channel?.component).toBe("ram");
    expect(channel?.method).toBe("model");
    expect(channel?.notes?.join("\n")).toMatch(/Green Algorithms/);
  });

  it("gives W/GB × memory in use as mean power", async () => {
    const sensor = createRamModelSensor();
    // 16 GB in use × 0.3725 W/GB = 5.96 W.
    expect(await powerFor(sensor, 16e9)).toBeCloseTo(5.96, 9);
    expect(await powerFor(sensor, 0)).toBeCloseTo(0, 12);
    const custom = createRamModelSensor({ wattsPerGB: 0.5 });
    expect(await powerFor(custom, 8e9)).toBeCloseTo(4, 9);
  });

  it("follows this machine's memory in use", async () => {
    const usedBytes = totalmem() - freemem();
    const powerW = await powerFor(createRamModelSensor(), usedBytes);
    expect(powerW).toBeCloseTo((usedBytes / 1e9) * 0.3725, 6);
    expect(powerW ?? 0).toBeGreaterThan(0);
  });

  it("reports an impossible byte count as unreadable, never NaN", async () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const [reading] = await createRamModelSensor().read(context(bad));
      expect(reading?.value).toBeNull();
      expect(reading?.error).toMatch(/not a byte count/);
    }
  });

  it("rejects a power per GB that is not above 0", () => {
    expect(() => createRamModelSensor({ wattsPerGB: 0 })).toThrow(WattprintError);
    expect(() => createRamModelSensor({ wattsPerGB: Number.NaN })).toThrow(WattprintError);
  });
});
