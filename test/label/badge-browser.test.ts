// The badge opened as an SVG document in a real browser (Debian's chromium through
// playwright-core, headless, offline): it must parse as SVG (no XML error page), render at
// its declared size, and show the rating and figure. Skips, saying why, without chromium.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatWhPer1kQueries, renderLabelBadge } from "../../src/label/badge.js";
import { chromiumSkipNote, hasChromium, launchChromium } from "../helpers/browser.js";

// The subset of playwright-core's API this test uses.
interface Locator {
  count(): Promise<number>;
  boundingBox(): Promise<{ width: number; height: number } | null>;
  allTextContents(): Promise<string[]>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  evaluate<T>(fn: () => T): Promise<T>;
  close(): Promise<void>;
}
interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
describe.skipIf(!hasChromium)(`badge in chromium${chromiumSkipNote()}`, () => {
  let dir: string;
  let context: BrowserContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wattprint-label-browser-"));
    context = await launchChromium<BrowserContext>(join(dir, "profile"), { offline: true });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("parses as an SVG document and renders the rating and figure at its size", async () => {
    const energyWh = 2.47e-5;
    const svg = renderLabelBadge({
      task: "digits-classification",
      rating: 2,
      energyWhPer1kQueries: energyWh,
      protocolName: "wattprint-label/1",
      referenceHardware: "AMD EPYC ×2",
    });
    const path = join(dir, "badge.svg");
    writeFileSync(path, svg);
    const page = await context.newPage();
    await page.goto(pathToFileURL(path).href);
    expect(await page.locator("parsererror").count()).toBe(0);
    const root = await page.evaluate(() => {
      const element = (
        globalThis as unknown as {
          document: {
            documentElement: { namespaceURI: string; getAttribute(n: string): string | null };
          };
        }
      ).document.documentElement;
      return { namespace: element.namespaceURI, width: element.getAttribute("width") };
    });
    expect(root.namespace).toBe("http://www.w3.org/2000/svg");
    const box = await page.locator("svg").boundingBox();
    expect(box?.width).toBeCloseTo(Number(root.width), 0);
    expect(box?.height).toBeCloseTo(20, 0);
    const texts = await page.locator("text").allTextContents();
    expect(texts.join(" ")).toContain("2/5 ★★☆☆☆");
    expect(texts.join(" ")).toContain(formatWhPer1kQueries(energyWh));
    await page.close();
  });
});
