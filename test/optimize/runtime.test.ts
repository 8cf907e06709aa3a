import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { tempDir } from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");

describe("TensorFlow.js runtime", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("falls back to the cpu backend, saying so, when the wasm backend cannot start", () => {
    const child = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        join(ROOT, "test/optimize/fixtures/init-without-wasm.ts"),
        join(dir.path, "no-wasm-here"),
      ],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(child.status, child.stderr).toBe(0);
    const runtime = JSON.parse(child.stdout.trim().split("\n").at(-1) as string);
    expect(runtime.backend).toBe("cpu");
    expect(runtime.active).toBe("cpu");
    expect(runtime.sum).toEqual([4, 6]);
    expect(runtime.warnings).toHaveLength(1);
    expect(runtime.warnings[0]).toMatch(
      /wasm backend could not start \(.+\); the cpu backend runs instead/,
    );
    // Production mode keeps TF.js's own console notes ("install tfjs-node") out of the output.
    expect(child.stdout + child.stderr).not.toMatch(/tfjs-node/);
  });
});
