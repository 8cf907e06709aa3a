import { homedir } from "node:os";
import { join } from "node:path";

/** Directory under the user's home used when no wattprint home is given. */
export const DEFAULT_HOME_DIR_NAME = ".wattprint";

/** File name of the SQLite run store inside the wattprint home. */
export const STORE_FILE_NAME = "runs.sqlite";

/**
 * The wattprint home: `wattprintHome` when given and not empty (the CLI passes
 * WATTPRINT_HOME), else `<userHomeDir>/.wattprint`. A relative path stays relative.
 */
export function resolveWattprintHome(
  wattprintHome?: string,
  userHomeDir: string = homedir(),
): string {
  if (wattprintHome !== undefined && wattprintHome.trim() !== "") return wattprintHome;
  return join(userHomeDir, DEFAULT_HOME_DIR_NAME);
}

/**
 * Where the run store lives by default: `<home>/runs.sqlite`, with home resolved by
 * {@link resolveWattprintHome} (WATTPRINT_HOME, passed by the caller, or ~/.wattprint).
 */
export function defaultStorePath(wattprintHome?: string, userHomeDir: string = homedir()): string {
  return join(resolveWattprintHome(wattprintHome, userHomeDir), STORE_FILE_NAME);
}
