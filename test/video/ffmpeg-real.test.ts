// The supervisor with this machine's real ffmpeg (default launcher: setpriv --pdeathsig KILL).
// Sources are lavfi test patterns; sinks are -f null, a UDP socket and a TCP server of this test,
// all on loopback (127.80.0.0/16). Waits poll with a generous limit; nothing asserts on speed
// except fps, which -re pins to the source's 25 (checked with wide bounds).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { createLaunch } from '../../agent/ffmpeg/launch';
import { locateFfmpeg } from '../../agent/ffmpeg/locate';
import { FfmpegSupervisor } from '../../agent/ffmpeg/supervisor';
import type { StateChange, SupervisedProcess } from '../../agent/ffmpeg/types';
import { parentPid, pidGone, procField } from './support/procs';
import { silentLogger } from '../kit/logger';
import { waitFor } from '../kit/wait';

const binary = locateFfmpeg({ env: process.env });
const SOURCE = ['-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25'];

function newSupervisor(defaults: Partial<{ stallTimeoutMs: number; restartMinMs: number; restartMaxMs: number }> = {}): FfmpegSupervisor {
  return new FfmpegSupervisor({
    binary,
    defaults: { stallTimeoutMs: 10_000, restartMinMs: 1000, restartMaxMs: 30_000, ...defaults },
    logger: silentLogger,
  });
}

function record(p: SupervisedProcess): StateChange[] {
  const out: StateChange[] = [];
  p.onState((c) => out.push(c));
  return out;
}

describe('ffmpeg supervisor with real ffmpeg', () => {
  const supervisors: FfmpegSupervisor[] = [];
  const use = (s: FfmpegSupervisor) => (supervisors.push(s), s);
  after(async () => {
    for (const s of supervisors) await s.stopAll();
  });

  it('the default launcher protects ffmpeg with setpriv on this machine', () => {
    const launch = createLaunch(binary);
    assert.equal(launch.protection.available, true, launch.protection.reason);
  });

  it('-f null relay: running, fps ≈ 25 and frames moving; stop() leaves no process', async () => {
    const sup = use(newSupervisor());
    const p = sup.supervise({ label: 'real relay → null', kind: 'relay', progress: 'pipe', args: () => [...SOURCE, '-c:v', 'mpeg1video', '-f', 'null', '-'] });
    const changes = record(p);
    await waitFor(() => p.stats().state === 'running', 'running');
    const pid = p.stats().pid as number;
    assert.ok(pid > 0);
    assert.equal(procField(pid, 'comm'), 'ffmpeg');
    assert.equal(parentPid(pid), process.pid, 'ffmpeg is our direct child (setpriv exec’d into it)');
    assert.match(procField(pid, 'cmdline') ?? '', /-progress pipe:3 -stats_period 1/);
    const f0 = p.stats().frames;
    await waitFor(() => p.stats().frames >= f0 + 50, 'two more seconds of frames');
    const s = p.stats();
    assert.ok(s.fps !== null && s.fps > 12 && s.fps < 40, `fps ${s.fps}`);
    assert.equal(s.bitrateKbps, null, '-f null has no output size');
    assert.equal(sup.count().byKind.relay, 1);
    await p.stop();
    assert.equal(p.stats().state, 'stopped');
    assert.equal(pidGone(pid), true, `ffmpeg ${pid} reaped`);
    assert.equal(sup.count().total, 0);
    assert.deepEqual(
      changes.map((c) => c.to),
      ['running', 'stopped'],
    );
  });

  it('MPEG-TS to a UDP socket on 127.80.0.1: bytes and bitrate from -progress', async () => {
    const sock = dgram.createSocket('udp4');
    let received = 0;
    sock.on('message', (m) => (received += m.length));
    await new Promise<void>((r) => sock.bind(0, '127.80.0.1', () => r()));
    const port = sock.address().port;
    try {
      const sup = use(newSupervisor());
      const p = sup.supervise({
        label: 'real relay → udp',
        kind: 'relay',
        progress: 'pipe',
        args: () => [...SOURCE, '-c:v', 'mpeg1video', '-b:v', '400k', '-f', 'mpegts', `udp://127.80.0.1:${port}?pkt_size=1316`],
      });
      await waitFor(() => p.stats().state === 'running' && (p.stats().bitrateKbps ?? 0) > 0 && received > 0, 'running with bytes moving');
      const s = p.stats();
      assert.ok(s.bytes > 0 && s.frames > 0);
      assert.ok((s.bitrateKbps ?? 0) > 0);
      const pid = s.pid as number;
      await sup.stopAll();
      assert.equal(pidGone(pid), true);
    } finally {
      sock.close();
    }
  });

  it("progress 'stdout': a live pull producing MPEG-TS on stdout", async () => {
    const sup = use(newSupervisor());
    let got = 0;
    const p = sup.supervise({
      label: 'real live',
      kind: 'live',
      progress: 'stdout',
      args: () => [...SOURCE, '-c:v', 'mpeg1video', '-b:v', '400k', '-f', 'mpegts', 'pipe:1'],
      onStdout: (chunk) => (got += chunk.length),
    });
    await waitFor(() => p.stats().state === 'running' && got > 20_000, 'running with stdout bytes');
    assert.equal(p.stats().bytes, got);
    assert.ok((p.stats().bitrateKbps ?? 0) > 0);
    const pid = p.stats().pid as number;
    await p.stop();
    assert.equal(pidGone(pid), true);
  });

  it('an ffmpeg that exits at once (bad input path): retrying with the cause, restarts counting', async () => {
    const sup = use(newSupervisor({ restartMinMs: 100, restartMaxMs: 400 }));
    const p = sup.supervise({
      label: 'bad input',
      kind: 'other',
      progress: 'pipe',
      args: () => ['-i', '/nonexistent/camgate-test-input.ts', '-f', 'null', '-'],
    });
    const changes = record(p);
    await waitFor(() => p.stats().restarts >= 3, 'three restarts');
    assert.match(p.stats().lastError ?? '', /no such file or directory/i);
    assert.match(changes.find((c) => c.to === 'retrying')?.reason ?? '', /no such file or directory.*exited with code 1.*restart 1 in 100 ms/i);
    assert.equal(
      changes.some((c) => c.to === 'running'),
      false,
    );
    await p.stop();
    assert.equal(p.stats().state, 'stopped');
    assert.equal(sup.count().total, 0);
  });

  it('a source that accepts and sends nothing: stall → SIGKILL → restart (TCP server on 127.80.0.2)', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.80.0.2', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const sup = use(newSupervisor({ stallTimeoutMs: 2000, restartMinMs: 100 }));
      const p = sup.supervise({
        label: 'silent source',
        kind: 'relay',
        progress: 'pipe',
        args: () => ['-f', 'mpegts', '-i', `tcp://127.80.0.2:${port}`, '-c', 'copy', '-f', 'null', '-'],
      });
      const changes = record(p);
      await waitFor(() => sockets.length >= 1, 'first connection');
      const firstPid = p.stats().pid as number;
      await waitFor(() => sockets.length >= 2, 'reconnect after the stall');
      const retry = changes.find((c) => c.to === 'retrying');
      assert.match(retry?.reason ?? '', /^stalled: no output for 2 s/);
      assert.equal(pidGone(firstPid), true, 'the stalled ffmpeg was killed and reaped');
      assert.ok(p.stats().restarts >= 1);
      await p.stop();
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('spawnOnce: a real one-shot counted while it lives; stopAll() kills and reaps a long one', async () => {
    const sup = use(newSupervisor());
    const child = sup.spawnOnce(
      'ffmpeg',
      [
        '-nostdin',
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=64x48:rate=25',
        '-frames:v',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    assert.equal(sup.count().byKind.picture, 1);
    let bytes = 0;
    child.stdout?.on('data', (d: Buffer) => (bytes += d.length));
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    assert.equal(code, 0);
    assert.equal(bytes, 64 * 48 * 3);
    assert.equal(sup.count().total, 0);

    const long = sup.spawnOnce('ffmpeg', ['-nostdin', '-loglevel', 'error', ...SOURCE, '-f', 'null', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = long.pid as number;
    await waitFor(() => procField(pid, 'comm') === 'ffmpeg', 'one-shot running as ffmpeg');
    assert.equal(sup.count().byKind.picture, 1);
    await sup.stopAll();
    assert.equal(pidGone(pid), true);
    assert.equal(sup.count().total, 0);
  });
});
