/**
 * Small synchronous helpers for reading sysfs attribute files (powercap, hwmon). Sysfs
 * attributes are tiny text files that the kernel regenerates on every read, so a
 * synchronous read once per second is cheap. Failures are returned as values carrying
 * the errno code, never thrown.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";

/** The outcome of reading one sysfs file: its text, or the errno code and a one-line message. */
export type SysfsRead = { ok: true; text: string } | { ok: false; code: string; message: string };

/** The outcome of reading one sysfs file that holds a single non-negative integer. */
export type SysfsInteger =
  { ok: true; value: number } | { ok: false; code: string; message: string };

function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return "EUNKNOWN";
}

/** Describes a failed read of `path` in one line ("permission denied reading …"). */
export function describeReadFailure(code: string, path: string): string {
  switch (code) {
    case "EACCES":
    case "EPERM":
      return `permission denied reading ${path}`;
    case "ENOENT":
    case "ENOTDIR":
      return `${path} does not exist`;
    case "EISDIR":
      return `${path} is a directory, not an attribute file`;
    case "EBADVALUE":
      return `${path} does not hold a non-negative integer`;
    default:
      return `${code} reading ${path}`;
  }
}

/** True for the errno codes that mean "the file is there but you may not read it". */
export function isPermissionDenied(code: string): boolean {
  return code === "EACCES" || code === "EPERM";
}

/** Reads a sysfs attribute as text, trimmed of surrounding whitespace. */
export function readSysfsText(path: string): SysfsRead {
  try {
    return { ok: true, text: readFileSync(path, "utf8").trim() };
  } catch (error) {
    const code = errorCode(error);
    return { ok: false, code, message: describeReadFailure(code, path) };
  }
}

/**
 * Reads a sysfs attribute that holds one non-negative decimal integer (µJ, µW).
 * A file with anything else (empty, negative, text) is a failure with code `EBADVALUE`.
 */
export function readSysfsInteger(path: string): SysfsInteger {
  const read = readSysfsText(path);
  if (!read.ok) return read;
  if (!/^\d+$/.test(read.text)) {
    return { ok: false, code: "EBADVALUE", message: describeReadFailure("EBADVALUE", path) };
  }
  return { ok: true, value: Number(read.text) };
}

/** The names in a directory, sorted; null when it cannot be listed (absent, not a directory). */
export function listDirectory(path: string): string[] | null {
  try {
    return readdirSync(path).sort();
  } catch {
    return null;
  }
}

/** True when `path` (following symlinks) is a directory. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** True when `path` (following symlinks) exists. */
export function pathExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The canonical path of `path` with every symlink resolved; null when it does not resolve. */
export function resolvePath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}
