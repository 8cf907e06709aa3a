/**
 * Splits `wattprint track [options] [--] command args...`: options end at `--` or at the
 * first word that is not an option, so the command's own flags are never taken as ours.
 */
export function splitCommand(
  argv: string[],
  optionsWithValue: ReadonlySet<string>,
): { options: string[]; command: string[] } {
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") return { options, command: argv.slice(i + 1) };
    if (!arg.startsWith("-") || arg === "-") return { options, command: argv.slice(i) };
    options.push(arg);
    const name = arg.replace(/^-+/, "").split("=")[0] ?? "";
    if (!arg.includes("=") && optionsWithValue.has(name) && i + 1 < argv.length) {
      options.push(argv[i + 1] as string);
      i++;
    }
  }
  return { options, command: [] };
}
