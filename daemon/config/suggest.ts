/** Optimal-string-alignment distance: Levenshtein plus swapping two neighbours ("=>" -> ">=") as one edit. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/**
 * The candidate closest to `input` (case-insensitive), or null when none is
 * close enough to be a plausible typo: at most a third of the longer word's
 * length in edits (always at least one, so short keys like "op" still match
 * "ops"). Failing that, a candidate that the input starts (`flush` ->
 * `flush_interval`), if there is exactly one.
 */
export function suggest(input: string, candidates: Iterable<string>): string | null {
  const needle = input.toLowerCase();
  const list = [...candidates];
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of list) {
    const distance = editDistance(needle, candidate.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(needle.length, candidate.length) / 3));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== null || needle.length < 3) return best;
  const extending = list.filter((candidate) => candidate.toLowerCase().startsWith(needle));
  return extending.length === 1 ? (extending[0] ?? null) : null;
}

/** ` did you mean "x"?` or "" — meant to be appended to a sentence ending in ";" or ".". */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const match = suggest(input, candidates);
  return match === null ? "" : ` did you mean "${match}"?`;
}
