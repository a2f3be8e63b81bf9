// A full /16 unicast sweep over loopback (127.37.0.0/16 belongs to this file): pacing must get
// 131,068 probes out without send errors and still hear the two devices hidden in the range.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { expandTargets, probeWithStats } from '../../drivers';
import { probeMatchXml, startResponder, type FakeResponder } from './helpers/fake-discovery';

const responders: FakeResponder[] = [];
after(async () => {
  for (const r of responders) await r.close();
});

test('sweep of 127.37.0.0/16 (65,534 targets) finds both devices, no send errors', async () => {
  responders.push(
    await startResponder('127.37.0.1', () => probeMatchXml('urn:uuid:37000000-0000-4000-8000-000000000001', 'http://127.37.0.1/onvif/device_service')),
  );
  responders.push(
    await startResponder('127.37.254.254', () => probeMatchXml('urn:uuid:37000000-0000-4000-8000-000000000002', 'http://127.37.254.254/onvif/device_service')),
  );
  const targets = expandTargets('127.37.0.0/16');
  assert.equal(targets.length, 65534);
  let batches = 0;
  const { matches, stats } = await probeWithStats({
    targets,
    timeoutMs: 500,
    onProgress: (e) => {
      if (e.type === 'sent') batches++;
    },
  });
  console.log(`sweep: ${stats.sent} probes in ${stats.elapsedMs} ms, ${batches} batches, ${stats.answers} answers`);
  assert.equal(stats.sendErrors, 0);
  assert.equal(stats.sent, 65534 * 2);
  assert.equal(batches, Math.ceil(65534 / 128));
  assert.deepEqual(matches.map((m) => m.from).sort(), ['127.37.0.1', '127.37.254.254']);
});
