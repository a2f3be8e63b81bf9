// The demo's history (box/demo-history.ts), without sockets: for the cameras as the sites'
// inventories know them (matched by their loopback address), from the local midnight N days ago,
// each camera ending as DEMO_SITES plans it, none at all for 0 days.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CameraRecord } from '../../agent/inventory/types';
import { demoHistories, historyStart, type DemoHistorySpan } from '../../box/demo-history';
import { DEMO_SITES, demoHost } from '../../box/demo';
import type { TelemetryMessage } from '../../scripts/sim/telemetry';

const TO = Date.parse('2026-12-08T00:21:28Z');

/** A camera as an inventory holds it, its id made from the device's identity as the agent's are. */
function record(site: number, camera: number): CameraRecord {
  const host = demoHost(site, camera);
  const id = `cam-${host.replace(/\./g, '')}`;
  return {
    id,
    deviceId: `dev-${id}`,
    channel: 1,
    name: DEMO_SITES[site].cameras[camera].name,
    class: DEMO_SITES[site].cameras[camera].class,
    latitude: DEMO_SITES[site].cameras[camera].at?.[0] ?? null,
    longitude: DEMO_SITES[site].cameras[camera].at?.[1] ?? null,
    region: DEMO_SITES[site].region,
    owner: DEMO_SITES[site].owner,
    notes: null,
    installDate: null,
    videoSourceToken: 'vs1',
    profiles: [{ token: 'main', width: 1920, height: 1080 }],
    streams: {},
    createdAt: '2026-12-08T00:21:27.000Z',
    updatedAt: '2026-12-08T00:21:27.000Z',
    device: {
      id: `dev-${id}`,
      driver: 'onvif',
      source: 'discovered',
      host,
      port: 8899,
      url: `http://${host}:8899/onvif/device_service`,
      endpointUuid: null,
      manufacturer: 'SimVision',
      model: 'SV-2000',
      firmware: '1.0.0',
      serial: `SN-${id}`,
      hardwareId: null,
      mac: null,
      isNvr: false,
      clockOffsetMs: null,
      scopes: [],
      idBasis: 'serial',
      firstSeen: '2026-12-08T00:21:27.000Z',
      lastSeen: '2026-12-08T00:21:27.000Z',
      hasCredentials: true,
      allowBasicAuth: false,
    },
  };
}

function inventories() {
  return DEMO_SITES.map((site, index) => ({ site, index, cameras: site.cameras.map((_, i) => record(index, i)).reverse() }));
}

const SPAN: DemoHistorySpan = { days: 30, to: TO, timezone: 'Asia/Shanghai', staleAfterSec: 180 };

type Body = {
  kind: string;
  site: string;
  camera?: string;
  observedAt: string;
  state?: string;
  picture?: { ok: boolean; faults: string[] } | null;
  name?: string;
};

function bodies(messages: TelemetryMessage[]): Body[] {
  return messages.map((m) => JSON.parse(m.payload) as Body);
}

test('demo history: from the local midnight 30 days ago, one list a site, for the cameras the inventories know', () => {
  assert.equal(new Date(historyStart(SPAN)).toISOString(), '2026-11-07T16:00:00.000Z', '2026-11-08 00:00 in Shanghai');
  const lists = [...demoHistories(inventories(), SPAN)];
  assert.equal(lists.length, 3);
  for (const [s, list] of lists.entries()) {
    const all = bodies(list);
    assert.ok(
      all.every((b) => b.site === DEMO_SITES[s].id),
      'one site a list',
    );
    assert.equal(Date.parse(all[0].observedAt), historyStart(SPAN));
    assert.ok(Date.parse(all[all.length - 1].observedAt) < TO, 'all before the live agents take over');
    const metas = all.filter((b) => b.kind === 'meta');
    assert.deepEqual(
      metas.map((m) => [m.camera, m.name]),
      DEMO_SITES[s].cameras.map((c, i) => [record(s, i).id, c.name]),
      'the inventory ids, matched by address',
    );
    // Metrics every 144 s: each 24 hours about 600 samples.
    assert.equal(all.filter((b) => b.kind === 'metrics').length, Math.ceil((TO - historyStart(SPAN)) / 144_000));
  }
});

test('demo history: each camera ends as the demo plans it (offline, its picture fault, or intact)', () => {
  const lists = [...demoHistories(inventories(), SPAN)];
  const expected: Record<string, string> = { black: 'black', frozen: 'frozen', blue: 'no-video' };
  for (const [s, site] of DEMO_SITES.entries()) {
    const all = bodies(lists[s]);
    for (const [i, camera] of site.cameras.entries()) {
      const statuses = all.filter((b) => b.kind === 'status' && b.camera === record(s, i).id);
      const last = statuses[statuses.length - 1];
      if (camera.offline) assert.equal(last.state, 'offline', camera.name);
      else {
        assert.equal(last.state, 'online', camera.name);
        assert.deepEqual(last.picture?.faults, camera.picture ? [expected[camera.picture]] : [], camera.name);
      }
    }
  }
});

test('demo history: none for 0 days', () => {
  assert.deepEqual([...demoHistories(inventories(), { ...SPAN, days: 0 })], []);
});
