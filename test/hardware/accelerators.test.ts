import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  DEFAULT_ACCELERATOR_TABLE_URL,
  createAcceleratorCatalog,
  devicePower,
  findAccelerator,
  listAccelerators,
  loadAcceleratorTable,
  resolveAccelerator,
} from "../../src/hardware/accelerators.js";
import { WattprintError } from "../../src/errors.js";

/** The shipped CSV, parsed independently of the loader under test (quotes, "" escapes). */
function readRawTable(): Record<string, string>[] {
  const text = readFileSync(fileURLToPath(DEFAULT_ACCELERATOR_TABLE_URL), "utf8");
  const records: string[][] = [];
  let field = "";
  let fields: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      fields.push(field);
      field = "";
    } else if (char === "\n") {
      fields.push(field);
      records.push(fields);
      fields = [];
      field = "";
    } else field += char;
  }
  const [header = [], ...rows] = records;
  return rows.map((row) =>
    Object.fromEntries(header.map((name, index) => [name, row[index] ?? ""])),
  );
}

const tempDirs: string[] = [];
function tempTable(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-accelerators-"));
  tempDirs.push(dir);
  const file = join(dir, "accelerators.csv");
  writeFileSync(file, text);
  return file;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("the shipped accelerator table", () => {
  const raw = readRawTable();
  const table = loadAcceleratorTable();

  it("loads every row of the file", () => {
    expect(table.map((row) => row.id)).toEqual(raw.map((row) => row.id));
  });

  it("covers the GPUs, TPUs and CPU default the issue names", () => {
    const ids = new Set(table.map((row) => row.id));
    for (const id of [
      "V100",
      "A100-40GB",
      "A100-80GB",
      "H100-SXM",
      "H100-PCIe",
      "H200",
      "B200",
      "L4",
      "T4",
      "A10G",
      "H800",
      "A800",
      "MI250X",
      "MI300X",
      "TPU-v2",
      "TPU-v3",
      "TPU-v4",
      "TPU-v5e",
      "TPU-v5p",
      "CPU",
    ]) {
      expect(ids.has(id), id).toBe(true);
    }
  });

  it("gives every figure a source and keeps the raw numbers", () => {
    const byId = new Map(raw.map((row) => [row.id, row]));
    for (const row of table) {
      const source = byId.get(row.id);
      expect(source, row.id).toBeDefined();
      expect(row.peakDenseTflops).toBeCloseTo(Number(source?.peak_dense_tflops), 9);
      expect(row.tdpW).toBe(source?.tdp_w === "" ? null : Number(source?.tdp_w));
      expect(row.tdpSource.length, row.id).toBeGreaterThan(10);
      expect(row.peakSource.length, row.id).toBeGreaterThan(10);
      expect(row.specSource.length, row.id).toBeGreaterThan(10);
      expect(row.embodiedSource.length, row.id).toBeGreaterThan(10);
      expect(row.hostSource.length, row.id).toBeGreaterThan(10);
      expect(row.memoryBandwidthGBPerS).toBeGreaterThan(0);
    }
  });

  it("lets a stand-in embodied figure point only at a row with a published one", () => {
    const byId = new Map(table.map((row) => [row.id, row]));
    const proxies = table.filter((row) => row.embodiedBasis === "same-as");
    expect(proxies.length).toBeGreaterThan(0);
    for (const row of proxies) {
      const target = byId.get(row.embodiedSameAs ?? "");
      expect(target?.embodiedBasis, row.id).toBe("published");
      expect(row.embodiedDeviceKg).toBe(target?.embodiedDeviceKg);
    }
  });

  it("matches Morrison et al. 2025's 3,700 kg per 8-GPU H100 node", () => {
    const h100 = resolveAccelerator("H100-SXM");
    const nodeKg = 8 * h100.embodiedDeviceKg + (h100.hostEmbodiedKg / h100.devicesPerHost) * 8;
    expect(nodeKg).toBeCloseTo(3700, 6);
  });

  it("holds TPU v3's training average as the mean of the runs its source lists", () => {
    const tpu = resolveAccelerator("TPU-v3");
    const watts = [...(tpu.trainingPowerSource ?? "").matchAll(/(\d+) W/g)].map((match) =>
      Number(match[1]),
    );
    expect(watts.length).toBe(4);
    const mean = watts.reduce((sum, value) => sum + value, 0) / watts.length;
    expect(tpu.trainingPowerW).toBeCloseTo(mean, 0);
  });
});

describe("lookup by name", () => {
  it("accepts ids and aliases in any spelling", () => {
    const cases: Array<[string, string]> = [
      ["A100-80GB", "A100-80GB"],
      ["a100 80gb", "A100-80GB"],
      ["A100_80GB", "A100-80GB"],
      ["A100-SXM4-80GB", "A100-80GB"],
      ["H100-SXM", "H100-SXM"],
      ["h100", "H100-SXM"],
      ["H100-80GB", "H100-SXM"],
      ["tpu-v4", "TPU-v4"],
      ["TPU v4", "TPU-v4"],
      ["TPUv4", "TPU-v4"],
      ["AMD MI250X", "MI250X"],
      ["cpu", "CPU"],
    ];
    for (const [name, id] of cases) expect(resolveAccelerator(name).id, name).toBe(id);
  });

  it("returns null from find and USAGE with close names from resolve for unknown hardware", () => {
    expect(findAccelerator("A100-90GB")).toBeNull();
    let error: unknown;
    try {
      resolveAccelerator("A100-90GB");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).code).toBe("USAGE");
    expect((error as WattprintError).message).toBe('unknown hardware "A100-90GB"');
    expect((error as WattprintError).hint).toMatch(/did you mean .*A100-80GB/);
  });

  it("points to the list when nothing is close", () => {
    expect(() => resolveAccelerator("quantum-annealer-9000")).toThrow(/unknown hardware/);
    try {
      resolveAccelerator("quantum-annealer-9000");
    } catch (error) {
      expect((error as WattprintError).hint).toMatch(/wattprint estimate hardware/);
    }
  });

  it("hands out copies, so callers cannot change the table", () => {
    const first = listAccelerators()[0];
    if (first === undefined) throw new Error("empty table");
    first.aliases.push("mutated");
    first.tdpW = 1;
    const again = resolveAccelerator(first.id);
    expect(again.aliases).not.toContain("mutated");
    expect(again.tdpW).not.toBe(1);
  });
});

describe("devicePower", () => {
  it("uses the measured training average where one is published (V100, TPU v2/v3 differ from TDP)", () => {
    for (const id of ["V100", "TPU-v2", "TPU-v3"]) {
      const accelerator = resolveAccelerator(id);
      const power = devicePower(accelerator);
      expect(power.basis, id).toBe("measured-training-average");
      expect(power.powerW).toBe(accelerator.trainingPowerW);
      expect(power.powerW).not.toBe(accelerator.tdpW);
      expect(power.source).toMatch(/Patterson/);
    }
  });

  it("falls back to the TDP, then to unknown with the reason", () => {
    const a100 = devicePower(resolveAccelerator("A100-80GB"));
    expect(a100).toMatchObject({ powerW: 400, basis: "tdp" });
    const v5e = devicePower(resolveAccelerator("TPU-v5e"));
    expect(v5e.powerW).toBeNull();
    expect(v5e.basis).toBe("unknown");
    expect(v5e.source).toMatch(/no power figure/);
  });
});

describe("damaged tables", () => {
  const header =
    readFileSync(fileURLToPath(DEFAULT_ACCELERATOR_TABLE_URL), "utf8").split("\n")[0] ?? "";
  const row = (id: string, aliases: string, tdp: string, basis: string): string =>
    `${id},Name ${id},V,gpu,${aliases},${tdp},src tdp,,,100,bf16,src peak,80,2000,src spec,150,${basis},src emb,2500,8,src host,`;

  it("loads a small valid table through a catalog", () => {
    const file = tempTable(
      `${header}\n${row("X1", "x-one", "300", "published")}\n${row("X2", "", "", "same-as:X1")}\n`,
    );
    const catalog = createAcceleratorCatalog(file);
    expect(catalog.resolve("x one").id).toBe("X1");
    expect(catalog.find("X2")?.tdpW).toBeNull();
  });

  it("rejects an alias shared by two rows", () => {
    const file = tempTable(
      `${header}\n${row("X1", "dup", "300", "published")}\n${row("X2", "DUP", "300", "published")}\n`,
    );
    expect(() => loadAcceleratorTable(file)).toThrow(/"DUP" is also a name of X1/);
  });

  it("rejects a same-as that names no row, and a negative TDP, naming the line", () => {
    const missing = tempTable(`${header}\n${row("X1", "", "300", "same-as:Nope")}\n`);
    expect(() => loadAcceleratorTable(missing)).toThrow(
      /line 2: column "embodied_basis" same-as:Nope/,
    );
    const negative = tempTable(`${header}\n${row("X1", "", "-5", "published")}\n`);
    try {
      loadAcceleratorTable(negative);
      expect.unreachable();
    } catch (error) {
      expect((error as WattprintError).code).toBe("BAD_INPUT");
      expect((error as WattprintError).message).toMatch(/column "tdp_w" is -5/);
    }
  });
});
