// ProcessCpu: this process's CPU share since the previous sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCpu } from '../../agent/health/host/process';

test('a ~100 ms busy loop shows a plausible share of one core; memory figures are this process', () => {
  const p = new ProcessCpu();
  const end = Date.now() + 100;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  const s = p.sample();
  assert.ok(x > 0);
  // the machine may be busy with other work: the loop gets at least some CPU, never more than ~1 core
  assert.ok(s.cpuPercent > 5 && s.cpuPercent <= 150, `cpuPercent ${s.cpuPercent}`);
  assert.ok(s.rssBytes > 10 * 2 ** 20 && s.rssBytes < 2 ** 31, `rss ${s.rssBytes}`);
  assert.ok(s.heapUsedBytes > 0 && s.heapUsedBytes < s.rssBytes);
});

test('an idle wait shows a small share', async () => {
  const p = new ProcessCpu();
  await new Promise((r) => setTimeout(r, 200));
  const s = p.sample();
  assert.ok(s.cpuPercent >= 0 && s.cpuPercent < 50, `cpuPercent ${s.cpuPercent}`);
});

test('injected clock and counters: exact figures, each sample relative to the previous one', () => {
  const cpu = [
    { user: 1_000_000, system: 500_000 }, // construction
    { user: 1_030_000, system: 520_000 }, // +50 ms CPU
    { user: 1_230_000, system: 620_000 }, // +300 ms CPU
    { user: 1_230_000, system: 620_000 }, // idle
  ];
  const clock = [10_000_000_000n, 10_100_000_000n, 10_300_000_000n, 10_300_000_000n];
  let i = 0;
  let j = 0;
  const p = new ProcessCpu({
    cpuUsage: () => cpu[i++],
    hrtime: () => clock[j++],
    memoryUsage: () => ({ rss: 50_000_000, heapUsed: 20_000_000 }),
  });
  assert.deepEqual(p.sample(), { cpuPercent: 50, rssBytes: 50_000_000, heapUsedBytes: 20_000_000 });
  assert.equal(p.sample().cpuPercent, 150, 'worker threads can exceed one core');
  assert.equal(p.sample().cpuPercent, 0, 'no time elapsed');
});
