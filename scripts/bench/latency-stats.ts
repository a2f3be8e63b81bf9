// Benchmark (issue 4): what the probe latency percentiles (agent/health/latency.ts) cost. Their
// test checks that the window stays bounded; this measures how fast, and reports it (no limit is
// asserted: the figure depends on the machine and its load).
//
//   npx tsc -p tsconfig.json && node dist/scripts/bench/latency-stats.js [options]
//     --records 1000000   record() calls per run, spread over the kinds
//     --kinds 5           probe kinds (reach, clock, describe, picture, diagnosisCpu, then kN)
//     --runs 5            runs, each on a fresh LatencyStats (the first one also warms V8 up)
//     --snapshots 1000    snapshot() calls timed after each run's records (windows full)
//
// Prints one JSON document: per run, the time for the records (total and ns per record) and for
// one snapshot of the full windows; then the median over the runs.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { LatencyStats } from '../../agent/health/latency';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    kinds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '5' },
    snapshots: { type: 'string', default: '1000' },
  },
});
const RECORDS = Number(args.records);
const RUNS = Number(args.runs);
const SNAPSHOTS = Number(args.snapshots);
const NAMED = ['reach', 'clock', 'describe', 'picture', 'diagnosisCpu'];
const kinds = Array.from({ length: Number(args.kinds) }, (_, i) => NAMED[i] ?? `k${i}`);

interface Run {
  recordsMs: number;
  nsPerRecord: number;
  snapshotMs: number;
  windows: number[];
}

function once(): Run {
  const stats = new LatencyStats();
  const t0 = performance.now();
  for (let i = 0; i < RECORDS; i++) stats.record(kinds[i % kinds.length], (i * 37) % 1000);
  const recordsMs = performance.now() - t0;
  const t1 = performance.now();
  let last = stats.snapshot();
  for (let i = 1; i < SNAPSHOTS; i++) last = stats.snapshot();
  const snapshotMs = (performance.now() - t1) / SNAPSHOTS;
  return { recordsMs, nsPerRecord: (recordsMs * 1e6) / RECORDS, snapshotMs, windows: Object.values(last).map((k) => k.count) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

const runs = Array.from({ length: RUNS }, once);
console.log(
  JSON.stringify(
    {
      node: process.version,
      records: RECORDS,
      kinds: kinds.length,
      runs: runs.map((r) => ({ recordsMs: round(r.recordsMs), nsPerRecord: round(r.nsPerRecord, 1), snapshotMs: round(r.snapshotMs), windows: r.windows })),
      median: {
        recordsMs: round(median(runs.map((r) => r.recordsMs))),
        nsPerRecord: round(median(runs.map((r) => r.nsPerRecord)), 1),
        snapshotMs: round(median(runs.map((r) => r.snapshotMs))),
      },
    },
    null,
    2,
  ),
);
