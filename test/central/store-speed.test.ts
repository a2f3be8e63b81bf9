// The helpers that keep ingest's hot path cheap must answer exactly what the slow way answers:
// dayFinder what dayOf says for every instant (DST days included, instants out of order), and the
// statement cache the same statement for the same SQL, a fresh one while the kept one is busy,
// and no more than its bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { dayFinder, dayOf } from '../../central/figures/days';
import { withStatementCache } from '../../central/store/sqlite-statements';
import { seededRandom, testSeed } from '../kit/random';

test('dayFinder answers dayOf for instants in any order, across midnights and DST changes', () => {
  const seed = testSeed();
  const random = seededRandom(seed);
  for (const zone of ['Asia/Shanghai', 'Europe/Berlin', 'America/New_York']) {
    const find = dayFinder(zone);
    // Around the spring and autumn changes of 2026 and a plain month, jumping back and forth.
    const anchors = [
      Date.parse('2026-03-08T00:00:00Z'),
      Date.parse('2026-03-29T00:00:00Z'),
      Date.parse('2026-10-25T00:00:00Z'),
      Date.parse('2026-12-01T00:00:00Z'),
    ];
    for (let i = 0; i < 5000; i++) {
      const ms = anchors[i % anchors.length] + Math.floor((random() - 0.3) * 4 * 86_400_000);
      assert.equal(find(ms), dayOf(ms, zone), `${zone} at ${new Date(ms).toISOString()} (seed ${seed})`);
    }
    // The last millisecond of a day and the first of the next.
    const midnight = Date.parse('2026-12-01T16:00:00Z');
    assert.equal(dayFinder('Asia/Shanghai')(midnight - 1), '2026-12-01');
    assert.equal(dayFinder('Asia/Shanghai')(midnight), '2026-12-02');
  }
});

test('the statement cache hands back the kept statement, a fresh one while it iterates, and keeps at most its bound', () => {
  const sqlite = new BetterSqlite3(':memory:');
  const db = withStatementCache(sqlite, 3);
  try {
    sqlite.exec('create table t (x integer)');
    sqlite.exec('insert into t values (1), (2), (3)');
    const a = db.prepare('select x from t order by x');
    assert.equal(db.prepare('select x from t order by x'), a, 'the same SQL gets the same statement');
    assert.deepEqual(a.all([]), [{ x: 1 }, { x: 2 }, { x: 3 }]);

    const iterating = a.iterate([]);
    iterating.next();
    const during = db.prepare('select x from t order by x');
    assert.notEqual(during, a, 'a busy statement is not handed out again');
    assert.deepEqual(during.all([]), [{ x: 1 }, { x: 2 }, { x: 3 }]);
    iterating.return?.();

    // Three more texts push the least recently used out: the first comes back freshly prepared.
    db.prepare('select 1');
    db.prepare('select 2');
    db.prepare('select 3');
    assert.notEqual(db.prepare('select x from t order by x'), a);
    const b = db.prepare('select 3');
    assert.equal(db.prepare('select 3'), b, 'the most recent ones are kept');
  } finally {
    db.close();
  }
});
