#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI lives in agent/cli (compiled to dist/ by `npm run build`).
let main;
try {
  ({ main } = require('../dist/agent/cli/main.js'));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]agent[\\/]cli[\\/]main\.js/.test(String(err.message))) {
    console.error('camgate: not built yet. Run `npm run build` in the checkout first (or `npm start`).');
    process.exit(2);
  }
  throw err;
}
main(process.argv).then(
  (code) => { process.exitCode = typeof code === 'number' ? code : 0; },
  (err) => { console.error(`camgate: ${err && err.message ? err.message : err}`); process.exitCode = 1; },
);
