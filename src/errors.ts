/**
 * One error class for everything wattprint reports to a user. `code` is stable and
 * machine-readable; `hint` is one line telling the user what to do next. The CLI maps
 * codes to exit codes and prints `message` + `hint`, never a stack trace.
 */
export type ErrorCode =
  | "USAGE" // bad flags, missing command, bad values
  | "UNKNOWN_REGION"
  | "BAD_INPUT" // a file or value that cannot be used
  | "OUTPUT_UNWRITABLE"
  | "NOT_FOUND" // a run id or file that does not exist
  | "COMMAND_NOT_FOUND" // the tracked command could not be started
  | "STORE" // the run store could not be opened or written
  | "SENSOR" // a sensor failed in a way that cannot fall back
  | "PROVIDER"; // a live carbon-intensity provider failed (auth, rate limit, timeout, bad answer)

export class WattprintError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WattprintError";
    this.code = code;
    this.hint = options.hint;
  }
}

export function isWattprintError(error: unknown): error is WattprintError {
  return error instanceof WattprintError;
}

/** The message of anything thrown, for wrapping foreign errors into one line. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
