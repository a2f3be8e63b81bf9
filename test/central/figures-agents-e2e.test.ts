// The figures from real agents: a site's `camgate run` watches two simulated ONVIF cameras and
// reports through a TCP cut-off in front of Mosquitto. The test takes one camera off the network
// while the uplink is cut, brings both back, and checks the central's figures against what it made
// the camera do: the offline time as long as the camera was off (within the health checks'
// detection lag), the other camera never offline, and no unknown time for the outage, because the
// agent's outbox replays the statuses it took meanwhile (with a staleAfterSec shorter than the
// outage, the outage would be unknown without them).
// Loopback subnet 127.165.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { startTcpProxy } from '../../scripts/peers/tcp-proxy';
import { dayOf } from '../../central/figures/days';
import { startSite } from '../kit/site';
import { startTestCentral } from '../kit/central';
import { waitFor } from '../kit/wait';

const REACH_INTERVAL_SEC = 2;
const STALE_AFTER_SEC = 10;
const AGENT = {
  CAMGATE_HEALTH_REACH_INTERVAL_SEC: String(REACH_INTERVAL_SEC),
  CAMGATE_HEALTH_OFFLINE_AFTER_FAILURES: '1',
  CAMGATE_HEALTH_ONLINE_AFTER_SUCCESSES: '1',
  CAMGATE_HEALTH_STATUS_INTERVAL_SEC: '3',
  CAMGATE_HEALTH_STREAM_INTERVAL_SEC: '0',
  CAMGATE_HEALTH_PICTURE_INTERVAL_SEC: '0',
  CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0',
  CAMGATE_WEB_ENABLED: 'false',
};
/** A camera is seen offline within about one reach interval of going off, and online within about
 * one of coming back: the measured outage is off by at most the difference of the two lags (with
 * room for a loaded machine's late timers). */
const DETECTION_LAG_SEC = 2 * REACH_INTERVAL_SEC + 1;

interface Figure {
  countedSeconds: number;
  knownSeconds: number;
  onlineSeconds: number;
  offlineSeconds: number;
  onlineRate: number | null;
}
interface FiguresBody {
  groups: Array<{ key: string; figure: Figure }>;
  computedThrough: string | null;
}
interface CameraList {
  items: Array<{ camera: string; state: string; statusAt: string | null }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('figures from real agents match what the test made the cameras do, across an uplink outage', { timeout: 180_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const central = await startTestCentral(t, { brokerUrl: broker.url, env: { CAMGATE_CENTRAL_STALE_AFTER_SEC: String(STALE_AFTER_SEC) } });
  const uplink = await startTcpProxy({ host: '127.0.0.1', targetHost: '127.0.0.1', targetPort: broker.port });
  t.after(() => uplink.stop());

  const site = await startSite(t, {
    site: 'town-165',
    cameras: [{ host: '127.165.1.20' }, { host: '127.165.1.21' }],
    sharedBroker: broker,
    env: { ...AGENT, CAMGATE_BROKER_URLS: `mqtt://127.0.0.1:${uplink.port}` },
    deps: { ffmpeg: null },
  });
  const flaky = site.ids['127.165.1.20'];
  const steady = site.ids['127.165.1.21'];
  const camera = (id: string) => site.sim!.cameras.find((c) => site.ids[c.spec.host] === id)!;
  const list = async () => (await central.get<CameraList>('/api/cameras?site=town-165')).body.items;
  await waitFor(async () => (await list()).filter((c) => c.state === 'online').length === 2, 'both cameras online in the central', 60_000);
  const firstDay = dayOf(Date.now(), central.config.timezone);

  // The uplink is cut; meanwhile one camera goes off the network for a while and comes back.
  await uplink.setOnline(false);
  await sleep(4_000);
  const offAt = Date.now();
  await camera(flaky).setOnline(false);
  await sleep(12_000);
  await camera(flaky).setOnline(true);
  const onAt = Date.now();
  await sleep(6_000);
  const cutFor = Date.now() - offAt + 4_000;
  assert.ok(cutFor > STALE_AFTER_SEC * 1000 + 10_000, 'the outage is longer than staleAfterSec: without the backlog it would be unknown');
  await uplink.setOnline(true);

  // The backlog arrives: the flaky camera's status after it came back is in the central.
  await waitFor(
    async () => {
      const cams = await list();
      const f = cams.find((c) => c.camera === flaky);
      return f?.state === 'online' && f.statusAt !== null && Date.parse(f.statusAt) >= onAt;
    },
    'the flaky camera back online in the central after the replay',
    60_000,
  );
  // Statuses keep coming after the replay: measure up to a moment every message before it is in.
  await sleep(4_000);
  await central.figures.refresh();

  const today = dayOf(Date.now(), central.config.timezone);
  const figures = await central.get<FiguresBody>(`/api/figures?from=${firstDay}&to=${today}&groupBy=camera`);
  assert.equal(figures.status, 200, JSON.stringify(figures.body));
  const of = (id: string) => figures.body.groups.find((g) => g.key === `town-165/${id}`)!.figure;
  const f = of(flaky);
  const s = of(steady);
  const offFor = (onAt - offAt) / 1000;
  const explain = JSON.stringify({ offFor, flaky: f, steady: s }, null, 1);
  t.diagnostic(JSON.stringify({ offFor, flaky: f, steady: s }));

  assert.ok(Math.abs(f.offlineSeconds - offFor) <= DETECTION_LAG_SEC, `offline ${f.offlineSeconds} s for ${offFor} s off: ${explain}`);
  assert.equal(s.offlineSeconds, 0, explain);
  assert.equal(s.onlineRate, 1, explain);
  for (const [name, id, fig] of [
    ['flaky', flaky, f],
    ['steady', steady, s],
  ] as const) {
    // Known from its first status (a little after it was counted from its meta) to the end, the
    // outage included: the replayed statuses are the site's evidence of life.
    const timeline = await central.get<{ points: Array<{ at: string }>; counted: Array<{ from: string }> }>(
      `/api/cameras/town-165/${id}/timeline?from=${firstDay}`,
    );
    assert.equal(timeline.status, 200, JSON.stringify(timeline.body));
    // (A status observed before the camera's meta makes it known from its first counted moment.)
    const beforeFirstStatus = Math.max(0, (Date.parse(timeline.body.points[0].at) - Date.parse(timeline.body.counted[0].from)) / 1000);
    const unknown = fig.countedSeconds - fig.knownSeconds;
    assert.ok(Math.abs(unknown - beforeFirstStatus) <= 1, `${name}: ${unknown} s unknown, ${beforeFirstStatus} s of it before its first status: ${explain}`);
    assert.ok(fig.countedSeconds * 1000 >= cutFor, `${name}: counted ${fig.countedSeconds} s, less than the outage: ${explain}`);
    // Each figure is rounded to the second on its own: the sum may be one off.
    assert.ok(Math.abs(fig.onlineSeconds + fig.offlineSeconds - fig.knownSeconds) <= 1, `${name}: online + offline ≠ known: ${explain}`);
  }

  // The site's connection timeline has the outage: the Will when the link was cut, online again after.
  const history = await central.get<{ connections: Array<{ at: string; connection: string }> }>(`/api/sites/town-165/history?from=${firstDay}`);
  assert.equal(history.status, 200, JSON.stringify(history.body));
  const changes = history.body.connections.map((c) => c.connection);
  assert.deepEqual(changes.slice(-3), ['online', 'offline', 'online'], JSON.stringify(history.body.connections));
});
