import { describe, expect, it } from "vitest";
import { WattprintError } from "../../../src/errors.js";
import { ProviderRequestError } from "../../../src/grid/providers/http.js";
import { PROVIDER_NAMES, createProvider } from "../../../src/grid/providers/registry.js";

const BASE = { baseUrl: "http://127.0.0.1:9", cacheDir: null };

describe("createProvider", () => {
  it("builds each provider by name, with its signal", () => {
    const built = [
      createProvider("electricitymaps", { ...BASE, apiKey: "k" }),
      createProvider("watttime", { ...BASE, username: "u", password: "p" }),
      createProvider("uk-carbon-intensity", BASE),
      createProvider("carbon-aware-sdk", BASE),
    ];
    expect(built.map((provider) => [provider.name, provider.signal])).toEqual([
      ["electricitymaps", "average"],
      ["watttime", "marginal"],
      ["uk-carbon-intensity", "average"],
      ["carbon-aware-sdk", "average"],
    ]);
    expect(PROVIDER_NAMES).toEqual(built.map((provider) => provider.name));
  });

  it("accepts other cases and the documented aliases", () => {
    expect(createProvider(" WattTime ", { ...BASE, username: "u", password: "p" }).name).toBe(
      "watttime",
    );
    expect(createProvider("electricity-maps", { ...BASE, apiKey: "k" }).name).toBe(
      "electricitymaps",
    );
    expect(createProvider("uk", BASE).name).toBe("uk-carbon-intensity");
    expect(createProvider("carbon-aware", BASE).name).toBe("carbon-aware-sdk");
  });

  it("refuses an unknown name with USAGE, listing the known ones", () => {
    let error: unknown;
    try {
      createProvider("co2signal", BASE);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).code).toBe("USAGE");
    expect((error as WattprintError).message).toBe(
      'unknown carbon-intensity provider "co2signal"; known providers: electricitymaps, watttime, uk-carbon-intensity, carbon-aware-sdk',
    );
  });

  it("passes on a missing credential as a PROVIDER configuration error", () => {
    expect(() => createProvider("electricitymaps", BASE)).toThrow(ProviderRequestError);
    expect(() => createProvider("watttime", { ...BASE, username: "u" })).toThrow(
      /watttime: no password given/,
    );
    expect(() => createProvider("carbon-aware-sdk", { cacheDir: null })).toThrow(
      /no base URL given/,
    );
  });
});
