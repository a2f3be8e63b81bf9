// Probe latency percentiles for the agent metrics. PURE: no I/O, no timers.
//
// One bounded window per probe kind ('reach', 'clock', 'describe', 'picture', 'diagnosisCpu', …):
// the last `capacity` samples (a ring buffer, O(1) record), optionally also no older than
// `maxAgeMs`. snapshot() copies and sorts each window (capacity 1024: well under a millisecond
// per kind), percentiles by nearest rank: the value at position ceil(p/100 × n) of the sorted
// window (1-based), so p50 of [1,2,3,4] is 2 and p99 of fewer than 100 samples is the maximum.
import { systemClock, type Clock } from '../../lib/clock';

export interface LatencySummary {
  /** Samples in the window. */
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LatencyStatsOptions {
  /** Samples kept per kind (the oldest is overwritten). Default 1024. */
  capacity?: number;
  /** Also drop samples older than this (ms); default: no age limit. */
  maxAgeMs?: number;
  /** Clock for maxAgeMs; default the system clock. */
  clock?: Clock;
}

class Ring {
  readonly values: Float64Array;
  readonly times: Float64Array;
  /** Next slot to write. */
  next = 0;
  size = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  push(value: number, at: number): void {
    this.values[this.next] = value;
    this.times[this.next] = at;
    this.next = (this.next + 1) % this.values.length;
    if (this.size < this.values.length) this.size++;
  }

  /** The values recorded at or after `since` (all when since is -Infinity), unordered. */
  copy(since: number): Float64Array {
    if (since === -Infinity) return this.values.slice(0, this.size);
    const out = new Float64Array(this.size);
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.times[i] >= since) out[n++] = this.values[i];
    return out.subarray(0, n);
  }
}

/** Nearest-rank percentile of an ascending, non-empty array. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1];
}

export class LatencyStats {
  private readonly capacity: number;
  private readonly maxAgeMs: number | undefined;
  private readonly clock: Clock;
  private readonly rings = new Map<string, Ring>();

  constructor(options: LatencyStatsOptions = {}) {
    const capacity = options.capacity ?? 1024;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LatencyStats: capacity must be a positive integer, got ${capacity}`);
    if (options.maxAgeMs !== undefined && !(options.maxAgeMs > 0)) throw new RangeError(`LatencyStats: maxAgeMs must be > 0, got ${options.maxAgeMs}`);
    this.capacity = capacity;
    this.maxAgeMs = options.maxAgeMs;
    this.clock = options.clock ?? systemClock;
  }

  /** Records one sample (ms). Values that are not finite numbers ≥ 0 are ignored. */
  record(kind: string, ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return;
    let ring = this.rings.get(kind);
    if (!ring) {
      ring = new Ring(this.capacity);
      this.rings.set(kind, ring);
    }
    ring.push(ms, this.maxAgeMs === undefined ? 0 : this.clock.now());
  }

  /** Per kind: count and nearest-rank p50/p95/p99/max over the window; kinds without samples
   * in the window are omitted. Keys in first-recorded order. */
  snapshot(): Record<string, LatencySummary> {
    const since = this.maxAgeMs === undefined ? -Infinity : this.clock.now() - this.maxAgeMs;
    const out: Record<string, LatencySummary> = {};
    for (const [kind, ring] of this.rings) {
      const values = ring.copy(since).sort();
      if (values.length === 0) continue;
      out[kind] = {
        count: values.length,
        p50: nearestRank(values, 50),
        p95: nearestRank(values, 95),
        p99: nearestRank(values, 99),
        max: values[values.length - 1],
      };
    }
    return out;
  }

  /** Forgets every sample (e.g. after each metrics publish, for per-interval figures). */
  reset(): void {
    this.rings.clear();
  }
}
