import { readFileSync } from "node:fs";

let cached: string | undefined;

/** wattprint's own version, from its package.json (src/ and dist/ both sit one level below it). */
export function wattprintVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
      cached = typeof pkg.version === "string" ? pkg.version : "unknown";
    } catch {
      cached = "unknown";
    }
  }
  return cached ?? "unknown";
}
