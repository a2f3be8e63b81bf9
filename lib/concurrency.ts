// Runs async work over a list with at most `limit` tasks in flight, keeping result order.
// Errors are the task's business: fn should catch what it wants reported per item.

export async function mapWithConcurrency<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  return results;
}

/**
 * Resolves after the event loop has had a turn (timers, sockets). A long run of queries on a
 * synchronous driver (better-sqlite3 under Kysely) resolves each promise in a microtask and would
 * otherwise hold the process until it ends: await this between its steps.
 */
export function letEventLoopRun(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
