// Keyframe on demand for the live view (ONVIF Media SetSynchronizationPoint), end to end: the
// ONVIF driver against the simulator and against a device without it, the simulator's RTSP server
// forcing a keyframe on a running shared encoder, keyframeRequester (inventory → driver) and
// LivePulls calling it once per ffmpeg run. Loopback 127.85.0.0/16 belongs to this file.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { startSimulator } from '../../scripts/sim/index';
import type { RunningSimCamera, Simulator } from '../../scripts/sim/types';
import { openDriver, DriverError, type DeviceDriver } from '../../drivers/index';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { keyframeRequester, UNSUPPORTED_RETRY_MS } from '../../agent/video/live/keyframe';
import { CameraRequestSkipped } from '../../agent/video/live/camera-driver';
import type { OpenDriver } from '../../agent/inventory/device-driver';
import { LivePulls } from '../../agent/video/live/live-pull';
import { Fmp4Splitter } from '../../agent/video/live/fmp4';
import { FfmpegSupervisor } from '../../agent/ffmpeg/supervisor';
import { inventorySource } from '../../agent/web/cameras';
import { fakeSupervisor, fragmentedMp4 } from '../kit/supervisor';
import { createLogger } from '../../lib/log';
import { clockReading } from '../kit/clock';
import type { LiveMessage, LiveStream, LiveViewer } from '../../agent/video/live/types';
import { deviceReport } from '../kit/reports';

const CREDS = { username: 'admin', password: 'admin123' };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(pred: () => boolean, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'camgate-keyframe-'));
}

// ---------------------------------------------------------------------------------------------
// A minimal RTSP client (TCP interleaved). Unlike ffmpeg it sends PLAY without a Range header:
// gst-rtsp-server answers a Range with a flushing seek of the shared media, which resets the
// encoder and so produces a keyframe at once; a real camera does not do that, and the point here
// is to see the keyframe the request forces into a running encoder.

interface RtspAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

class RawRtsp {
  private buf = Buffer.alloc(0);
  private wake?: () => void;
  private closed = false;
  private cseq = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    const end = () => {
      this.closed = true;
      this.wake?.();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  static open(url: string): Promise<RawRtsp> {
    const u = new URL(url);
    if (!u.hostname.startsWith('127.')) throw new Error(`loopback only, not ${u.hostname}`);
    return new Promise((resolve, reject) => {
      const s = connect({ host: u.hostname, port: Number(u.port) }, () => {
        s.off('error', reject);
        resolve(new RawRtsp(s));
      });
      s.once('error', reject);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private async more(deadline: number): Promise<void> {
    if (this.closed) throw new Error('RTSP connection closed');
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('RTSP read timed out');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  async request(method: string, url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<RtspAnswer> {
    const deadline = Date.now() + timeoutMs;
    const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${++this.cseq}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    let end: number;
    while ((end = this.buf.indexOf('\r\n\r\n')) < 0) await this.more(deadline);
    const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    this.buf = this.buf.subarray(end + 4);
    const status = Number(/^RTSP\/1\.0 (\d+)/.exec(head[0] ?? '')?.[1] ?? 0);
    const out: Record<string, string> = {};
    for (const l of head.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) out[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const length = Number(out['content-length'] ?? 0);
    while (this.buf.length < length) await this.more(deadline);
    const body = this.buf.subarray(0, length).toString('utf8');
    this.buf = this.buf.subarray(length);
    return { status, headers: out, body };
  }

  /** DESCRIBE, SETUP (video, interleaved 0-1), PLAY without Range. */
  async play(url: string): Promise<void> {
    const d = await this.request('DESCRIBE', url, { Accept: 'application/sdp' });
    assert.equal(d.status, 200, `DESCRIBE ${url}`);
    const base = d.headers['content-base'] ?? `${url}/`;
    const video = d.body.split(/\r?\nm=/).find((m) => m.startsWith('video')) ?? '';
    const control = /a=control:(\S+)/.exec(video)?.[1] ?? '';
    const setupUrl = /^rtsp:/.test(control) ? control : `${base.replace(/\/?$/, '/')}${control}`;
    const s = await this.request('SETUP', setupUrl, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    assert.equal(s.status, 200, 'SETUP');
    const session = (s.headers.session ?? '').split(';')[0];
    const p = await this.request('PLAY', url, { Session: session });
    assert.equal(p.status, 200, 'PLAY');
  }

  /** Reads interleaved RTP until an IDR (H.264 NAL 5, H.265 NAL 19-21) starts; calls onFirstPacket at the first RTP packet. */
  async untilKeyframe(codec: 'H264' | 'H265', onFirstPacket: () => void, timeoutMs: number): Promise<{ firstPacketAt: number; keyframeAt: number }> {
    const deadline = Date.now() + timeoutMs;
    let firstPacketAt = 0;
    for (;;) {
      while (this.buf.length < 4) await this.more(deadline);
      if (this.buf[0] !== 0x24) throw new Error(`not an interleaved frame: ${this.buf.subarray(0, 16).toString('latin1')}`);
      const channel = this.buf[1];
      const n = this.buf.readUInt16BE(2);
      while (this.buf.length < 4 + n) await this.more(deadline);
      const pkt = this.buf.subarray(4, 4 + n);
      this.buf = this.buf.subarray(4 + n);
      if (channel !== 0 || pkt.length < 13) continue;
      if (firstPacketAt === 0) {
        firstPacketAt = performance.now();
        onFirstPacket();
      }
      let off = 12 + 4 * (pkt[0] & 0x0f);
      if (pkt[0] & 0x10) off += 4 + 4 * pkt.readUInt16BE(off + 2);
      if (nalTypes(pkt.subarray(off), codec).some((t) => (codec === 'H264' ? t === 5 : t >= 19 && t <= 21))) {
        return { firstPacketAt, keyframeAt: performance.now() };
      }
    }
  }
}

/** NAL unit types in one RTP payload (single NAL, STAP-A / AP, FU-A / FU start). */
function nalTypes(p: Buffer, codec: 'H264' | 'H265'): number[] {
  if (p.length < 3) return [];
  if (codec === 'H264') {
    const t = p[0] & 0x1f;
    if (t === 28) return p[1] & 0x80 ? [p[1] & 0x1f] : [];
    if (t !== 24) return [t];
    const out: number[] = [];
    for (let i = 1; i + 2 < p.length; i += 2 + p.readUInt16BE(i)) out.push(p[i + 2] & 0x1f);
    return out;
  }
  const t = (p[0] >> 1) & 0x3f;
  if (t === 49) return p[2] & 0x80 ? [p[2] & 0x3f] : [];
  if (t !== 48) return [t];
  const out: number[] = [];
  for (let i = 2; i + 2 < p.length; i += 2 + p.readUInt16BE(i)) out.push((p[i + 2] >> 1) & 0x3f);
  return out;
}

/** ffmpeg reading a stream (copy, every packet incl. before the first keyframe) and counting frames and keyframes. */
class Watcher {
  readonly proc: ChildProcess;
  /** Frames so far (distinct pts: x264's sliced threads make an IDR two packets). */
  frames = 0;
  /** Frame index of each keyframe. */
  readonly keyframes: number[] = [];
  private rest = '';
  private lastPts = '';

  constructor(url: string) {
    this.proc = spawn(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-i',
        url,
        '-map',
        '0:v:0',
        '-c',
        'copy',
        '-copyinkf',
        '-f',
        'framecrc',
        '-flush_packets',
        '1',
        'pipe:1',
      ],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (d: string) => {
      const lines = (this.rest + d).split('\n');
      this.rest = lines.pop() ?? '';
      for (const l of lines) {
        if (l.startsWith('#') || !l.trim()) continue;
        // framecrc: "0, dts, pts, duration, size, 0xcrc[, F=0x..]"; F= appears when the flags are not just "key".
        const pts = l.split(',')[2]?.trim() ?? '';
        if (pts !== this.lastPts) {
          this.lastPts = pts;
          this.frames++;
        }
        const frame = this.frames - 1;
        if (!l.includes('F=') && this.keyframes[this.keyframes.length - 1] !== frame) this.keyframes.push(frame);
      }
    });
  }

  alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  stop(): Promise<void> {
    if (!this.alive()) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill('SIGKILL');
    });
  }
}

// ---------------------------------------------------------------------------------------------

describe('keyframe requests against the simulator', () => {
  let sim: Simulator;
  let fake: Server;
  let fakePort = 0;
  let fakeRequests: string[] = [];
  const cam = (host: string): RunningSimCamera => sim.cameras.find((c) => c.spec.host === host)!;

  before(async () => {
    sim = await startSimulator({
      cameras: [
        { host: '127.85.0.2', id: 'kf-gen', vendor: 'generic' },
        { host: '127.85.0.3', id: 'kf-hik', vendor: 'hikvision' }, // Digest only, H.265 main
        { host: '127.85.0.4', id: 'kf-tapo', vendor: 'tapo', clockSkewMs: 2 * 3600_000 }, // WS-Security against a clock 2 h ahead
        { host: '127.85.0.5', id: 'kf-nvr', vendor: 'nvr', channels: 2 },
        { host: '127.85.0.6', id: 'kf-broken', vendor: 'generic', fault: 'rtsp-hang' }, // no RTSP mount: only counted
      ],
    });
    // A device without SetSynchronizationPoint: clock and services answer, everything else is
    // ter:ActionNotSupported (what such cameras send).
    fake = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        const op = /<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)/.exec(body)?.[1] ?? '?';
        fakeRequests.push(op);
        const env = (inner: string) =>
          `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error"><s:Body>${inner}</s:Body></s:Envelope>`;
        const now = new Date();
        let status = 200;
        let xml: string;
        if (op === 'GetSystemDateAndTime') {
          xml = env(
            `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime><tt:Time><tt:Hour>${now.getUTCHours()}</tt:Hour><tt:Minute>${now.getUTCMinutes()}</tt:Minute><tt:Second>${now.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${now.getUTCFullYear()}</tt:Year><tt:Month>${now.getUTCMonth() + 1}</tt:Month><tt:Day>${now.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
          );
        } else if (op === 'GetServices') {
          const svc = (ns: string, path: string) =>
            `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>http://127.85.1.1:${fakePort}${path}</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>0</tt:Minor></tds:Version></tds:Service>`;
          xml = env(
            `<tds:GetServicesResponse>${svc('http://www.onvif.org/ver10/device/wsdl', '/onvif/device_service')}${svc('http://www.onvif.org/ver10/media/wsdl', '/onvif/media_service')}</tds:GetServicesResponse>`,
          );
        } else {
          status = 500;
          xml = env(
            `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>ter:ActionNotSupported</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">Optional Action Not Implemented</s:Text></s:Reason></s:Fault>`,
          );
        }
        res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
        res.end(xml);
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.85.1.1', () => resolve()));
    fakePort = (fake.address() as { port: number }).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => (fake ? fake.close(() => resolve()) : resolve()));
    await sim?.stop();
  });

  test('driver: SetSynchronizationPoint reaches the simulated device (Digest, WS-Security with a skewed clock, NVR channels), counted per camera', async () => {
    for (const host of ['127.85.0.2', '127.85.0.3', '127.85.0.4', '127.85.0.5', '127.85.0.6']) {
      const c = cam(host);
      const driver = openDriver({ kind: 'onvif', host, port: c.spec.httpPort }, CREDS, { timeoutMs: 5000 });
      try {
        assert.equal(typeof driver.requestKeyframe, 'function');
        const channels = await driver.channels();
        const tokens = channels.flatMap((ch) => ch.profiles.map((p) => p.token));
        assert.equal(c.keyframeRequests(), 0);
        for (const token of tokens) await driver.requestKeyframe!(token);
        assert.equal(c.keyframeRequests(), tokens.length, `${host}: one count per request`);
        // An unknown profile token: a SOAP fault (ter:InvalidArgVal/ter:NoProfile), not counted.
        await assert.rejects(
          driver.requestKeyframe!('NoSuchProfile'),
          (e: unknown) => e instanceof DriverError && e.code === 'device-fault' && /NoSuchProfile/.test(e.message),
        );
        assert.equal(c.keyframeRequests(), tokens.length);
      } finally {
        driver.close();
      }
    }
    // Wrong password: DriverError 'auth', nothing counted.
    const bad = openDriver({ kind: 'onvif', host: '127.85.0.2' }, { username: 'admin', password: 'wrong' }, { timeoutMs: 5000 });
    const before = cam('127.85.0.2').keyframeRequests();
    await assert.rejects(bad.requestKeyframe!('Profile_1_main'), (e: unknown) => e instanceof DriverError && e.code === 'auth');
    bad.close();
    assert.equal(cam('127.85.0.2').keyframeRequests(), before);
  });

  test('driver: a device without SetSynchronizationPoint rejects with DriverError unsupported; the RTSP-only driver has no requestKeyframe', async () => {
    fakeRequests = [];
    const driver = openDriver({ kind: 'onvif', host: '127.85.1.1', port: fakePort }, CREDS, { timeoutMs: 3000 });
    try {
      await assert.rejects(
        driver.requestKeyframe!('profile_1'),
        (e: unknown) => e instanceof DriverError && e.code === 'unsupported' && /SetSynchronizationPoint/.test(e.message),
      );
    } finally {
      driver.close();
    }
    assert.deepEqual(fakeRequests, ['GetSystemDateAndTime', 'GetServices', 'SetSynchronizationPoint']);
    const rtsp = openDriver({ kind: 'rtsp', url: cam('127.85.0.2').rtspUrl(1, 'sub') });
    assert.equal(rtsp.requestKeyframe, undefined);
    rtsp.close();
  });

  test('RTSP server: a request forces a keyframe into the running shared encoder (not a rebuilt one)', async () => {
    const c = cam('127.85.0.2');
    const url = c.rtspUrl(1, 'sub'); // 640x360@15 H.264, GOP 30 frames = 2 s
    const gop = 30;
    // One DESCRIBE first, so the SDP cache knows this kind of stream: every client below is then
    // described from it and shares one media (the media a DESCRIBE builds is keyed differently).
    const warm = await RawRtsp.open(url);
    await warm.request('DESCRIBE', url, { Accept: 'application/sdp' });
    warm.close();
    const watcher = new Watcher(url); // keeps the shared media (and its encoder) running
    const driver = openDriver({ kind: 'onvif', host: c.spec.host }, CREDS, { timeoutMs: 5000 });
    try {
      const [ch] = await driver.channels();
      const sub = ch.profiles[1];
      assert.equal(sub.width, 640);
      // The natural cadence first: two keyframes one GOP apart (the first ones come with the start of the media).
      const naturalGap = () => watcher.keyframes.some((k, i) => i > 0 && k - watcher.keyframes[i - 1] === gop);
      await waitFor(naturalGap, `two keyframes ${gop} frames apart at the watcher`);

      const measure = async (request: boolean): Promise<number> => {
        const client = await RawRtsp.open(url);
        try {
          await client.play(url);
          let asked: Promise<void> = Promise.resolve();
          const r = await client.untilKeyframe(
            'H264',
            () => {
              asked = request ? driver.requestKeyframe!(sub.token) : Promise.resolve();
            },
            8000,
          );
          await asked;
          return Math.round(r.keyframeAt - r.firstPacketAt);
        } finally {
          client.close();
        }
      };
      const withoutRequest = await measure(false);
      const requestsBefore = c.keyframeRequests();
      const framesBefore = watcher.frames;
      const keyframesBefore = watcher.keyframes.length;
      const withRequest: number[] = [];
      for (let i = 0; i < 3; i++) {
        withRequest.push(await measure(true));
        const at = watcher.frames;
        await waitFor(() => watcher.frames >= at + 8, 'the watcher to go on receiving'); // spaces the requests apart
      }
      console.log(
        `keyframe on request (sub 640x360@15 H.264, GOP 2 s): second client's first keyframe ${withRequest.join(' / ')} ms after its first RTP packet; ` +
          `without a request ${withoutRequest} ms; first client's keyframes at frames ${watcher.keyframes.join(',')}`,
      );
      assert.equal(c.keyframeRequests(), requestsBefore + 3);
      for (const ms of withRequest) assert.ok(ms < 5000, `liveness: a keyframe came (${ms} ms)`);
      // The encoder kept running (no rebuilt media: the watcher is still there and receiving) and
      // the forced keyframes are in its stream too: gaps shorter than the GOP.
      assert.ok(watcher.alive(), 'the first client is still playing');
      assert.ok(watcher.frames > framesBefore + 20);
      const gaps = watcher.keyframes.slice(keyframesBefore - 1).map((k, i, all) => (i === 0 ? gop : k - all[i - 1]));
      assert.ok(
        gaps.some((g) => g < gop - 1),
        `a keyframe out of the ${gop}-frame cadence at the first client (keyframes at frames ${watcher.keyframes.join(',')})`,
      );
    } finally {
      driver.close();
      await watcher.stop();
    }
  });

  test('keyframeRequester: inventory camera → ONVIF driver → the simulator counts it (main and sub profiles)', async () => {
    const dir = tempDir();
    const db = openDatabase(join(dir, 'data'));
    try {
      const c = cam('127.85.0.3');
      const d = openDriver({ kind: 'onvif', host: c.spec.host }, CREDS, { timeoutMs: 5000 });
      const cameraId = upsertDeviceReport(db, await d.report(), { now: new Date() }).cameras[0].id;
      d.close();
      const opened: string[] = [];
      const open: OpenDriver = (target, creds, options) => {
        opened.push(target.kind === 'onvif' ? target.host : target.url);
        return openDriver(target, creds, options);
      };
      const request = keyframeRequester(db, () => CREDS, open, 5000);
      const before = c.keyframeRequests();
      const t0 = performance.now();
      await request(cameraId, 'main');
      const ms = Math.round(performance.now() - t0);
      await request(cameraId, 'sub');
      console.log(`keyframeRequester against the simulator (Digest): ${ms} ms (open driver, clock, services, SetSynchronizationPoint)`);
      assert.equal(c.keyframeRequests(), before + 2);
      assert.deepEqual(opened, ['127.85.0.3', '127.85.0.3']);
      await assert.rejects(request('no-such-camera', 'main'), /no camera "no-such-camera"/);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('live pull with the real supervisor: one keyframe request per ffmpeg run, once its init segment is there', async () => {
    const dir = tempDir();
    const db = openDatabase(join(dir, 'data'));
    const logger = createLogger({ level: 'silent' });
    const supervisor = new FfmpegSupervisor({
      binary: { path: '/usr/bin/ffmpeg', source: 'path' as const },
      defaults: { stallTimeoutMs: 15_000, restartMinMs: 300, restartMaxMs: 2000 },
      logger,
    });
    try {
      const c = cam('127.85.0.5'); // the NVR: channel 2's sub stream
      const d = openDriver({ kind: 'onvif', host: c.spec.host }, CREDS, { timeoutMs: 5000 });
      const cams = upsertDeviceReport(db, await d.report(), { now: new Date() }).cameras;
      d.close();
      const ch2 = cams.find((x) => x.channel === 2)!;
      const requester = keyframeRequester(db, () => CREDS, openDriver, 5000);
      const calls: Array<{ camera: string; stream: LiveStream; error?: string }> = [];
      const pulls = new LivePulls({
        supervise: (o) => supervisor.supervise(o),
        resolve: inventorySource(db, () => undefined),
        config: { lingerSec: 0, maxViewers: 8, fallbackWidth: 640, fallbackBitrateKbps: 500 },
        mpeg1FfmpegPath: '/usr/bin/ffmpeg',
        logger,
        requestKeyframe: async (camera, stream) => {
          const entry: (typeof calls)[number] = { camera, stream };
          calls.push(entry);
          try {
            await requester(camera, stream);
          } catch (err) {
            entry.error = (err as Error).message;
            throw err;
          }
        },
      });
      const got: LiveMessage[] = [];
      const before = c.keyframeRequests();
      const t0 = performance.now();
      const session = await pulls.join(ch2.id, { stream: 'sub' }, { bufferedAmount: 0, send: (m) => got.push(m) });
      await waitFor(() => got.some((m) => m.type === 'fragment' && m.fragment.keyframe), 'the first keyframe fragment');
      console.log(`live pull (simulator, NVR ch2 sub): first keyframe fragment ${Math.round(performance.now() - t0)} ms after join`);
      await waitFor(() => c.keyframeRequests() > before, 'the keyframe request to reach the simulator');
      assert.deepEqual(calls, [{ camera: ch2.id, stream: 'sub' }]);
      assert.equal(c.keyframeRequests(), before + 1);
      assert.equal(pulls.list()[0].viewers, 1);
      session.leave();
      await pulls.close();
    } finally {
      await supervisor.stopAll();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// keyframeRequester with fake drivers: which profile, skipping, the "not supported" memory.

test('keyframeRequester: main/sub profile, driver closed, RTSP-only skipped, "not supported" remembered for an hour per device', async () => {
  const dir = tempDir();
  const db: Database = openDatabase(join(dir, 'data'));
  try {
    const onvifCam = upsertDeviceReport(db, deviceReport('127.85.2.1', 'onvif', ['P_main', 'P_sub']), { now: new Date() }).cameras[0].id;
    const oneProfile = upsertDeviceReport(db, deviceReport('127.85.2.2', 'onvif', ['Only']), { now: new Date() }).cameras[0].id;
    const rtspCam = upsertDeviceReport(db, deviceReport('127.85.2.3', 'rtsp', ['rtsp']), { now: new Date() }).cameras[0].id;
    let now = 1_000_000;
    const calls: string[] = [];
    let closed = 0;
    let answer: (token: string) => Promise<void> = async () => undefined;
    const open: OpenDriver = (target, creds, options) => {
      assert.equal(target.kind, 'onvif');
      assert.deepEqual(creds, { username: 'u', password: 'p' });
      assert.equal(options?.timeoutMs, 1234);
      const host = target.kind === 'onvif' ? target.host : '';
      return {
        kind: 'onvif',
        requestKeyframe: (token: string) => {
          calls.push(`${host} ${token}`);
          return answer(token);
        },
        close: () => void closed++,
      } as unknown as DeviceDriver;
    };
    const told: string[] = [];
    const request = keyframeRequester(db, () => ({ username: 'u', password: 'p' }), open, 1234, {
      clock: clockReading(() => now),
      onUnsupported: (d, why) => told.push(`${d.host}: ${why}`),
    });

    await request(onvifCam, 'main');
    await request(onvifCam, 'sub');
    await request(oneProfile, 'sub'); // sub falls back to the only profile
    assert.deepEqual(calls, ['127.85.2.1 P_main', '127.85.2.1 P_sub', '127.85.2.2 Only']);
    assert.equal(closed, 3);

    await assert.rejects(request(rtspCam, 'main'), (e: unknown) => e instanceof CameraRequestSkipped && /RTSP-only/.test(e.message));
    assert.equal(calls.length, 3, 'no driver for an RTSP-only device');

    // Transient failures are not remembered.
    answer = async () => {
      throw new DriverError('timeout', 'no answer from 127.85.2.1:80 within 1234 ms (SetSynchronizationPoint)', '127.85.2.1:80');
    };
    await assert.rejects(request(onvifCam, 'main'), (e: unknown) => e instanceof DriverError && e.code === 'timeout');
    answer = async () => {
      throw new DriverError('unsupported', '127.85.2.1:80 does not support SetSynchronizationPoint', '127.85.2.1:80');
    };
    assert.deepEqual(told, [], 'a timeout is not "unsupported"');
    await assert.rejects(request(onvifCam, 'main'), (e: unknown) => e instanceof DriverError && e.code === 'unsupported');
    assert.deepEqual(told, ['127.85.2.1: 127.85.2.1:80 does not support SetSynchronizationPoint'], 'told once, with the reason');
    assert.equal(calls.length, 5);
    assert.equal(closed, 5);
    // Not asked again for an hour, on any stream of that device; other devices still are.
    now += UNSUPPORTED_RETRY_MS - 1;
    await assert.rejects(request(onvifCam, 'sub'), (e: unknown) => e instanceof CameraRequestSkipped);
    assert.equal(calls.length, 5);
    answer = async () => undefined;
    await request(oneProfile, 'main');
    assert.equal(calls.length, 6);
    now += 1;
    await request(onvifCam, 'sub');
    assert.deepEqual(calls.slice(-1), ['127.85.2.1 P_sub']);

    // A driver without requestKeyframe (not ONVIF after all): skipped and remembered too.
    const noFeature = keyframeRequester(
      db,
      () => ({ username: 'u', password: 'p' }),
      () => ({ kind: 'rtsp', close: () => void closed++ }) as unknown as DeviceDriver,
      1234,
      { clock: clockReading(() => now) },
    );
    await assert.rejects(noFeature(onvifCam, 'main'), (e: unknown) => e instanceof CameraRequestSkipped);
    const closedBefore = closed;
    await assert.rejects(noFeature(onvifCam, 'main'), (e: unknown) => e instanceof CameraRequestSkipped);
    assert.equal(closed, closedBefore, 'not even opened the second time');
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// LivePulls with a fake supervisor: when requestKeyframe is called.

const MP4 = fragmentedMp4(2);
const PARTS = new Fmp4Splitter().push(MP4);
const INIT_BYTES = PARTS[0].data.length;

class Viewer implements LiveViewer {
  bufferedAmount = 0;
  readonly got: LiveMessage[] = [];
  send(m: LiveMessage): void {
    this.got.push(m);
  }
}

function pullsWith(requestKeyframe: (cameraId: string, stream: LiveStream) => Promise<void>) {
  const sup = fakeSupervisor();
  const lines: string[] = [];
  const pulls = new LivePulls({
    supervise: sup.supervise,
    resolve: (id) =>
      id === 'cam264' ? { url: 'rtsp://127.85.3.1:554/a', codec: 'H264' } : id === 'cam265' ? { url: 'rtsp://127.85.3.1:554/b', codec: 'H265' } : undefined,
    config: { lingerSec: 0, maxViewers: 8, fallbackWidth: 640, fallbackBitrateKbps: 500 },
    mpeg1FfmpegPath: '/usr/bin/ffmpeg',
    mpeg1Launch: () => new EventEmitter() as unknown as ChildProcess,
    logger: createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } }),
    requestKeyframe,
  });
  return { pulls, sup, lines };
}

function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

test('live pulls: requestKeyframe once per run after the init segment, not after a keyframe, failures only logged', async () => {
  const calls: string[] = [];
  let fail = false;
  const { pulls, sup, lines } = pullsWith(async (camera, stream) => {
    calls.push(`${camera}/${stream}`);
    if (fail) throw new Error('camera said no');
  });
  const viewer = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, viewer);
  const p = sup.procs[0];
  p.options.onRunStart?.(1);
  // Part of the init segment: nothing yet.
  p.options.onStdout!(MP4.subarray(0, 20), 1);
  assert.deepEqual(calls, []);
  // The rest of the init segment: ffmpeg plays, no keyframe yet → asked once.
  p.options.onStdout!(MP4.subarray(20, INIT_BYTES), 1);
  assert.deepEqual(calls, ['cam264/sub']);
  // More of the run (keyframe fragments and others): never again in this run.
  for (let off = INIT_BYTES; off < MP4.length; off += 999) p.options.onStdout!(MP4.subarray(off, Math.min(MP4.length, off + 999)), 1);
  assert.deepEqual(calls, ['cam264/sub']);
  assert.ok(viewer.got.some((m) => m.type === 'fragment' && m.fragment.keyframe));

  // A new run (restart): asked again, once; a failure is logged at debug and changes nothing else.
  fail = true;
  p.options.onRunStart?.(2);
  p.options.onStdout!(MP4.subarray(0, INIT_BYTES), 2);
  p.options.onStdout!(MP4.subarray(0, INIT_BYTES), 2); // even a repeated init (not what ffmpeg does)
  await flush();
  assert.deepEqual(calls, ['cam264/sub', 'cam264/sub']);
  assert.ok(
    lines.some((l) => /keyframe request failed/.test(l) && /camera said no/.test(l) && /"level":20/.test(l)),
    lines.join('\n'),
  );
  p.options.onStdout!(MP4.subarray(INIT_BYTES), 2);
  assert.equal(viewer.got.filter((m) => m.type === 'init').length, 3);

  // A run whose init segment and first keyframe fragment arrive together: the camera is not asked.
  p.options.onRunStart?.(3);
  p.options.onStdout!(MP4, 3);
  assert.equal(calls.length, 2);

  // A supervisor that never calls onRunStart: a new run number is a new run all the same.
  p.options.onStdout!(MP4.subarray(0, INIT_BYTES), 4);
  assert.equal(calls.length, 3);
  await pulls.close();
});

test('live pulls: a JSMpeg pull asks at the first output of each run; no option → nothing asked', async () => {
  const calls: string[] = [];
  const { pulls, sup } = pullsWith(async (camera, stream) => void calls.push(`${camera}/${stream}`));
  await pulls.join('cam265', { stream: 'main' }, new Viewer());
  const p = sup.procs[0];
  assert.ok(p.label.includes('jsmpeg'));
  const ts = Buffer.alloc(188 * 4);
  for (let i = 0; i < 4; i++) ts[i * 188] = 0x47;
  p.options.onRunStart?.(1);
  p.options.onStdout!(ts.subarray(0, 100), 1); // not a whole packet yet
  assert.deepEqual(calls, []);
  p.options.onStdout!(ts.subarray(100), 1);
  p.options.onStdout!(ts, 1);
  assert.deepEqual(calls, ['cam265/main']);
  p.options.onRunStart?.(2);
  p.options.onStdout!(ts, 2);
  assert.deepEqual(calls, ['cam265/main', 'cam265/main']);
  await pulls.close();

  // Without the option (RTSP-only sites, tests): pulls work as before.
  const sup2 = fakeSupervisor();
  const plain = new LivePulls({
    supervise: sup2.supervise,
    resolve: () => ({ url: 'rtsp://127.85.3.1:554/a', codec: 'H264' }),
    config: { lingerSec: 0, maxViewers: 8, fallbackWidth: 640, fallbackBitrateKbps: 500 },
    mpeg1FfmpegPath: '/usr/bin/ffmpeg',
    logger: createLogger({ level: 'silent' }),
  });
  const v = new Viewer();
  await plain.join('x', { stream: 'sub' }, v);
  sup2.procs[0].options.onRunStart?.(1);
  sup2.procs[0].options.onStdout!(MP4, 1);
  assert.ok(v.got.some((m) => m.type === 'init'));
  await plain.close();
});
