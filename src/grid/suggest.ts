/**
 * Close-match suggestions for a mistyped name ("Frnace" → FR): edit distance with
 * transpositions, plus prefix matches, over every key (code, names, aliases) of each
 * candidate. Generic: regions use it, and any lookup by name can.
 */

/** Something that can be suggested, under one or more keys it may be typed as. */
export interface SuggestionCandidate {
  /** What is suggested back (a canonical code such as "FR" or "aws:us-east-1"). */
  code: string;
  /** Spellings to compare the input with: the code, names, aliases. */
  keys: readonly string[];
}

/**
 * Folds a key for comparison: lower case, accents removed, `&` read as "and", dots,
 * commas, quotes and brackets dropped, runs of spaces, `-` and `_` made one space.
 * "Côte d’Ivoire" → "cote divoire"; "US_CA" and "us-ca" → "us ca"; "Bosnia & Herzegovina"
 * → "bosnia and herzegovina"; "U.S.A." → "usa".
 */
export function normalizeKey(text: string): string {
  // Most keys are plain ASCII; skipping Unicode normalization for them keeps table loading fast.
  const folded = /^[\x20-\x7e]*$/.test(text)
    ? text.toLowerCase()
    : text
        .normalize("NFKD")
        .replace(/[\u0300-\u036f]/g, "")
        .toLowerCase()
        .replace(/’/g, "'");
  return folded
    .replace(/&/g, " and ")
    .replace(/['`.,()[\]]/g, "")
    .replace(/[\s_-]+/g, " ")
    .trim();
}

/**
 * The optimal-string-alignment distance between two strings: insertions, deletions,
 * substitutions and swaps of two neighbouring characters each cost 1
 * ("frnace" → "france" is 1).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: the one before the previous is needed for transpositions.
  let beforePrevious: number[] = new Array<number>(b.length + 1).fill(0);
  let previous: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current: number[] = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i += 1) {
    current[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (beforePrevious[j - 2] ?? 0) + 1);
      }
      current[j] = best;
    }
    [beforePrevious, previous, current] = [previous, current, beforePrevious];
  }
  return previous[b.length] ?? 0;
}

/**
 * The largest edit distance still worth suggesting for an input of `length` characters:
 * 1 up to 4 characters, 2 up to 8, then 3. Short codes tolerate one slip only, so "XY"
 * does not match half the country codes.
 */
export function maxSuggestionDistance(length: number): number {
  if (length <= 4) return 1;
  if (length <= 8) return 2;
  return 3;
}

/**
 * Up to `limit` candidate codes closest to `input`, best first. A candidate matches when
 * one of its keys is within {@link maxSuggestionDistance} of the input, or starts with the
 * input (inputs of 2+ characters). Ranking: smaller distance first, a prefix match counts as
 * distance 1 (so an exact-length typo and a completion rank together), then shorter key,
 * then code order. Each code appears once.
 * @param limit default 3.
 */
export function suggestClosest(
  input: string,
  candidates: Iterable<SuggestionCandidate>,
  limit = 3,
): string[] {
  const query = normalizeKey(input);
  if (query === "" || limit <= 0) return [];
  const maxDistance = maxSuggestionDistance(query.length);
  const best = new Map<string, { score: number; keyLength: number }>();
  for (const candidate of candidates) {
    for (const rawKey of candidate.keys) {
      const key = normalizeKey(rawKey);
      if (key === "") continue;
      let score = Number.POSITIVE_INFINITY;
      // A key much longer or shorter than the input cannot be within the distance.
      if (Math.abs(key.length - query.length) <= maxDistance) {
        const distance = editDistance(query, key);
        if (distance <= maxDistance) score = distance;
      }
      if (query.length >= 2 && key.length > query.length && key.startsWith(query)) {
        score = Math.min(score, 1);
      }
      if (!Number.isFinite(score)) continue;
      const known = best.get(candidate.code);
      if (
        known === undefined ||
        score < known.score ||
        (score === known.score && key.length < known.keyLength)
      ) {
        best.set(candidate.code, { score, keyLength: key.length });
      }
    }
  }
  return [...best.entries()]
    .sort(
      ([codeA, a], [codeB, b]) =>
        a.score - b.score || a.keyLength - b.keyLength || codeA.localeCompare(codeB),
    )
    .slice(0, limit)
    .map(([code]) => code);
}
