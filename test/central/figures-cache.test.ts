// The figures cache alone: an answer is kept with the revisions it was pooled from, given back only
// for the same revisions, and the least recently used goes first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FiguresCache } from '../../central/figures/cache';

test('a kept answer comes back for the same revisions only; another revision pools again', async () => {
  const cache = new FiguresCache();
  let pooled = 0;
  const make = async () => ({ n: ++pooled });
  assert.deepEqual(await cache.through('k', 'd1:1', make), { n: 1 });
  assert.deepEqual(await cache.through('k', 'd1:1', make), { n: 1 }, 'kept');
  assert.deepEqual(await cache.through('k', 'd1:2', make), { n: 2 }, 'the day was measured again');
  assert.equal(cache.get('k', 'd1:1'), undefined, 'the older answer is gone');
  assert.deepEqual(await cache.through('other', 'd1:2', make), { n: 3 }, 'keys apart');
});

test('at capacity the least recently used answer goes first', () => {
  const cache = new FiguresCache(2);
  cache.set('a', 'r', 1);
  cache.set('b', 'r', 2);
  assert.equal(cache.get('a', 'r'), 1, 'a used: b is now the oldest');
  cache.set('c', 'r', 3);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('b', 'r'), undefined);
  assert.equal(cache.get('a', 'r'), 1);
  assert.equal(cache.get('c', 'r'), 3);
});
