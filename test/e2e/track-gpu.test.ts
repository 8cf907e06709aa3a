import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../../src/record/run-record.js";
import { FIXTURE_BIN, busyScript, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

const GPU_0 = "GPU-11111111-2222-3333-4444-555555555555";
const GPU_1 = "GPU-66666666-7777-8888-9999-000000000000";

// NVML is off, so the fake nvidia-smi on PATH is polled, as on a machine where libnvidia-ml
// cannot be loaded. The tracked program registers itself on GPU 0 the way a CUDA process
// appears in nvidia-smi's compute-apps list.
describe("wattprint track with NVIDIA GPUs through nvidia-smi", () => {
  const dir = tempDir();
  const appsFile = join(dir.path, "apps.json");
  let run: RunRecord;

  beforeAll(async () => {
    writeFileSync(appsFile, "[]");
    const gpus = [
      {
        index: 0,
        uuid: GPU_0,
        name: "NVIDIA A100-SXM4-80GB",
        idleW: 60,
        busyW: 300,
        busyFromMs: 0,
        busyToMs: 60_000,
      },
      { index: 1, uuid: GPU_1, name: "NVIDIA A100-SXM4-80GB", idleW: 50, busyW: 50 },
    ];
    const script = `require("fs").writeFileSync(${JSON.stringify(appsFile)}, JSON.stringify([{ gpuUuid: ${JSON.stringify(GPU_0)}, pid: process.pid }])); ${busyScript(2000)}`;
    const result = await runCli(
      [
        "track",
        "--interval",
        "250ms",
        "--no-store",
        "--out",
        join(dir.path, "run.json"),
        "--",
        process.execPath,
        "-e",
        script,
      ],
      {
        env: isolatedEnv(dir.path, {
          PATH: `${FIXTURE_BIN}:${process.env.PATH ?? ""}`,
          FAKE_NVIDIA_SMI_GPUS: JSON.stringify(gpus),
          FAKE_NVIDIA_SMI_APPS: appsFile,
        }),
      },
    );
    expect(result.code).toBe(0);
    run = JSON.parse(readFileSync(join(dir.path, "run.json"), "utf8")) as RunRecord;
  });
  afterAll(() => dir.cleanup());

  it("reads one channel per GPU by power integration and says why not NVML", () => {
    const gpuSources = run.sources.filter((s) => s.component === "gpu");
    expect(gpuSources.map((s) => s.source)).toEqual([
      "nvidia-smi:power.draw",
      "nvidia-smi:power.draw",
    ]);
    expect(gpuSources.every((s) => s.method === "power-integration")).toBe(true);
    expect(run.warnings.join("\n")).toMatch(
      /polled from nvidia-smi because NVML could not be used \(NVML turned off\)/,
    );
    expect(run.machine.gpus.map((g) => g.uuid)).toEqual([GPU_0, GPU_1]);
  });

  it("measures both GPUs for the machine and attributes only the one the run used", () => {
    const spanS = run.durationS;
    // GPU 0 at 300 W, GPU 1 at 50 W, over about the run.
    expect(run.machineEnergyJ.gpu).toBeGreaterThan(350 * spanS * 0.7);
    expect(run.machineEnergyJ.gpu).toBeLessThan(350 * spanS * 1.1);
    const [gpu0, gpu1] = run.sources.filter((s) => s.component === "gpu");
    expect(gpu1?.attribution).toMatch(/not attributed: no tracked process/);
    expect(gpu1?.attributedEnergyJ).toBe(0);
    expect(gpu0?.attributedEnergyJ).toBeCloseTo(run.energyJ.gpu ?? -1, 9);
    expect(gpu0?.attribution).toMatch(/only tracked processes/);
    // Attributed: GPU 0 from when the program registered, nothing of GPU 1.
    expect(run.energyJ.gpu).toBeGreaterThan(0);
    expect(run.energyJ.gpu).toBeLessThanOrEqual(gpu0?.machineEnergyJ ?? 0);
    expect(run.energyJ.gpu).toBeGreaterThan((gpu0?.machineEnergyJ ?? 0) * 0.5);
  });

  it("honours CUDA_VISIBLE_DEVICES", async () => {
    const out = join(dir.path, "visible.json");
    const result = await runCli(
      [
        "track",
        "--quiet",
        "--no-store",
        "--out",
        out,
        "--",
        process.execPath,
        "-e",
        busyScript(300),
      ],
      {
        env: isolatedEnv(dir.path, {
          PATH: `${FIXTURE_BIN}:${process.env.PATH ?? ""}`,
          FAKE_NVIDIA_SMI_GPUS: JSON.stringify([
            { index: 0, uuid: GPU_0, name: "NVIDIA H100 80GB HBM3", idleW: 70, busyW: 70 },
            { index: 1, uuid: GPU_1, name: "NVIDIA H100 80GB HBM3", idleW: 70, busyW: 70 },
          ]),
          CUDA_VISIBLE_DEVICES: GPU_1,
        }),
      },
    );
    expect(result.code).toBe(0);
    const record = JSON.parse(readFileSync(out, "utf8")) as RunRecord;
    expect(record.machine.gpus.map((g) => g.uuid)).toEqual([GPU_1]);
  });
});
