/** Command lines that findings print: shell-quoted words and durations the CLI accepts. */

/** Quotes a word for a POSIX shell when it needs it. */
export function shellWord(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Joins words into one shell command line. */
export function commandLine(words: readonly string[]): string {
  return words.map(shellWord).join(" ");
}

/**
 * A duration as the CLI's --duration/--deadline accept it: whole hours as "6h", whole
 * minutes as "90m", else whole seconds rounded up ("5401s").
 */
export function spanArgument(durationS: number): string {
  const seconds = Math.ceil(durationS - 1e-9);
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
