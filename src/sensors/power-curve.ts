/**
 * The CPU load curve: power as a fraction of TDP at a given utilisation. Pure functions
 * only; the CPU model sensor multiplies the result by the TDP it matched.
 * Method and sources: docs/power-models/cpu.md.
 */
import { WattprintError } from "../errors.js";

/** One point of a load curve. */
export interface PowerCurvePoint {
  /** CPU utilisation, 0..1. */
  utilization: number;
  /** Power drawn at that utilisation as a fraction of TDP (may exceed 1: turbo). */
  fractionOfTdp: number;
}

/** A named, sourced load curve, interpolated piecewise-linearly between its points. */
export interface PowerCurve {
  /** Short stable name shown in provenance notes ("teads-2021"). */
  name: string;
  /** Where the points come from. */
  source: string;
  /** Sorted by utilisation, from 0 to 1, with non-decreasing fractions. */
  points: readonly PowerCurvePoint[];
}

/**
 * The Teads server CPU consumption profile: 12% of TDP idle, 32% at 10% load, 75% at 50%,
 * 102% at 100%. Derived from SPECpower results and RAPL measurements of AWS bare-metal
 * instances (Davy, Teads Engineering, 2021); the same points are the Green Software
 * Foundation Impact Framework's "Teads curve".
 */
export const TEADS_CPU_POWER_CURVE: PowerCurve = Object.freeze({
  name: "teads-2021",
  source:
    "Teads Engineering (B. Davy, 2021), 'Building an AWS EC2 Carbon Emissions Dataset': " +
    "power at 0/10/50/100% load = 12/32/75/102% of TDP",
  points: Object.freeze([
    { utilization: 0, fractionOfTdp: 0.12 },
    { utilization: 0.1, fractionOfTdp: 0.32 },
    { utilization: 0.5, fractionOfTdp: 0.75 },
    { utilization: 1, fractionOfTdp: 1.02 },
  ]),
});

/**
 * Power as a fraction of TDP at `utilization` (0..1; values outside are clamped), by
 * linear interpolation between the curve's points.
 * @throws WattprintError `BAD_INPUT` when `utilization` is not a finite number.
 */
export function powerFractionAtUtilization(curve: PowerCurve, utilization: number): number {
  if (!Number.isFinite(utilization)) {
    throw new WattprintError("BAD_INPUT", `CPU utilisation is not a number: ${utilization}`);
  }
  const u = Math.min(1, Math.max(0, utilization));
  const points = curve.points;
  const first = points[0];
  if (first === undefined)
    throw new WattprintError("BAD_INPUT", `power curve ${curve.name} has no points`);
  if (u <= first.utilization) return first.fractionOfTdp;
  for (let index = 1; index < points.length; index += 1) {
    const low = points[index - 1];
    const high = points[index];
    if (low === undefined || high === undefined) break;
    if (u <= high.utilization) {
      const span = high.utilization - low.utilization;
      if (span === 0) return high.fractionOfTdp;
      return (
        low.fractionOfTdp +
        ((u - low.utilization) / span) * (high.fractionOfTdp - low.fractionOfTdp)
      );
    }
  }
  return points[points.length - 1]?.fractionOfTdp ?? first.fractionOfTdp;
}

/**
 * CPU power in watts at `utilization` (0..1) for a CPU of `tdpW` watts:
 * `tdpW × curve(utilization)`. Default curve: {@link TEADS_CPU_POWER_CURVE}.
 */
export function powerAtUtilization(
  tdpW: number,
  utilization: number,
  curve: PowerCurve = TEADS_CPU_POWER_CURVE,
): number {
  return tdpW * powerFractionAtUtilization(curve, utilization);
}

/**
 * The same curve re-anchored so that idle (0% load) draws `idleFraction` of TDP while full
 * load stays where it was; the points in between keep their relative position:
 * `f'(u) = idle + (f(u) − f(0)) × (f(1) − idle) / (f(1) − f(0))`.
 * @throws WattprintError `BAD_INPUT` unless 0 ≤ idleFraction < f(1).
 */
export function withIdleFraction(curve: PowerCurve, idleFraction: number): PowerCurve {
  const idle = powerFractionAtUtilization(curve, 0);
  const full = powerFractionAtUtilization(curve, 1);
  if (!Number.isFinite(idleFraction) || idleFraction < 0 || idleFraction >= full) {
    throw new WattprintError(
      "BAD_INPUT",
      `idle fraction must be at least 0 and below ${full} (the curve's full-load fraction), got ${idleFraction}`,
    );
  }
  const scale = full === idle ? 0 : (full - idleFraction) / (full - idle);
  return {
    name: `${curve.name} (idle ${trimPercent(idleFraction)}% of TDP)`,
    source: `${curve.source}; idle point replaced by ${trimPercent(idleFraction)}% of TDP`,
    points: curve.points.map((point) => ({
      utilization: point.utilization,
      // A flat curve has no shape to keep: rise linearly from the new idle to full load.
      fractionOfTdp:
        full === idle
          ? idleFraction + (full - idleFraction) * point.utilization
          : idleFraction + (point.fractionOfTdp - idle) * scale,
    })),
  };
}

/**
 * Checks that a curve can be used: at least two points, utilisation from 0 to 1 in
 * increasing order, fractions finite, non-negative and non-decreasing.
 * @throws WattprintError `BAD_INPUT` naming the first problem.
 */
export function validatePowerCurve(curve: PowerCurve): void {
  const fail = (problem: string): never => {
    throw new WattprintError("BAD_INPUT", `power curve ${curve.name}: ${problem}`);
  };
  const points = curve.points;
  if (points.length < 2) fail("needs at least two points");
  if (points[0]?.utilization !== 0) fail("must start at utilisation 0");
  if (points[points.length - 1]?.utilization !== 1) fail("must end at utilisation 1");
  points.forEach((point, index) => {
    if (!Number.isFinite(point.fractionOfTdp) || point.fractionOfTdp < 0) {
      fail(`point ${index} has a fraction that is not a number ≥ 0`);
    }
    const previous = points[index - 1];
    if (previous === undefined) return;
    if (!(point.utilization > previous.utilization))
      fail(`point ${index} is not after point ${index - 1}`);
    if (point.fractionOfTdp < previous.fractionOfTdp) fail(`power decreases at point ${index}`);
  });
}

function trimPercent(fraction: number): string {
  return Number((fraction * 100).toPrecision(3)).toString();
}
