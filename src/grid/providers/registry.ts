/**
 * Creates a live carbon-intensity provider by name, for the CLI and configuration files.
 */
import { WattprintError } from "../../errors.js";
import { CARBON_AWARE_SDK, createCarbonAwareSdkProvider } from "./carbon-aware-sdk.js";
import { ELECTRICITY_MAPS, createElectricityMapsProvider } from "./electricity-maps.js";
import type { IntensityProvider, ProviderOptions } from "./provider.js";
import { UK_CARBON_INTENSITY, createUkCarbonIntensityProvider } from "./uk-carbon-intensity.js";
import { WATTTIME, createWattTimeProvider } from "./watttime.js";

const FACTORIES: Readonly<Record<string, (options: ProviderOptions) => IntensityProvider>> = {
  [ELECTRICITY_MAPS]: createElectricityMapsProvider,
  [WATTTIME]: createWattTimeProvider,
  [UK_CARBON_INTENSITY]: createUkCarbonIntensityProvider,
  [CARBON_AWARE_SDK]: createCarbonAwareSdkProvider,
};

/** Other spellings accepted for a provider name. */
const ALIASES: Readonly<Record<string, string>> = {
  "electricity-maps": ELECTRICITY_MAPS,
  uk: UK_CARBON_INTENSITY,
  carbonintensity: UK_CARBON_INTENSITY,
  "carbon-aware": CARBON_AWARE_SDK,
};

/** The provider names {@link createProvider} accepts, in the order docs list them. */
export const PROVIDER_NAMES: readonly string[] = Object.keys(FACTORIES);

/**
 * The provider called `name` (case-insensitive; aliases "electricity-maps", "uk",
 * "carbonintensity", "carbon-aware") built with `options`.
 * @throws WattprintError `USAGE` for an unknown name, listing the known ones;
 *   `PROVIDER` when a required option (key, credentials, base URL) is missing or bad.
 */
export function createProvider(name: string, options: ProviderOptions = {}): IntensityProvider {
  const key = name.trim().toLowerCase();
  const canonical = ALIASES[key] ?? key;
  const factory = FACTORIES[canonical];
  if (factory === undefined) {
    throw new WattprintError(
      "USAGE",
      `unknown carbon-intensity provider "${name}"; known providers: ${PROVIDER_NAMES.join(", ")}`,
      { hint: `pick one of ${PROVIDER_NAMES.join(", ")} (docs/providers.md)` },
    );
  }
  return factory(options);
}
