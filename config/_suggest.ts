/** Finding the key a typo meant. Private to `config/`. @module */

/** The edit distance between two strings (insertions, deletions, substitutions). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  let next = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    next[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      next[j] = Math.min(prev[j] + 1, next[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, next] = [next, prev];
  }
  return prev[b.length];
}

function normalize(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, "");
}

/**
 * The known key closest to `input`, or undefined when none is close: same key up to case and `_`/`-`, else the
 * smallest edit distance within a third of the last segment's length (at least 2), else a key with the same last
 * segment under the same top-level section.
 */
export function closestKey(input: string, known: readonly string[]): string | undefined {
  const normalized = normalize(input);
  const same = known.find((key) => normalize(key) === normalized);
  if (same !== undefined) return same;
  const segments = input.split(".");
  const last = segments[segments.length - 1];
  const limit = Math.max(2, Math.floor(last.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const key of known) {
    if (Math.abs(key.length - input.length) > limit) continue;
    const distance = levenshtein(input, key);
    if (distance <= limit && distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  return known.find((key) => {
    const parts = key.split(".");
    return parts.length > 1 && parts[0] === segments[0] &&
      normalize(parts[parts.length - 1]) === normalize(last);
  });
}
