// HostAlarms (pure): disk-low / temperature-high with hysteresis, raised once, -ok only after a raise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostAlarms, formatBytes, type HostAlarmEvent } from '../../agent/health/host/alarms';
import type { HostSample } from '../../agent/health/host/sample';

const GiB = 2 ** 30;

function sample(o: { freePercent?: number | null; temperatureC?: number | null; sizeBytes?: number }): HostSample {
  const size = o.sizeBytes ?? 40 * GiB;
  return {
    cpuLoadPercent: 12.5,
    loadAvg1: 0.4,
    cpus: 4,
    memTotalBytes: 4 * GiB,
    memAvailableBytes: 2 * GiB,
    uptimeSec: 1000,
    disk:
      o.freePercent === null || o.freePercent === undefined
        ? null
        : { path: '/var/lib/camgate', mount: '/var', sizeBytes: size, freeBytes: Math.round((size * o.freePercent) / 100), freePercent: o.freePercent },
    temperatureC: o.temperatureC ?? null,
    temperatureSensor: o.temperatureC === null || o.temperatureC === undefined ? null : 'thermal x86_pkg_temp',
    interfaces: [],
  };
}

const types = (events: HostAlarmEvent[]): string[] => events.map((e) => e.type);

test('disk-low: first sample raises if already low, once; disk-ok only at 1.5 × the threshold', () => {
  const a = new HostAlarms({ diskLowPercent: 10, temperatureHighC: 80 });
  assert.equal(a.diskClearPercent, 15);
  const [low] = a.evaluate(sample({ freePercent: 3.1 }));
  assert.equal(low.type, 'disk-low');
  assert.equal(low.severity, 'alarm');
  assert.equal(
    low.message,
    'free space on /var/lib/camgate (file system mounted on /var): 3.1% (1.2 GiB of 40 GiB), below health.host.diskLowPercent=10: ' +
      'the outbox and thumbnails need room (when it runs out, queued messages are dropped); clean up or enlarge the disk',
  );
  assert.deepEqual(low.detail, {
    path: '/var/lib/camgate',
    mount: '/var',
    freeBytes: Math.round(40 * GiB * 0.031),
    sizeBytes: 40 * GiB,
    freePercent: 3.1,
    thresholdPercent: 10,
    clearPercent: 15,
  });
  assert.deepEqual(a.active, { diskLow: true, temperatureHigh: false });
  // still low, getting lower, recovering but below the clear level, a failed read: nothing
  for (const p of [3.1, 1, 9.99, 10, 12, 14.99, null]) assert.deepEqual(a.evaluate(sample({ freePercent: p })), [], `free ${p}`);
  const [ok] = a.evaluate(sample({ freePercent: 15 }));
  assert.equal(ok.type, 'disk-ok');
  assert.equal(ok.severity, 'info');
  assert.match(
    ok.message,
    /^free space on \/var\/lib\/camgate \(file system mounted on \/var\) back to 15% \(6 GiB of 40 GiB\), at or above 15% \(1\.5 × health\.host\.diskLowPercent=10\)$/,
  );
  assert.deepEqual(a.evaluate(sample({ freePercent: 50 })), []);
  // dropping again raises again
  assert.deepEqual(types(a.evaluate(sample({ freePercent: 9 }))), ['disk-low']);
});

test('disk: no disk-ok without a raised alarm; a healthy first sample raises nothing; boundary is strict', () => {
  const a = new HostAlarms({ diskLowPercent: 10, temperatureHighC: 80 });
  assert.deepEqual(a.evaluate(sample({ freePercent: 60 })), []);
  assert.deepEqual(a.evaluate(sample({ freePercent: 12 })), []);
  assert.deepEqual(a.evaluate(sample({ freePercent: 10 })), [], 'exactly at the threshold is not below it');
  assert.deepEqual(a.evaluate(sample({ freePercent: 20 })), []);
  assert.deepEqual(types(a.evaluate(sample({ freePercent: 9.9 }))), ['disk-low']);
});

test('disk: threshold 0 never raises; a large threshold clears at 100 % at most', () => {
  const zero = new HostAlarms({ diskLowPercent: 0, temperatureHighC: 80 });
  assert.deepEqual(zero.evaluate(sample({ freePercent: 0 })), []);
  const big = new HostAlarms({ diskLowPercent: 80, temperatureHighC: 80 });
  assert.equal(big.diskClearPercent, 100);
  assert.deepEqual(types(big.evaluate(sample({ freePercent: 50 }))), ['disk-low']);
  assert.deepEqual(big.evaluate(sample({ freePercent: 99 })), []);
  assert.deepEqual(types(big.evaluate(sample({ freePercent: 100 }))), ['disk-ok']);
  assert.throws(() => new HostAlarms({ diskLowPercent: 101, temperatureHighC: 80 }), /diskLowPercent/);
  assert.throws(() => new HostAlarms({ diskLowPercent: 10, temperatureHighC: Number.NaN }), /temperatureHighC/);
});

test('disk: the message names the mount only when it differs, human units', () => {
  const a = new HostAlarms({ diskLowPercent: 10, temperatureHighC: 80 });
  const s = sample({ freePercent: 5, sizeBytes: 512 * 2 ** 20 });
  s.disk = { ...s.disk!, mount: '/var/lib/camgate' };
  const [e] = a.evaluate(s);
  assert.match(e.message, /^free space on \/var\/lib\/camgate: 5% \(25\.6 MiB of 512 MiB\), below/);
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1 KiB');
  assert.equal(formatBytes(1.25 * GiB), '1.3 GiB');
  assert.equal(formatBytes(250 * GiB), '250 GiB');
  assert.equal(formatBytes(3 * 2 ** 40), '3 TiB');
});

test('temperature-high: above the threshold raises once; clears at threshold − 5 °C; null is ignored', () => {
  const a = new HostAlarms({ diskLowPercent: 10, temperatureHighC: 80 });
  assert.equal(a.temperatureClearC, 75);
  assert.deepEqual(a.evaluate(sample({ temperatureC: 80 })), [], 'exactly at the threshold is not above it');
  const [hot] = a.evaluate(sample({ temperatureC: 86.5 }));
  assert.equal(hot.type, 'temperature-high');
  assert.equal(hot.severity, 'alarm');
  assert.equal(
    hot.message,
    'CPU temperature 86.5 °C (thermal x86_pkg_temp), above health.host.temperatureHighC=80: ' +
      'the box may throttle or shut down; check its fan and vents, dust, and that the cabinet is shaded and ventilated',
  );
  assert.deepEqual(hot.detail, { temperatureC: 86.5, sensor: 'thermal x86_pkg_temp', thresholdC: 80, clearC: 75, cpuLoadPercent: 12.5 });
  for (const t of [90, 80, 79, 75.1, null]) assert.deepEqual(a.evaluate(sample({ temperatureC: t })), [], `at ${t}`);
  assert.deepEqual(a.active, { diskLow: false, temperatureHigh: true }, 'a missing reading does not clear');
  const [ok] = a.evaluate(sample({ temperatureC: 75 }));
  assert.equal(ok.type, 'temperature-ok');
  assert.equal(ok.severity, 'info');
  assert.equal(ok.message, 'CPU temperature back to 75.0 °C (thermal x86_pkg_temp), at or below 75.0 °C (health.host.temperatureHighC=80 minus 5 °C)');
  assert.deepEqual(a.evaluate(sample({ temperatureC: 40 })), []);
});

test('temperature: a box without a sensor never raises; no -ok without a raise; first sample raises', () => {
  const a = new HostAlarms({ diskLowPercent: 10, temperatureHighC: 80 });
  for (let i = 0; i < 3; i++) assert.deepEqual(a.evaluate(sample({ temperatureC: null })), []);
  assert.deepEqual(a.evaluate(sample({ temperatureC: 30 })), []);
  const b = new HostAlarms({ diskLowPercent: 10, temperatureHighC: 60 });
  assert.deepEqual(types(b.evaluate(sample({ temperatureC: 61 }))), ['temperature-high']);
});

test('both at once, in a fixed order, independent hysteresis', () => {
  const a = new HostAlarms({ diskLowPercent: 10, temperatureHighC: 80 });
  assert.deepEqual(types(a.evaluate(sample({ freePercent: 2, temperatureC: 95 }))), ['disk-low', 'temperature-high']);
  assert.deepEqual(types(a.evaluate(sample({ freePercent: 20, temperatureC: 78 }))), ['disk-ok']);
  assert.deepEqual(types(a.evaluate(sample({ freePercent: 20, temperatureC: 70 }))), ['temperature-ok']);
  assert.deepEqual(a.active, { diskLow: false, temperatureHigh: false });
});
