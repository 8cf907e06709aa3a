import { describe, expect, it } from "vitest";
import { createCpuModelSensor } from "../../src/sensors/cpu-model.js";
import {
  TEADS_CPU_POWER_CURVE,
  powerAtUtilization,
  powerFractionAtUtilization,
  validatePowerCurve,
  withIdleFraction,
  type PowerCurve,
} from "../../src/sensors/power-curve.js";
import { CPU_FAMILY_DEFAULTS } from "../../src/hardware/cpu-table.js";
import type { ChannelInfo, SampleContext } from "../../src/sensors/sensor.js";
import { WattprintError } from "../../src/errors.js";

function context(machineCpuUtilization: number | null): SampleContext {
  return {
    intervalS: machineCpuUtilization === null ? null : 1,
    machineCpuUtilization,
    machineMemoryUsedBytes: 0,
  };
}

function isNonDecreasing(curve: PowerCurve): boolean {
  let previous = -Infinity;
  for (let step = 0; step <= 1000; step += 1) {
    const value = powerFractionAtUtilization(curve, step / 1000);
    if (value < previous - 1e-12) return false;
    previous = value;
  }
  return true;
}

async function channelOf(sensor: ReturnType<typeof createCpuModelSensor>): Promise<ChannelInfo> {
  const availability = await sensor.probe();
  if (!availability.available) throw new Error("the CPU model must always be available");
  const channel = availability.channels[0];
  if (channel === undefined) throw new Error("no channel");
  return channel;
}

async function powerAt(
  sensor: ReturnType<typeof createCpuModelSensor>,
  utilization: number,
): Promise<number> {
  const [reading] = await sensor.read(context(utilization));
  if (reading?.value?.kind !== "mean-power")
    throw new Error(`no mean power: ${JSON.stringify(reading)}`);
  return reading.value.powerW;
}

describe("the Teads load curve", () => {
  it("passes through its documented points: 12/32/75/102% of TDP at 0/10/50/100% load", () => {
    expect(powerFractionAtUtilization(TEADS_CPU_POWER_CURVE, 0)).toBeCloseTo(0.12, 10);
    expect(powerFractionAtUtilization(TEADS_CPU_POWER_CURVE, 0.1)).toBeCloseTo(0.32, 10);
    expect(powerFractionAtUtilization(TEADS_CPU_POWER_CURVE, 0.5)).toBeCloseTo(0.75, 10);
    expect(powerFractionAtUtilization(TEADS_CPU_POWER_CURVE, 1)).toBeCloseTo(1.02, 10);
  });

  it("interpolates linearly between points and clamps outside 0..1", () => {
    expect(powerFractionAtUtilization(TEADS_CPU_POWER_CURVE, 0.75)).toBeCloseTo(
      (0.75 + 1.02) / 2,
      10,
    );
    expect(powerFractionAtUtilization(TEADS_CPU_POWER_CURVE, 0.05)).toBeCloseTo(
      (0.12 + 0.32) / 2,
      10,
    );
    expect(powerFractionAtUtilization(TEADS_CPU_POWER_CURVE, -0.5)).toBeCloseTo(0.12, 10);
    expect(powerFractionAtUtilization(TEADS_CPU_POWER_CURVE, 3)).toBeCloseTo(1.02, 10);
    expect(() => powerFractionAtUtilization(TEADS_CPU_POWER_CURVE, Number.NaN)).toThrow(
      WattprintError,
    );
  });

  it("is monotonic, and stays so when re-anchored at another idle fraction", () => {
    validatePowerCurve(TEADS_CPU_POWER_CURVE);
    expect(isNonDecreasing(TEADS_CPU_POWER_CURVE)).toBe(true);
    const idle40 = withIdleFraction(TEADS_CPU_POWER_CURVE, 0.4);
    validatePowerCurve(idle40);
    expect(isNonDecreasing(idle40)).toBe(true);
    expect(powerFractionAtUtilization(idle40, 0)).toBeCloseTo(0.4, 10);
    expect(powerFractionAtUtilization(idle40, 1)).toBeCloseTo(1.02, 10);
    expect(() => withIdleFraction(TEADS_CPU_POWER_CURVE, 1.5)).toThrow(WattprintError);
    expect(() => withIdleFraction(TEADS_CPU_POWER_CURVE, -0.1)).toThrow(WattprintError);
  });

  it("gives power in watts for a TDP", () => {
    expect(powerAtUtilization(200, 0.5)).toBeCloseTo(150, 10);
  });

  it("rejects curves that cannot be used", () => {
    const decreasing: PowerCurve = {
      name: "bad",
      source: "test",
      points: [
        { utilization: 0, fractionOfTdp: 0.5 },
        { utilization: 1, fractionOfTdp: 0.2 },
      ],
    };
    expect(() => validatePowerCurve(decreasing)).toThrow(/decreases/);
    const short: PowerCurve = {
      name: "short",
      source: "test",
      points: [{ utilization: 0, fractionOfTdp: 0.1 }],
    };
    expect(() => validatePowerCurve(short)).toThrow(/two points/);
  });
});

describe("createCpuModelSensor", () => {
  it("is always available, with one labelled model channel and its idle power", async () => {
    const sensor = createCpuModelSensor({
      cpuModel: "AMD EPYC 7763 64-Core Processor",
      logicalCpus: 128,
    });
    expect(sensor.name).toBe("cpu-model");
    expect(sensor.components).toEqual(["cpu"]);
    const channel = await channelOf(sensor);
    expect(channel.id).toBe("cpu-model");
    expect(channel.component).toBe("cpu");
    expect(channel.method).toBe("model");
    expect(channel.source).toBe("tdp-model:AMD EPYC 7763");
    // 280 W TDP (AMD spec sheet) × 12% idle.
    expect(channel.idlePowerW).toBeCloseTo(33.6, 6);
    expect(channel.notes?.join("\n")).toMatch(/teads-2021/);
    // A published TDP used as is is not an assumption: the tracker must not warn about it.
    expect(channel.notes?.some((note) => /assum/i.test(note))).toBe(false);
  });

  it("returns no value on the first read, then TDP × curve at 0% and 100% load", async () => {
    const sensor = createCpuModelSensor({
      cpuModel: "AMD EPYC 7763 64-Core Processor",
      logicalCpus: 128,
    });
    const [first] = await sensor.read(context(null));
    expect(first).toEqual({ channelId: "cpu-model", value: null, error: "first sample" });
    expect(await powerAt(sensor, 0)).toBeCloseTo(280 * 0.12, 6);
    expect(await powerAt(sensor, 1)).toBeCloseTo(280 * 1.02, 6);
    expect(await powerAt(sensor, 0.5)).toBeCloseTo(280 * 0.75, 6);
  });

  it("uses the family default for a masked 'AMD EPYC' on a 2-vCPU VM and says so", async () => {
    const sensor = createCpuModelSensor({
      cpuModel: "AMD EPYC",
      logicalCpus: 2,
      virtualized: true,
    });
    const channel = await channelOf(sensor);
    const perThread =
      CPU_FAMILY_DEFAULTS.find((family) => family.family === "AMD EPYC")?.tdpWPerThread ?? NaN;
    expect(channel.source).toBe("tdp-model:AMD EPYC (family default)");
    expect(channel.idlePowerW).toBeCloseTo(perThread * 2 * 0.12, 6);
    expect(await powerAt(sensor, 1)).toBeCloseTo(perThread * 2 * 1.02, 6);
    expect(channel.notes?.some((note) => /^Assumption:/.test(note))).toBe(true);
  });

  it("scales an exact match to the VM's share of the package", async () => {
    const sensor = createCpuModelSensor({
      cpuModel: "AMD EPYC 7763 64-Core Processor",
      logicalCpus: 2,
      virtualized: true,
    });
    const channel = await channelOf(sensor);
    expect(await powerAt(sensor, 1)).toBeCloseTo(((280 * 2) / 128) * 1.02, 6);
    expect(channel.notes?.join("\n")).toContain("2 of 128");
  });

  it("honours an idle fraction and a custom curve", async () => {
    const idle = createCpuModelSensor({
      cpuModel: "AMD EPYC 7763",
      logicalCpus: 128,
      idleFraction: 0.3,
    });
    expect((await channelOf(idle)).idlePowerW).toBeCloseTo(84, 6);
    expect(await powerAt(idle, 1)).toBeCloseTo(285.6, 6);
    const linear: PowerCurve = {
      name: "linear",
      source: "test",
      points: [
        { utilization: 0, fractionOfTdp: 0 },
        { utilization: 1, fractionOfTdp: 1 },
      ],
    };
    const custom = createCpuModelSensor({
      cpuModel: "AMD EPYC 7763",
      logicalCpus: 128,
      curve: linear,
    });
    expect(await powerAt(custom, 0.25)).toBeCloseTo(70, 6);
    expect((await channelOf(custom)).idlePowerW).toBeCloseTo(0, 10);
  });

  it("reports a bad utilisation as an unreadable value, not a NaN", async () => {
    const sensor = createCpuModelSensor({ cpuModel: "AMD EPYC", logicalCpus: 2 });
    const [reading] = await sensor.read(context(Number.NaN));
    expect(reading?.value).toBeNull();
    expect(reading?.error).toMatch(/not a number/);
  });

  it("rejects options that cannot describe a CPU", () => {
    expect(() => createCpuModelSensor({ cpuModel: "AMD EPYC", logicalCpus: 0 })).toThrow(
      WattprintError,
    );
    expect(() =>
      createCpuModelSensor({ cpuModel: "AMD EPYC", logicalCpus: 2, idleFraction: 2 }),
    ).toThrow(WattprintError);
  });
});
