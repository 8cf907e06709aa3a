/**
 * Which database `wattprint serve` and `wattprint token` use: `--db`, else WATTPRINT_DB
 * (keeps a PostgreSQL password out of the process list), else `<wattprint home>/server.sqlite`.
 */
import { join } from "node:path";

/** File name of the default SQLite server store inside the wattprint home. */
export const SERVER_STORE_FILE_NAME = "server.sqlite";

/** The database to open: the flag, the environment's WATTPRINT_DB, or the default file under `home`. */
export function resolveServerDb(
  flag: string | undefined,
  envDb: string | undefined,
  home: string,
): string {
  if (flag !== undefined && flag.trim() !== "") return flag.trim();
  if (envDb !== undefined && envDb.trim() !== "") return envDb.trim();
  return join(home, SERVER_STORE_FILE_NAME);
}
