// Seeded randomness for tests that want variety (kill moments, jitter) and a run that can be
// repeated: the seed is printed, and CAMGATE_TEST_SEED replays it.

/** mulberry32: a small, fast, well-spread 32-bit generator; values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: CAMGATE_TEST_SEED when set, else a fresh one. */
export function testSeed(env: Record<string, string | undefined> = process.env): number {
  const given = env.CAMGATE_TEST_SEED;
  if (given !== undefined && /^\d+$/.test(given)) return Number(given) >>> 0;
  return Math.floor(Math.random() * 2 ** 32);
}

/** A copy of `items` in an order the seed decides (Fisher–Yates). */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
