// Real RTSP streams from the shared GStreamer server, checked with ffprobe (subnet 127.64.0.0/16).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSimulator } from '../../scripts/sim/index';
import type { Simulator } from '../../scripts/sim/types';
import { resolveCamera } from '../../scripts/sim/model';
import { camCall, cameraById, connectCam, newCam, pidAlive, run, soapCall, TRT, wsseHeader } from './helpers';
import { eventually } from '../kit/wait';

interface ProbedStream {
  codec_name?: string;
  width?: number;
  height?: number;
}

async function ffprobe(url: string): Promise<{ ok: boolean; streams: ProbedStream[]; stderr: string }> {
  const r = await run('ffprobe', ['-rtsp_transport', 'tcp', '-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', url], {
    timeoutMs: 30_000,
  });
  let streams: ProbedStream[] = [];
  try {
    streams = (JSON.parse(r.stdout) as { streams?: ProbedStream[] }).streams ?? [];
  } catch {
    // no JSON: failed probe, reported through ok/stderr
  }
  return { ok: r.code === 0 && streams.length > 0, streams, stderr: r.stderr };
}

/** PIDs of this process's children running rtsp_server.py (read from /proc, nothing is killed). */
function rtspChildren(parentPid: number): number[] {
  const pids: number[] = [];
  for (const tid of readdirSync(`/proc/${parentPid}/task`)) {
    const children = readFileSync(`/proc/${parentPid}/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
    for (const pid of children) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('rtsp_server.py')) pids.push(pid);
      } catch {
        // exited meanwhile
      }
    }
  }
  return pids;
}

describe('simulator RTSP streams', () => {
  let sim: Simulator;

  before(async () => {
    sim = await startSimulator({
      cameras: [
        { host: '127.64.0.1', id: 'gen', vendor: 'generic', reportedHost: '127.99.99.99' },
        { host: '127.64.0.2', id: 'hik', vendor: 'hikvision' },
        { host: '127.64.0.3', id: 'dahua', vendor: 'dahua' },
        { host: '127.64.0.4', id: 'nvr', vendor: 'nvr', channels: 2 },
        { host: '127.64.0.5', id: 'slow', codec: 'H265', mainFps: 12.5, subFps: 5 },
      ],
    });
  });
  after(() => sim?.stop());

  it('starts one RTSP server process quickly', () => {
    assert.ok(sim.rtspPort > 0);
    assert.equal(rtspChildren(process.pid).length, 1);
    assert.ok(sim.startupMs.rtsp < 5000, `RTSP start took ${sim.startupMs.rtsp} ms`);
  });

  it('H.264 main stream plays at 1920x1080 and the sub stream at 640x360', async () => {
    const cam = sim.cameras[0];
    const main = await ffprobe(cam.rtspUrl(1, 'main'));
    assert.ok(main.ok, main.stderr);
    assert.deepEqual(main.streams[0], { codec_name: 'h264', width: 1920, height: 1080 });
    const sub = await ffprobe(cam.rtspUrl(1, 'sub'));
    assert.ok(sub.ok, sub.stderr);
    assert.deepEqual(sub.streams[0], { codec_name: 'h264', width: 640, height: 360 });
  });

  it('Hikvision main stream is real H.265', async () => {
    const probe = await ffprobe(sim.cameras[1].rtspUrl(1, 'main'));
    assert.ok(probe.ok, probe.stderr);
    assert.deepEqual(probe.streams[0], { codec_name: 'hevc', width: 1920, height: 1080 });
  });

  it('the Dahua URI from GetStreamUri plays once trimmed and &amp;-decoded', async () => {
    const client = newCam(sim.cameras[2]);
    await connectCam(client);
    const media = await camCall<{ uri: string }>((cb) => client.getStreamUri({ protocol: 'RTSP' }, cb));
    const uri = (media?.uri ?? '').trim();
    assert.match(uri, /\?channel=1&subtype=0&unicast=true&proto=Onvif$/);
    const probe = await ffprobe(uri);
    assert.ok(probe.ok, probe.stderr);
    assert.equal(probe.streams[0]?.codec_name, 'h264');
  });

  it('NVR channel 2 has its own stream', async () => {
    const probe = await ffprobe(sim.cameras[3].rtspUrl(2, 'sub'));
    assert.ok(probe.ok, probe.stderr);
    assert.deepEqual(probe.streams[0], { codec_name: 'h264', width: 640, height: 360 });
  });

  it('mainFps / subFps: streams at the rate asked for (12.5 as 25/2), FrameRateLimit rounded up, GovLength 2 s of frames', async () => {
    const cam = cameraById(sim, 'slow');
    for (const [stream, rate] of [
      ['main', '25/2'],
      ['sub', '5/1'],
    ] as const) {
      const r = await run(
        'ffprobe',
        [
          '-rtsp_transport',
          'tcp',
          '-v',
          'error',
          '-select_streams',
          'v:0',
          '-show_entries',
          'stream=codec_name,r_frame_rate',
          '-of',
          'csv=p=0',
          cam.rtspUrl(1, stream),
        ],
        { timeoutMs: 30_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `${stream === 'main' ? 'hevc' : 'h264'},${rate}`);
    }
    const raw = await soapCall(cam, `<GetProfiles xmlns="${TRT}"/>`, wsseHeader('admin', 'admin123', new Date()));
    assert.equal(raw.status, 200, raw.text);
    assert.deepEqual(
      [...raw.text.matchAll(/<tt:FrameRateLimit>([^<]*)</g)].map((m) => m[1]),
      ['13', '5'],
      'main, sub',
    );
    assert.deepEqual([cam.govLength(1, 'main'), cam.govLength(1, 'sub')], [25, 10]);
    for (const bad of [0, 0.5, 61, Number.NaN, '10'] as unknown[]) {
      assert.throws(() => resolveCamera({ host: '127.64.0.99', mainFps: bad as number }), /mainFps must be a number of frames per second from 1 to 60/);
    }
    assert.throws(() => resolveCamera({ host: '127.64.0.99', subFps: 100 }), /subFps .* got 100/);
  });

  it('a stream is only served on its own device address (the reported NAT host does not work)', async () => {
    const cam = sim.cameras[0];
    const viaReported = await ffprobe(`rtsp://127.99.99.99:${sim.rtspPort}/gen/ch1/main`);
    assert.equal(viaReported.ok, false);
    assert.match(viaReported.stderr, /404/);
    const viaOtherDevice = await ffprobe(`rtsp://127.64.0.2:${sim.rtspPort}/gen/ch1/main`);
    assert.equal(viaOtherDevice.ok, false);
    assert.ok(cam.rtspUrl(1, 'main').startsWith('rtsp://127.64.0.1:'));
  });
});

describe('simulator RTSP lifecycle and auth', () => {
  it('rtspAuth: the stream needs the device credentials (RTSP Digest)', async () => {
    const sim = await startSimulator({ rtspAuth: true, cameras: [{ host: '127.64.1.1', id: 'authcam' }] });
    try {
      const url = sim.cameras[0].rtspUrl(1, 'sub');
      const anonymous = await ffprobe(url);
      assert.equal(anonymous.ok, false);
      assert.match(anonymous.stderr, /401/);
      const wrong = await ffprobe(url.replace('rtsp://', 'rtsp://admin:nope@'));
      assert.equal(wrong.ok, false);
      const right = await ffprobe(url.replace('rtsp://', 'rtsp://admin:admin123@'));
      assert.ok(right.ok, right.stderr);
    } finally {
      await sim.stop();
    }
  });

  it('a Python without the GStreamer bindings gives an error naming the packages', async () => {
    // python3 -S skips site-packages, so `import gi` fails exactly as on a box without python3-gi.
    const dir = mkdtempSync(resolve(tmpdir(), 'camgate-sim-'));
    const fakePython = resolve(dir, 'python-without-gi');
    writeFileSync(fakePython, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    chmodSync(fakePython, 0o755);
    try {
      await assert.rejects(
        startSimulator({ rtspPython: fakePython, cameras: [{ host: '127.64.4.1' }] }),
        /GStreamer Python bindings are missing.*gir1\.2-gst-rtsp-server-1\.0.*python3-gst-1\.0/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The failed start released the device's sockets.
    const again = await startSimulator({ rtsp: false, cameras: [{ host: '127.64.4.1' }] });
    await again.stop();
  });

  it('stop() ends the RTSP server process', async () => {
    const sim = await startSimulator({ cameras: [{ host: '127.64.2.1' }] });
    const [pid] = rtspChildren(process.pid);
    assert.ok(pid);
    await sim.stop();
    assert.ok(await eventually(() => !pidAlive(pid), 3000), `rtsp_server.py ${pid} still alive after stop()`);
  });

  it('the RTSP server dies when its node parent is SIGKILLed', async () => {
    const entry = resolve(__dirname, '../../scripts/sim/index.js');
    const script = `
      const { startSimulator } = require(${JSON.stringify(entry)});
      const fs = require('fs');
      startSimulator({ cameras: [{ host: '127.64.3.1' }] }).then(() => {
        for (const tid of fs.readdirSync('/proc/self/task')) {
          for (const pid of fs.readFileSync('/proc/self/task/' + tid + '/children', 'utf8').split(/\\s+/).filter(Boolean)) console.log('CHILD ' + pid);
        }
        console.log('UP');
      });`;
    const { spawn } = await import('node:child_process');
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      assert.ok(await eventually(() => out.includes('UP'), 20_000), `child never came up: ${out}`);
      const pids = [...out.matchAll(/CHILD (\d+)/g)].map((m) => Number(m[1]));
      assert.equal(pids.length, 1, out);
      const python = pids[0];
      assert.ok(pidAlive(python));
      parent.kill('SIGKILL');
      assert.ok(await eventually(() => !pidAlive(python), 5000), `rtsp_server.py ${python} outlived its parent`);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    }
  });
});
