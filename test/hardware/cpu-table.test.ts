import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  CPU_FAMILY_DEFAULTS,
  DEFAULT_CPU_TABLE_URL,
  GENERIC_CPU_DEFAULT,
  loadCpuTable,
  matchCpu,
  normalizeCpuName,
} from "../../src/hardware/cpu-table.js";
import { WattprintError } from "../../src/errors.js";

/** The shipped CSV read independently of the loader under test (it has no quoted fields). */
function readRawTable(): Record<string, string>[] {
  const lines = readFileSync(fileURLToPath(DEFAULT_CPU_TABLE_URL), "utf8").trim().split("\n");
  const header = (lines[0] ?? "").split(",");
  return lines.slice(1).map((line) => {
    const fields = line.split(",");
    return Object.fromEntries(header.map((name, index) => [name, fields[index] ?? ""]));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

const tempDirs: string[] = [];
function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-cpu-table-"));
  tempDirs.push(dir);
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("the shipped CPU table", () => {
  const raw = readRawTable();

  it("loads with 80+ rows, each with a positive TDP and at least as many threads as cores", () => {
    const table = loadCpuTable();
    expect(table.length).toBe(raw.length);
    expect(table.length).toBeGreaterThanOrEqual(80);
    for (const entry of table) {
      expect(entry.tdpW).toBeGreaterThan(0);
      expect(entry.threads).toBeGreaterThanOrEqual(entry.cores);
    }
  });

  it("covers the families and cloud parts the tracker meets most", () => {
    const models = new Set(raw.map((row) => row.model));
    for (const model of [
      "7B13",
      "7R13",
      "7763",
      "9654",
      "9R14",
      "8480+",
      "Q80-30",
      "i9-13900K",
      "7950X",
      "3990X",
    ]) {
      expect(models.has(model), model).toBe(true);
    }
  });

  it("gives custom cloud parts the TDP and core count of the public part they stand in for", () => {
    const byModel = new Map(raw.map((row) => [row.model, row]));
    const custom = raw.filter((row) => row.tdp_basis !== "published");
    expect(custom.length).toBeGreaterThan(0);
    for (const row of custom) {
      expect(row.source_id).toBe("cloud-custom");
      const stand = byModel.get((row.tdp_basis ?? "").replace("same-as:", ""));
      expect(stand, row.model).toBeDefined();
      expect(row.tdp_w).toBe(stand?.tdp_w);
      expect(row.cores).toBe(stand?.cores);
    }
  });

  it("has family defaults equal to the table medians they are documented to be (within rounding)", () => {
    for (const family of [...CPU_FAMILY_DEFAULTS, GENERIC_CPU_DEFAULT]) {
      const perThread = raw
        .filter(
          (row) =>
            family.defaultFrom.includes(row.family ?? "") && Number(row.cores) >= family.minCores,
        )
        .map((row) => Number(row.tdp_w) / Number(row.threads));
      expect(perThread.length, family.family).toBeGreaterThanOrEqual(5);
      expect(Math.abs(family.tdpWPerThread - median(perThread)), family.family).toBeLessThanOrEqual(
        0.05 + 1e-9,
      );
    }
  });
});

describe("normalizeCpuName", () => {
  it.each([
    ["Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "Intel Xeon Platinum 8375C"],
    ["AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763"],
    ["Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "Intel Xeon E5-2686v4"],
    ["13th Gen Intel(R) Core(TM) i7-1360P", "13th Gen Intel Core i7-1360P"],
    ["AMD Ryzen 7 5800U with Radeon Graphics", "AMD Ryzen 7 5800U"],
    ["AMD Ryzen Threadripper PRO 5995WX 64-Cores", "AMD Ryzen Threadripper PRO 5995WX"],
    ["  AMD EPYC  ", "AMD EPYC"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeCpuName(input)).toBe(expected);
  });
});

describe("matchCpu on real /proc/cpuinfo model strings", () => {
  it("matches an Intel Xeon exactly, with the published TDP and no assumption", () => {
    const match = matchCpu("Intel(R) Xeon(R) Platinum 8480+", {
      logicalCpus: 112,
      virtualized: false,
    });
    expect(match.match).toBe("exact");
    expect(match.entry?.model).toBe("8480+");
    expect(match.tdpW).toBeCloseTo(350, 6);
    expect(match.assumption).toBeNull();
    expect(match.tdpSource).toContain("350 W");
  });

  it("matches an AMD EPYC exactly and scales a VM's share by visible threads", () => {
    // A 2-vCPU VM on a 280 W, 128-thread EPYC 7763 gets 2/128 of the package.
    const match = matchCpu("AMD EPYC 7763 64-Core Processor", {
      logicalCpus: 2,
      virtualized: true,
    });
    expect(match.match).toBe("exact");
    expect(match.tdpW).toBeCloseTo((280 * 2) / 128, 6);
    expect(match.scaling).toContain("2 of 128");
    expect(match.assumption).toBeNull();
  });

  it("counts whole packages on bare metal, even with SMT off", () => {
    const twoSockets = matchCpu("AMD EPYC 7763 64-Core Processor", {
      logicalCpus: 256,
      sockets: 2,
      virtualized: false,
    });
    expect(twoSockets.tdpW).toBeCloseTo(560, 6);
    const smtOff = matchCpu("AMD EPYC 7763 64-Core Processor", {
      logicalCpus: 64,
      virtualized: false,
    });
    expect(smtOff.tdpW).toBeCloseTo(280, 6);
  });

  it("scales by visible threads when virtualisation is unknown", () => {
    expect(matchCpu("AMD EPYC 7763", { logicalCpus: 256 }).tdpW).toBeCloseTo(560, 6);
    expect(matchCpu("AMD EPYC 7763", { logicalCpus: 16 }).tdpW).toBeCloseTo(35, 6);
    expect(matchCpu("AMD EPYC 7763").tdpW).toBeCloseTo(280, 6);
  });

  it("labels custom cloud parts as an assumption", () => {
    const match = matchCpu("AMD EPYC 7B13", { logicalCpus: 128, virtualized: true });
    expect(match.match).toBe("exact");
    expect(match.tdpW).toBeCloseTo(280, 6);
    expect(match.assumption).toMatch(/not published/);
    expect(match.assumption).toContain("7763");
    const xeon = matchCpu("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", { logicalCpus: 36 });
    expect(xeon.entry?.model).toBe("E5-2686v4");
    expect(xeon.assumption).toMatch(/not published/);
  });

  it("treats an EPYC P part as its two-socket twin", () => {
    const match = matchCpu("AMD EPYC 7502P 32-Core Processor", { logicalCpus: 64 });
    expect(match.entry?.model).toBe("7502");
    expect(match.tdpW).toBeCloseTo(180, 6);
    expect(match.tdpSource).toContain("7502P");
  });

  it("falls back to the family default for a VM-masked 'AMD EPYC', labelled as an assumption", () => {
    const match = matchCpu("AMD EPYC", { logicalCpus: 2 });
    const epyc = CPU_FAMILY_DEFAULTS.find((family) => family.family === "AMD EPYC");
    expect(match.match).toBe("family");
    expect(match.entry).toBeNull();
    expect(match.family).toBe("AMD EPYC");
    expect(match.label).toBe("AMD EPYC (family default)");
    expect(match.tdpW).toBeCloseTo((epyc?.tdpWPerThread ?? NaN) * 2, 6);
    expect(match.assumption).toMatch(/assumed/);
    expect(match.assumption).toContain("AMD EPYC");
  });

  it("uses the Xeon family default for an unknown Xeon number and for hidden models", () => {
    const xeon = CPU_FAMILY_DEFAULTS.find((family) => family.family === "Intel Xeon");
    for (const name of [
      "Intel(R) Xeon(R) Platinum 8124M CPU @ 3.00GHz",
      "Intel(R) Xeon(R) CPU @ 2.20GHz",
    ]) {
      const match = matchCpu(name, { logicalCpus: 8 });
      expect(match.match, name).toBe("family");
      expect(match.tdpW, name).toBeCloseTo((xeon?.tdpWPerThread ?? NaN) * 8, 6);
    }
  });

  it("treats QEMU's named Intel models as a Xeon host, not a desktop Core", () => {
    for (const name of [
      "Intel Core Processor (Broadwell, IBRS)",
      "Intel Xeon Processor (Icelake)",
    ]) {
      const match = matchCpu(name, { logicalCpus: 4 });
      expect(match.match, name).toBe("family");
      expect(match.family, name).toBe("Intel Xeon");
      expect(match.assumption, name).toMatch(/QEMU/);
    }
  });

  it("uses the generic default for anonymous virtual CPUs and unknown vendors", () => {
    for (const name of [
      "Common KVM processor",
      "QEMU Virtual CPU version 2.5+",
      "Apple M1 Pro",
      "",
      "Foo Bar 7763",
    ]) {
      const match = matchCpu(name, { logicalCpus: 4 });
      expect(match.match, name).toBe("none");
      expect(match.entry, name).toBeNull();
      expect(match.tdpW, name).toBeCloseTo(GENERIC_CPU_DEFAULT.tdpWPerThread * 4, 6);
      expect(match.assumption, name).toMatch(/generic default/);
    }
  });

  it("recognises desktop, laptop and Arm parts", () => {
    expect(matchCpu("13th Gen Intel(R) Core(TM) i7-1360P").entry?.tdpW).toBe(28);
    expect(matchCpu("Intel(R) Core(TM) i9-14900K").entry?.threads).toBe(32);
    expect(matchCpu("AMD Ryzen 9 7950X 16-Core Processor").entry?.tdpW).toBe(170);
    expect(matchCpu("AMD Ryzen 7 5800U with Radeon Graphics").entry?.tdpW).toBe(15);
    expect(matchCpu("Ampere(R) Altra(R) Processor Q80-30 CPU @ 3.0GHz").entry?.tdpW).toBe(210);
    const laptop = matchCpu("11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", { logicalCpus: 8 });
    expect(laptop.family).toBe("Intel Core (mobile)");
    const arm = matchCpu("ARM Neoverse-N1", { logicalCpus: 64 });
    expect(arm.match).toBe("family");
    expect(arm.family).toBe("Arm Neoverse");
  });

  it("does not match a number from another vendor's table rows", () => {
    const match = matchCpu("Intel(R) Xeon(R) CPU 7763", { logicalCpus: 4 });
    expect(match.match).toBe("family");
    expect(match.family).toBe("Intel Xeon");
  });

  it("rejects a CPU count that is not a whole number ≥ 1", () => {
    expect(() => matchCpu("AMD EPYC", { logicalCpus: 0 })).toThrow(WattprintError);
    expect(() => matchCpu("AMD EPYC", { logicalCpus: 1.5 })).toThrow(/whole number/);
    expect(() => matchCpu("AMD EPYC", { sockets: -1 })).toThrow(WattprintError);
  });
});

describe("loadCpuTable on other files", () => {
  const header = "name,vendor,family,model,cores,threads,tdp_w,source_id,tdp_basis\n";

  it("reads a table from a file and matchCpu searches it", () => {
    const file = tempFile(
      "cpus.csv",
      header +
        "Test EPYC 1234,AMD,AMD EPYC,1234,10,20,100,amd-product,published\n" +
        "Test EPYC 1C34,AMD,AMD EPYC,1C34,10,20,100,cloud-custom,same-as:1234\n",
    );
    const table = loadCpuTable(file);
    expect(table).toHaveLength(2);
    expect(table[1]?.sameAs).toBe("1234");
    const match = matchCpu("AMD EPYC 1234 10-Core Processor", { logicalCpus: 5, table });
    expect(match.match).toBe("exact");
    expect(match.tdpW).toBeCloseTo(25, 6);
    expect(matchCpu("AMD EPYC 7763", { logicalCpus: 2, table }).match).toBe("family");
  });

  it("rejects rows that cannot be right, naming the line", () => {
    const fewerThreads = tempFile(
      "a.csv",
      header + "X,AMD,AMD EPYC,1,8,4,100,amd-product,published\n",
    );
    expect(() => loadCpuTable(fewerThreads)).toThrow(/line 2.*threads/);
    const zeroTdp = tempFile("b.csv", header + "X,AMD,AMD EPYC,1,8,8,0,amd-product,published\n");
    expect(() => loadCpuTable(zeroTdp)).toThrow(/tdp_w/);
    const danglingSameAs = tempFile(
      "c.csv",
      header + "X,AMD,AMD EPYC,1,8,8,10,cloud-custom,same-as:999\n",
    );
    expect(() => loadCpuTable(danglingSameAs)).toThrow(/999/);
    const duplicate = tempFile(
      "d.csv",
      header +
        "X,AMD,AMD EPYC,1,8,8,10,amd-product,published\nY,AMD,AMD EPYC,1,8,8,10,amd-product,published\n",
    );
    expect(() => loadCpuTable(duplicate)).toThrow(/twice/);
    expect(() => loadCpuTable(join(tmpdir(), "wattprint-no-such-table.csv"))).toThrow(
      WattprintError,
    );
  });
});
