import { describe, expect, it } from "vitest";
import { createRaplSensor } from "../../src/sensors/rapl.js";
import { createAmdGpuSensor } from "../../src/sensors/amd-hwmon.js";
import { createNvidiaSmiSensor } from "../../src/sensors/nvidia-smi.js";
import type { Availability, Sensor } from "../../src/sensors/sensor.js";

// The real hardware paths, on the machine the tests run on. Each block runs only where its
// hardware is readable and otherwise skips, with the sensor's own reason in its title.
const context = { intervalS: null, machineCpuUtilization: null, machineMemoryUsedBytes: 0 };

async function probeReal(sensor: Sensor): Promise<{ sensor: Sensor; availability: Availability }> {
  return { sensor, availability: await sensor.probe() };
}

const rapl = await probeReal(createRaplSensor());
const amd = await probeReal(createAmdGpuSensor());
const smi = await probeReal(createNvidiaSmiSensor());

function why(availability: Availability): string {
  return availability.available ? "available" : `skipped: ${availability.reason}`;
}

function energyOf(reading: { value: unknown }): number | null {
  const value = reading.value as { kind: string; energyJ?: number; powerW?: number } | null;
  if (!value) return null;
  return value.kind === "energy" ? (value.energyJ ?? null) : (value.powerW ?? null);
}

for (const { sensor, availability } of [rapl, amd, smi]) {
  describe.skipIf(!availability.available)(
    `real ${sensor.name} on this machine (${why(availability)})`,
    () => {
      it("reads finite, non-negative values on every channel, and counters do not go back", async () => {
        const first = await sensor.read(context);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const second = await sensor.read(context);
        expect(second.length).toBeGreaterThan(0);
        for (const reading of second) {
          const value = energyOf(reading);
          expect(value, `${reading.channelId}: ${reading.error ?? ""}`).not.toBeNull();
          expect(Number.isFinite(value)).toBe(true);
          expect(value ?? -1).toBeGreaterThanOrEqual(0);
          const before = first.find((r) => r.channelId === reading.channelId);
          const wrapJ = (reading.value as { wrapJ?: number | null } | null)?.wrapJ;
          if (
            reading.value &&
            (reading.value as { kind: string }).kind === "energy" &&
            before &&
            !wrapJ
          ) {
            expect(value ?? 0).toBeGreaterThanOrEqual(energyOf(before) ?? 0);
          }
        }
        await sensor.close?.();
      });
    },
  );
}
