/** What a command may touch; tests pass their own. Only src/cli/main.ts binds the real process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  stdinIsTTY: boolean;
  /** Whether stderr is a terminal (colours, live lines). */
  stderrIsTTY: boolean;
}

export type CommandResult = number;
