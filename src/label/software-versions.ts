/**
 * Versions of the software a label was measured with. onnxruntime-node's version is read
 * from its package.json, so asking for it never loads the runtime.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { release, type } from "node:os";
import { wattprintVersion } from "../version.js";

/** Software that shapes a label's figure. null where a version could not be found. */
export interface LabelSoftware {
  wattprint: string;
  /** `process.version` ("v20.20.2"). */
  node: string;
  /** onnxruntime-node's package version; null when it is not installed. */
  onnxruntime: string | null;
  /** "Linux 6.8.0". */
  os: string;
}

/** The versions in this process. */
export function labelSoftwareVersions(): LabelSoftware {
  return {
    wattprint: wattprintVersion(),
    node: process.version,
    onnxruntime: onnxRuntimeVersion(),
    os: `${type()} ${release()}`,
  };
}

function onnxRuntimeVersion(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve("onnxruntime-node/package.json"), "utf8"));
    return typeof pkg.version === "string" ? pkg.version : null;
  } catch {
    return null;
  }
}
