// A seeded pseudo-random generator for what must come out the same for the same seed: test
// variety that can be replayed, benchmark sets and simulated cities that can be built again.

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
