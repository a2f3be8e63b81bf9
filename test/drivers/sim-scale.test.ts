// Discovery + identification of many simulated devices at once, with timings; 127.38.0.0/16
// belongs to this file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../scripts/sim';
import type { Simulator, SimVendor } from '../../scripts/sim/types';
import { expandTargets, openDriver, probe, targetFromProbeMatch, type DeviceReport } from '../../drivers';

const N = 100;
const VENDORS: SimVendor[] = ['generic', 'hikvision', 'dahua', 'nvr', 'tapo'];
let sim: Simulator;

before(async () => {
  sim = await startSimulator({
    rtsp: false,
    cameras: Array.from({ length: N }, (_, i) => ({ host: `127.38.0.${i + 1}`, vendor: VENDORS[i % VENDORS.length], clockSkewMs: (i % 7) * 600_000 })),
  });
});
after(async () => {
  await sim?.stop();
});

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

test(`unicast probe of a /24 and identify ${N} simulated devices`, async () => {
  const t0 = Date.now();
  const found = await probe({ targets: expandTargets('127.38.0.0/24'), timeoutMs: 500 });
  const tProbe = Date.now() - t0;
  assert.equal(found.length, N);
  const t1 = Date.now();
  const reports = await mapLimit(found, 16, async (m): Promise<DeviceReport> => {
    const d = openDriver(targetFromProbeMatch(m), { username: 'admin', password: 'admin123' });
    try {
      return await d.report();
    } finally {
      d.close();
    }
  });
  const tIdentify = Date.now() - t1;
  console.log(
    `scale: probe ${tProbe} ms (254 targets, 500 ms wait), identify ${N} devices ${tIdentify} ms at concurrency 16, ${reports.reduce((a, r) => a + r.channels.length, 0)} channels`,
  );
  assert.equal(new Set(reports.map((r) => r.endpointUuid)).size, N);
  assert.equal(new Set(reports.map((r) => r.identity.serial)).size, N);
  for (const r of reports) {
    const skew = ((Number(r.host.split('.')[3]) - 1) % 7) * 600_000;
    assert.ok(Math.abs(r.clock!.offsetMs - skew) < 1500, `${r.host}: offset ${r.clock!.offsetMs}, expected ${skew}`);
    assert.ok(r.channels.every((c) => c.profiles.every((p) => p.streamUri?.startsWith(`rtsp://${r.host}:`))));
  }
});
