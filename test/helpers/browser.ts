// Debian's Chromium driven by playwright-core, as every browser test here launches it:
// headless, no sandbox (root in CI), no background networking (the machine has no network),
// a new empty profile per test file.
import { existsSync } from "node:fs";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const hasChromium = existsSync(CHROMIUM_PATH);

/** The suffix of a browser test's title saying why it is skipped, or "" when it runs. */
export function chromiumSkipNote(): string {
  return hasChromium
    ? ""
    : ` (skipped: ${CHROMIUM_PATH} is not installed; apt-get install chromium)`;
}

/**
 * Launches Chromium with a fresh profile in `profileDir`. Typed by the caller's own view of
 * the context, so tests name only the parts of playwright-core's API they use.
 */
export async function launchChromium<Context>(
  profileDir: string,
  options: { offline?: boolean } = {},
): Promise<Context> {
  interface Launcher {
    launchPersistentContext(
      userDataDir: string,
      options: { executablePath: string; headless: boolean; args: string[]; offline?: boolean },
    ): Promise<Context>;
  }
  let chromium: Launcher;
  try {
    chromium = ((await import("playwright-core")) as unknown as { chromium: Launcher }).chromium;
  } catch (error) {
    throw new Error(
      `chromium is installed but playwright-core cannot be imported (${(error as Error).message}); add playwright-core as a devDependency`,
    );
  }
  // playwright adds --headless and --user-data-dir itself.
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    ...(options.offline === undefined ? {} : { offline: options.offline }),
  });
}
