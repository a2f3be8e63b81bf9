// Crash safety: a child process enqueues in a loop and reports each k after its promise resolved;
// we SIGKILL it at random moments, restart it from the database's max k + 1, and check at the end
// that every reported k is stored, in order, exactly once, and the accounting is exact.
// (kill -9 only: power loss is covered by synchronous=FULL, not by this test.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openOutbox } from '../../agent/uplink/outbox';
import { truth } from './support/outbox-helpers';
import { seededRandom } from '../../lib/random';
import { tempDir } from '../kit/temp';

const CHILD = join(__dirname, 'support', 'outbox-crash-child.js');

/** Max k stored (from the payloads), or -1. */
function maxStoredK(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    const v = db.prepare("SELECT MAX(json_extract(payload, '$.k')) FROM messages").pluck().get() as number | null;
    return v ?? -1;
  } finally {
    db.close();
  }
}

/** Runs the child from `start`, kills it `killAfterMs` after it printed "ready"; returns the ks it reported. */
function runAndKill(file: string, start: number, seed: number, killAfterMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, file, String(start), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (!timer && out.startsWith('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`child exited with ${code}/${signal}: ${err}`));
      // A line cut by the kill has no newline: ignore it.
      const lines = out.split('\n');
      lines.pop();
      resolve(lines.filter((l) => l !== 'ready').map(Number));
    });
  });
}

test('outbox crash safety: SIGKILL at random moments loses, duplicates and reorders nothing that was reported', { timeout: 120_000 }, async (t) => {
  const file = join(tempDir(t), 'outbox.db');
  const rnd = seededRandom(20250102);
  const reported = new Set<number>();
  const LOOPS = 12;
  let killedMidStream = 0;
  for (let loop = 0; loop < LOOPS; loop++) {
    const start = loop === 0 ? 0 : maxStoredK(file) + 1;
    const ks = await runAndKill(file, start, loop + 1, 5 + Math.floor(rnd() * 300));
    for (const k of ks) {
      assert.ok(k >= start, `child reported ${k} before its start ${start}`);
      reported.add(k);
    }
    if (ks.length > 0) killedMidStream++;
  }
  assert.ok(killedMidStream >= LOOPS / 2, `the child got to enqueue in ${killedMidStream} of ${LOOPS} runs`);
  assert.ok(reported.size > 0);

  const db = new Database(file, { readonly: true });
  const rows = db.prepare("SELECT seq, json_extract(payload, '$.seq') AS pseq, json_extract(payload, '$.k') AS k FROM messages ORDER BY seq").all() as Array<{
    seq: number;
    pseq: number;
    k: number;
  }>;
  db.close();
  const stored = new Set<number>();
  let prevK = -1;
  for (const r of rows) {
    assert.equal(r.pseq, r.seq, 'the payload carries the row seq');
    assert.ok(!stored.has(r.k), `k ${r.k} stored twice`);
    stored.add(r.k);
    assert.equal(r.k, prevK + 1, `k ${r.k} follows ${prevK}: nothing missing, nothing reordered`);
    prevK = r.k;
  }
  for (const k of reported) assert.ok(stored.has(k), `k ${k} was reported committed but is missing`);
  t.diagnostic(`${LOOPS} SIGKILLs, ${reported.size} ks reported, ${rows.length} stored (${rows.length - reported.size} committed but not yet reported)`);

  // Seqs strictly increasing in k order, and the accounting in `state` matches the rows.
  const ob = openOutbox({ file, quotaBytes: 1e12 });
  t.after(() => ob.close());
  const real = truth(file);
  const stats = ob.stats();
  assert.equal(stats.depth, real.depth);
  assert.equal(stats.bytes, real.bytes);
  assert.equal(stats.newestSeq, rows[rows.length - 1].seq);
  const next = await ob.enqueue({ topic: 't', payload: { after: true }, dropClass: 0 });
  assert.ok(next > rows[rows.length - 1].seq);
});
