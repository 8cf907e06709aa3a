import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ChannelIntegrator } from "../../src/track/channel-integrator.js";
import type { ChannelInfo } from "../../src/sensors/sensor.js";

const channel = (method: ChannelInfo["method"]): ChannelInfo => ({
  id: "test:0",
  component: "cpu",
  method,
  source: "test:0",
  label: "test",
});

describe("ChannelIntegrator", () => {
  it("integrates power readings with the trapezoid rule", () => {
    const integrator = new ChannelIntegrator(channel("power-integration"));
    expect(integrator.add(0, { kind: "power", powerW: 100 })).toBeNull();
    expect(integrator.add(2, { kind: "power", powerW: 200 })).toBeCloseTo(300, 9);
    expect(integrator.add(3, { kind: "power", powerW: 200 })).toBeCloseTo(200, 9);
    expect(integrator.totalJ).toBeCloseTo(500, 9);
  });

  it("multiplies a model's mean power by the interval, ignoring the first read", () => {
    const integrator = new ChannelIntegrator(channel("model"));
    expect(integrator.add(0, { kind: "mean-power", powerW: 50 })).toBeNull();
    expect(integrator.add(0.5, { kind: "mean-power", powerW: 40 })).toBeCloseTo(20, 9);
  });

  it("bridges a failed counter read with the next good one, losing nothing", () => {
    const integrator = new ChannelIntegrator(channel("counter"));
    integrator.add(0, { kind: "energy", energyJ: 100, wrapJ: 1000 });
    expect(integrator.add(1, null, "EIO")).toBeNull();
    expect(integrator.add(2, { kind: "energy", energyJ: 160, wrapJ: 1000 })).toBeCloseTo(60, 9);
    expect(integrator.failedReads).toBe(1);
    expect(integrator.lastError).toBe("EIO");
    expect(integrator.totalJ).toBeCloseTo(60, 9);
  });

  it("reports a counter wrap as an event and counts across it", () => {
    const integrator = new ChannelIntegrator(channel("counter"));
    integrator.add(0, { kind: "energy", energyJ: 990, wrapJ: 1000 });
    expect(integrator.add(1, { kind: "energy", energyJ: 15, wrapJ: 1000 })).toBeCloseTo(25, 9);
    expect(integrator.events.join()).toMatch(/wrapped/);
  });

  it("rejects NaN and negative readings as failed reads", () => {
    const integrator = new ChannelIntegrator(channel("power-integration"));
    integrator.add(0, { kind: "power", powerW: 10 });
    expect(integrator.add(1, { kind: "power", powerW: Number.NaN })).toBeNull();
    expect(integrator.add(2, { kind: "power", powerW: -5 })).toBeNull();
    expect(integrator.failedReads).toBe(2);
    expect(integrator.add(3, { kind: "power", powerW: 10 })).toBeCloseTo(30, 9);
  });

  it("gives the same total for constant power however the time is split (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.array(fc.double({ min: 0.01, max: 5, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (powerW, steps) => {
          const integrator = new ChannelIntegrator(channel("power-integration"));
          let t = 0;
          integrator.add(t, { kind: "power", powerW });
          for (const step of steps) {
            t += step;
            integrator.add(t, { kind: "power", powerW });
          }
          expect(integrator.totalJ ?? 0).toBeCloseTo(powerW * t, 6);
        },
      ),
    );
  });
});

describe("ChannelIntegrator with a model", () => {
  it("counts a mean power over the interval since the previous read, even a failed one", () => {
    const integrator = new ChannelIntegrator(channel("model"));
    expect(integrator.add(0, null, "first sample")).toBeNull();
    expect(integrator.failedReads).toBe(0);
    expect(integrator.add(0.3, { kind: "mean-power", powerW: 10 })).toBeCloseTo(3, 9);
  });
});
