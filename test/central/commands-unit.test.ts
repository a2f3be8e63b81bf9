// The pure parts of commands and live view, without sockets: the correlation table on virtual
// time, reply → HTTP, the site gate, media server choice and templates, and the live view's
// viewers, leases and relay renewals with a scripted agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../kit/clock';
import { silentLogger } from '../kit/logger';
import { PendingReplies, type Settled } from '../../central/commands/pending';
import { commandOutcome, siteGate } from '../../central/commands/outcome';
import { argsProblem, instanceSegment } from '../../central/commands/client';
import { chooseServer, mediaProblems, regionWithin, renderServer, type MediaConfig, type MediaServer } from '../../central/live/templates';
import { LiveViews, type LiveCommand } from '../../central/live/views';
import type { AuditEntry } from '../../central/audit/log';
import type { ReplyPayload } from '../../contract';

function reply(site: string, command: string, ok: boolean, extra: Partial<ReplyPayload> = {}): ReplyPayload {
  return {
    schemaVersion: 1,
    kind: 'reply',
    messageId: 'm-1',
    site,
    seq: null,
    observedAt: '2026-01-01T00:00:00.000Z',
    command,
    requestId: 'r-1',
    correlationId: 'c-1',
    ok,
    ...(ok ? { result: { pong: true } } : { error: { code: 'busy', message: 'too many' } }),
    ...extra,
  };
}

test('pending replies: a reply settles its request once; the deadline settles it as timed out; replies of another site or command are refused', async () => {
  const clock = new FakeClock();
  const pending = new PendingReplies(clock);
  const answered = pending.expect('c-1', 'site-a', 'ping', 15_000);
  assert.equal(pending.settle('c-1', reply('site-b', 'ping', true)), false, 'another site cannot answer');
  assert.equal(pending.settle('c-1', reply('site-a', 'rebirth', true)), false, 'nor another command');
  assert.equal(pending.settle('c-1', reply('site-a', 'ping', true)), true);
  assert.equal(pending.settle('c-1', reply('site-a', 'ping', true)), false, 'a second reply is dropped');
  assert.equal(((await answered) as Extract<Settled, { kind: 'reply' }>).reply.ok, true);
  assert.equal(clock.count, 0, 'its deadline is cleared');

  const late = pending.expect('c-2', 'site-a', 'snapshot', 35_000);
  let settled: Settled | undefined;
  void late.then((s) => (settled = s));
  await clock.advance(34_999);
  assert.equal(settled, undefined);
  await clock.advance(1);
  assert.deepEqual(settled, { kind: 'timeout', afterMs: 35_000 });
  assert.equal(pending.settle('c-2', reply('site-a', 'snapshot', true)), false, 'a reply after the deadline is dropped');

  const cut = pending.expect('c-3', 'site-a', 'ping', 1000);
  pending.cancelAll('stopping');
  assert.deepEqual(await cut, { kind: 'cancelled', reason: 'stopping' });
  assert.equal(pending.size, 0);
});

test('reply → HTTP: ok 200, agent error 502 with its code, timeout 504 naming site and command, not sent 503', () => {
  const ok = commandOutcome('v1', 'ping', { kind: 'reply', reply: reply('v1', 'ping', true) }, 'commands.timeoutMs');
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.result, { pong: true });
  const refused = commandOutcome('v1', 'ping', { kind: 'reply', reply: reply('v1', 'ping', false) }, 'commands.timeoutMs');
  assert.equal(refused.status, 502);
  assert.equal(refused.body.code, 'busy');
  assert.equal(refused.body.message, 'site v1 answered ping with busy: too many');
  const late = commandOutcome('v1', 'snapshot', { kind: 'timeout', afterMs: 35_000 }, 'commands.slowTimeoutMs');
  assert.equal(late.status, 504);
  assert.match(String(late.body.message), /^site v1 did not answer snapshot within 35000 ms \(commands\.slowTimeoutMs\)/);
  assert.equal(commandOutcome('v1', 'ping', { kind: 'cancelled', reason: 'no broker' }, 'x').status, 503);
});

test('site gate: unknown 404, not online 409 unless forced', () => {
  assert.equal(siteGate('v1', undefined, false)?.status, 404);
  assert.equal(siteGate('v1', { connection: 'offline' }, false)?.status, 409);
  assert.match(String(siteGate('v1', { connection: 'unknown' }, false)?.body.message), /not known to be connected/);
  assert.equal(siteGate('v1', { connection: 'offline' }, true), undefined);
  assert.equal(siteGate('v1', { connection: 'online' }, false), undefined);
});

test('args are checked against the contract before sending, naming the field', () => {
  assert.equal(argsProblem('snapshot', { camera: 'c1' }), undefined);
  assert.match(argsProblem('snapshot', {}) ?? '', /camera/);
  assert.match(argsProblem('stream-start', { camera: 'c1', target: 'http://x/y' }) ?? '', /\/target: must be a push URL/);
  assert.equal(instanceSegment('camgate-central-host/1+#'), 'camgate-central-host_1__');
});

const server = (name: string, extra: Partial<MediaServer> = {}): MediaServer => ({
  name,
  push: 'rtmp://media.example/live/{key}',
  play: { hls: 'http://media.example/hls/{key}.m3u8' },
  ...extra,
});

test('media servers: a listed site wins, then the longest region prefix (whole levels), then the default', () => {
  const servers = [
    server('default'),
    server('province', { regions: ['浙江省'] }),
    server('city', { regions: ['浙江省/杭州市/'] }),
    server('site', { sites: ['v012'] }),
  ];
  assert.equal(chooseServer(servers, 'v012', '浙江省/杭州市/西湖区')?.name, 'site');
  assert.equal(chooseServer(servers, 'v013', '浙江省/杭州市/西湖区')?.name, 'city');
  assert.equal(chooseServer(servers, 'v013', '浙江省/湖州市')?.name, 'province');
  assert.equal(chooseServer(servers, 'v013', '浙江省杭州')?.name, 'default', 'a prefix counts in whole levels');
  assert.equal(chooseServer(servers, 'v013', null)?.name, 'default');
  assert.equal(chooseServer(servers.slice(1), 'v013', '江苏省'), undefined);
  assert.equal(regionWithin('浙江省/杭州市', '浙江省/杭州市'), true);
  assert.equal(regionWithin('浙江省/杭州市郊', '浙江省/杭州市'), false);
});

test('templates: placeholders percent-encoded; every template must hold {key} and render a URL the agents accept', () => {
  const rendered = renderServer(
    server('s', { push: 'rtmp://m.example/live/{site}_{camera}_{stream}?token={key}', play: { flv: 'http://m.example/live/{key}.flv' } }),
    { site: 'v1', camera: '村口 1', stream: 'sub', key: 'Kk' },
  );
  assert.equal(rendered.push, 'rtmp://m.example/live/v1_%E6%9D%91%E5%8F%A3%201_sub?token=Kk');
  assert.deepEqual(rendered.play, { flv: 'http://m.example/live/Kk.flv' });

  const media: MediaConfig = {
    transcode: 'copy',
    stream: 'sub',
    leaseSec: 60,
    servers: [
      server('a', { push: 'rtmp://m.example/live/{camera}' }),
      server('b', { push: 'http://m.example/{key}' }),
      server('c', { play: { hls: 'http://m.example/{key}/{name}.m3u8' } }),
      server('c', { push: 'rtmp://m.example/live/{key' }),
      server('d', { play: { hls: 'http://{site}.m.example:8080/hls/{key}.m3u8' } }),
    ],
  };
  assert.deepEqual(mediaProblems(media), [
    'media.servers[0].push must hold {key} (the random stream key of each relay)',
    'media.servers[1].push does not give a push URL the agents accept: target scheme "http://" is not accepted; accepted: rtsp://, rtmp://, rtmps://, srt://',
    'media.servers[2].play.hls unknown placeholder {name}; known: {site} {camera} {stream} {key}',
    'media.servers[3].name "c" is used twice; give each server its own name',
    "media.servers[3].push has an unmatched '{'",
    "media.servers[4].play.hls has a placeholder in its host ({site}.m.example:8080): write the media server's host and port out; placeholders go in the path",
  ]);
  assert.deepEqual(mediaProblems({ ...media, servers: [server('ok')] }), []);
});

/** An agent answering stream-start/stream-stop as scripted, recording what it was sent. */
function scriptedAgent(answer: (name: LiveCommand, args: Record<string, unknown>) => Settled) {
  const sent: Array<{ name: LiveCommand; args: Record<string, unknown> }> = [];
  return {
    sent,
    send: async (_site: string, name: LiveCommand, args: Record<string, unknown>) => {
      sent.push({ name, args });
      return answer(name, args);
    },
  };
}

const started = (idleTimeoutSec: number): Settled => ({
  kind: 'reply',
  reply: reply('v1', 'stream-start', true, { result: { streamId: 's-1', mode: 'copy', profile: 'copy', idleTimeoutSec } }),
});
const stopped: Settled = { kind: 'reply', reply: reply('v1', 'stream-stop', true, { result: { stopped: [], count: 1 } }) };

function views(clock: FakeClock, send: ReturnType<typeof scriptedAgent>['send'], audits: AuditEntry[]) {
  let n = 0;
  return new LiveViews({
    media: { transcode: 'h264-360p', stream: 'sub', leaseSec: 60, servers: [server('m')] },
    clock,
    send,
    audit: (e) => audits.push(e),
    log: silentLogger,
    newKey: () => 'KEY',
    newLease: () => `lease-${++n}`,
  });
}

test('live views: viewers share one relay; the agent lease is renewed every third of its idle timeout; the last viewer stops it', async () => {
  const clock = new FakeClock();
  const agent = scriptedAgent((name) => (name === 'stream-start' ? started(90) : stopped));
  const audits: AuditEntry[] = [];
  const live = views(clock, agent.send, audits);
  const [a, b] = await Promise.all([
    live.join({ site: 'v1', camera: 'c1', region: null, actor: { name: 'ann', address: '127.0.0.1' } }),
    live.join({ site: 'v1', camera: 'c1', region: null, actor: { name: 'bob', address: '127.0.0.1' } }),
  ]);
  assert.deepEqual([a.status, b.status], [200, 200]);
  assert.deepEqual(
    agent.sent,
    [{ name: 'stream-start', args: { camera: 'c1', stream: 'sub', target: 'rtmp://media.example/live/KEY', profile: 'h264-360p' } }],
    'joined together: one start',
  );
  assert.equal(live.viewers('v1', 'c1', 'sub'), 2);
  assert.deepEqual(b.body.play, { hls: 'http://media.example/hls/KEY.m3u8' });

  // Renewed at the agent every 30 s (idle timeout 90 s) while watched; the viewers renew their leases.
  for (let i = 0; i < 3; i++) {
    await clock.advance(30_000);
    assert.equal(live.renew('v1', 'c1', 'lease-1').status, 200);
    assert.equal(live.renew('v1', 'c1', 'lease-2').status, 200);
  }
  assert.equal(agent.sent.filter((s) => s.name === 'stream-start').length, 4);
  assert.equal(live.renew('v1', 'c2', 'lease-1').status, 404, "a lease is its camera's only");

  const left = await live.leave('v1', 'c1', 'lease-1', { name: 'ann', address: '127.0.0.1' });
  assert.equal(left.body.relayStopped, false);
  const last = await live.leave('v1', 'c1', 'lease-2', { name: 'bob', address: '127.0.0.1' });
  assert.equal(last.body.relayStopped, true);
  assert.deepEqual(agent.sent.at(-1), { name: 'stream-stop', args: { streamId: 's-1' } });
  await clock.advance(120_000);
  assert.equal(agent.sent.length, 5, 'nothing more is sent once it stopped');
  assert.equal(clock.count, 0, 'no timer left');
  assert.deepEqual(
    audits.map((e) => [e.action, e.actor]),
    [
      ['live-view-start', 'ann'],
      ['live-view-start', 'bob'],
      ['live-view-end', 'ann'],
      ['live-view-end', 'bob'],
    ],
  );
});

test('live views: a lease not renewed runs out and stops the relay; a failed start answers its error and leaves nothing behind', async () => {
  const clock = new FakeClock();
  const agent = scriptedAgent((name) => (name === 'stream-start' ? started(0) : stopped));
  const audits: AuditEntry[] = [];
  const live = views(clock, agent.send, audits);
  assert.equal((await live.join({ site: 'v1', camera: 'c1', region: null, stream: 'main', actor: null })).status, 200);
  await clock.advance(59_999);
  assert.equal(live.viewers('v1', 'c1', 'main'), 1);
  await clock.advance(1);
  assert.equal(live.viewers('v1', 'c1', 'main'), 0);
  assert.deepEqual(
    agent.sent.map((s) => s.name),
    ['stream-start', 'stream-stop'],
    'idle timeout 0 at the agent: never renewed; stopped when the lease ran out',
  );
  assert.equal(audits.at(-1)?.detail?.reason, 'lease-expired');
  assert.equal(audits.at(-1)?.actor, 'central');

  const refusing = scriptedAgent(() => ({
    kind: 'reply',
    reply: reply('v1', 'stream-start', false, { error: { code: 'over-budget', message: 'needs 4096 kbit/s' } }),
  }));
  const failing = views(clock, refusing.send, audits);
  const failed = await failing.join({ site: 'v1', camera: 'c1', region: null, actor: { name: 'ann', address: '127.0.0.1' } });
  assert.equal(failed.status, 502);
  assert.equal(failed.body.code, 'over-budget');
  assert.equal(failing.viewers('v1', 'c1', 'sub'), 0);
  assert.equal(clock.count, 0);
  assert.deepEqual([audits.at(-1)?.action, audits.at(-1)?.outcome, audits.at(-1)?.detail?.status], ['live-view-start', 'failed', 502]);

  const none = new LiveViews({
    media: { transcode: 'copy', stream: 'sub', leaseSec: 60, servers: [] },
    clock,
    send: refusing.send,
    audit: () => undefined,
    log: silentLogger,
  });
  const noServer = await none.join({ site: 'v1', camera: 'c1', region: '浙江省', actor: null });
  assert.equal(noServer.status, 503);
  assert.match(String(noServer.body.message), /add one to media\.servers/);
});
