// The dashboard in a real browser: Debian's chromium driven by playwright-core, headless,
// against `wattprint serve` on 127.0.0.1. Sign-in with a read token, the runs list with
// its charts, a finished multi-node run's page, and the live view of a running run
// updating without a reload when new samples arrive. Screenshots are taken (copied to
// $WATTPRINT_SCREENSHOT_DIR when set). Skips, saying why, when /usr/bin/chromium is absent.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/serve/tokens.js";
import { chromiumSkipNote, hasChromium, launchChromium } from "../helpers/browser.js";
import {
  batch,
  device,
  request,
  sample,
  sqliteDatabase,
  startTestServer,
  type TestServer,
} from "../serve/helpers.js";

// The subset of playwright-core's API this test uses.
interface Locator {
  count(): Promise<number>;
  nth(index: number): Locator;
  locator(selector: string): Locator;
  getAttribute(name: string): Promise<string | null>;
  textContent(): Promise<string | null>;
  boundingBox(): Promise<{ width: number; height: number } | null>;
  fill(value: string): Promise<void>;
  click(): Promise<void>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  url(): string;
  locator(selector: string): Locator;
  waitForURL(url: string | RegExp): Promise<void>;
  on(event: "console", listener: (message: { type(): string; text(): string }) => void): void;
  on(event: "request", listener: (request: { url(): string }) => void): void;
  screenshot(options: { path: string; fullPage: boolean }): Promise<Buffer>;
  close(): Promise<void>;
}
interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
const GPU = "gpu|nvml:total-energy|GPU 0 (NVIDIA L4)";
const CPU = "cpu|rapl:package-0|package-0";

describe.skipIf(!hasChromium)(`dashboard in chromium${chromiumSkipNote()}`, () => {
  let dir: string;
  let t: TestServer;
  let context: BrowserContext;
  let page: Page;
  let ingest: string;
  const problems: string[] = [];
  const liveStartMs = Date.now() - 120_000;

  const post = (body: unknown) =>
    request(`${t.url}/api/v1/ingest`, { method: "POST", token: ingest, json: body });

  async function shoot(name: string): Promise<void> {
    const path = join(dir, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    const png = readFileSync(path);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.readUInt32BE(16)).toBeGreaterThan(600);
    const keep = process.env.WATTPRINT_SCREENSHOT_DIR;
    if (keep !== undefined && keep !== "") {
      mkdirSync(keep, { recursive: true });
      copyFileSync(path, join(keep, `serve-${name}.png`));
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wattprint-dashboard-"));
    t = await startTestServer(sqliteDatabase());
    ingest = (await createToken(t.store, { project: "vision", scope: "ingest" })).token;
    const dayStart = Date.now() - 3 * 3_600_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    // A finished job on two nodes with phases and a reported accuracy.
    for (const [index, host] of ["node-a", "node-b"].entries()) {
      const started = dayStart + index * 5000;
      const samples = [0, 1, 2].map((seq) =>
        sample(
          seq,
          started,
          [
            device(CPU, "cpu", 200 * (seq + 1), 120 * (seq + 1), 200),
            device(GPU, "gpu", 900 * (seq + 1), 850 * (seq + 1), 900),
          ],
          {
            phases: [seq < 2 ? "train" : "eval"],
            intensityGPerKWh: 50 + 10 * seq,
          },
        ),
      );
      await post(
        batch(`ddp-${host}`, samples, {
          job: "ddp-resnet",
          host,
          expectedNodes: 2,
          startedAt: iso(started),
          command: ["torchrun", "train.py"],
          final: {
            status: "completed",
            endedAt: iso(started + 4000),
            exitCode: 0,
            energyJ: 2910,
            machineEnergyJ: 3300,
            co2eG: 0.05,
            record: {
              id: `ddp-${host}`,
              phases: [
                {
                  name: "train",
                  endedAt: iso(started + 2000),
                  energyJ: { total: 1940 },
                  metrics: { val_accuracy: 0.81 },
                },
                {
                  name: "eval",
                  endedAt: iso(started + 3000),
                  energyJ: { total: 970 },
                  metrics: { val_accuracy: 0.87 },
                },
              ],
            },
          },
        }),
      );
    }
    // A smaller finished run with its own accuracy.
    await post(
      batch("small-run", [sample(0, dayStart, [device(CPU, "cpu", 300, 250)])], {
        startedAt: iso(dayStart),
        metrics: { val_accuracy: 0.74 },
        final: {
          status: "completed",
          endedAt: iso(dayStart + 1000),
          exitCode: 0,
          energyJ: 250,
          machineEnergyJ: 300,
          co2eG: 0.004,
          record: null,
        },
      }),
    );
    // A run still going on.
    await post(
      batch(
        "live-run",
        [0, 1, 2].map((seq) =>
          sample(seq, liveStartMs, [device(GPU, "gpu", 1000 * (seq + 1), 1000 * (seq + 1), 250)]),
        ),
        {
          startedAt: iso(liveStartMs),
          host: "gpu-box",
        },
      ),
    );
    const readToken = (await createToken(t.store, { project: "vision", scope: "read" })).token;

    context = await launchChromium<BrowserContext>(join(dir, "profile"));
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("request", (req) => {
      if (!req.url().startsWith(t.url)) problems.push(`request: ${req.url()}`);
    });
    await page.goto(`${t.url}/`);
    // Not signed in: sent to the login page.
    expect(page.url()).toBe(`${t.url}/login`);
    await page.locator("input[name=token]").fill(readToken);
    await page.locator("button[type=submit]").click();
    await page.waitForURL(`${t.url}/`);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await t?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("lists runs, project totals per day and accuracy versus energy", async () => {
    const rows = page.locator("table.runs tbody tr");
    expect(await rows.count()).toBe(3);
    expect(
      await page.locator('tr[data-run="ddp-resnet"] [data-status]').getAttribute("data-status"),
    ).toBe("completed");
    expect(
      await page.locator('tr[data-run="live-run"] [data-status]').getAttribute("data-status"),
    ).toBe("running");
    const daily = page.locator('svg[data-chart="daily-energy"]');
    expect((await daily.boundingBox())?.height ?? 0).toBeGreaterThan(100);
    expect(await daily.locator("g.bar").count()).toBe(14);
    const points = page.locator('svg[data-chart="accuracy-energy"] circle.point');
    expect(await points.count()).toBe(2);
    expect(
      Number(await page.locator('circle[data-run="ddp-resnet"]').getAttribute("data-value")),
    ).toBeCloseTo(0.87);
    expect(
      Number(await page.locator('circle[data-run="small-run"]').getAttribute("data-value")),
    ).toBeCloseTo(0.74);
    await shoot("runs");
    // The filter form narrows the list.
    await page.goto(`${t.url}/?status=running`);
    expect(await page.locator("table.runs tbody tr").count()).toBe(1);
  });

  it("shows a finished multi-node run by component, node and phase, with its intensity", async () => {
    await page.goto(`${t.url}/runs/ddp-resnet`);
    const segments = page.locator('svg[data-chart="by-component"] rect[data-segment]');
    expect(await segments.count()).toBe(4);
    expect(await page.locator('svg[data-chart="by-node"] g.bar').count()).toBe(2);
    const phases = page.locator('svg[data-chart="by-phase"] g.bar');
    expect(await phases.count()).toBe(2);
    expect(await page.locator('svg[data-chart="intensity"] g.series').count()).toBe(1);
    expect(await page.locator("#live").getAttribute("data-live-state")).toBe("finished");
    expect(await page.locator("tr[data-device]").count()).toBe(4);
    await shoot("run-finished");
  });

  it("updates the live view of a running run without a reload", async () => {
    await page.goto(`${t.url}/runs/live-run`);
    const energy = page.locator('[data-figure="energy"]');
    expect(Number(await energy.getAttribute("data-energy-j"))).toBeCloseTo(3000);
    expect(await page.locator('svg[data-chart="live-power"] g.series').count()).toBe(1);
    await post(
      batch(
        "live-run",
        [3, 4].map((seq) =>
          sample(seq, liveStartMs, [device(GPU, "gpu", 1000 * (seq + 1), 1000 * (seq + 1), 250)]),
        ),
        {
          startedAt: new Date(liveStartMs).toISOString(),
          host: "gpu-box",
        },
      ),
    );
    const deadline = Date.now() + 15_000;
    let value = 0;
    while (Date.now() < deadline) {
      value = Number(await page.locator('[data-figure="energy"]').getAttribute("data-energy-j"));
      if (value > 3000) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(value).toBeCloseTo(5000);
    expect(Number(await page.locator("#live").getAttribute("data-updates"))).toBeGreaterThanOrEqual(
      1,
    );
    expect(page.url()).toBe(`${t.url}/runs/live-run`);
    await shoot("run-live");
    expect(problems).toEqual([]);
  }, 30_000);
});
