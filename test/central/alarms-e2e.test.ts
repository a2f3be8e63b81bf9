// Alarms end to end on a real Mosquitto: simulated sites publish, the central raises alarms the
// API shows; an acknowledgement is audited and survives the all-clear; a site whose connection
// dies without a clean disconnect raises site-offline through its Will; a silent one through the
// periodic check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'mqtt';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { SimulatedSite } from '../../scripts/sim/telemetry';
import { publisher, startTestCentral, type TestCentral, auditTrail } from '../kit/central';
import { waitFor } from '../kit/wait';

interface Alarm {
  id: string;
  site: string;
  camera: string | null;
  kind: string;
  state: string;
  openedAt: string;
  clearedAt: string | null;
  clearedBy: string | null;
  acknowledgedBy: string | null;
  note: string | null;
}

async function alarms(central: TestCentral, query: string): Promise<Alarm[]> {
  const res = await central.get<{ items: Alarm[] }>(`/api/alarms?${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items;
}

test(
  'a camera offline is an alarm in the API; acknowledged, then cleared when it is back; a Will and silence raise site-offline',
  { timeout: 120_000 },
  async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const central = await startTestCentral(t, {
      brokerUrl: broker.url,
      env: { CAMGATE_CENTRAL_STALE_AFTER_SEC: '10', CAMGATE_CENTRAL_ALARMS_CHECK_INTERVAL_SEC: '1' },
    });
    await waitFor(() => central.ingest!.stats().connected, 'central connected');
    const pub = await publisher(t, broker.url);

    // A camera goes offline.
    const site = new SimulatedSite('town-e2e', [{ camera: 'cam-1', region: '浙江省/杭州市' }, { camera: 'cam-2' }]);
    const t0 = Date.now();
    await pub.send(site.connect(t0, { 'cam-1': { state: 'online' }, 'cam-2': { state: 'online' } }));
    await pub.send(site.status('cam-1', 'offline', t0 + 1000));
    const [opened] = await waitFor(async () => {
      const found = await alarms(central, 'kind=camera-offline&state=active');
      return found.length > 0 ? found : false;
    }, 'the camera-offline alarm');
    assert.deepEqual([opened.site, opened.camera, opened.state, opened.openedAt], ['town-e2e', 'cam-1', 'open', new Date(t0 + 1000).toISOString()]);
    assert.equal((await alarms(central, `region=${encodeURIComponent('浙江省')}&kind=camera-offline`)).length, 1);
    const ofCamera = await central.get<{ items: Alarm[] }>('/api/cameras/town-e2e/cam-1/alarms');
    assert.deepEqual(
      ofCamera.body.items.map((a) => a.id),
      [opened.id],
    );

    // Acknowledged: audited, still active.
    const ack = await central.request<Alarm>('POST', `/api/alarms/${opened.id}/ack`, { note: 'technician on the way' });
    assert.equal(ack.status, 200);
    assert.equal(ack.body.state, 'acknowledged');
    const admin = central.admin!.username;
    assert.deepEqual(
      (await auditTrail(central)).filter((e) => e.action === 'alarm-ack').map((e) => [e.action, e.actor, e.detail.alarm, e.detail.note, e.camera]),
      [['alarm-ack', admin, opened.id, 'technician on the way', 'cam-1']],
    );
    const twice = await central.request<{ message: string }>('POST', `/api/alarms/${opened.id}/ack`, {});
    assert.equal(twice.status, 409);
    assert.match(twice.body.message, new RegExp(`already acknowledged by ${admin}`));
    const unknown = await central.get<{ error: string; message: string }>('/api/alarms/nope');
    assert.equal(unknown.status, 404);
    const badCursor = await central.get<{ error: string; message: string }>('/api/alarms?cursor=zzz');
    assert.equal(badCursor.status, 400);
    assert.match(badCursor.body.message, /cursor/);

    // Back online: cleared, and who acknowledged it is kept.
    await pub.send(site.status('cam-1', 'online', t0 + 2000));
    const cleared = await waitFor(async () => {
      const res = await central.get<Alarm>(`/api/alarms/${opened.id}`);
      return res.body.state === 'cleared' ? res.body : false;
    }, 'the all-clear');
    assert.deepEqual([cleared.clearedAt, cleared.acknowledgedBy, cleared.note], [new Date(t0 + 2000).toISOString(), admin, 'technician on the way']);

    // A box whose connection dies without a clean disconnect: the broker publishes its Will.
    const lost = new SimulatedSite('town-lost', [{ camera: 'cam-9' }]);
    const connectedAt = Date.now();
    const opening = lost.connect(connectedAt, { 'cam-9': { state: 'online' } });
    const will = lost.will(connectedAt);
    const box = connect(broker.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: 'box-town-lost',
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
    });
    await new Promise<void>((resolve, reject) => {
      box.once('connect', () => resolve());
      box.once('error', reject);
    });
    for (const m of opening) await box.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain });
    await waitFor(async () => (await central.get<Array<{ site: string }>>('/api/sites')).body.some((s) => s.site === 'town-lost'), 'the site known');
    box.stream.destroy();
    const [willAlarm] = await waitFor(async () => {
      const found = await alarms(central, 'site=town-lost&kind=site-offline&state=open');
      return found.length > 0 ? found : false;
    }, 'site-offline from the Will');
    assert.equal(willAlarm.camera, null);
    assert.equal((await alarms(central, 'site=town-lost&kind=camera-offline')).length, 0, 'one site-offline alarm, no camera alarms for an offline site');

    // A site that goes silent without any Will (its last message an old one): the periodic check.
    const silent = new SimulatedSite('town-silent', [{ camera: 'cam-5' }]);
    await pub.send(silent.connect(Date.now() - 60_000, { 'cam-5': { state: 'online' } }));
    const [silence] = await waitFor(
      async () => {
        const found = await alarms(central, 'site=town-silent&kind=site-offline&state=open');
        return found.length > 0 ? found : false;
      },
      'site-offline from silence (the central listens for staleAfterSec = 10 s first)',
      60_000,
    );
    assert.match(silence.id, /./);
    const detail = await central.get<{ openedBy: string }>(`/api/alarms/${silence.id}`);
    assert.match(detail.body.openedBy, /silent/);
  },
);
