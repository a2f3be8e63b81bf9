// Simulator support for the health probes (127.72.5.0/24 belongs to this file): on/off-line
// switch, RTSP and snapshot faults, pictures, and the RTSP server's cheap DESCRIBE. Nothing here
// races a real-time window: checks that end on an answer get deadlines they cannot reach, and
// silence is told from slowness by an answer that would have come after it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { get } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkReach } from '../../agent/health/probes/reach';
import { authorizationFor, httpGet } from '../../drivers/http-fetch';
import { rtspRequest } from '../../drivers/rtsp/client';
import { startSimulator } from '../../scripts/sim/index';
import { resolveCamera } from '../../scripts/sim/model';
import { findServerScript, mountsFor } from '../../scripts/sim/rtsp-manager';
import type { RunningSimCamera, SimPicture, Simulator } from '../../scripts/sim/types';
import { cameraById, camCall, connectCam, httpRequest, newCam, probeXml, run, soapCall, TDS, uniqueMessageId } from './helpers';
import { waitFor } from '../kit/wait';

const DIGEST = { username: 'admin', password: 'admin123' };
/** A deadline for checks that end on the device's answer: only a safety net. */
const PATIENT_MS = 30_000;

/** Mean R, G, B of `frames` frames of `url` (ffmpeg, scaled to 32x18), and the mean absolute
 * difference between the first and the last frame. */
async function grab(url: string, frames = 1, fps = 2): Promise<{ rgb: number[]; change: number }> {
  const rtsp = url.startsWith('rtsp:');
  const input = rtsp ? ['-rtsp_transport', 'tcp', '-i', url] : ['-i', url];
  // (The fps filter would swallow the only frame of a still picture.)
  const args = [
    '-v',
    'error',
    ...input,
    '-vf',
    rtsp ? `fps=${fps},scale=32:18` : 'scale=32:18',
    '-frames:v',
    String(frames),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
  const data = await new Promise<Buffer>((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`ffmpeg ${code}: ${err}`));
      else resolve(Buffer.concat(out));
    });
  });
  const size = 32 * 18 * 3;
  assert.ok(data.length >= size * frames, `ffmpeg gave ${data.length} bytes`);
  const first = data.subarray(0, size);
  const last = data.subarray(size * (frames - 1), size * frames);
  const rgb = [0, 1, 2].map((c) => {
    let sum = 0;
    for (let i = c; i < size; i += 3) sum += first[i];
    return sum / (size / 3);
  });
  let diff = 0;
  for (let i = 0; i < size; i++) diff += Math.abs(first[i] - last[i]);
  return { rgb, change: diff / size };
}

/**
 * How many answers a WS-Discovery probe to `host` gets, counted once `reference` (a device that
 * answers) has answered a probe sent after it, from the same socket. The simulator runs in this
 * process and answers a probe in the same turn of the event loop as it reads it; `host` had its
 * probe first, so its answer, if any, is in before the reference's: silence is told from a slow
 * answer without a time window.
 */
async function discoveryAnswers(host: string, reference: string): Promise<number> {
  const socket = createSocket('udp4');
  const from: string[] = [];
  socket.on('message', (_msg, rinfo) => from.push(rinfo.address));
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const send = (to: string) =>
      new Promise<void>((resolve, reject) => socket.send(probeXml(uniqueMessageId()), 3702, to, (err) => (err ? reject(err) : resolve())));
    await send(host);
    await send(reference);
    await waitFor(() => from.includes(reference), `the answer of ${reference}`);
    return from.filter((a) => a === host).length;
  } finally {
    socket.close();
  }
}

describe('simulator: health faults, on/off-line, pictures', () => {
  let sim: Simulator;
  const cam = (id: string): RunningSimCamera => cameraById(sim, id);
  const answersOf = (c: RunningSimCamera) => discoveryAnswers(c.spec.host, cam('black').spec.host);

  before(async () => {
    sim = await startSimulator({
      cameras: [
        { host: '127.72.5.1', id: 'moving' },
        { host: '127.72.5.2', id: 'black', picture: 'black' },
        { host: '127.72.5.3', id: 'blue', picture: 'blue' },
        { host: '127.72.5.4', id: 'frozen', picture: 'frozen' },
        { host: '127.72.5.5', id: 'rgarbage', fault: 'rtsp-garbage' },
        { host: '127.72.5.6', id: 'rhang', fault: 'rtsp-hang' },
        { host: '127.72.5.7', id: 'shuge', fault: 'snapshot-huge' },
        { host: '127.72.5.8', id: 'sjunk', fault: 'snapshot-not-image' },
        { host: '127.72.5.9', id: 'hang', fault: 'hang' },
      ],
    });
  });
  after(() => sim?.stop());

  it('setOnline(false): connections refused, discovery silent; setOnline(true): back on the same address and port', async () => {
    const c = cam('moving');
    assert.equal(c.online(), true);
    assert.equal(await answersOf(c), 1);
    await c.setOnline(false);
    assert.equal(c.online(), false);
    const down = await checkReach({ host: c.spec.host, port: c.spec.httpPort, timeoutMs: PATIENT_MS });
    assert.equal(down.error?.code, 'refused');
    assert.equal(await answersOf(c), 0);
    await c.setOnline(false); // idempotent
    await c.setOnline(true);
    assert.equal(c.online(), true);
    const res = await soapCall(c, `<GetSystemDateAndTime xmlns="${TDS}"/>`);
    assert.equal(res.status, 200);
    assert.match(res.text, /UTCDateTime/);
    assert.equal(await answersOf(c), 1);
    // Quick toggles are applied in order.
    await Promise.all([c.setOnline(false), c.setOnline(true), c.setOnline(false)]);
    assert.equal((await checkReach({ host: c.spec.host, port: 80, timeoutMs: PATIENT_MS })).error?.code, 'refused');
    await c.setOnline(true);
    assert.equal((await checkReach({ host: c.spec.host, port: 80, timeoutMs: PATIENT_MS })).ok, true);
  });

  it('setOnline also closes a hang listener and a fault RTSP port, and reopens them on the same ports', async () => {
    const h = cam('hang');
    await h.setOnline(false);
    assert.equal((await checkReach({ host: h.spec.host, port: 80, timeoutMs: PATIENT_MS })).error?.code, 'refused');
    await h.setOnline(true);
    assert.equal((await checkReach({ host: h.spec.host, port: 80, timeoutMs: PATIENT_MS })).ok, true);
    const g = cam('rgarbage');
    const port = Number(new URL(g.rtspUrl(1, 'main')).port);
    await g.setOnline(false);
    assert.equal((await checkReach({ host: g.spec.host, port, timeoutMs: PATIENT_MS })).error?.code, 'refused');
    await g.setOnline(true);
    assert.equal(Number(new URL(g.rtspUrl(1, 'main')).port), port);
    assert.equal((await checkReach({ host: g.spec.host, port, timeoutMs: PATIENT_MS })).ok, true);
  });

  it('rtsp-garbage and rtsp-hang: the ONVIF stream URI points to a port of the device that answers junk / nothing', async () => {
    for (const id of ['rgarbage', 'rhang']) {
      const c = cam(id);
      const onvif = newCam(c);
      await connectCam(onvif);
      const media = await camCall<{ uri: string }>((cb) => onvif.getStreamUri({ protocol: 'RTSP' }, cb));
      const uri = new URL((media?.uri ?? '').trim());
      assert.equal(uri.hostname, c.spec.host);
      assert.notEqual(Number(uri.port), sim.rtspPort, id);
      assert.equal(uri.href, c.rtspUrl(1, 'main'));
    }
    const g = new URL(cam('rgarbage').rtspUrl(1, 'sub'));
    await assert.rejects(
      rtspRequest({
        host: g.hostname,
        port: Number(g.port),
        method: 'OPTIONS',
        url: g.href,
        headers: {},
        cseq: 1,
        timeoutMs: PATIENT_MS,
        maxResponseBytes: 65536,
        device: 'g',
      }),
      /did not answer with RTSP/,
    );
    const h = new URL(cam('rhang').rtspUrl(1, 'sub'));
    const silent = await new Promise<string>((resolve) => {
      const s = connect({ host: h.hostname, port: Number(h.port) }, () =>
        s.write(`OPTIONS ${h.href} RTSP/1.0\r\nCSeq: 1\r\n\r\n`, () => {
          // Only once the request is out: a slow machine can then make this pass too easily, but
          // never fail it (an answer or a hang-up is what fails it).
          setTimeout(() => {
            resolve(s.readyState === 'open' ? 'connected, silent' : s.readyState);
            s.destroy();
          }, 500);
        }),
      );
      s.on('data', () => resolve('answered'));
      s.on('error', (e) => resolve(`error ${e.message}`));
    });
    assert.equal(silent, 'connected, silent');
  });

  it('snapshot-huge streams a 50 MB "JPEG" without Content-Length; snapshot-not-image is 200 image/jpeg junk; their RTSP works', async () => {
    const url = cam('shuge').snapshotUrl(1);
    // The fault sits behind the login, as on a real camera.
    const challenge = await httpRequest(url);
    assert.equal(challenge.status, 401);
    const values = challenge.rawHeaders.filter((_, i) => i % 2 === 1 && challenge.rawHeaders[i - 1].toLowerCase() === 'www-authenticate');
    const authorization = authorizationFor(values, DIGEST, 'GET', new URL(url).pathname)!;
    const seen = await new Promise<{ status: number; headers: Record<string, unknown>; head: Buffer; read: number }>((resolve, reject) => {
      const req = get(url, { headers: { Authorization: authorization }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        res.on('data', (c: Buffer) => {
          if (read < 16) chunks.push(c);
          read += c.length;
          if (read >= 3 * 1024 * 1024) {
            res.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, head: Buffer.concat(chunks).subarray(0, 16), read });
          }
        });
        res.on('end', () => reject(new Error(`the body ended after ${read} bytes`)));
      });
      req.on('error', reject);
    });
    assert.equal(seen.status, 200);
    assert.equal(seen.headers['content-type'], 'image/jpeg');
    assert.equal(seen.headers['content-length'], undefined);
    assert.deepEqual([...seen.head.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    const junk = await httpGet(cam('sjunk').snapshotUrl(1), { credentials: DIGEST, maxBytes: 1024 * 1024, timeoutMs: PATIENT_MS });
    assert.equal(junk.contentType, 'image/jpeg');
    assert.ok(!(junk.body[0] === 0xff && junk.body[1] === 0xd8), 'must not look like a JPEG');
    for (const id of ['shuge', 'sjunk']) {
      const u = new URL(cam(id).rtspUrl(1, 'sub'));
      assert.equal(Number(u.port), sim.rtspPort);
      const res = await rtspRequest({
        host: u.hostname,
        port: Number(u.port),
        method: 'DESCRIBE',
        url: u.href,
        headers: {},
        cseq: 1,
        timeoutMs: PATIENT_MS,
        maxResponseBytes: 65536,
        device: id,
      });
      assert.equal(res.status, 200, id);
    }
  });

  it('the picture option reaches the RTSP launch line; the default is scrolling SMPTE bars with the time overlay', async () => {
    const pictures: SimPicture[] = ['moving', 'black', 'frozen', 'blue'];
    const models = pictures.map((picture, i) => resolveCamera({ host: `127.72.5.${100 + i}`, ...(picture === 'moving' ? {} : { picture }) }));
    const mounts = mountsFor(models);
    assert.deepEqual([...new Set(mounts.map((m) => m.picture))], pictures);
    const script = findServerScript();
    const code = `import sys, json\nsys.path.insert(0, ${JSON.stringify(script.replace(/\/[^/]+$/, ''))})\nimport rtsp_server\nfor m in json.loads(sys.stdin.read()):\n    print(rtsp_server.launch_line(m, True))`;
    const r = await run('/usr/bin/python3', ['-c', code], { input: JSON.stringify(mounts.filter((m) => m.path.endsWith('/sub'))), timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const [moving, black, frozen, blue] = r.stdout.trim().split('\n');
    assert.match(moving, /pattern=smpte horizontal-speed=2 .*timeoverlay/);
    assert.doesNotMatch(r.stdout, /ball/);
    assert.match(black, /pattern=black /);
    assert.match(blue, /pattern=blue /);
    assert.match(frozen, /pattern=smpte75 /);
    for (const line of [black, frozen, blue]) {
      assert.doesNotMatch(line, /timeoverlay|horizontal-speed/);
    }
    assert.throws(() => resolveCamera({ host: '127.72.5.120', picture: 'purple' as SimPicture }), /unknown picture "purple"/);
  });

  it('streams and snapshots show the picture: black is black, blue is blue, moving moves, frozen does not', async () => {
    const [moving, black, blue, frozen] = await Promise.all([
      grab(cam('moving').rtspUrl(1, 'sub'), 2),
      grab(cam('black').rtspUrl(1, 'sub')),
      grab(cam('blue').rtspUrl(1, 'sub')),
      grab(cam('frozen').rtspUrl(1, 'sub'), 2),
    ]);
    assert.ok(Math.max(...black.rgb) < 30, `black: ${black.rgb}`);
    assert.ok(blue.rgb[2] > 150 && blue.rgb[0] < 60 && blue.rgb[1] < 60, `blue: ${blue.rgb}`);
    assert.ok(Math.max(...moving.rgb) - Math.min(...moving.rgb) < 80 && Math.max(...moving.rgb) > 60, `moving (colour bars): ${moving.rgb}`);
    assert.ok(moving.change > 2, `moving changed by ${moving.change}`);
    assert.ok(frozen.change < 1, `frozen changed by ${frozen.change}`);

    const withCreds = (u: string) => u.replace('http://', 'http://admin:admin123@');
    const [snapBlack, snapBlue, snapMoving] = await Promise.all([
      grab(withCreds(cam('black').snapshotUrl(1))),
      grab(withCreds(cam('blue').snapshotUrl(1))),
      grab(withCreds(cam('moving').snapshotUrl(1))),
    ]);
    assert.ok(Math.max(...snapBlack.rgb) < 30, `black snapshot: ${snapBlack.rgb}`);
    assert.ok(snapBlue.rgb[2] > 150 && snapBlue.rgb[0] < 60, `blue snapshot: ${snapBlue.rgb}`);
    assert.ok(Math.max(...snapMoving.rgb) > 60, `moving snapshot: ${snapMoving.rgb}`);
  });

  it('DESCRIBE is answered from the SDP cache once a stream of that kind was described, and the stream still plays', async () => {
    const describe = async (c: RunningSimCamera) => {
      const u = new URL(c.rtspUrl(1, 'main'));
      return rtspRequest({
        host: u.hostname,
        port: Number(u.port),
        method: 'DESCRIBE',
        url: u.href,
        headers: { Accept: 'application/sdp' },
        cseq: 3,
        timeoutMs: PATIENT_MS,
        maxResponseBytes: 65536,
        device: c.id,
      });
    };
    const built = await describe(cam('black')); // builds the media once (fills the cache)
    const cached = await describe(cam('blue'));
    assert.equal(cached.status, 200);
    assert.deepEqual(cached.headers.cseq, ['3']);
    assert.deepEqual(cached.headers['content-base'], [`${cam('blue').rtspUrl(1, 'main')}/`]);
    assert.match(cached.body.toString(), /a=rtpmap:96 H264\/90000/);
    // From the cache, not from media built for it: a built media's SDP names its SSRC, the
    // cached text leaves it out (it belongs to the media that was built).
    assert.match(built.body.toString(), /a=ssrc:/);
    assert.doesNotMatch(cached.body.toString(), /a=ssrc:/);
    const r = await run(
      'ffprobe',
      ['-rtsp_transport', 'tcp', '-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', cam('blue').rtspUrl(1, 'main')],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.stdout.trim(), 'h264,1920,1080', r.stderr);
  });
});
