// Live view from the centre, end to end with real peers: a simulated camera (ONVIF + GStreamer
// RTSP), a real agent relaying with ffmpeg, a real Mosquitto, the central, and Debian's nginx with
// libnginx-mod-rtmp as the media server (RTMP push in, HLS out over HTTP, config generated on free
// ports). Two viewers share one relay; the HLS playlist fills with segments, one segment is
// checked with ffprobe; the last viewer leaving stops the relay at the agent. Loopback subnet
// 127.172.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { probeStream, startRtmpServer } from '../../scripts/peers/media-server';
import { startSite } from '../kit/site';
import { auditTrail, centralTestConfig, startTestCentral, type TestCentral } from '../kit/central';
import { tempDir } from '../kit/temp';
import { waitFor } from '../kit/wait';

interface LeaseAnswer {
  lease: string;
  play: Record<string, string>;
  viewers: number;
  stream: string;
  server: string;
  relay: { streamId: string; idleTimeoutSec: number } | null;
}

/** Requests as the central's first admin (its login session). */
function viewer(central: TestCentral) {
  const cookie = central.as!.options.cookie!;
  const csrf = central.as!.options.csrf!;
  return {
    async post<T>(url: string, body: unknown = {}): Promise<{ status: number; body: T }> {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as T };
    },
    async del<T>(url: string): Promise<{ status: number; body: T }> {
      const res = await fetch(url, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
      return { status: res.status, body: (await res.json()) as T };
    },
  };
}

test('live view from the centre: two viewers share one relay to nginx-rtmp, HLS segments play, the last to leave stops it', { timeout: 180_000 }, async (t) => {
  const site = 'live-172';
  const host = '127.172.0.10';
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const media = await startRtmpServer({ hls: true });
  t.after(() => media.stop());

  const options = { brokerUrl: broker.url };
  const base = centralTestConfig(options, t);
  const config = {
    ...base,
    media: {
      ...base.media,
      servers: [
        {
          name: 'nginx-rtmp',
          push: `rtmp://127.0.0.1:${media.port}/live/{key}`,
          play: { hls: `http://127.0.0.1:${media.httpPort}/hls/{key}.m3u8`, rtmp: `rtmp://127.0.0.1:${media.port}/live/{key}` },
        },
      ],
    },
  };
  const central = await startTestCentral(t, options, config);
  const { post, del } = viewer(central);
  const rig = await startSite(t, {
    site,
    sharedBroker: broker,
    cameras: [{ host, codec: 'H264' }],
    env: { CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0', CAMGATE_WEB_ENABLED: 'false' },
  });
  const camera = rig.ids[host];
  await waitFor(async () => (await central.get(`/api/cameras/${site}/${camera}`)).status === 200, 'the camera in the central');
  await waitFor(
    async () => (await central.get<Array<{ site: string; connection: string }>>('/api/sites')).body.some((s) => s.site === site && s.connection === 'online'),
    'the site online in the central',
  );

  const liveUrl = `${central.url}/api/cameras/${site}/${camera}/live`;
  const first = await post<LeaseAnswer>(liveUrl);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.stream, 'sub');
  assert.equal(first.body.server, 'nginx-rtmp');
  assert.equal(first.body.viewers, 1);
  assert.ok(first.body.relay?.streamId, 'the agent started a relay');
  const second = await post<LeaseAnswer>(liveUrl, { stream: 'sub' });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.equal(second.body.viewers, 2);
  assert.notEqual(second.body.lease, first.body.lease);
  assert.deepEqual(second.body.play, first.body.play, 'one relay, one set of play URLs');
  assert.equal(second.body.relay?.streamId, first.body.relay?.streamId);
  assert.match(first.body.play.hls, /^http:\/\/127\.0\.0\.1:\d+\/hls\/[\w-]{16}\.m3u8$/);

  // The same POST with its lease renews it and answers the same.
  const again = await post<LeaseAnswer>(liveUrl, { lease: first.body.lease });
  assert.equal(again.status, 200);
  assert.equal(again.body.lease, first.body.lease);
  assert.equal(again.body.viewers, 2);
  const renewed = await post<{ lease: string }>(`${liveUrl}/${first.body.lease}/renew`);
  assert.equal(renewed.status, 200);

  // The playlist fills with segments; one of them is H.264 video with moving timestamps.
  const playlist = await waitFor(
    async () => {
      const res = await fetch(first.body.play.hls);
      if (res.status !== 200) return false;
      const text = await res.text();
      return text.split('\n').some((line) => line.endsWith('.ts')) ? text : false;
    },
    'an HLS playlist that lists segments',
    60_000,
    () => media.log().slice(-800),
  );
  const segment = playlist.split('\n').find((line) => line.endsWith('.ts')) as string;
  const bytes = Buffer.from(await (await fetch(new URL(segment, first.body.play.hls))).arrayBuffer());
  const file = join(tempDir(t), 'segment.ts');
  writeFileSync(file, bytes);
  const probed = await probeStream(file, { packets: 10 });
  assert.equal(probed.codec, 'h264');
  assert.ok(probed.frames > 1, `frames in the segment: ${probed.frames}`);
  assert.ok((probed.lastPts ?? 0) > (probed.firstPts ?? 0), 'timestamps move');

  // One viewer leaves: the relay stays; the last leaves: the relay stops at the agent.
  const leave1 = await del<{ viewers: number; relayStopped: boolean }>(`${liveUrl}/${first.body.lease}`);
  assert.deepEqual([leave1.status, leave1.body.viewers, leave1.body.relayStopped], [200, 1, false]);
  const list = await post<{ result: { count: number } }>(`${central.url}/api/sites/${site}/commands/stream-list`);
  assert.equal(list.body.result.count, 1, 'still relayed for the second viewer');
  const leave2 = await del<{ viewers: number; relayStopped: boolean; stop: { ok: boolean } }>(`${liveUrl}/${second.body.lease}`);
  assert.deepEqual([leave2.status, leave2.body.viewers, leave2.body.relayStopped, leave2.body.stop.ok], [200, 0, true, true]);
  const after = await post<{ result: { count: number } }>(`${central.url}/api/sites/${site}/commands/stream-list`);
  assert.equal(after.body.result.count, 0, 'no relay left at the agent');
  await waitFor(
    () => rig.events('stream-stopped', camera).some((e) => (e.json.detail as { reason?: string }).reason === 'requested'),
    'the stream-stopped event',
  );
  const gone = await del<{ error: string }>(`${liveUrl}/${second.body.lease}`);
  assert.equal(gone.status, 404);

  assert.deepEqual(
    (await auditTrail(central)).filter((a) => a.action.startsWith('live-view')).map((a) => [a.action, a.outcome, a.detail.command ?? null, a.actor]),
    [
      ['live-view-start', 'ok', null, central.admin!.username],
      ['live-view-start', 'ok', null, central.admin!.username],
      ['live-view-end', 'ok', null, central.admin!.username],
      ['live-view-end', 'ok', 'stream-stop', central.admin!.username],
    ],
  );
});
