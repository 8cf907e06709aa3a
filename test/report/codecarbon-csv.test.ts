import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WattprintError } from "../../src/errors.js";
import { appendCodeCarbonCsv, CODECARBON_CSV_VERSION } from "../../src/report/codecarbon-csv.js";
import { makeRunRecord } from "../fixtures/store/record-factory.js";

// The columns of emissions.csv as CodeCarbon 2.8.4 writes them (EmissionsData in
// codecarbon/output_methods/emissions_data.py), typed out here independently of the writer.
const CODECARBON_2_8_4_HEADER =
  "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate," +
  "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed," +
  "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version," +
  "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude," +
  "ram_total_size,tracking_mode,on_cloud,pue";

/** A small RFC 4180 reader: rows of fields, quotes and doubled quotes handled. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = "";
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else if (char !== "\r") field += char;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

function readRows(path: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(readFileSync(path, "utf8"));
  return rows.map((row) =>
    Object.fromEntries((header ?? []).map((name, i) => [name, row[i] ?? ""])),
  );
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "wattprint-cc-csv-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe(`appendCodeCarbonCsv (CodeCarbon ${CODECARBON_CSV_VERSION} columns)`, () => {
  it("follows CodeCarbon 2.8.4", () => {
    expect(CODECARBON_CSV_VERSION).toBe("2.8.4");
  });

  it("writes CodeCarbon's header and a row that reads back in CodeCarbon's units", () => {
    const path = join(dir, "emissions.csv");
    const record = makeRunRecord({
      machine: {
        ...makeRunRecord().machine,
        gpus: [
          { index: 0, name: "NVIDIA H100 80GB HBM3" },
          { index: 1, name: "NVIDIA H100 80GB HBM3" },
        ],
      },
    });
    appendCodeCarbonCsv(path, record, { projectName: "bert", experimentId: "exp-7" });

    const text = readFileSync(path, "utf8");
    expect(text.split("\n")[0]).toBe(CODECARBON_2_8_4_HEADER);
    expect(text.endsWith("\n")).toBe(true);
    const rows = readRows(path);
    expect(rows).toHaveLength(1);
    const row = rows[0] as Record<string, string>;

    expect(row.project_name).toBe("bert");
    expect(row.run_id).toBe("run-0001");
    expect(row.experiment_id).toBe("exp-7");
    expect(Number(row.duration)).toBeCloseTo(100, 9);
    // 0.15 g over 100 s.
    expect(Number(row.emissions)).toBeCloseTo(0.00015, 12);
    expect(Number(row.emissions_rate)).toBeCloseTo(0.0000015, 14);
    // Mean power over the run, without PUE: 5000 J / 100 s.
    expect(Number(row.cpu_power)).toBeCloseTo(50, 9);
    expect(Number(row.gpu_power)).toBeCloseTo(30, 9);
    expect(Number(row.ram_power)).toBeCloseTo(10, 9);
    // Energy with PUE 1.2, in kWh: 5000 J × 1.2 / 3.6e6 J/kWh.
    expect(Number(row.cpu_energy)).toBeCloseTo((5000 * 1.2) / 3.6e6, 12);
    expect(Number(row.gpu_energy)).toBeCloseTo((3000 * 1.2) / 3.6e6, 12);
    expect(Number(row.ram_energy)).toBeCloseTo((1000 * 1.2) / 3.6e6, 12);
    expect(Number(row.energy_consumed)).toBeCloseTo((9000 * 1.2) / 3.6e6, 12);
    expect(row.country_name).toBe("France");
    expect(row.country_iso_code).toBe("FRA");
    expect(row.region).toBe("");
    expect(row.cloud_provider).toBe("");
    expect(row.on_cloud).toBe("N");
    expect(row.os).toBe("Linux-6.1.0-x86_64");
    expect(row.python_version).toBe("");
    expect(Number(row.cpu_count)).toBe(8);
    expect(row.cpu_model).toBe("Test CPU 9000");
    expect(Number(row.gpu_count)).toBe(2);
    expect(row.gpu_model).toBe("2 x NVIDIA H100 80GB HBM3");
    expect(Number(row.ram_total_size)).toBeCloseTo(16, 9);
    expect(row.tracking_mode).toBe("process");
    expect(Number(row.pue)).toBeCloseTo(1.2, 9);
    // Local time without offset, as CodeCarbon; JavaScript reads that form as local time.
    expect(row.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(new Date(row.timestamp as string).getTime()).toBe(
      Date.parse("2025-03-01T10:01:40.000Z"),
    );
  });

  it("appends to an existing file without a second header, also after a missing final newline", () => {
    const path = join(dir, "emissions.csv");
    appendCodeCarbonCsv(path, makeRunRecord({ id: "first" }));
    appendCodeCarbonCsv(path, makeRunRecord({ id: "second" }));
    writeFileSync(path, readFileSync(path, "utf8").replace(/\n$/, ""));
    appendCodeCarbonCsv(path, makeRunRecord({ id: "third" }));

    const text = readFileSync(path, "utf8");
    expect(text.split(CODECARBON_2_8_4_HEADER)).toHaveLength(2);
    expect(readRows(path).map((row) => row.run_id)).toEqual(["first", "second", "third"]);
    expect(parseCsv(text).every((row) => row.length === 32)).toBe(true);
  });

  it("writes the header into an empty file, and appends to a file CodeCarbon started (CRLF)", () => {
    const empty = join(dir, "empty.csv");
    writeFileSync(empty, "");
    appendCodeCarbonCsv(empty, makeRunRecord());
    expect(readFileSync(empty, "utf8").split("\n")[0]).toBe(CODECARBON_2_8_4_HEADER);

    const fromCodeCarbon = join(dir, "codecarbon.csv");
    const theirRow =
      "2025-01-01T00:00:00,codecarbon,abc,def,10,0.001,0.0001,42.5,0,3,0.0001,0,0.00001," +
      "0.00011,France,FRA,,,,Linux,3.11.4,2.8.4,8,Intel,,,2.35,48.85,15.5,machine,N,1.0";
    writeFileSync(fromCodeCarbon, `${CODECARBON_2_8_4_HEADER}\r\n${theirRow}\r\n`);
    appendCodeCarbonCsv(fromCodeCarbon, makeRunRecord({ id: "ours" }));
    expect(readRows(fromCodeCarbon).map((row) => row.run_id)).toEqual(["abc", "ours"]);
  });

  it("refuses a file with another header and leaves it untouched", () => {
    const path = join(dir, "other.csv");
    const original = `${CODECARBON_2_8_4_HEADER},water_consumed\n1,2,3\n`;
    writeFileSync(path, original);
    let error: unknown;
    try {
      appendCodeCarbonCsv(path, makeRunRecord());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).code).toBe("OUTPUT_UNWRITABLE");
    expect((error as WattprintError).hint).toBeDefined();
    expect(readFileSync(path, "utf8")).toBe(original);
  });

  it("quotes commands with commas, quotes and line breaks so they read back whole", () => {
    const path = join(dir, "emissions.csv");
    const command = ["python", "-c", 'print("a, b")\nprint(1)', " padded "];
    appendCodeCarbonCsv(path, makeRunRecord({ id: "q", command }));
    appendCodeCarbonCsv(path, makeRunRecord({ id: "after" }));
    const rows = readRows(path);
    expect(rows.map((row) => row.run_id)).toEqual(["q", "after"]);
    expect(rows[0]?.project_name).toBe(command.join(" "));
  });

  it("leaves unknown figures empty, never 0 or NaN", () => {
    const path = join(dir, "emissions.csv");
    const base = makeRunRecord();
    appendCodeCarbonCsv(
      path,
      makeRunRecord({
        durationS: 0,
        endedAt: null,
        energyJ: { total: 400, cpu: 400, gpu: null, ram: null },
        co2eG: null,
        region: "WORLD",
        intensitySource: {
          ...base.intensitySource,
          region: "WORLD",
          zone: "WORLD",
          fallback: true,
        },
        machine: { ...base.machine, cpuModel: "" },
      }),
    );
    const row = readRows(path)[0] as Record<string, string>;
    for (const column of [
      "emissions",
      "emissions_rate",
      "cpu_power",
      "gpu_power",
      "gpu_energy",
      "ram_energy",
      "country_name",
      "gpu_model",
      "cpu_model",
      "longitude",
    ]) {
      expect(row[column], column).toBe("");
    }
    expect(Number(row.cpu_energy)).toBeCloseTo((400 * 1.2) / 3.6e6, 12);
    expect(row.gpu_count).toBe("0");
    // No end time: start + duration.
    expect(new Date(row.timestamp as string).getTime()).toBe(Date.parse(base.startedAt));
  });

  it("fills cloud and subdivision places from the record's region", () => {
    const path = join(dir, "emissions.csv");
    const base = makeRunRecord();
    appendCodeCarbonCsv(
      path,
      makeRunRecord({
        id: "cloud",
        region: "aws:eu-west-3",
        intensitySource: { ...base.intensitySource, region: "aws:eu-west-3", zone: "FR" },
      }),
      { countryIsoCode: "FRA" },
    );
    appendCodeCarbonCsv(
      path,
      makeRunRecord({
        id: "state",
        region: "US-CA",
        intensitySource: { ...base.intensitySource, region: "US-CA", zone: "US-CAL-CISO" },
      }),
    );
    const [cloud, state] = readRows(path);
    expect(cloud).toMatchObject({
      on_cloud: "Y",
      cloud_provider: "aws",
      cloud_region: "eu-west-3",
      country_name: "France",
      country_iso_code: "FRA",
      region: "",
    });
    expect(state).toMatchObject({
      on_cloud: "N",
      country_name: "United States",
      country_iso_code: "USA",
      region: "US-CA",
    });
  });

  it("reports a directory that does not exist as unwritable", () => {
    let error: unknown;
    try {
      appendCodeCarbonCsv(join(dir, "missing", "emissions.csv"), makeRunRecord());
    } catch (caught) {
      error = caught;
    }
    expect((error as WattprintError).code).toBe("OUTPUT_UNWRITABLE");
  });
});
