// Figures already pooled, kept while the days they come from are unchanged. A finished day's
// figures change only when a late backlog has it measured again, and every measurement of a day
// (whole or for some of its sites) raises the day's revision in figures_days, in the same
// transaction as its rows: an answer kept with the revisions it was pooled from is still the answer
// while they are the same. The revisions are read from the database at each request, so several
// instances sharing one see each other's measurements. A city's 30 days by day cost ~6 s to pool
// and ~10 ms to check.

/** Least recently used entries go first once there are `capacity`. */
export class FiguresCache {
  private readonly entries = new Map<string, { revisions: string; value: unknown }>();
  /** Answers pooled through the cache since it was made (not found, or found stale). */
  pooled = 0;

  constructor(private readonly capacity = 2000) {}

  /** What was kept under `key` if it was pooled from the same `revisions`. */
  get<T>(key: string, revisions: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.revisions !== revisions) return undefined;
    this.entries.set(key, entry);
    return entry.value as T;
  }

  set(key: string, revisions: string, value: unknown): void {
    this.entries.delete(key);
    this.entries.set(key, { revisions, value });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Kept under `key` with `revisions`, or made by `make` and kept. */
  async through<T>(key: string, revisions: string, make: () => Promise<T>): Promise<T> {
    const kept = this.get<T>(key, revisions);
    if (kept !== undefined) return kept;
    const value = await make();
    this.pooled++;
    this.set(key, revisions, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
