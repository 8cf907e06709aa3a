import { forecastTotal, type BudgetForecast } from "./budget-forecast.js";
import type {
  EpochLogs,
  TrainingCallback,
  TrainingControl,
  TrainingPlan,
} from "./training-callback.js";

export interface EnergyBudgetOptions {
  /** Budget for the whole run in joules; give this or `co2eG`. */
  energyJ?: number;
  /** Budget for the whole run in grams CO2e. */
  co2eG?: number;
  /** Leading epochs left out of the forecast (they still count as spent); default 1. */
  warmupEpochs?: number;
  /** Post-warm-up epochs measured before the first forecast; default 2 (the least that gives an interval). */
  minEpochs?: number;
  /** Confidence of the forecast interval; default 0.95. */
  confidence?: number;
  /** What to do when the forecast exceeds the budget: "warn" (default) or "stop" the run. */
  action?: "warn" | "stop";
  /**
   * When the forecast counts as exceeding: "likely" (default) when the predicted total is
   * over the budget, "certain" when the interval's lower end is.
   */
  when?: "likely" | "certain";
  /** Called with every forecast. */
  onForecast?: (forecast: BudgetForecast) => void;
}

/**
 * An energy or carbon budget for a training run. After the warm-up and `minEpochs`
 * epochs it forecasts the whole run's total from the epochs measured (with an interval),
 * and warns or stops when the forecast, or what is already spent, exceeds the budget.
 * It reads `energyJ` / `co2eG` from the epoch logs, which the training driver fills from
 * the tracker.
 */
export class EnergyBudget implements TrainingCallback {
  readonly name = "energy-budget";
  readonly metric: "energyJ" | "co2eG";
  readonly budget: number;
  readonly unit: "J" | "g CO2e";
  /** Every forecast made, in order. */
  readonly forecasts: BudgetForecast[] = [];
  /** Set once the budget was found exceeded (by forecast or by spending). */
  exceeded: { epoch: number; reason: string } | null = null;
  private readonly options: EnergyBudgetOptions;
  private readonly values: number[] = [];
  private plannedEpochs = 0;
  private missingWarned = false;

  constructor(options: EnergyBudgetOptions) {
    if ((options.energyJ === undefined) === (options.co2eG === undefined)) {
      throw new RangeError("give an energy budget (energyJ) or a carbon budget (co2eG), not both");
    }
    this.metric = options.energyJ !== undefined ? "energyJ" : "co2eG";
    this.budget = (options.energyJ ?? options.co2eG) as number;
    this.unit = this.metric === "energyJ" ? "J" : "g CO2e";
    if (!(this.budget > 0)) throw new RangeError(`the budget must be positive, got ${this.budget}`);
    this.options = options;
  }

  onTrainBegin(plan: TrainingPlan): void {
    this.plannedEpochs = plan.epochs;
    this.values.length = 0;
    this.forecasts.length = 0;
    this.exceeded = null;
  }

  onEpochEnd(logs: EpochLogs, control: TrainingControl): void {
    const value = logs[this.metric];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      if (!this.missingWarned) {
        this.missingWarned = true;
        control.warn(
          `${this.name}: epoch ${logs.epoch + 1} has no ${this.metric}; train with a tracker so epochs are measured`,
        );
      }
      return;
    }
    this.values.push(value);
    const warmupEpochs = this.options.warmupEpochs ?? 1;
    const spent = this.values.reduce((sum, v) => sum + v, 0);
    if (spent > this.budget) {
      this.flag(
        logs.epoch,
        `${this.name}: ${format(spent)} ${this.unit} spent after ${this.values.length} epochs, over the budget of ${format(this.budget)} ${this.unit}`,
        control,
      );
      return;
    }
    if (this.values.length - warmupEpochs < (this.options.minEpochs ?? 2)) return;
    const forecast = forecastTotal(this.values, this.plannedEpochs, {
      warmupEpochs,
      confidence: this.options.confidence ?? 0.95,
    });
    if (forecast === null) return;
    this.forecasts.push(forecast);
    this.options.onForecast?.(forecast);
    const basis =
      (this.options.when ?? "likely") === "certain" ? forecast.low : forecast.predictedTotal;
    if (basis !== null && basis > this.budget) {
      const interval =
        forecast.low === null || forecast.high === null
          ? ""
          : ` (${Math.round(forecast.confidence * 100)}%: ${format(forecast.low)}–${format(forecast.high)})`;
      this.flag(
        logs.epoch,
        `${this.name}: forecast ${format(forecast.predictedTotal)} ${this.unit}${interval} for ${forecast.plannedEpochs} epochs exceeds the budget of ${format(this.budget)} ${this.unit}`,
        control,
      );
    }
  }

  private flag(epoch: number, reason: string, control: TrainingControl): void {
    if (this.exceeded === null) {
      this.exceeded = { epoch, reason };
      if ((this.options.action ?? "warn") === "warn") control.warn(reason);
    }
    if ((this.options.action ?? "warn") === "stop") control.stop(reason);
  }
}

function format(value: number): string {
  return Number(value.toPrecision(3)).toString();
}
