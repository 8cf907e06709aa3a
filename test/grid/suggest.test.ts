import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  editDistance,
  maxSuggestionDistance,
  normalizeKey,
  suggestClosest,
  type SuggestionCandidate,
} from "../../src/grid/suggest.js";

describe("editDistance", () => {
  it("counts insertions, deletions and substitutions", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("abc", "")).toBe(3);
    expect(editDistance("france", "france")).toBe(0);
    expect(editDistance("germny", "germany")).toBe(1);
  });

  it("counts a swap of two neighbouring letters as one edit", () => {
    expect(editDistance("frnace", "france")).toBe(1);
    expect(editDistance("ab", "ba")).toBe(1);
    // Plain Levenshtein would say 2 here; the swap is what makes typos cheap.
    expect(editDistance("untied", "united")).toBe(1);
  });

  it("is symmetric, zero only on equal strings, and bounded by the lengths", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const distance = editDistance(a, b);
        expect(distance).toBe(editDistance(b, a));
        expect(distance === 0).toBe(a === b);
        expect(distance).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
        expect(distance).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });

  it("is 1 for one inserted character anywhere", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 1 }),
        (word, at, letter) => {
          const position = at % (word.length + 1);
          const longer = word.slice(0, position) + letter + word.slice(position);
          expect(editDistance(word, longer)).toBe(1);
        },
      ),
    );
  });
});

describe("normalizeKey", () => {
  it("folds case, accents, punctuation and separators", () => {
    expect(normalizeKey("Côte d’Ivoire")).toBe(normalizeKey("cote d'ivoire"));
    expect(normalizeKey("Côte d’Ivoire")).toBe("cote divoire");
    expect(normalizeKey("US_CA")).toBe(normalizeKey("us-ca"));
    expect(normalizeKey("  United   Kingdom ")).toBe("united kingdom");
    expect(normalizeKey("Bosnia & Herzegovina")).toBe("bosnia and herzegovina");
    expect(normalizeKey("U.S.A.")).toBe("usa");
    expect(normalizeKey("Korea, Republic of")).toBe("korea republic of");
  });

  it("is idempotent", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        expect(normalizeKey(normalizeKey(text))).toBe(normalizeKey(text));
      }),
    );
  });
});

describe("maxSuggestionDistance", () => {
  it("allows more slips in longer inputs, never fewer", () => {
    let previous = 0;
    for (let length = 1; length <= 30; length += 1) {
      const allowed = maxSuggestionDistance(length);
      expect(allowed).toBeGreaterThanOrEqual(previous);
      expect(allowed).toBeGreaterThanOrEqual(1);
      expect(allowed).toBeLessThan(Math.max(2, length));
      previous = allowed;
    }
  });
});

describe("suggestClosest", () => {
  const candidates: SuggestionCandidate[] = [
    { code: "FR", keys: ["FR", "FRA", "France"] },
    { code: "FI", keys: ["FI", "FIN", "Finland"] },
    { code: "DE", keys: ["DE", "DEU", "Germany"] },
    { code: "GB", keys: ["GB", "GBR", "United Kingdom", "UK"] },
    { code: "US", keys: ["US", "USA", "United States"] },
    { code: "AE", keys: ["AE", "ARE", "United Arab Emirates"] },
    { code: "aws:us-east-1", keys: ["aws:us-east-1"] },
    { code: "aws:us-east-2", keys: ["aws:us-east-2"] },
    { code: "aws:eu-west-1", keys: ["aws:eu-west-1"] },
  ];

  it("finds a country from a typo in its name", () => {
    expect(suggestClosest("Frnace", candidates)[0]).toBe("FR");
    expect(suggestClosest("Germnay", candidates)[0]).toBe("DE");
    expect(suggestClosest("Untied States", candidates)[0]).toBe("US");
  });

  it("finds completions of a prefix", () => {
    const found = suggestClosest("United", candidates);
    expect(found).toEqual(expect.arrayContaining(["GB", "US", "AE"]));
    expect(found).toHaveLength(3);
  });

  it("ranks the closer match first", () => {
    // "aws:us-east-3" is one edit from both us-east regions and two from eu-west-1.
    const found = suggestClosest("aws:us-east-3", candidates);
    expect(found.slice(0, 2).sort()).toEqual(["aws:us-east-1", "aws:us-east-2"]);
    expect(found.indexOf("aws:eu-west-1")).not.toBe(0);
  });

  it("respects the limit and never repeats a code", () => {
    const found = suggestClosest("F", candidates, 10);
    expect(new Set(found).size).toBe(found.length);
    expect(suggestClosest("United", candidates, 1)).toHaveLength(1);
    expect(suggestClosest("United", candidates, 0)).toEqual([]);
  });

  it("suggests nothing for empty or unrelated input", () => {
    expect(suggestClosest("", candidates)).toEqual([]);
    expect(suggestClosest("   ", candidates)).toEqual([]);
    expect(suggestClosest("zzzzzzzzzz", candidates)).toEqual([]);
  });

  it("ignores case and accents of the input", () => {
    expect(suggestClosest("FRÄNCE", candidates)[0]).toBe("FR");
  });
});
