import { joulesToKWh } from "../units/energy.js";

/** What turns energy into emissions for one run: where, how clean, how much overhead. */
export interface CarbonContext {
  /** Location-based average grid intensity, gCO2e per kWh. */
  intensityGPerKWh: number;
  /** Power usage effectiveness of the data centre (>= 1; 1 = no overhead counted). */
  pue: number;
}

/**
 * Operational emissions, grams CO2e, of `energyJ` drawn by IT equipment:
 * kWh × PUE × intensity (the SCI's E × I term, with the facility overhead).
 */
export function operationalCo2eG(energyJ: number, carbon: CarbonContext): number {
  return joulesToKWh(energyJ) * carbon.pue * carbon.intensityGPerKWh;
}

/** Default PUE when the user gives none and the region is not a cloud region. */
export const DEFAULT_PUE = 1.0;
