// Real agents and the central on one Mosquitto: two sites (a simulated ONVIF camera, and devices
// that never answer), each its own `camgate run` in-process; the central's API shows both sites
// and every camera in the state its agent found; a label set and a camera removed with the CLI
// while the agents run reach the central's ledger.
// Loopback subnet 127.164.0.0/16 belongs to this file; nothing listens on the planted addresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { startSimulator } from '../../scripts/sim/index';
import { runCli } from '../agent/helpers';
import { channel, report } from '../kit/reports';
import { startSite } from '../kit/site';
import { startTestCentral } from '../kit/central';
import { waitFor } from '../kit/wait';

function planted(host: string, n: number) {
  return report({
    host,
    endpointUuid: `urn:uuid:00000000-0000-4000-8164-00000000000${n}`,
    identity: { manufacturer: 'Acme', model: 'IPC-164', firmware: '1.00', serial: `SN164${n}`, mac: `44:19:b6:64:01:0${n}` },
    channels: [channel(1, host)],
  });
}

interface CameraList {
  total: number;
  items: Array<{ site: string; camera: string; state: string; region: string | null; class: number | null; model: string | null; removedAt: string | null }>;
}

const FAST = {
  CAMGATE_HEALTH_REACH_INTERVAL_SEC: '2',
  CAMGATE_HEALTH_STATUS_INTERVAL_SEC: '5',
  CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0',
  CAMGATE_WEB_ENABLED: 'false',
};

test('two sites’ agents report through one broker; the central shows their cameras and follows CLI changes', { timeout: 180_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const central = await startTestCentral(t, { brokerUrl: broker.url });
  const sim = await startSimulator({ cameras: [{ host: '127.164.1.20' }], rtsp: false });
  t.after(() => sim.stop());

  const a = await startSite(t, { site: 'town-164a', sharedBroker: broker, planted: [planted('127.164.1.10', 1)], env: FAST, deps: { ffmpeg: null } });
  const b = await startSite(t, {
    site: 'town-164b',
    sharedBroker: broker,
    planted: [planted('127.164.2.10', 2), planted('127.164.2.11', 3)],
    env: FAST,
    deps: { ffmpeg: null },
  });
  const add = await runCli(['cameras', 'add', 'onvif', '127.164.1.20', '--data-dir', a.dataDir], {
    env: { CAMGATE_CAMERAS_USERNAME: 'admin', CAMGATE_PASSWORD: 'admin123' },
  });
  assert.equal(add.code, 0, add.stderr);

  const list = async (query = '') => (await central.get<CameraList>(`/api/cameras?limit=100${query}`)).body;
  const settled = await waitFor(
    async () => {
      const l = await list();
      const byState = (s: string) => l.items.filter((c) => c.state === s).length;
      return l.total === 4 && byState('online') === 1 && byState('offline') === 3 ? l : false;
    },
    'four cameras in the central, one online (the simulated one) and three offline',
    90_000,
    () => JSON.stringify(central.ingest?.stats()),
  );
  const online = settled.items.find((c) => c.state === 'online')!;
  assert.equal(online.site, 'town-164a');
  assert.notEqual(online.camera, a.ids['127.164.1.10'], 'the online camera is the simulated one, not the device that never answers');
  assert.deepEqual(
    settled.items.filter((c) => c.site === 'town-164b').map((c) => c.model),
    ['IPC-164', 'IPC-164'],
  );

  const sites = (await central.get<Array<{ site: string; connection: string; alive: boolean; cameras: number }>>('/api/sites')).body;
  assert.deepEqual(
    sites.map((s) => [s.site, s.connection, s.alive, s.cameras]),
    [
      ['town-164a', 'online', true, 2],
      ['town-164b', 'online', true, 2],
    ],
  );

  // A label set at site b while its agent runs reaches the central's ledger.
  const labelled = b.ids['127.164.2.10'];
  const set = await runCli(['cameras', 'set', labelled, '--class', '1', '--region', '浙江省/湖州市/德清县', '--data-dir', b.dataDir]);
  assert.equal(set.code, 0, set.stderr);
  await waitFor(
    async () => (await list(`&region=${encodeURIComponent('浙江省/湖州市')}`)).items.map((c) => c.camera).join() === labelled,
    'the new region in the central',
    30_000,
  );
  assert.equal((await list('&class=1')).items[0]?.camera, labelled);

  // A camera removed at site b leaves the central's list, and stays visible as removed.
  const gone = b.ids['127.164.2.11'];
  const remove = await runCli(['cameras', 'remove', gone, '--yes', '--data-dir', b.dataDir]);
  assert.equal(remove.code, 0, remove.stderr);
  await waitFor(async () => (await list('&site=town-164b')).total === 1, 'the removed camera gone from the list', 30_000);
  const withRemoved = await list('&site=town-164b&removed=true');
  assert.ok(withRemoved.items.find((c) => c.camera === gone)?.removedAt, 'kept with the time of its removal');
});
