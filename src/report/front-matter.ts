/**
 * A small, strict editor for the YAML front matter of a Markdown file (a Hugging Face
 * model card's metadata) and for one marked section of its body. It replaces or inserts
 * ONE top-level key and ONE marked section and leaves every other byte as it was: other
 * keys, comments, key order, quoting, line endings (LF or CRLF), a BOM, the body.
 *
 * It does not parse YAML values; it only finds top-level entries by their lines. Front
 * matter it cannot read that way (never closed, a top-level line that is not
 * `key: value`, tab indentation, a duplicated key) is refused with `BAD_INPUT` rather than
 * guessed at, so a card is never corrupted.
 */
import { WattprintError } from "../errors.js";

/** One line of a text with its exact terminator. */
interface Line {
  text: string;
  /** "\n", "\r\n", "\r" or "" (last line without one). */
  eol: string;
}

const OPENING = /^---[ \t]*$/;
const CLOSING = /^(---|\.\.\.)[ \t]*$/;
/** A top-level mapping key: plain, or single- or double-quoted, followed by ": " or ":" at the end. */
const TOP_LEVEL_KEY =
  /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-?:,[\]{}][^#]*?|-[^\s][^#]*?)[ \t]*:(?:[ \t]|$)/;

/**
 * Sets the top-level `key` of the front matter of `text` to `blockLines` (the entry's lines
 * without line terminators, starting with `key:`), replacing the existing entry with its
 * nested lines, or inserting it before the closing `---` (or where an empty `{}` stood).
 * Without front matter, one is added at the top. Line endings follow the file's.
 * @throws WattprintError `BAD_INPUT` when the front matter is malformed, naming the line.
 */
export function setFrontMatterEntry(
  text: string,
  key: string,
  blockLines: readonly string[],
  fileLabel = "the file",
): string {
  const bom = text.startsWith("\uFEFF") ? "\uFEFF" : "";
  const lines = splitLines(text.slice(bom.length));
  const first = lines[0];
  const fail = (line: number, problem: string): never => {
    throw new WattprintError(
      "BAD_INPUT",
      `malformed front matter in ${fileLabel}: line ${line}: ${problem}`,
      {
        hint: "fix the YAML between the --- lines (or remove it) and run again; the file was not changed",
      },
    );
  };
  if (first === undefined || !OPENING.test(first.text)) {
    // No front matter: add one above the body.
    const eol = dominantEol(text);
    const body = text.slice(bom.length);
    const block = ["---", ...blockLines, "---"].map((line) => line + eol).join("");
    return bom + block + (body === "" ? "" : eol + body);
  }
  const eol = first.eol === "" ? "\n" : first.eol;
  let closing = -1;
  for (let index = 1; index < lines.length; index++) {
    if (CLOSING.test((lines[index] as Line).text)) {
      closing = index;
      break;
    }
  }
  if (closing === -1) fail(1, "the front matter opened here is never closed by a --- line");

  interface Entry {
    key: string;
    start: number;
    /** Exclusive end: the line after the entry's last non-blank line. */
    end: number;
  }
  const entries: Entry[] = [];
  let emptyFlowMap = -1;
  let contentLines = 0;
  for (let index = 1; index < closing; index++) {
    const raw = (lines[index] as Line).text;
    const lineNo = index + 1;
    if (raw.trim() === "") continue;
    if (/^\t/.test(raw) || /^ *\t/.test(raw)) fail(lineNo, "tabs cannot indent YAML; use spaces");
    if (/^#/.test(raw)) continue;
    const continuation = /^ /.test(raw) || /^-(?:[ \t]|$)/.test(raw) || /^[\]}]/.test(raw);
    if (continuation) {
      const current = entries[entries.length - 1];
      // An indented comment belongs to the entry above it (it may be block-scalar text).
      if (current !== undefined) current.end = index + 1;
      else if (!/^\s+#/.test(raw)) fail(lineNo, `"${clip(raw)}" is not under any key`);
      if (!/^\s+#/.test(raw)) contentLines++;
      continue;
    }
    contentLines++;
    if (/^\{\s*\}\s*(#.*)?$/.test(raw)) {
      emptyFlowMap = index;
      continue;
    }
    const match = TOP_LEVEL_KEY.exec(raw);
    if (match === null) fail(lineNo, `"${clip(raw)}" is not a "key: value" entry`);
    const name = unquote((match as RegExpExecArray)[1] as string);
    if (entries.some((entry) => entry.key === name)) fail(lineNo, `key "${name}" appears twice`);
    entries.push({ key: name, start: index, end: index + 1 });
  }
  if (emptyFlowMap !== -1 && contentLines > 1) {
    fail(emptyFlowMap + 1, "an empty mapping {} next to other keys");
  }

  const block = blockLines.map((line) => ({ text: line, eol }));
  const existing = entries.find((entry) => entry.key === key);
  let edited: Line[];
  if (existing !== undefined) {
    edited = [...lines.slice(0, existing.start), ...block, ...lines.slice(existing.end)];
  } else if (emptyFlowMap !== -1) {
    edited = [...lines.slice(0, emptyFlowMap), ...block, ...lines.slice(emptyFlowMap + 1)];
  } else {
    edited = [...lines.slice(0, closing), ...block, ...lines.slice(closing)];
  }
  return bom + edited.map((line) => line.text + line.eol).join("");
}

/** The start and end markers of a section wattprint owns in a Markdown body. */
export function sectionMarkers(id: string): { start: string; end: string } {
  return { start: `<!-- wattprint:${id}:start -->`, end: `<!-- wattprint:${id}:end -->` };
}

/**
 * Puts `contentLines` between the markers of section `id` in `text`: replaced when the
 * markers are there; otherwise inserted right under the first heading whose text matches
 * `headingPattern` (outside code fences), or appended at the end under `headingLine`.
 * Text outside the markers is kept byte for byte.
 * @throws WattprintError `BAD_INPUT` when the markers are unbalanced or repeated.
 */
export function setMarkedSection(
  text: string,
  id: string,
  contentLines: readonly string[],
  heading: { pattern: RegExp; line: string },
  fileLabel = "the file",
): string {
  const { start, end } = sectionMarkers(id);
  const eol = dominantEol(text);
  const inner = contentLines.map((line) => line + eol).join("");
  const starts = occurrences(text, start);
  const ends = occurrences(text, end);
  if (starts.length > 0 || ends.length > 0) {
    const startAt = starts[0];
    const endAt = ends[0];
    if (
      starts.length !== 1 ||
      ends.length !== 1 ||
      startAt === undefined ||
      endAt === undefined ||
      endAt < startAt
    ) {
      throw new WattprintError(
        "BAD_INPUT",
        `${fileLabel} has ${starts.length} "${start}" and ${ends.length} "${end}" marker(s) out of order`,
        {
          hint: "leave exactly one start marker above one end marker (or remove both) and run again; the file was not changed",
        },
      );
    }
    // Replace from the line after the start marker to the start of the end marker's line.
    const afterStart = lineEndAfter(text, startAt + start.length);
    const endLineStart = text.lastIndexOf("\n", endAt) + 1;
    if (endLineStart < afterStart) {
      return `${text.slice(0, startAt + start.length)}${eol}${inner}${text.slice(endAt)}`;
    }
    return text.slice(0, afterStart) + inner + text.slice(endLineStart);
  }
  const marked = `${start}${eol}${inner}${end}${eol}`;
  const headingAt = findHeading(text, heading.pattern);
  if (headingAt !== null) {
    const afterHeading = lineEndAfter(text, headingAt);
    const terminated = afterHeading > 0 && /[\r\n]$/.test(text.slice(0, afterHeading));
    return (
      text.slice(0, afterHeading) +
      (terminated ? "" : eol) +
      eol +
      marked +
      text.slice(afterHeading)
    );
  }
  const ending = text === "" || /[\r\n]$/.test(text) ? "" : eol;
  const gap = text === "" ? "" : eol;
  return `${text}${ending}${gap}${heading.line}${eol}${eol}${marked}`;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  const pattern = /([^\r\n]*)(\r\n|\n|\r|$)/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const [whole, body = "", eol = ""] = match;
    if (whole === "" && match.index >= text.length) break;
    lines.push({ text: body, eol });
    if (eol === "") break;
  }
  return lines;
}

function dominantEol(text: string): string {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  return crlf > lf ? "\r\n" : "\n";
}

function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length))
    found.push(at);
  return found;
}

/** Index just after the line terminator of the line holding `position` (or the text's end). */
function lineEndAfter(text: string, position: number): number {
  const match = /\r\n|\n|\r/g;
  match.lastIndex = position;
  const found = match.exec(text);
  return found === null ? text.length : found.index + found[0].length;
}

/** Offset of the first ATX heading matching `pattern` outside fenced code; null when none. */
function findHeading(text: string, pattern: RegExp): number | null {
  let fence: string | null = null;
  let offset = 0;
  for (const line of splitLines(text)) {
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line.text);
    if (fenceMatch !== null) {
      const marker = (fenceMatch[1] as string)[0] as string;
      if (fence === null) fence = marker;
      else if (fence === marker) fence = null;
    } else if (fence === null) {
      const heading = /^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/.exec(line.text);
      if (heading !== null && pattern.test(heading[1] as string)) return offset;
    }
    offset += line.text.length + line.eol.length;
  }
  return null;
}

function unquote(key: string): string {
  if (key.startsWith('"')) {
    try {
      return JSON.parse(key) as string;
    } catch {
      return key.slice(1, -1);
    }
  }
  if (key.startsWith("'")) return key.slice(1, -1).replace(/''/g, "'");
  return key.trim();
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
