// The dashboard bench's trace summary (pure): which tasks are long, and their time by kind as self
// time (a Layout inside a FunctionCall is counted once, as Layout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hotFunctions, longTaskBreakdown, type TraceEvent } from '../../scripts/bench/trace-summary';

const MAIN = { pid: 1, tid: 10 };
const OTHER = { pid: 1, tid: 11 };
const x = (name: string, tsMs: number, durMs: number, thread = MAIN): TraceEvent => ({ name, ph: 'X', ts: tsMs * 1000, dur: durMs * 1000, ...thread });
const names: TraceEvent[] = [
  { name: 'thread_name', ph: 'M', ts: 0, ...MAIN, args: { name: 'CrRendererMain' } },
  { name: 'thread_name', ph: 'M', ts: 0, ...OTHER, args: { name: 'Compositor' } },
];

test('long tasks on the main thread only, split into self time by kind', () => {
  const events = [
    ...names,
    // A long task: 120 ms, a 100 ms script holding a 30 ms layout and a 10 ms style recalculation.
    x('RunTask', 0, 120),
    x('FunctionCall', 5, 100),
    x('Layout', 20, 30),
    x('UpdateLayoutTree', 60, 10),
    x('Paint', 110, 8),
    // A short task and a long one on another thread: not counted.
    x('RunTask', 200, 20),
    x('FunctionCall', 201, 18),
    x('RunTask', 0, 500, OTHER),
    x('Layout', 10, 400, OTHER),
  ];
  const b = longTaskBreakdown(events, 50);
  assert.equal(b.tasks, 1);
  assert.equal(b.totalMs, 120);
  assert.equal(b.longestMs, 120);
  assert.deepEqual(
    b.byKind,
    [
      { name: 'FunctionCall', ms: 60 },
      { name: 'Layout', ms: 30 },
      { name: 'UpdateLayoutTree', ms: 10 },
      { name: 'Paint', ms: 8 },
      { name: '(task itself)', ms: 12 },
    ].sort((a, c) => c.ms - a.ms),
  );
});

test('no renderer thread or no long task: an empty breakdown', () => {
  assert.deepEqual(longTaskBreakdown([x('RunTask', 0, 200)]), { tasks: 0, totalMs: 0, longestMs: 0, byKind: [] });
  assert.deepEqual(longTaskBreakdown([...names, x('RunTask', 0, 40)], 50).tasks, 0);
});

test('hot functions: self samples per function, as a share of all samples', () => {
  const frame = (functionName: string, line: number) => ({ functionName, url: 'http://c/assets/MapPage-x.js', lineNumber: line, columnNumber: 4 });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', 0) },
      { id: 2, callFrame: frame('_setPos', 0) },
      { id: 3, callFrame: frame('', 9) },
    ],
    samples: [2, 2, 2, 3, 1, 2, 3, 3],
  };
  assert.deepEqual(hotFunctions(profile, 2), [
    { fn: '_setPos MapPage-x.js:1:5', share: 50 },
    { fn: '(anonymous) MapPage-x.js:10:5', share: 37.5 },
  ]);
});
