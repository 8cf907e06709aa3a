import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { compareWithReference, rerunCommand } from "../../src/label/certificate.js";
import { labelProtocol } from "../../src/label/protocol.js";
import type { LabelEnergySource, LabelHardware } from "../../src/label/reference-table.js";
import { resolveLabelTask } from "../../src/label/tasks.js";

const task = resolveLabelTask("digits-classification");
const hardware: LabelHardware = {
  cpuModel: "AMD EPYC",
  cpuCount: 2,
  memoryTotalBytes: 8e9,
  gpus: [],
};
const modelled: LabelEnergySource[] = [
  {
    component: "cpu",
    method: "model",
    source: "tdp-model:AMD EPYC",
    attribution: "cpu time",
    notes: [],
  },
  {
    component: "ram",
    method: "model",
    source: "ram-model:0.3725 W/GB",
    attribution: "rss",
    notes: [],
  },
];
const reference = { hardware, energySources: modelled, protocol: labelProtocol(task) };

describe("compareWithReference", () => {
  it("finds nothing to say when hardware, methods and protocol match", () => {
    const result = compareWithReference(
      {
        hardware: { ...hardware, memoryTotalBytes: 16e9 },
        energySources: [...modelled].reverse(),
        protocol: labelProtocol(task),
      },
      reference,
    );
    expect(result).toEqual({
      sameHardware: true,
      sameEnergyMethods: true,
      sameProtocol: true,
      notes: [],
    });
  });

  it("names each difference", () => {
    const counted: LabelEnergySource[] = [
      { ...(modelled[0] as LabelEnergySource), method: "counter", source: "rapl:package-0" },
      modelled[1] as LabelEnergySource,
    ];
    const result = compareWithReference(
      {
        hardware: { ...hardware, cpuCount: 16, gpus: [{ index: 0, name: "NVIDIA H100" }] },
        energySources: counted,
        protocol: labelProtocol(task, { queriesPerRepeat: 100 }),
      },
      reference,
    );
    expect(result.sameHardware).toBe(false);
    expect(result.sameEnergyMethods).toBe(false);
    expect(result.sameProtocol).toBe(false);
    expect(result.notes[0]).toBe(
      "measured on AMD EPYC ×16 + NVIDIA H100, the reference on AMD EPYC ×2",
    );
    expect(result.notes[1]).toMatch(
      /cpu: counter \(rapl:package-0\).*the reference's as cpu: model/,
    );
    expect(result.notes[2]).toMatch(/5 × 100 queries, .*; the reference used .*5 × 10000 queries/);
  });
});

describe("rerunCommand", () => {
  it("quotes a path so that a shell gives it back unchanged", () => {
    const path = "my models/it's v2.onnx";
    const command = rerunCommand(path, labelProtocol(task, { repeats: 3 }));
    const echoed = spawnSync("bash", ["-c", command.replace(/^wattprint label/, "printf '%s\\n'")]);
    const args = echoed.stdout.toString().trimEnd().split("\n");
    expect(args).toEqual([
      "--model",
      path,
      "--task",
      "digits-classification",
      "--queries",
      "10000",
      "--repeats",
      "3",
      "--warmup",
      "200",
    ]);
  });
});
