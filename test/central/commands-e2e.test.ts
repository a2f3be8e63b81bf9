// Commands from the central's API to a real agent, end to end: a real Mosquitto, a simulated ONVIF
// camera (no RTSP), the agent (`camgate run` in-process) and the central on the same broker. Once
// with both on MQTT 5 (reply topic and correlation as properties and in the payload) and once on
// MQTT 3.1.1 (the payload fields only, as with the box's embedded broker). Loopback subnet
// 127.171.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { startSite } from '../kit/site';
import { auditTrail, startTestCentral, type TestCentral } from '../kit/central';
import { waitFor } from '../kit/wait';

const FAST = {
  CAMGATE_HEALTH_REACH_INTERVAL_SEC: '2',
  CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0',
  CAMGATE_WEB_ENABLED: 'false',
};

interface Answer {
  status: number;
  type: string | null;
  json: Record<string, unknown>;
  bytes: Buffer;
}

/** A request as the central's first admin (its session cookie), answering the bytes too (snapshots). */
async function call(central: TestCentral, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(central.url + path, {
    method,
    headers: {
      cookie: central.as!.options.cookie!,
      ...(method !== 'GET' ? { 'x-csrf-token': central.as!.options.csrf! } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type');
  return { status: res.status, type, bytes, json: type?.startsWith('application/json') ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>) : {} };
}

for (const protocol of [5, 4] as const) {
  test(
    `commands over MQTT ${protocol === 5 ? '5' : '3.1.1'}: the API sends, the agent answers, errors map to 400/404/409/502/504`,
    { timeout: 120_000 },
    async (t) => {
      const host = `127.171.${protocol}.10`;
      const site = `cmd-171-${protocol}`;
      const broker = await startMosquitto();
      t.after(() => broker.stop());
      const central = await startTestCentral(t, {
        brokerUrl: broker.url,
        env: { CAMGATE_CENTRAL_BROKER_PROTOCOL_VERSION: String(protocol), ...(protocol === 4 ? { CAMGATE_CENTRAL_BROKER_SHARE_GROUP: '' } : {}) },
      });
      const rig = await startSite(t, {
        site,
        sharedBroker: broker,
        cameras: [{ host }],
        env: { ...FAST, CAMGATE_BROKER_PROTOCOL_VERSION: String(protocol) },
        deps: { ffmpeg: null },
      });
      const camera = rig.ids[host];
      await waitFor(
        async () =>
          (await central.get<Array<{ site: string; connection: string }>>('/api/sites')).body.some((s) => s.site === site && s.connection === 'online'),
        'the site online in the central',
      );
      await waitFor(async () => (await central.get(`/api/cameras/${site}/${camera}`)).status === 200, 'the camera in the central');

      const ping = await call(central, 'POST', `/api/sites/${site}/commands/ping`);
      assert.equal(ping.status, 200, JSON.stringify(ping.json));
      assert.equal((ping.json.result as Record<string, unknown>).site, site);
      assert.equal(ping.json.command, 'ping');

      const probe = await call(central, 'POST', `/api/sites/${site}/commands/probe-now`, { args: { camera } });
      assert.equal(probe.status, 200, JSON.stringify(probe.json));
      assert.equal((probe.json.result as { probed: number }).probed, 1);

      const snapshot = await call(central, 'GET', `/api/cameras/${site}/${camera}/snapshot`);
      assert.equal(snapshot.status, 200, snapshot.bytes.toString('utf8').slice(0, 300));
      assert.equal(snapshot.type, 'image/jpeg');
      assert.deepEqual([...snapshot.bytes.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');

      // The agent refuses: an error reply is a 502 with its code and message.
      const unknownCamera = await call(central, 'POST', `/api/sites/${site}/commands/camera-set-time`, { args: { camera: 'no-such-camera' } });
      assert.equal(unknownCamera.status, 502, JSON.stringify(unknownCamera.json));
      assert.equal(unknownCamera.json.error, 'agent-error');
      assert.equal(unknownCamera.json.code, 'invalid-args');
      assert.match(String(unknownCamera.json.message), new RegExp(`site ${site} answered camera-set-time with invalid-args`));

      // Refused before anything is sent.
      const badArgs = await call(central, 'POST', `/api/sites/${site}/commands/camera-reboot`, { args: {} });
      assert.equal(badArgs.status, 400);
      assert.match(String(badArgs.json.message), /camera/);
      const extra = await call(central, 'POST', `/api/sites/${site}/commands/ping`, { args: { colour: 'red' } });
      assert.equal(extra.status, 400);
      assert.match(String(extra.json.message), /unknown property "colour"/);
      const unknownCommand = await call(central, 'POST', `/api/sites/${site}/commands/config-get`);
      assert.equal(unknownCommand.status, 400);
      assert.match(String(unknownCommand.json.message), /unknown command "config-get"/);
      const unknownSite = await call(central, 'POST', '/api/sites/nowhere/commands/ping');
      assert.equal(unknownSite.status, 404);
      assert.match(String(unknownSite.json.message), /no site nowhere/);

      // The site goes away: 409 unless forced; forced, nobody answers: 504 naming site and command.
      await rig.agent.stop('test: the site goes offline');
      await waitFor(
        async () =>
          (await central.get<Array<{ site: string; connection: string }>>('/api/sites')).body.some((s) => s.site === site && s.connection === 'offline'),
        'the site offline in the central',
      );
      const offline = await call(central, 'POST', `/api/sites/${site}/commands/ping`);
      assert.equal(offline.status, 409);
      assert.equal(offline.json.error, 'site-offline');
      assert.match(String(offline.json.message), /force=true/);
      const forced = await call(central, 'POST', `/api/sites/${site}/commands/ping?force=true&timeoutMs=1000`);
      assert.equal(forced.status, 504);
      assert.equal(forced.json.error, 'timeout');
      assert.match(String(forced.json.message), new RegExp(`site ${site} did not answer ping within 1000 ms`));

      // Every command is audited once, with its outcome.
      const commands = (await auditTrail(central)).filter((a) => a.action === 'command' && a.origin === 'central');
      assert.deepEqual(
        commands.map((a) => [a.detail.command, a.detail.status]),
        [
          ['ping', 200],
          ['probe-now', 200],
          ['snapshot', 200],
          ['camera-set-time', 502],
          ['camera-reboot', 400],
          ['ping', 400],
          ['ping', 404],
          ['ping', 409],
          ['ping', 504],
        ],
      );
      assert.equal(commands[2].camera, camera);
      assert.equal(commands[0].actor, central.admin!.username);
      assert.equal(commands[0].address, '127.0.0.1');
      assert.deepEqual(
        commands.map((a) => a.outcome),
        ['ok', 'ok', 'ok', 'failed', 'failed', 'failed', 'failed', 'failed', 'failed'],
      );
    },
  );
}
