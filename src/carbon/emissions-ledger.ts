import { averageIntensity, type IntensitySeries } from "../grid/series.js";
import { joulesToKWh } from "../units/energy.js";

/** One sampling interval's energy and the emissions booked for it. */
export interface LedgerSlice {
  fromMs: number;
  toMs: number;
  attributedJ: number | null;
  machineJ: number | null;
  /** Intensity used for the slice, gCO2e/kWh (time-weighted; annual figure where the series has no data). */
  intensityGPerKWh: number;
  /** Share of the slice's time the series covered, 0..1 (0 without a series). */
  seriesShare: number;
  co2eG: number | null;
  machineCo2eG: number | null;
}

/**
 * Books emissions interval by interval: energy × PUE × the intensity over that interval's
 * own time. With a time series, each interval takes the series' time-weighted mean where
 * it has data and the annual figure where it has none (counted, so the run can say how
 * much energy fell back). A series that arrives late (a provider queried at the end of
 * the run) re-books every interval.
 */
export class EmissionsLedger {
  readonly slices: LedgerSlice[] = [];
  co2eG = 0;
  machineCo2eG = 0;
  private series: IntensitySeries | null;

  constructor(
    private readonly annualGPerKWh: number,
    private readonly pue: number,
    series: IntensitySeries | null = null,
  ) {
    this.series = series;
  }

  get timeSeries(): IntensitySeries | null {
    return this.series;
  }

  /** Books one interval and returns its slice. */
  add(
    fromMs: number,
    toMs: number,
    attributedJ: number | null,
    machineJ: number | null,
  ): LedgerSlice {
    const slice = this.book({ fromMs, toMs, attributedJ, machineJ });
    this.slices.push(slice);
    this.co2eG += slice.co2eG ?? 0;
    this.machineCo2eG += slice.machineCo2eG ?? 0;
    return slice;
  }

  /** Replaces the series and re-books every interval. */
  setSeries(series: IntensitySeries | null): void {
    this.series = series;
    this.co2eG = 0;
    this.machineCo2eG = 0;
    for (let i = 0; i < this.slices.length; i++) {
      const slice = this.book(this.slices[i] as LedgerSlice);
      this.slices[i] = slice;
      this.co2eG += slice.co2eG ?? 0;
      this.machineCo2eG += slice.machineCo2eG ?? 0;
    }
  }

  /** Attributed energy whose interval the series did not cover (booked at the annual figure), joules. */
  energyOutsideSeriesJ(): number {
    return this.slices.reduce((sum, s) => sum + (s.attributedJ ?? 0) * (1 - s.seriesShare), 0);
  }

  /** The attributed-energy-weighted mean intensity of the run, gCO2e/kWh. */
  meanIntensityGPerKWh(): number {
    const energyJ = this.slices.reduce((sum, s) => sum + (s.attributedJ ?? 0), 0);
    if (!(energyJ > 0)) return this.slices.at(-1)?.intensityGPerKWh ?? this.annualGPerKWh;
    return this.co2eG / (joulesToKWh(energyJ) * this.pue);
  }

  private book(
    slice: Pick<LedgerSlice, "fromMs" | "toMs" | "attributedJ" | "machineJ">,
  ): LedgerSlice {
    const { intensityGPerKWh, seriesShare } = this.intensityOver(slice.fromMs, slice.toMs);
    const co2 = (energyJ: number | null) =>
      energyJ === null ? null : joulesToKWh(energyJ) * this.pue * intensityGPerKWh;
    return {
      ...slice,
      intensityGPerKWh,
      seriesShare,
      co2eG: co2(slice.attributedJ),
      machineCo2eG: co2(slice.machineJ),
    };
  }

  private intensityOver(
    fromMs: number,
    toMs: number,
  ): { intensityGPerKWh: number; seriesShare: number } {
    if (this.series === null || !(toMs > fromMs)) {
      return { intensityGPerKWh: this.annualGPerKWh, seriesShare: 0 };
    }
    const average = averageIntensity(this.series, fromMs, toMs);
    if (average.intensityGPerKWh === null)
      return { intensityGPerKWh: this.annualGPerKWh, seriesShare: 0 };
    const spanS = average.coveredS + average.missingS;
    const share = spanS > 0 ? average.coveredS / spanS : 0;
    return {
      intensityGPerKWh: average.intensityGPerKWh * share + this.annualGPerKWh * (1 - share),
      seriesShare: share,
    };
  }
}
