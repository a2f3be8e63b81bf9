#!/usr/bin/env -S node --max-semi-space-size=1 --max-old-space-size=256 --single-threaded
'use strict';
// The V8 flags keep the heap from growing on garbage: a 256-camera discovery peaks at ~90 MB RSS
// with them and ~165 MB without (docs/benchmarks.md). --single-threaded: GC and compiling run on
// the main thread, so no V8 background thread takes a malloc arena of its own (~1.5 MB RSS each);
// the agent's heap is small enough that its pauses stay short (`camgate run` also asks V8 to keep
// its heap small: agent/cli/commands/run.ts). The line must stay under 128 characters (older
// kernels cut a longer #! line). `node bin/camgate.js` bypasses them.
// Thin launcher: the agent's CLI lives in agent/cli, the central's in central/cli (`camgate
// central …`), the all-in-one box's in box/cli (`camgate start`, and `camgate` alone, as the
// packaged program runs by default), all compiled to dist/ by `npm run build`.
const first = process.argv[2];
const program = first === 'central' ? 'central' : first === 'start' || first === undefined ? 'box' : 'agent';
const entry = { agent: '../dist/agent/cli/main.js', central: '../dist/central/cli/main.js', box: '../dist/box/cli.js' }[program];
let main;
try {
  ({ main } = require(entry));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(entry.slice(3).replace(/\//g, require('node:path').sep))) {
    console.error('camgate: not built yet. Run `npm run build` in the checkout first (or `npm start`).');
    process.exit(2);
  }
  throw err;
}
main(program === 'agent' ? process.argv : process.argv.slice(3)).then(
  (code) => {
    process.exitCode = typeof code === 'number' ? code : 0;
  },
  (err) => {
    console.error(`camgate: ${err && err.message ? err.message : err}`);
    process.exitCode = 1;
  },
);
