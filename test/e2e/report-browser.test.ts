// The HTML report in a real browser: Debian's chromium driven by playwright-core, headless,
// offline. Checks that the charts render (SVG elements with a size, the right number of
// series and points), that the page asks for nothing over the network, and takes a
// screenshot. Skips, saying why, when /usr/bin/chromium is not installed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportCli } from "../../src/cli/commands/report.js";
import type { CliIo } from "../../src/cli/io.js";
import type { RunRecord, TimelineSample } from "../../src/record/run-record.js";
import { renderHtmlReport } from "../../src/report/html.js";
import { buildReportModel } from "../../src/report/report-model.js";
import { RunStore } from "../../src/store/run-store.js";
import { makeRunRecord, makeSample } from "../fixtures/store/record-factory.js";
import { chromiumSkipNote, hasChromium, launchChromium } from "../helpers/browser.js";

const SAMPLES = 300;

// The subset of playwright-core's API (and of the DOM's SVGPathElement) this test uses.
interface SvgPath {
  getBBox(): { width: number; height: number };
  getTotalLength(): number;
  getAttribute(name: string): string | null;
}
interface Box {
  width: number;
  height: number;
}
interface Locator {
  count(): Promise<number>;
  locator(selector: string): Locator;
  nth(index: number): Locator;
  boundingBox(): Promise<Box | null>;
  getAttribute(name: string): Promise<string | null>;
  evaluate<T>(fn: (element: SvgPath) => T): Promise<T>;
  isVisible(): Promise<boolean>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  on(event: "console", listener: (message: { type(): string; text(): string }) => void): void;
  on(event: "request", listener: (request: { url(): string }) => void): void;
  screenshot(options: { path: string; fullPage: boolean }): Promise<Buffer>;
  close(): Promise<void>;
}
interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
function gpuRun(): { record: RunRecord; samples: TimelineSample[] } {
  const record = makeRunRecord({
    id: "b10550e0-report",
    command: ["python", "train.py", "--model", "<tiny & fast>"],
    energyJ: { total: 90_000, cpu: 30_000, gpu: 55_000, ram: 5_000 },
    co2eG: 1.5,
    machine: { ...makeRunRecord().machine, gpus: [{ index: 0, name: "NVIDIA L4" }] },
    phases: ["load", "train", "eval"].map((name, index) => ({
      name,
      startedAt: new Date(Date.parse("2025-03-01T10:00:00Z") + index * 100_000).toISOString(),
      endedAt: new Date(Date.parse("2025-03-01T10:00:00Z") + (index + 1) * 100_000).toISOString(),
      energyJ: { total: 30_000, cpu: 10_000, gpu: 18_000 - index * 1000, ram: 2000 + index * 1000 },
      co2eG: 0.5,
    })),
  });
  const samples = Array.from({ length: SAMPLES }, (_, seq) => {
    const sample = makeSample(seq);
    return {
      ...sample,
      attributedPowerW: { cpu: 80 + (seq % 7), gpu: 150 + 40 * Math.sin(seq / 10), ram: 5 },
      machinePowerW: { cpu: 120 + (seq % 7), gpu: 160 + 40 * Math.sin(seq / 10), ram: 9 },
    };
  });
  return { record, samples };
}

describe.skipIf(!hasChromium)(`HTML report in chromium${chromiumSkipNote()}`, () => {
  let dir: string;
  let context: BrowserContext;
  let storedHtml: string;
  let fileHtml: string;
  let seriesHtml: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wattprint-report-browser-"));
    const home = join(dir, "home");
    const { record, samples } = gpuRun();
    const store = RunStore.open(join(home, "runs.sqlite"));
    store.beginRun({ ...record, status: "running" }, process.pid);
    for (const sample of samples) store.saveProgress(record, sample);
    store.finishRun(record);
    store.close();

    const io: CliIo = {
      stdout: () => undefined,
      stderr: () => undefined,
      env: { WATTPRINT_HOME: home },
      stdinIsTTY: false,
      stderrIsTTY: false,
    };
    storedHtml = join(dir, "stored.html");
    await reportCli(
      [
        "b10550e0",
        "--out",
        storedHtml,
        "--embodied-kg",
        "2500",
        "--functional-unit",
        "sample",
        "--units",
        "60000",
      ],
      io,
    );
    const runFile = join(dir, "run.json");
    writeFileSync(runFile, JSON.stringify(record));
    fileHtml = join(dir, "file.html");
    await reportCli([runFile, "--out", fileHtml], io);
    const start = Date.parse(record.startedAt);
    seriesHtml = join(dir, "series.html");
    const model = buildReportModel(
      { kind: "run", origin: "test", run: record, samples, samplesNote: null },
      {
        intensitySeries: {
          source: "hourly trace (test)",
          points: [0, 1, 2, 3].map((hour) => ({
            startMs: start + hour * 75_000,
            endMs: start + (hour + 1) * 75_000,
            intensityGPerKWh: 100 + hour * 50,
          })),
        },
      },
    );
    writeFileSync(seriesHtml, renderHtmlReport(model, samples));

    context = await launchChromium<BrowserContext>(join(dir, "profile"), { offline: true });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string): Promise<{ page: Page; problems: string[] }> {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("request", (request) => {
      if (!request.url().startsWith("file:")) problems.push(`request: ${request.url()}`);
    });
    await page.goto(pathToFileURL(path).href);
    return { page, problems };
  }

  async function sizeOf(locator: Locator): Promise<Box> {
    const box = await locator.boundingBox();
    return box ?? { width: 0, height: 0 };
  }

  it("renders every chart of a stored run, offline, with the right series and points", async () => {
    const { page, problems } = await open(storedHtml);
    const charts = page.locator("svg.chart");
    expect(await charts.count()).toBe(4); // power, phases, intensity, operational/embodied
    for (let i = 0; i < 4; i++) {
      const box = await sizeOf(charts.nth(i));
      expect(box.width).toBeGreaterThan(300);
      expect(box.height).toBeGreaterThan(80);
    }

    const series = page.locator('svg[data-chart="power"] g.series');
    expect(await series.count()).toBe(4); // CPU, GPU, RAM and the whole machine
    for (let i = 0; i < 4; i++) {
      const line = series.nth(i);
      expect(await line.getAttribute("data-points")).toBe(String(SAMPLES));
      const path = line.locator("path");
      const drawn = await path.evaluate((element) => {
        const box = element.getBBox();
        return {
          length: element.getTotalLength(),
          width: box.width,
          commands: ((element.getAttribute("d") ?? "").match(/[ML]/g) ?? []).length,
        };
      });
      expect(drawn.commands).toBe(SAMPLES);
      expect(drawn.length).toBeGreaterThan(100);
      expect(drawn.width).toBeGreaterThan(300);
    }

    const bars = page.locator('svg[data-chart="phases"] g.bar');
    expect(await bars.count()).toBe(3);
    const segments = page.locator('svg[data-chart="phases"] rect[data-segment]');
    expect(await segments.count()).toBe(9);
    for (let i = 0; i < 9; i++) expect((await sizeOf(segments.nth(i))).width).toBeGreaterThan(0);

    expect(await page.locator('svg[data-chart="intensity"] g.series').count()).toBe(1);
    const parts = page.locator('svg[data-chart="operational-embodied"] rect[data-segment]');
    expect(await parts.count()).toBe(2);
    expect(await page.locator("#sci").isVisible()).toBe(true);

    const shot = join(dir, "stored.png");
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    expect(width).toBeGreaterThan(500);
    expect(height).toBeGreaterThan(1500); // a full page with all sections
    expect(png.length).toBeGreaterThan(20_000);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it("says there is no timeline for a run.json instead of drawing an empty chart", async () => {
    const { page, problems } = await open(fileHtml);
    expect(await page.locator('svg[data-chart="power"]').count()).toBe(0);
    expect(await page.locator("#power p.note").isVisible()).toBe(true);
    expect(await page.locator('svg[data-chart="phases"] g.bar').count()).toBe(3);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it("draws a time-resolved intensity as steps", async () => {
    const { page, problems } = await open(seriesHtml);
    const line = page.locator('svg[data-chart="intensity"] g.series');
    expect(await line.count()).toBe(1);
    expect(await line.getAttribute("data-points")).toBe("8"); // 4 intervals, start and end each
    const box = await sizeOf(page.locator('svg[data-chart="intensity"] path'));
    expect(box.width).toBeGreaterThan(300);
    expect(box.height).toBeGreaterThan(20); // 100 → 250 g/kWh is not a flat line
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
