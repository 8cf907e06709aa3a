import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ATTRIBUTION, attributeInterval, type IntervalInput } from "../../src/track/attribution.js";
import type { ChannelInfo } from "../../src/sensors/sensor.js";

const info = (
  id: string,
  component: ChannelInfo["component"],
  extra: Partial<ChannelInfo> = {},
): ChannelInfo => ({
  id,
  component,
  method: "counter",
  source: id,
  label: id,
  ...extra,
});

const base: IntervalInput = {
  intervalS: 1,
  channels: [],
  treeCpuS: 0.5,
  machineBusyS: 1,
  treeRssBytes: 1e9,
  machineMemoryUsedBytes: 4e9,
  treePids: new Set([100, 101]),
  cpuIdlePowerW: 20,
};

describe("attributeInterval", () => {
  it("takes idle power off the CPU first and shares the rest by CPU time", () => {
    const result = attributeInterval({
      ...base,
      channels: [{ info: info("rapl:0", "cpu"), energyJ: 60 }],
    });
    expect(result.cpuIdleJ).toBeCloseTo(20, 9);
    expect(result.attributedJ.cpu).toBeCloseTo(20, 9);
    expect(result.cpuOtherProcessesJ).toBeCloseTo(20, 9);
    expect(result.machineJ.cpu).toBeCloseTo(60, 9);
  });

  it("uses a model channel's own idle power", () => {
    const result = attributeInterval({
      ...base,
      cpuIdlePowerW: 999,
      channels: [
        { info: info("cpu-model", "cpu", { method: "model", idlePowerW: 10 }), energyJ: 30 },
      ],
    });
    expect(result.cpuIdleJ).toBeCloseTo(10, 9);
    expect(result.attributedJ.cpu).toBeCloseTo(10, 9);
  });

  it("shares RAM by resident memory", () => {
    const result = attributeInterval({
      ...base,
      channels: [{ info: info("rapl:dram", "ram"), energyJ: 8 }],
    });
    expect(result.attributedJ.ram).toBeCloseTo(2, 9);
    expect(result.channels.get("rapl:dram")?.attribution).toBe(ATTRIBUTION.memory);
  });

  it("attributes a GPU by what the sensor knows of its processes", () => {
    const gpu = (processes?: { pid: number; share: number | null }[]) =>
      attributeInterval({
        ...base,
        channels: [{ info: info("nvml:0", "gpu"), energyJ: 100, processes }],
      });
    expect(gpu(undefined).attributedJ.gpu).toBe(100);
    expect(gpu(undefined).channels.get("nvml:0")?.attribution).toBe(ATTRIBUTION.wholeDevice);
    expect(gpu([]).attributedJ.gpu).toBe(0);
    expect(gpu([{ pid: 7, share: 0.9 }]).attributedJ.gpu).toBe(0);
    expect(gpu([{ pid: 101, share: null }]).attributedJ.gpu).toBe(100);
    expect(
      gpu([
        { pid: 101, share: 0.3 },
        { pid: 7, share: 0.1 },
      ]).attributedJ.gpu,
    ).toBeCloseTo(75, 9);
    expect(
      gpu([
        { pid: 101, share: null },
        { pid: 7, share: null },
        { pid: 8, share: null },
      ]).attributedJ.gpu,
    ).toBeCloseTo(100 / 3, 9);
  });

  it("leaves a component null when no channel gave energy", () => {
    const result = attributeInterval({
      ...base,
      channels: [{ info: info("nvml:0", "gpu"), energyJ: null }],
    });
    expect(result.machineJ.gpu).toBeNull();
    expect(result.attributedJ.gpu).toBeNull();
  });

  it("reconciles: attributed + idle + others = machine CPU energy (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 300, noNaN: true }),
        (energies, treeCpuS, machineBusyS, idleW) => {
          const result = attributeInterval({
            ...base,
            treeCpuS,
            machineBusyS,
            cpuIdlePowerW: idleW,
            channels: energies.map((energyJ, i) => ({ info: info(`rapl:${i}`, "cpu"), energyJ })),
          });
          const machine = energies.reduce((a, b) => a + b, 0);
          expect(
            (result.attributedJ.cpu ?? 0) + result.cpuIdleJ + result.cpuOtherProcessesJ,
          ).toBeCloseTo(machine, 6);
          expect(result.attributedJ.cpu ?? 0).toBeGreaterThanOrEqual(0);
          expect(result.attributedJ.cpu ?? 0).toBeLessThanOrEqual(machine + 1e-9);
        },
      ),
    );
  });
});
