import {
  accessSync,
  constants,
  existsSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import { WattprintError } from "../errors.js";

/**
 * Fails early, before a run starts, when `path` cannot be written: a missing directory,
 * no permission, or a directory in the way.
 */
export function assertWritable(path: string, flag: string): void {
  const absolute = resolve(path);
  const dir = dirname(absolute);
  const fail = (reason: string, hint: string) => {
    throw new WattprintError("OUTPUT_UNWRITABLE", `cannot write ${flag} ${path}: ${reason}`, {
      hint,
    });
  };
  if (!existsSync(dir))
    fail(`directory ${dir} does not exist`, "create the directory first or choose another path");
  if (!statSync(dir).isDirectory()) fail(`${dir} is not a directory`, "choose another path");
  if (existsSync(absolute)) {
    if (statSync(absolute).isDirectory())
      fail("it is a directory", "give a file name, for example run.json");
    try {
      accessSync(absolute, constants.W_OK);
    } catch {
      fail("permission denied", "choose a path you can write to");
    }
    return;
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    fail(`permission denied in ${dir}`, "choose a directory you can write to");
  }
}

/** Writes a whole file or nothing: a temporary file renamed into place. */
export function writeFileAtomic(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new WattprintError(
      "OUTPUT_UNWRITABLE",
      `cannot write ${path}: ${(error as Error).message}`,
      {
        hint: "check the path and free disk space",
        cause: error,
      },
    );
  }
}
