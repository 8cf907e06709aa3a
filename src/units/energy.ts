/** Joules in one kilowatt-hour. */
export const J_PER_KWH = 3_600_000;
/** Joules in one watt-hour. */
export const J_PER_WH = 3_600;
/** Microjoules in one joule (RAPL counters are in µJ). */
export const UJ_PER_J = 1_000_000;

export function joulesToKWh(energyJ: number): number {
  return energyJ / J_PER_KWH;
}

export function kWhToJoules(energyKWh: number): number {
  return energyKWh * J_PER_KWH;
}

export function joulesToWh(energyJ: number): number {
  return energyJ / J_PER_WH;
}

/** Human-readable energy: J below 1 kJ, Wh below 1 kWh, kWh above. */
export function formatEnergy(energyJ: number | null): string {
  if (energyJ === null) return "unknown";
  if (Math.abs(energyJ) < 1000) return `${trimNumber(energyJ)} J`;
  if (Math.abs(energyJ) < J_PER_KWH) return `${trimNumber(joulesToWh(energyJ))} Wh`;
  return `${trimNumber(joulesToKWh(energyJ))} kWh`;
}

/** Human-readable mass of CO2e given in grams. */
export function formatCo2e(co2eG: number | null): string {
  if (co2eG === null) return "unknown";
  if (Math.abs(co2eG) < 1) return `${trimNumber(co2eG * 1000)} mg CO2e`;
  if (Math.abs(co2eG) < 1000) return `${trimNumber(co2eG)} g CO2e`;
  if (Math.abs(co2eG) < 1e6) return `${trimNumber(co2eG / 1000)} kg CO2e`;
  return `${trimNumber(co2eG / 1e6)} t CO2e`;
}

export function formatPower(powerW: number | null): string {
  if (powerW === null) return "unknown";
  return `${trimNumber(powerW)} W`;
}

export function formatDuration(durationS: number): string {
  if (durationS < 60) return `${trimNumber(durationS)} s`;
  const hours = Math.floor(durationS / 3600);
  const minutes = Math.floor((durationS % 3600) / 60);
  const seconds = Math.round(durationS % 60);
  return hours > 0 ? `${hours} h ${minutes} min ${seconds} s` : `${minutes} min ${seconds} s`;
}

/** Three significant figures, without trailing zeros or exponent for ordinary values. */
export function trimNumber(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toString();
  return Number(value.toPrecision(3)).toString();
}
