// "Did you mean" for unknown keys: installers mistype keys, and a silent typo would
// leave a default in place with no hint why the setting has no effect.

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return prev[b.length];
}

/** The closest candidate, compared case- and separator-insensitively; undefined if nothing is close. */
export function closest(input: string, candidates: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const n = norm(input);
  let best: string | undefined;
  let bestScore = Infinity;
  // Accept up to a third of the word changed (at least 2 edits): enough for typos and case slips.
  const limit = Math.max(2, Math.floor(n.length / 3));
  for (const c of candidates) {
    const other = norm(c);
    // The length difference alone exceeds the limit: skip the distance (quadratic in the input's length).
    if (Math.abs(n.length - other.length) > limit) continue;
    const score = editDistance(n, other);
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return bestScore <= limit ? best : undefined;
}
