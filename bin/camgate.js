#!/usr/bin/env -S node --max-semi-space-size=1 --max-old-space-size=256 --v8-pool-size=2
'use strict';
// The V8 flags keep the heap from growing on garbage: a 256-camera discovery peaks at ~90 MB RSS
// with them and ~165 MB without (docs/benchmarks.md). --v8-pool-size=2: two V8 background threads
// (GC, compiling) instead of four, each with its own malloc arena (~1.5 MB RSS each); the box has
// two cores. `node bin/camgate.js` bypasses them.
// Thin launcher: the agent's CLI lives in agent/cli, the central's in central/cli (`camgate
// central …`), both compiled to dist/ by `npm run build`.
const central = process.argv[2] === 'central';
const entry = central ? '../dist/central/cli/main.js' : '../dist/agent/cli/main.js';
let main;
try {
  ({ main } = require(entry));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/](agent|central)[\\/]cli[\\/]main\.js/.test(String(err.message))) {
    console.error('camgate: not built yet. Run `npm run build` in the checkout first (or `npm start`).');
    process.exit(2);
  }
  throw err;
}
main(central ? process.argv.slice(3) : process.argv).then(
  (code) => {
    process.exitCode = typeof code === 'number' ? code : 0;
  },
  (err) => {
    console.error(`camgate: ${err && err.message ? err.message : err}`);
    process.exitCode = 1;
  },
);
