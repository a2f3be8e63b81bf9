// The dashboard's live view without a browser (central/dashboard/src/live/): the lease keeper's
// renewals in virtual time, the choice of player from the play URLs, and the view's states and
// lease handling — requesting, buffering, playing, refusals, player failures, stops at every stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepLease, renewEveryMs } from '../../central/dashboard/src/live/lease-keeper';
import { choosePlayback, NoPlayback } from '../../central/dashboard/src/live/playback';
import { createLiveView, type LiveLease, type LiveState, type PlayerEvent } from '../../central/dashboard/src/live/view';
import { FakeClock, flush } from '../kit/clock';

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

test('lease keeper: renews every third of leaseSec, stops when told; a 404 is lost at once; other failures only once leaseSec has passed', async () => {
  assert.equal(renewEveryMs(60), 20_000);
  assert.equal(renewEveryMs(2), 1000, 'at least a second');

  const clock = new FakeClock();
  const renewals: number[] = [];
  const lost: string[] = [];
  const keeper = keepLease(60, { renew: async () => void renewals.push(clock.now()), timers: clock, onLost: (r) => lost.push(r) });
  const start = clock.now();
  await clock.advance(65_000);
  assert.deepEqual(
    renewals.map((at) => at - start),
    [20_000, 40_000, 60_000],
  );
  keeper.stop();
  await clock.advance(60_000);
  assert.equal(renewals.length, 3, 'no renewal after stop');
  assert.equal(clock.count, 0, 'no timer left behind');

  const gone = new FakeClock();
  const lostGone: string[] = [];
  keepLease(60, { renew: () => Promise.reject(new Refusal(404, 'not-found', 'no live view lease abc')), timers: gone, onLost: (r) => lostGone.push(r) });
  await gone.advance(20_000);
  assert.deepEqual(lostGone, ['no live view lease abc']);
  await gone.advance(60_000);
  assert.equal(lostGone.length, 1, 'told once');
  assert.equal(gone.count, 0);

  const flaky = new FakeClock();
  const lostFlaky: string[] = [];
  let calls = 0;
  keepLease(60, {
    renew: () => (++calls <= 2 ? Promise.reject(new Error('network down')) : Promise.resolve()),
    timers: flaky,
    onLost: (r) => lostFlaky.push(r),
  });
  await flaky.advance(40_000);
  assert.deepEqual(lostFlaky, [], 'two failed renewals within leaseSec: still held');
  await flaky.advance(20_000);
  assert.equal(calls, 3);
  assert.deepEqual(lostFlaky, [], 'the third renewal went through');

  const down = new FakeClock();
  const lostDown: string[] = [];
  keepLease(60, { renew: () => Promise.reject(new Error('network down')), timers: down, onLost: (r) => lostDown.push(r) });
  await down.advance(40_000);
  assert.deepEqual(lostDown, []);
  await down.advance(20_000);
  assert.deepEqual(lostDown, ['the lease was not renewed for 60 s: network down']);
});

test('playback: hls through hls.js where MSE is, the browser’s own HLS where not, flv through mpegts.js; a clear refusal otherwise', () => {
  const both = { hls: 'http://m/hls/k.m3u8', flv: 'http://m/live/k.flv' };
  assert.deepEqual(choosePlayback(both, { mse: true, nativeHls: true }), { kind: 'hls.js', url: both.hls }, 'hls preferred, hls.js first');
  assert.deepEqual(choosePlayback(both, { mse: false, nativeHls: true }), { kind: 'native-hls', url: both.hls });
  assert.deepEqual(choosePlayback({ flv: both.flv, rtmp: 'rtmp://m/live/k' }, { mse: true, nativeHls: true }), { kind: 'mpegts', url: both.flv });
  assert.throws(
    () => choosePlayback({ rtmp: 'rtmp://m/live/k', webrtc: 'webrtc://m/live/k' }, { mse: true, nativeHls: true }),
    (err: Error) => err instanceof NoPlayback && /offers rtmp, webrtc; the dashboard plays hls or flv: add one .*media\.servers\[\]\.play/.test(err.message),
  );
  assert.throws(
    () => choosePlayback({ flv: both.flv }, { mse: false, nativeHls: true }),
    (err: Error) => err instanceof NoPlayback && /neither Media Source Extensions nor its own HLS: it cannot play flv/.test(err.message),
  );
});

const LEASE: LiveLease = { lease: 'L1', play: { hls: 'http://m/hls/k.m3u8' }, leaseSec: 60, viewers: 1, server: 'county', stream: 'sub' };

/** A view on a scripted API and player, recording what it asked and which states it showed. */
function rig(options: { start?: () => Promise<LiveLease>; openFails?: Error } = {}) {
  const clock = new FakeClock();
  const calls: string[] = [];
  const states: LiveState['kind'][] = [];
  const players: Array<{ events: (e: PlayerEvent) => void; destroyed: boolean }> = [];
  const view = createLiveView({
    api: {
      start: () => {
        calls.push('POST');
        return options.start ? options.start() : Promise.resolve(LEASE);
      },
      renew: async (lease) => void calls.push(`renew ${lease}`),
      end: async (lease, how) => void calls.push(`DELETE ${lease}${how.keepalive ? ' keepalive' : ''}`),
    },
    openPlayer: async (play, events) => {
      assert.deepEqual(play, LEASE.play);
      if (options.openFails) throw options.openFails;
      const p = { events, destroyed: false };
      players.push(p);
      return {
        destroy() {
          p.destroyed = true;
        },
      };
    },
    timers: clock,
    onState: (s) => states.push(s.kind),
    startupGraceMs: 10_000,
    reopenAfterMs: 1000,
    stallAfterMs: 15_000,
  });
  return { clock, calls, states, players, view };
}

test('live view: requesting → buffering → playing; renewals while it plays; stop ends the lease and destroys the player', async () => {
  const { clock, calls, states, players, view } = rig();
  await view.start();
  assert.deepEqual(states, ['requesting', 'buffering']);
  players[0].events({ kind: 'playing' });
  assert.equal(view.state().kind, 'playing');
  players[0].events({ kind: 'buffering' });
  players[0].events({ kind: 'playing' });
  await view.start();
  assert.equal(calls.filter((c) => c === 'POST').length, 1, 'start while on does nothing');
  await clock.advance(45_000);
  assert.deepEqual(calls, ['POST', 'renew L1', 'renew L1']);
  await view.stop();
  assert.deepEqual(calls, ['POST', 'renew L1', 'renew L1', 'DELETE L1']);
  assert.equal(players[0].destroyed, true);
  assert.deepEqual(states, ['requesting', 'buffering', 'playing', 'buffering', 'playing', 'idle']);
  assert.equal(clock.count, 0, 'no renewal timer left');
  players[0].events({ kind: 'playing' });
  assert.equal(view.state().kind, 'idle', "a destroyed player's late event is dropped");
});

test('live view: the tab closing ends the lease with keepalive', async () => {
  const { calls, view } = rig();
  await view.start();
  await view.stop({ keepalive: true });
  assert.deepEqual(calls, ['POST', 'DELETE L1 keepalive']);
});

test('live view: stopped while the relay starts — the lease that arrives afterwards is handed straight back, no player opened', async () => {
  let answer!: (l: LiveLease) => void;
  const { calls, states, players, view } = rig({ start: () => new Promise((resolve) => (answer = resolve)) });
  const starting = view.start();
  assert.equal(view.state().kind, 'requesting');
  await view.stop();
  answer(LEASE);
  await starting;
  await flush();
  assert.deepEqual(calls, ['POST', 'DELETE L1']);
  assert.equal(players.length, 0);
  assert.deepEqual(states, ['requesting', 'idle']);
});

test("live view: a refusal keeps the API's status, code and message; retry asks again", async () => {
  let refuse = true;
  const { calls, view } = rig({
    start: () =>
      refuse ? Promise.reject(new Refusal(503, 'no-media-server', 'no media server takes site s1: add one to media.servers')) : Promise.resolve(LEASE),
  });
  await view.start();
  assert.deepEqual(view.state(), { kind: 'refused', status: 503, code: 'no-media-server', message: 'no media server takes site s1: add one to media.servers' });
  refuse = false;
  await view.start();
  assert.equal(view.state().kind, 'buffering');
  assert.deepEqual(calls, ['POST', 'POST'], 'no lease to end after a refusal');
});

test('live view: a player failing before the first frame is opened again within the grace, then the failure stands and the lease ends', async () => {
  const { clock, calls, players, view } = rig();
  await view.start();
  players[0].events({ kind: 'failed', reason: 'network', detail: 'manifestLoadError (HTTP 404)' });
  assert.equal(players[0].destroyed, true);
  assert.equal(view.state().kind, 'buffering', 'still waiting for the first segments');
  await clock.advance(1000);
  assert.equal(players.length, 2, 'opened again');
  players[0].events({ kind: 'playing' });
  assert.equal(view.state().kind, 'buffering', "the earlier player's events are dropped");
  await clock.advance(9000);
  players[1].events({ kind: 'failed', reason: 'network', detail: 'manifestLoadError (HTTP 404)' });
  assert.deepEqual(view.state(), { kind: 'failed', reason: 'network', detail: 'manifestLoadError (HTTP 404)' });
  await flush();
  assert.deepEqual(calls.at(-1), 'DELETE L1');
  assert.equal(clock.count, 0);
});

test('live view: after it played, a network failure is the stream ending; a decode failure is told at once', async () => {
  const ended = rig();
  await ended.view.start();
  ended.players[0].events({ kind: 'playing' });
  ended.players[0].events({ kind: 'failed', reason: 'network', detail: 'levelLoadError (HTTP 404)' });
  assert.deepEqual(ended.view.state(), { kind: 'failed', reason: 'ended', detail: 'levelLoadError (HTTP 404)' });
  await flush();
  assert.deepEqual(ended.calls, ['POST', 'DELETE L1']);

  const decode = rig();
  await decode.view.start();
  decode.players[0].events({ kind: 'failed', reason: 'decode', detail: 'bufferIncompatibleCodecsError' });
  assert.equal(decode.players.length, 1, 'not opened again');
  assert.deepEqual(decode.view.state(), { kind: 'failed', reason: 'decode', detail: 'bufferIncompatibleCodecsError' });
});

test('live view: buffering long after it played is the stream having ended; a short wait is not', async () => {
  const { clock, calls, players, view } = rig();
  await view.start();
  await clock.advance(30_000);
  assert.equal(view.state().kind, 'buffering', 'the first frame may take its time (the startup grace is for failures)');
  players[0].events({ kind: 'playing' });
  players[0].events({ kind: 'buffering' });
  await clock.advance(10_000);
  players[0].events({ kind: 'playing' });
  await clock.advance(20_000);
  assert.equal(view.state().kind, 'playing', 'a 10 s wait, then playing again: no failure');
  players[0].events({ kind: 'buffering' });
  await clock.advance(14_000);
  players[0].events({ kind: 'buffering' });
  await clock.advance(1000);
  assert.deepEqual(view.state(), { kind: 'failed', reason: 'ended', detail: 'no new video for 15 s' });
  assert.equal(players[0].destroyed, true);
  await flush();
  assert.equal(calls.at(-1), 'DELETE L1');
  assert.equal(clock.count, 0);
});

test('live view: no way to play the answer is "unsupported" with the reason, and the lease ends', async () => {
  const { calls, view } = rig({ openFails: Object.assign(new Error('the media server offers rtmp'), { reason: 'unsupported' }) });
  await view.start();
  assert.deepEqual(view.state(), { kind: 'failed', reason: 'unsupported', detail: 'the media server offers rtmp' });
  await flush();
  assert.deepEqual(calls, ['POST', 'DELETE L1']);
});

test('live view: a lease found gone on renewal stops the player and is not deleted again', async () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  let destroyed = false;
  const view = createLiveView({
    api: {
      start: async () => LEASE,
      renew: () => Promise.reject(new Refusal(404, 'not-found', 'no live view lease L1')),
      end: async (lease) => void calls.push(`DELETE ${lease}`),
    },
    openPlayer: async () => ({ destroy: () => (destroyed = true) }),
    timers: clock,
    onState: () => undefined,
  });
  await view.start();
  await clock.advance(20_000);
  assert.deepEqual(view.state(), { kind: 'failed', reason: 'lease-lost', detail: 'no live view lease L1' });
  assert.equal(destroyed, true);
  assert.deepEqual(calls, []);
});
