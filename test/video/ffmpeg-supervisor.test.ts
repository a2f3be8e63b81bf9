// FfmpegSupervisor state machine with a fake launcher and fake clock: no ffmpeg runs here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FfmpegSupervisor, supervisorArgs, supervisorDefaults } from '../../agent/ffmpeg/supervisor';
import type { StateChange, SuperviseOptions, SupervisedProcess } from '../../agent/ffmpeg/types';
import { fakeLaunch, type FakeChild } from '../kit/ffmpeg';
import { FakeClock, flush } from '../kit/clock';
import { silentLogger } from '../kit/logger';

const BINARY = { path: '/usr/bin/ffmpeg', source: 'path' as const };

function setup(defaults: Partial<{ stallTimeoutMs: number; restartMinMs: number; restartMaxMs: number; stableRunMs: number }> = {}) {
  const clock = new FakeClock();
  const fl = fakeLaunch();
  const sup = new FfmpegSupervisor({
    binary: BINARY,
    launch: fl.launch,
    clock,
    defaults: { stallTimeoutMs: 10_000, restartMinMs: 1000, restartMaxMs: 8000, ...defaults },
    logger: silentLogger,
  });
  return { clock, fl, sup };
}

function relay(extra: Partial<SuperviseOptions> = {}): SuperviseOptions {
  return {
    label: 'relay r1 cam-1/main → rtmp://admin:secret@127.80.0.9/live/x',
    kind: 'relay',
    progress: 'pipe',
    args: () => ['-i', 'rtsp://admin:secret@127.80.0.8/ch1', '-c', 'copy', '-f', 'flv', 'rtmp://127.80.0.9/live/x'],
    ...extra,
  };
}

function record(p: SupervisedProcess): StateChange[] {
  const changes: StateChange[] = [];
  p.onState((c) => changes.push(c));
  return changes;
}

/** A run that goes running, then exits with code 1 right away. */
async function failRun(child: FakeChild, stderr = ''): Promise<void> {
  if (stderr) child.stderr.write(stderr);
  await flush();
  child.exit(1);
  await flush();
}

describe('ffmpeg supervisor (fake launch, fake clock)', () => {
  it('adds its own flags in front only when absent', () => {
    assert.deepEqual(supervisorArgs(['-i', 'x', '-f', 'null', '-'], 'pipe').slice(0, 11), [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostats',
      '-progress',
      'pipe:3',
      '-stats_period',
      '1',
      '-i',
      'x',
    ]);
    assert.deepEqual(supervisorArgs(['-nostdin', '-loglevel', 'warning', '-i', 'x', '-f', 'mpegts', '-'], 'stdout'), [
      '-hide_banner',
      '-nostats',
      '-nostdin',
      '-loglevel',
      'warning',
      '-i',
      'x',
      '-f',
      'mpegts',
      '-',
    ]);
    assert.deepEqual(supervisorDefaults({ stallTimeoutSec: 10, restartMinMs: 1000, restartMaxMs: 30000 }), {
      stallTimeoutMs: 10000,
      restartMinMs: 1000,
      restartMaxMs: 30000,
    });
  });

  it('starts at once, reaches running on moving progress, reports fps and bitrate from progress', async () => {
    const { clock, fl, sup } = setup();
    const p = sup.supervise(relay());
    const changes = record(p);
    assert.equal(p.stats().state, 'starting');
    await flush();
    assert.equal(fl.children.length, 1);
    const child = fl.last();
    assert.deepEqual(child.options?.stdio, ['ignore', 'pipe', 'pipe', 'pipe']);
    assert.ok(child.args.join(' ').startsWith('-nostdin -hide_banner -loglevel error -nostats -progress pipe:3 -stats_period 1 -i rtsp://'));
    assert.equal(p.stats().pid, child.pid);
    assert.equal(sup.count().total, 1);
    assert.equal(sup.count().byKind.relay, 1);

    child.progress({ frame: 0, total_size: 0 });
    await flush();
    assert.equal(p.stats().state, 'starting', 'nothing moved yet');
    await clock.advance(1000);
    child.progress({ frame: 25, total_size: 62_500, fps: 25, bitrate: ' 500.0kbits/s' });
    await flush();
    let s = p.stats();
    assert.equal(s.state, 'running');
    assert.equal(s.frames, 25);
    assert.equal(s.bytes, 62_500);
    assert.equal(s.fps, 25);
    assert.equal(s.bitrateKbps, 500);
    assert.ok(s.runningSince);
    await clock.advance(1000);
    child.progress({ frame: 50, total_size: 125_000 });
    await flush();
    s = p.stats();
    assert.equal(s.fps, 25);
    assert.equal(s.bitrateKbps, 500);
    assert.deepEqual(
      changes.map((c) => `${c.from}>${c.to}`),
      ['starting>running'],
    );
    // Credentials never show in the label.
    assert.ok(!p.label.includes('secret'), p.label);
    await sup.stopAll();
  });

  it('backs off restartMinMs doubling to restartMaxMs, counting restarts', async () => {
    const { clock, fl, sup } = setup({ restartMinMs: 1000, restartMaxMs: 8000 });
    const p = sup.supervise(relay());
    const changes = record(p);
    await flush();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = fl.children.length;
      await failRun(fl.last(), '[tcp @ 0x55d0c8a1b2c0] Connection to tcp://127.80.0.8:554?timeout=0 failed: Connection refused\n');
      assert.equal(p.stats().state, 'retrying');
      assert.equal(p.stats().pid, undefined);
      // Find the delay: advance 100 ms at a time until the next launch.
      let waited = 0;
      while (fl.children.length === before) {
        await clock.advance(100);
        waited += 100;
        assert.ok(waited <= 60_000, 'no restart within a minute');
      }
      delays.push(waited);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
    assert.equal(p.stats().restarts, 6);
    assert.match(p.stats().lastError ?? '', /connection refused/i);
    const retry = changes.find((c) => c.to === 'retrying');
    assert.match(retry?.reason ?? '', /restart 1 in 1000 ms/);
    assert.deepEqual(
      changes.slice(0, 2).map((c) => c.to),
      ['retrying', 'starting'],
    );
    await sup.stopAll();
  });

  it('resets the backoff after a run that stayed running for stableRunMs (default 30 s)', async () => {
    const { clock, fl, sup } = setup({ restartMinMs: 1000, restartMaxMs: 30_000 });
    const p = sup.supervise(relay());
    const changes = record(p);
    await flush();
    await failRun(fl.last());
    await clock.advance(1000);
    await failRun(fl.last());
    await clock.advance(2000);
    assert.equal(fl.children.length, 3);
    // Third run: running for 31 s (progress every second), then exits.
    const child = fl.last();
    for (let i = 1; i <= 31; i++) {
      child.progress({ frame: i * 25, total_size: i * 60_000 });
      await clock.advance(1000);
    }
    assert.equal(p.stats().state, 'running');
    await failRun(child);
    const lastRetry = changes.filter((c) => c.to === 'retrying').pop();
    assert.match(lastRetry?.reason ?? '', /restart 3 in 1000 ms/);
    // A short run after that doubles again.
    await clock.advance(1000);
    fl.last().progress({ frame: 25, total_size: 1000 });
    await clock.advance(2000);
    await failRun(fl.last());
    assert.match(changes.filter((c) => c.to === 'retrying').pop()?.reason ?? '', /restart 4 in 2000 ms/);
    await sup.stopAll();
  });

  it('a run that stays running for less than stableRunMs keeps doubling', async () => {
    const { clock, fl, sup } = setup({ restartMinMs: 1000, restartMaxMs: 30_000 });
    const p = sup.supervise(relay());
    const changes = record(p);
    await flush();
    await failRun(fl.last());
    await clock.advance(1000);
    const child = fl.last();
    for (let i = 1; i <= 20; i++) {
      child.progress({ frame: i * 25, total_size: i * 60_000 });
      await clock.advance(1000);
    }
    await failRun(child);
    assert.match(changes.filter((c) => c.to === 'retrying').pop()?.reason ?? '', /restart 2 in 2000 ms/);
    await sup.stopAll();
  });

  it('stall: no progress change for stallTimeoutMs → SIGKILL, "stalled" reason, restart', async () => {
    const { clock, fl, sup } = setup({ stallTimeoutMs: 10_000 });
    const p = sup.supervise(relay());
    const changes = record(p);
    await flush();
    const child = fl.last();
    child.progress({ frame: 25, total_size: 50_000 });
    await clock.advance(1000);
    assert.equal(p.stats().state, 'running');
    // Progress blocks keep coming, but nothing advances (last movement 1 s ago).
    for (let i = 0; i < 8; i++) {
      child.progress({ frame: 25, total_size: 50_000 });
      await clock.advance(1000);
    }
    assert.deepEqual(child.signals, [], 'not killed before stallTimeoutMs');
    await clock.advance(1000);
    await flush();
    assert.deepEqual(child.signals, ['SIGKILL']);
    assert.equal(p.stats().state, 'retrying');
    assert.equal(p.stats().lastError, 'stalled: no output for 10 s');
    assert.match(changes.find((c) => c.to === 'retrying')?.reason ?? '', /^stalled: no output for 10 s; restart 1 in 1000 ms/);
    await clock.advance(1000);
    assert.equal(fl.children.length, 2);
    assert.equal(p.stats().state, 'starting');
    // A run that never prints a progress block stalls too.
    await clock.advance(10_000);
    assert.deepEqual(fl.children[1]?.signals, ['SIGKILL']);
    assert.equal(p.stats().restarts, 2);
    await sup.stopAll();
  });

  it('stop() during backoff cancels the restart timer', async () => {
    const { clock, fl, sup } = setup();
    const p = sup.supervise(relay());
    const changes = record(p);
    await flush();
    await failRun(fl.last());
    assert.equal(p.stats().state, 'retrying');
    await p.stop();
    assert.equal(p.stats().state, 'stopped');
    assert.equal(clock.count, 0, 'no timer left');
    await clock.advance(120_000);
    assert.equal(fl.children.length, 1, 'never restarted');
    assert.deepEqual(
      changes.map((c) => c.to),
      ['retrying', 'stopped'],
    );
    assert.deepEqual(sup.list(), []);
  });

  it('stop() is idempotent: SIGTERM once, SIGKILL after the grace period, resolves once reaped', async () => {
    const { clock, fl, sup } = setup();
    const p = sup.supervise(relay());
    await flush();
    const child = fl.last();
    child.exitOnTerm = false; // ignores SIGTERM (e.g. stuck writing to the network)
    child.progress({ frame: 25, total_size: 1 });
    await flush();
    let resolved = false;
    const a = p.stop().then(() => (resolved = true));
    const b = p.stop();
    await flush();
    assert.deepEqual(child.signals, ['SIGTERM']);
    assert.equal(resolved, false);
    assert.notEqual(p.stats().state, 'stopped', 'not stopped before reaped');
    await clock.advance(1999);
    assert.deepEqual(child.signals, ['SIGTERM']);
    await clock.advance(1);
    await Promise.all([a, b]);
    assert.deepEqual(child.signals, ['SIGTERM', 'SIGKILL']);
    assert.equal(resolved, true);
    assert.equal(child.alive, false);
    assert.equal(p.stats().state, 'stopped');
    assert.equal(p.stats().restarts, 0, 'a stop is not a restart');
    await p.stop();
    assert.equal(sup.count().total, 0);
    assert.equal(fl.children.length, 1);
  });

  it('maxRestarts: fails after that many restarts in a row', async () => {
    const { clock, fl, sup } = setup();
    const p = sup.supervise(relay({ maxRestarts: 2 }));
    const changes = record(p);
    await flush();
    await failRun(fl.last(), 'rtsp://admin:secret@127.80.0.8/ch1: Server returned 401 Unauthorized (authorization failed)\n');
    await clock.advance(1000);
    await failRun(fl.last());
    await clock.advance(2000);
    await failRun(fl.last());
    assert.equal(p.stats().state, 'failed');
    assert.equal(p.stats().restarts, 2);
    assert.equal(fl.children.length, 3);
    const failed = changes.pop();
    assert.equal(failed?.to, 'failed');
    assert.match(failed?.reason ?? '', /gave up after 2 restart\(s\) in a row/);
    await clock.advance(120_000);
    assert.equal(fl.children.length, 3);
    // The first failure's reason, from stderr, without the password.
    const first = changes.find((c) => c.to === 'retrying');
    assert.match(first?.reason ?? '', /authentication failed/);
    assert.ok(!JSON.stringify(changes).includes('secret'));
    assert.equal(sup.list().length, 1, 'failed processes stay listed until stopped');
    await p.stop();
    assert.equal(sup.list().length, 0);
  });

  it('args() throwing fails the process, with the message redacted', async () => {
    const { fl, sup } = setup();
    const p = sup.supervise(
      relay({
        args: () => {
          throw new Error('GetStreamUri of rtsp://admin:secret@127.80.0.8/onvif failed');
        },
      }),
    );
    const changes = record(p);
    await flush();
    assert.equal(fl.children.length, 0);
    assert.equal(p.stats().state, 'failed');
    assert.match(p.stats().lastError ?? '', /cannot build the ffmpeg arguments: GetStreamUri of rtsp:\/\/\*\*\*@127\.80\.0\.8\/onvif failed/);
    assert.deepEqual(
      changes.map((c) => c.to),
      ['failed'],
    );
  });

  it('async args() are fetched before every start; stop while they are pending launches nothing', async () => {
    const { clock, fl, sup } = setup();
    let calls = 0;
    const p = sup.supervise(relay({ args: async () => ['-i', `rtsp://127.80.0.8/fresh-${++calls}`, '-f', 'null', '-'] }));
    await flush();
    await failRun(fl.last());
    await clock.advance(1000);
    assert.equal(calls, 2);
    assert.ok(fl.last().args.includes('rtsp://127.80.0.8/fresh-2'));

    let release!: (v: readonly string[]) => void;
    const q = sup.supervise(relay({ args: () => new Promise<readonly string[]>((r) => (release = r)) }));
    await flush();
    const before = fl.children.length;
    await q.stop();
    release(['-i', 'x']);
    await flush();
    assert.equal(fl.children.length, before);
    assert.equal(q.stats().state, 'stopped');
    await p.stop();
  });

  it("progress 'stdout': running on the first bytes, bitrate over the last second, chunks tagged with the run", async () => {
    const { clock, fl, sup } = setup();
    const runs: number[] = [];
    const chunks: Array<[number, number]> = [];
    const p = sup.supervise({
      label: 'live cam-1/sub',
      kind: 'live',
      progress: 'stdout',
      args: () => ['-i', 'rtsp://127.80.0.8/sub', '-c', 'copy', '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov', 'pipe:1'],
      onRunStart: (run) => runs.push(run),
      onStdout: (chunk, run) => chunks.push([run, chunk.length]),
    });
    await flush();
    const child = fl.last();
    assert.deepEqual(child.options?.stdio, ['ignore', 'pipe', 'pipe']);
    assert.ok(!child.args.includes('-progress'));
    assert.deepEqual(runs, [1]);
    assert.equal(p.stats().state, 'starting');
    child.stdout.write(Buffer.alloc(25_000));
    await flush();
    assert.equal(p.stats().state, 'running');
    await clock.advance(500);
    child.stdout.write(Buffer.alloc(25_000));
    await flush();
    assert.equal(p.stats().bytes, 50_000);
    assert.equal(p.stats().bitrateKbps, 400); // 50,000 bytes in the last second
    await clock.advance(600);
    assert.equal(p.stats().bitrateKbps, 200); // the first chunk left the window
    assert.equal(p.stats().fps, null);
    // No bytes for stallTimeoutMs: stall.
    await clock.advance(10_000);
    assert.deepEqual(child.signals, ['SIGKILL']);
    await clock.advance(1000);
    assert.deepEqual(runs, [1, 2]);
    fl.last().stdout.write(Buffer.alloc(10));
    await flush();
    assert.deepEqual(chunks, [
      [1, 25_000],
      [1, 25_000],
      [2, 10],
    ]);
    assert.equal(p.stats().bytes, 10, 'bytes are per run');
    await sup.stopAll();
  });

  it('count(), list(), spawnOnce and stopAll(): everything counted while alive and reaped before stopAll resolves', async () => {
    const { fl, sup } = setup();
    const a = sup.supervise(relay());
    const b = sup.supervise({ ...relay(), kind: 'live', progress: 'stdout' });
    await flush();
    const once = sup.spawnOnce('ignored-command', ['-i', 'x', '-f', 'rawvideo', 'pipe:1'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    assert.equal(fl.children.length, 3);
    assert.deepEqual(fl.last().options?.stdio, ['pipe', 'pipe', 'pipe', 'pipe']);
    assert.deepEqual(fl.last().args, ['-i', 'x', '-f', 'rawvideo', 'pipe:1'], 'one-shot args are passed as they are');
    assert.deepEqual(sup.count(), { total: 3, byKind: { relay: 1, live: 1, picture: 1, other: 0 } });
    assert.deepEqual(
      sup.list().map((p) => p.id),
      [a.id, b.id],
    );
    // A one-shot that ends by itself stops being counted.
    const once2 = sup.spawnOnce('ffmpeg', ['-version'], { stdio: 'pipe' }) as unknown as FakeChild;
    assert.equal(sup.count().byKind.picture, 2);
    once2.exit(0);
    assert.equal(sup.count().byKind.picture, 1);

    for (const c of fl.children.slice(0, 2)) c.exitOnTerm = false;
    const done = sup.stopAll();
    let finished = false;
    void done.then(() => (finished = true));
    await flush();
    assert.equal(finished, false);
    assert.ok((once as unknown as FakeChild).signals.includes('SIGKILL'));
    for (const c of fl.children.slice(0, 2)) c.exit(0);
    await done;
    assert.deepEqual(sup.count(), { total: 0, byKind: { relay: 0, live: 0, picture: 0, other: 0 } });
    assert.deepEqual(sup.list(), []);
    assert.ok(fl.children.every((c) => !c.alive));
    assert.throws(() => sup.supervise(relay()), /supervisor is stopped/);
  });

  it('a launcher that throws is a failed run (retrying), not a crash', async () => {
    const clock = new FakeClock();
    let n = 0;
    const sup = new FfmpegSupervisor({
      binary: BINARY,
      launch: () => {
        n++;
        throw Object.assign(new Error('spawn EACCES'), { code: 'EACCES' });
      },
      clock,
      defaults: { stallTimeoutMs: 10_000, restartMinMs: 1000, restartMaxMs: 8000 },
      logger: silentLogger,
    });
    const p = sup.supervise(relay({ maxRestarts: 1 }));
    await flush();
    assert.equal(p.stats().state, 'retrying');
    assert.match(p.stats().lastError ?? '', /cannot start ffmpeg \(\/usr\/bin\/ffmpeg\): spawn EACCES/);
    await clock.advance(1000);
    assert.equal(p.stats().state, 'failed');
    assert.equal(n, 2);
  });

  it('exit reasons: code, signal, and stderr classification', async () => {
    const { clock, fl, sup } = setup();
    const p = sup.supervise(relay());
    await flush();
    fl.last().exit(null, 'SIGSEGV');
    await flush();
    assert.equal(p.stats().lastError, 'ffmpeg killed by SIGSEGV');
    await clock.advance(1000);
    fl.last().exit(0);
    await flush();
    assert.equal(p.stats().lastError, 'the camera closed the stream (ffmpeg exited with code 0)');
    await clock.advance(2000);
    await failRun(
      fl.last(),
      '[flv @ 0x5612] Video codec hevc not compatible with flv\nCould not write header for output file #0 (incorrect codec parameters ?): Function not implemented\n',
    );
    assert.match(p.stats().lastError ?? '', /codec not supported by the output format.*\[ffmpeg exited with code 1\]$/);
    await sup.stopAll();
  });
});
