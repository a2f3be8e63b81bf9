// Seeded randomness for tests that want variety (kill moments, jitter) and a run that can be
// repeated: the seed is printed, and CAMGATE_TEST_SEED replays it.

import { seededRandom } from '../../lib/random';

export { seededRandom };

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
