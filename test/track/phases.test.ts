import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PhaseTimeline, breakdown } from "../../src/track/phases.js";

const iso = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

describe("PhaseTimeline", () => {
  it("gives each phase the share of the interval it covers", () => {
    const phases = new PhaseTimeline();
    phases.start("load", 0);
    phases.end("load", 0.25);
    phases.start("train", 0.25);
    phases.allocate(0, 1, { cpu: 100, gpu: null, ram: 8 }, 10);
    phases.end("train", 1.5);
    phases.allocate(1, 2, { cpu: 50, gpu: null, ram: 4 }, 6);
    const [load, train] = phases.records(iso);
    expect(load?.energyJ.cpu).toBeCloseTo(25, 9);
    expect(load?.energyJ.ram).toBeCloseTo(2, 9);
    expect(load?.energyJ.gpu).toBeNull();
    expect(train?.energyJ.cpu).toBeCloseTo(75 + 25, 9);
    expect(train?.energyJ.total).toBeCloseTo(75 + 25 + 6 + 2, 9);
    expect(load?.co2eG).toBeCloseTo(2.5, 9);
    expect(train?.co2eG).toBeCloseTo(7.5 + 3, 9);
    expect(train?.startedAt).toBe(iso(0.25));
    expect(train?.endedAt).toBe(iso(1.5));
  });

  it("lets phases nest, each counting its own time", () => {
    const phases = new PhaseTimeline();
    phases.start("epoch 1", 0);
    phases.start("eval", 0.5);
    phases.allocate(0, 1, { cpu: 10, gpu: null, ram: null }, null);
    const [epoch, evaluation] = phases.records(iso);
    expect(epoch?.energyJ.cpu).toBeCloseTo(10, 9);
    expect(evaluation?.energyJ.cpu).toBeCloseTo(5, 9);
  });

  it("warns about an end without a start and closes open phases at the end", () => {
    const phases = new PhaseTimeline();
    phases.end("ghost", 1);
    phases.start("open", 1);
    phases.closeAll(3);
    expect(phases.warnings.join("\n")).toMatch(/"ghost" ended but was never started/);
    expect(phases.warnings.join("\n")).toMatch(/"open" never ended/);
    expect(phases.records(iso)[0]?.endedAt).toBe(iso(3));
  });

  it("never gives sequential phases more than the interval energy (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 2, noNaN: true }), { minLength: 1, maxLength: 10 }),
        (lengths) => {
          const phases = new PhaseTimeline();
          let t = 0;
          lengths.forEach((length, i) => {
            phases.start(`p${i}`, t);
            t += length;
            phases.end(`p${i}`, t);
          });
          phases.allocate(0, t, { cpu: 100, gpu: null, ram: null }, 1);
          const sum = phases.records(iso).reduce((s, p) => s + (p.energyJ.cpu ?? 0), 0);
          expect(sum).toBeCloseTo(100, 6);
        },
      ),
    );
  });
});

describe("PhaseTimeline metrics", () => {
  it("keeps the metrics given when a phase ends, and none otherwise", () => {
    const phases = new PhaseTimeline();
    phases.start("epoch 1", 0);
    phases.end("epoch 1", 1, { val_accuracy: 0.8 });
    phases.start("epoch 2", 1);
    phases.end("epoch 2", 2);
    const [first, second] = phases.records(iso);
    expect(first?.metrics).toEqual({ val_accuracy: 0.8 });
    expect(second?.metrics).toBeUndefined();
  });
});

describe("PhaseTimeline.reallocateCo2", () => {
  it("re-shares emissions booked again, by each phase's overlap", () => {
    const phases = new PhaseTimeline();
    phases.start("a", 0);
    phases.end("a", 1.5);
    phases.allocate(0, 2, { cpu: 4, gpu: null, ram: null }, 100);
    phases.reallocateCo2([
      { fromS: 0, toS: 1, co2eG: 10 },
      { fromS: 1, toS: 2, co2eG: 30 },
    ]);
    expect(phases.records(iso)[0]?.co2eG).toBeCloseTo(10 + 15, 9);
  });
});

describe("breakdown", () => {
  it("sums only the measured components and is null when none is", () => {
    expect(breakdown({ cpu: 1, gpu: null, ram: 2 })).toEqual({
      total: 3,
      cpu: 1,
      gpu: null,
      ram: 2,
    });
    expect(breakdown({ cpu: null, gpu: null, ram: null }).total).toBeNull();
  });
});
