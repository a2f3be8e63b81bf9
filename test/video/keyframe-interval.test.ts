// The live view's opt-in keyframe-interval fix (web.maxKeyframeIntervalSec): the encoder
// configuration XML (Media1 and Media2, read and written back with only GovLength changed), the
// keeper's decisions with fake drivers, LivePulls waiting for it before the first ffmpeg, and end
// to end against the simulator (real SOAP, real RTSP: the stream's keyframes really come closer).
// Loopback 127.87.0.0/16 belongs to this file.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { parseXml } from '../../drivers/xml';
import { encoderConfigurationOf, readKeyframeInterval, setKeyframeIntervalBody } from '../../drivers/onvif/encoder';
import { DriverError, type DeviceDriver, type KeyframeInterval } from '../../drivers/types';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import {
  keyframeIntervalKeeper,
  encoderChangedEvent,
  targetGovLength,
  RECHECK_MS,
  type KeyframeIntervalChange,
} from '../../agent/video/live/keyframe-interval';
import { UNSUPPORTED_RETRY_MS } from '../../agent/video/live/keyframe';
import type { OpenDriver } from '../../agent/inventory/device-driver';
import { LivePulls } from '../../agent/video/live/live-pull';
import { fakeSupervisor } from '../kit/supervisor';
import { startSimulator } from '../../scripts/sim/index';
import type { RunningSimCamera, Simulator } from '../../scripts/sim/types';
import { openDriver } from '../../drivers/index';
import { FfmpegSupervisor } from '../../agent/ffmpeg/supervisor';
import { inventorySource } from '../../agent/web/cameras';
import type { InitSegment, MediaFragment } from '../../agent/video/live/fmp4';
import { validatePayload, eventPayload } from '../../contract';
import { createLogger } from '../../lib/log';
import { clockReading } from '../kit/clock';
import type { LiveMessage } from '../../agent/video/live/types';
import { waitFor } from '../kit/wait';
import { deviceReport } from '../kit/reports';

const TT = 'http://www.onvif.org/ver10/schema';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'camgate-gop-'));
}

// ---------------------------------------------------------------------------------------------
// Encoder configuration XML

const MEDIA1_PROFILE = `<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="${TT}" xmlns:hik="http://www.hikvision.com/ver10/schema">
<s:Body><trt:GetProfileResponse><trt:Profile token="Profile_102" fixed="true"><tt:Name>subStream</tt:Name>
<tt:VideoSourceConfiguration token="VideoSourceToken"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>
<tt:VideoEncoderConfiguration token="VideoEncoderToken_102" encoding="H265"><tt:Name>VideoEncoder_102</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>
<tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution><tt:Quality>3.000000</tt:Quality>
<tt:RateControl><tt:FrameRateLimit>15</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>512</tt:BitrateLimit></tt:RateControl>
<tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>
<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>8866</tt:Port><tt:TTL>128</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>
<tt:SessionTimeout>PT5S</tt:SessionTimeout><tt:Extension><hik:Smart>true &amp; on</hik:Smart></tt:Extension></tt:VideoEncoderConfiguration>
</trt:Profile></trt:GetProfileResponse></s:Body></s:Envelope>`;

const MEDIA2_CONFIGS = `<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tr2="http://www.onvif.org/ver20/media/wsdl" xmlns:tt="${TT}">
<s:Body><tr2:GetVideoEncoderConfigurationsResponse><tr2:Configurations token="enc_sub" GovLength="60" Profile="Main">
<tt:Name>sub</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H265</tt:Encoding><tt:Resolution><tt:Width>704</tt:Width><tt:Height>576</tt:Height></tt:Resolution>
<tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>20</tt:FrameRateLimit><tt:BitrateLimit>768</tt:BitrateLimit></tt:RateControl>
<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>239.0.0.1</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>
<tt:Quality>4</tt:Quality></tr2:Configurations></tr2:GetVideoEncoderConfigurationsResponse></s:Body></s:Envelope>`;

function body(xml: string) {
  const env = parseXml(xml);
  return env.children.find((c) => c.name === 'Body')!.children[0];
}

test('encoder XML, Media1: GovLength and frame rate read; Set sends the configuration back with only GovLength changed', () => {
  const config = encoderConfigurationOf(body(MEDIA1_PROFILE), 'media')!;
  assert.ok(config);
  assert.deepEqual(readKeyframeInterval(config, 'media'), {
    configurationToken: 'VideoEncoderToken_102',
    govLength: 50,
    fps: 15,
    codec: 'H265',
    seconds: 3.33,
  });

  const set = setKeyframeIntervalBody(config, 'media', 15);
  // Well-formed, and reads back as the same configuration with the new GovLength.
  const echoed = parseXml(set);
  assert.equal(echoed.name, 'SetVideoEncoderConfiguration');
  assert.match(set, /^<SetVideoEncoderConfiguration xmlns="http:\/\/www\.onvif\.org\/ver10\/media\/wsdl">/);
  const sent = echoed.children.find((c) => c.name === 'Configuration')!;
  assert.deepEqual(readKeyframeInterval(sent, 'media'), { configurationToken: 'VideoEncoderToken_102', govLength: 15, fps: 15, codec: 'H265', seconds: 1 });
  assert.equal(sent.attrs.encoding, 'H265', "Hikvision's codec attribute goes back as it came");
  assert.deepEqual(
    sent.children.map((c) => c.name),
    ['Name', 'UseCount', 'Encoding', 'Resolution', 'Quality', 'RateControl', 'H264', 'Multicast', 'SessionTimeout'],
    'schema order kept; the vendor Extension left out',
  );
  assert.match(set, /<tt:Quality>3\.000000<\/tt:Quality>/, 'values untouched, as sent');
  assert.match(set, /<tt:Port>8866<\/tt:Port>/);
  assert.match(set, /<tt:H264Profile>Main<\/tt:H264Profile>/);
  assert.match(set, /<ForcePersistence>true<\/ForcePersistence><\/SetVideoEncoderConfiguration>$/);
  assert.doesNotMatch(set, /hik:|Smart/);
  assert.throws(() => setKeyframeIntervalBody(config, 'media', 0), RangeError);
  assert.throws(() => setKeyframeIntervalBody(config, 'media', 2.5), RangeError);
});

test('encoder XML, Media2: GovLength is an attribute; no ForcePersistence; a MJPEG stream has no GovLength to set', () => {
  const config = encoderConfigurationOf(body(MEDIA2_CONFIGS), 'media2')!;
  assert.deepEqual(readKeyframeInterval(config, 'media2'), { configurationToken: 'enc_sub', govLength: 60, fps: 20, codec: 'H265', seconds: 3 });
  const set = setKeyframeIntervalBody(config, 'media2', 20);
  assert.match(set, /^<SetVideoEncoderConfiguration xmlns="http:\/\/www\.onvif\.org\/ver20\/media\/wsdl">/);
  assert.doesNotMatch(set, /ForcePersistence/);
  const sent = parseXml(set).children[0];
  assert.deepEqual(readKeyframeInterval(sent, 'media2'), { configurationToken: 'enc_sub', govLength: 20, fps: 20, codec: 'H265', seconds: 1 });
  assert.equal(sent.attrs.Profile, 'Main');
  assert.equal(sent.children.find((c) => c.name === 'RateControl')!.attrs.ConstantBitRate, 'false');

  const mjpeg = parseXml(
    `<Configuration xmlns:tt="${TT}" token="jpeg"><tt:Encoding>JPEG</tt:Encoding><tt:RateControl><tt:FrameRateLimit>5</tt:FrameRateLimit></tt:RateControl></Configuration>`,
  );
  assert.deepEqual(readKeyframeInterval(mjpeg, 'media'), { configurationToken: 'jpeg', fps: 5, codec: 'JPEG' });
  assert.throws(
    () => setKeyframeIntervalBody(mjpeg, 'media', 5),
    (e: unknown) => e instanceof DriverError && e.code === 'unsupported',
  );
  assert.throws(
    () => readKeyframeInterval(parseXml('<Configuration/>'), 'media'),
    (e: unknown) => e instanceof DriverError && e.code === 'malformed',
  );
});

test('targetGovLength: whole frames, at least one', () => {
  assert.equal(targetGovLength(1, 25), 25);
  assert.equal(targetGovLength(1, 15), 15);
  assert.equal(targetGovLength(1.5, 15), 22);
  assert.equal(targetGovLength(0.1, 5), 1);
  assert.equal(targetGovLength(0.2, 15), 3);
});

// ---------------------------------------------------------------------------------------------
// The keeper with fake drivers

/** A fake ONVIF camera: encoder configurations by profile token, with the calls it got. */
class FakeCamera {
  readonly calls: string[] = [];
  closed = 0;
  fail: DriverError | undefined;
  /** profile token -> configuration */
  readonly configs = new Map<string, { token: string; govLength?: number; fps?: number }>();

  driver(): DeviceDriver {
    return {
      kind: 'onvif',
      keyframeInterval: async (profile: string): Promise<KeyframeInterval> => {
        this.calls.push(`get ${profile}`);
        if (this.fail) throw this.fail;
        const c = this.configs.get(profile);
        if (!c) throw new DriverError('device-fault', `no profile ${profile}`);
        return {
          configurationToken: c.token,
          ...(c.govLength !== undefined ? { govLength: c.govLength } : {}),
          ...(c.fps !== undefined ? { fps: c.fps } : {}),
        };
      },
      setKeyframeInterval: async (profile: string, govLength: number) => {
        this.calls.push(`set ${profile} ${govLength}`);
        if (this.fail) throw this.fail;
        // several profiles may point at one configuration
        const token = this.configs.get(profile)!.token;
        for (const c of this.configs.values()) if (c.token === token) c.govLength = govLength;
      },
      close: () => void this.closed++,
    } as unknown as DeviceDriver;
  }
}

test('keyframeIntervalKeeper: sets a long sub-stream GOP to maxSec of frames once; main, RTSP-only, off, shared configurations and short GOPs are left alone', async () => {
  const dir = tempDir();
  const db: Database = openDatabase(join(dir, 'data'));
  try {
    const cam = upsertDeviceReport(db, deviceReport('127.87.1.1', 'onvif', ['P_main', 'P_sub']), { now: new Date() }).cameras[0].id;
    const single = upsertDeviceReport(db, deviceReport('127.87.1.2', 'onvif', ['Only']), { now: new Date() }).cameras[0].id;
    const shared = upsertDeviceReport(db, deviceReport('127.87.1.3', 'onvif', ['S_main', 'S_sub']), { now: new Date() }).cameras[0].id;
    const short = upsertDeviceReport(db, deviceReport('127.87.1.4', 'onvif', ['Q_main', 'Q_sub']), { now: new Date() }).cameras[0].id;
    const rtsp = upsertDeviceReport(db, deviceReport('127.87.1.5', 'rtsp', ['live']), { now: new Date() }).cameras[0].id;
    const cameras = new Map<string, FakeCamera>();
    const fake = (host: string): FakeCamera => {
      if (!cameras.has(host)) cameras.set(host, new FakeCamera());
      return cameras.get(host)!;
    };
    fake('127.87.1.1').configs.set('P_main', { token: 'E_main', govLength: 50, fps: 25 }).set('P_sub', { token: 'E_sub', govLength: 30, fps: 15 });
    fake('127.87.1.2').configs.set('Only', { token: 'E_only', govLength: 100, fps: 25 });
    fake('127.87.1.3').configs.set('S_main', { token: 'E_one', govLength: 50, fps: 25 }).set('S_sub', { token: 'E_one', govLength: 50, fps: 25 });
    fake('127.87.1.4').configs.set('Q_main', { token: 'F_main', govLength: 50, fps: 25 }).set('Q_sub', { token: 'F_sub', govLength: 10, fps: 15 });
    const open: OpenDriver = (target, creds, options) => {
      assert.deepEqual(creds, { username: 'u', password: 'p' });
      assert.equal(options?.timeoutMs, 999);
      return fake(target.kind === 'onvif' ? target.host : '?').driver();
    };
    let now = 5_000_000;
    const changes: KeyframeIntervalChange[] = [];
    const keeper = keyframeIntervalKeeper(db, () => ({ username: 'u', password: 'p' }), open, 999, {
      maxSec: 1,
      clock: clockReading(() => now),
      onChanged: (c) => changes.push(c),
    });

    const first = await keeper(cam, 'sub');
    assert.equal(first.action, 'changed');
    const expected: KeyframeIntervalChange = {
      cameraId: cam,
      stream: 'sub',
      profileToken: 'P_sub',
      configurationToken: 'E_sub',
      fps: 15,
      fromGovLength: 30,
      toGovLength: 15,
      fromSec: 2,
      toSec: 1,
    };
    assert.deepEqual(changes, [expected]);
    assert.deepEqual(fake('127.87.1.1').calls, ['get P_sub', 'get P_main', 'set P_sub 15', 'get P_sub'], 'main read only to compare configurations, never set');
    assert.equal(fake('127.87.1.1').configs.get('P_main')!.govLength, 50);
    assert.equal(fake('127.87.1.1').closed, 1);

    // Not read again within a day; read again after.
    assert.equal((await keeper(cam, 'sub')).action, 'skipped');
    assert.equal(fake('127.87.1.1').calls.length, 4);
    now += RECHECK_MS;
    const again = await keeper(cam, 'sub');
    assert.deepEqual(again, { action: 'kept', interval: { configurationToken: 'E_sub', govLength: 15, fps: 15 } });
    assert.equal(fake('127.87.1.1').calls.length, 5);

    // Never the main stream; never a camera whose "sub" is its only (main) profile; nothing for RTSP-only.
    const main = await keeper(cam, 'main');
    assert.equal(main.action, 'skipped');
    assert.match((main as { reason: string }).reason, /only sub streams/);
    assert.match(((await keeper(single, 'sub')) as { reason: string }).reason, /no separate sub stream/);
    assert.match(((await keeper(rtsp, 'sub')) as { reason: string }).reason, /RTSP-only/);
    assert.deepEqual(fake('127.87.1.2').calls, []);
    // The sub profile shares its encoder configuration with main: changing it would change the recording.
    assert.match(((await keeper(shared, 'sub')) as { reason: string }).reason, /shares its encoder configuration/);
    assert.deepEqual(fake('127.87.1.3').calls, ['get S_sub', 'get S_main']);
    // Already short enough: kept, no set.
    assert.equal((await keeper(short, 'sub')).action, 'kept');
    assert.deepEqual(fake('127.87.1.4').calls, ['get Q_sub']);
    assert.equal(changes.length, 1);
    await assert.rejects(keeper('no-such-camera', 'sub'), /no camera "no-such-camera"/);

    // Off (the default): nothing is opened at all.
    let opened = 0;
    const off = keyframeIntervalKeeper(
      db,
      () => undefined,
      () => (opened++, fake('x').driver()),
      999,
      { maxSec: 0 },
    );
    assert.match(((await off(cam, 'sub')) as { reason: string }).reason, /maxKeyframeIntervalSec is 0/);
    assert.equal(opened, 0);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keyframeIntervalKeeper: a refusal is remembered for an hour, a timeout is not; concurrent pulls of one camera share one check', async () => {
  const dir = tempDir();
  const db: Database = openDatabase(join(dir, 'data'));
  try {
    const cam = upsertDeviceReport(db, deviceReport('127.87.2.1', 'onvif', ['P_main', 'P_sub']), { now: new Date() }).cameras[0].id;
    const camera = new FakeCamera();
    camera.configs.set('P_main', { token: 'E_main', govLength: 50, fps: 25 }).set('P_sub', { token: 'E_sub', govLength: 60, fps: 15 });
    let now = 1_000;
    const keeper = keyframeIntervalKeeper(
      db,
      () => undefined,
      () => camera.driver(),
      999,
      { maxSec: 2, clock: clockReading(() => now) },
    );

    camera.fail = new DriverError('timeout', 'no answer from 127.87.2.1:80 within 999 ms (GetProfile)');
    await assert.rejects(keeper(cam, 'sub'), (e: unknown) => e instanceof DriverError && e.code === 'timeout');
    camera.fail = new DriverError('device-fault', '127.87.2.1:80 answered a fault: ter:ConfigModify GovLength out of range');
    await assert.rejects(keeper(cam, 'sub'), (e: unknown) => e instanceof DriverError && e.code === 'device-fault');
    assert.equal(camera.calls.length, 2, 'the timeout did not stop the next pull from trying');
    assert.equal((await keeper(cam, 'sub')).action, 'skipped', 'the refusal is remembered');
    now += UNSUPPORTED_RETRY_MS;
    camera.fail = undefined;
    // Two pulls (MSE and JSMpeg) at once: one check, one change.
    const [a, b] = await Promise.all([keeper(cam, 'sub'), keeper(cam, 'sub')]);
    assert.equal(a, b);
    assert.equal(a.action, 'changed');
    assert.deepEqual(camera.calls.slice(2), ['get P_sub', 'get P_main', 'set P_sub 30', 'get P_sub']);
    assert.equal(camera.closed, 3);

    // The event it becomes is valid against the contract.
    const event = encoderChangedEvent((a as { change: KeyframeIntervalChange }).change);
    assert.equal(event.type, 'camera-encoder-changed');
    assert.deepEqual(event.detail, {
      stream: 'sub',
      setting: 'govLength',
      profileToken: 'P_sub',
      configurationToken: 'E_sub',
      from: 60,
      to: 30,
      fps: 15,
      fromSec: 4,
      toSec: 2,
    });
    const checked = validatePayload('event', { ...eventPayload('site-1', event, new Date()), seq: 1 });
    assert.equal(checked.ok, true, JSON.stringify(checked));
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// LivePulls: prepare runs before the first ffmpeg, bounded, failures logged

test('live pulls: prepare is awaited before the first run, not again for restarts; a slow or failing prepare does not hold the pull', async () => {
  const sup = fakeSupervisor();
  const lines: string[] = [];
  const prepared: string[] = [];
  let release: () => void = () => undefined;
  let mode: 'wait' | 'hang' | 'fail' = 'wait';
  const pulls = new LivePulls({
    supervise: sup.supervise,
    resolve: () => ({ url: 'rtsp://127.87.3.1:554/a', codec: 'H264' }),
    config: { lingerSec: 0, maxViewers: 8, fallbackWidth: 640, fallbackBitrateKbps: 500 },
    mpeg1FfmpegPath: '/usr/bin/ffmpeg',
    mpeg1Launch: () => new EventEmitter() as unknown as ChildProcess,
    logger: createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } }),
    prepareTimeoutMs: 300,
    prepare: (camera, stream) => {
      prepared.push(`${camera}/${stream}`);
      if (mode === 'fail') return Promise.reject(new Error('camera refused GovLength 15'));
      return new Promise<string>((resolve) => {
        if (mode === 'wait') release = () => resolve('changed');
      });
    },
  });
  const viewer = { bufferedAmount: 0, send: () => undefined };
  try {
    const session = await pulls.join('cam1', { stream: 'sub' }, viewer);
    const args = sup.procs[0].options.args as () => Promise<string[]>;
    let got: string[] | undefined;
    const first = args().then((a) => (got = a));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got, undefined, 'ffmpeg waits for prepare');
    release();
    await first;
    assert.ok(got!.includes('rtsp://127.87.3.1:554/a'));
    await args(); // a restart: prepare is not run again
    assert.deepEqual(prepared, ['cam1/sub']);
    session.leave();

    // A prepare that never ends: the pull starts after prepareTimeoutMs.
    mode = 'hang';
    const s2 = await pulls.join('cam2', { stream: 'sub' }, viewer);
    const t0 = Date.now();
    await (sup.procs[1].options.args as () => Promise<string[]>)();
    const waited = Date.now() - t0;
    assert.ok(waited >= 250 && waited < 3000, `started after the limit (${waited} ms)`);
    s2.leave();

    // A failing prepare: logged at warn with the reason, the pull starts at once.
    mode = 'fail';
    const s3 = await pulls.join('cam3', { stream: 'main' }, viewer);
    await (sup.procs[2].options.args as () => Promise<string[]>)();
    assert.ok(
      lines.some((l) => /preparing the camera failed/.test(l) && /GovLength 15/.test(l) && /"level":40/.test(l)),
      lines.join('\n'),
    );
    s3.leave();
    assert.deepEqual(prepared, ['cam1/sub', 'cam2/sub', 'cam3/main']);
  } finally {
    await pulls.close();
  }
});

// ---------------------------------------------------------------------------------------------
// End to end against the simulator: real SOAP, real RTSP, real ffmpeg

const CREDS = { username: 'admin', password: 'admin123' };

describe('keyframe interval against the simulator', () => {
  let sim: Simulator;
  const cam = (host: string): RunningSimCamera => sim.cameras.find((c) => c.spec.host === host)!;

  before(async () => {
    sim = await startSimulator({
      cameras: [
        { host: '127.87.0.2', id: 'gop-gen', vendor: 'generic', keyframeRequests: false },
        { host: '127.87.0.3', id: 'gop-hik', vendor: 'hikvision' }, // Digest, H.265 main with the codec in an attribute
        { host: '127.87.0.4', id: 'gop-live', vendor: 'generic', keyframeRequests: false },
      ],
    });
  });
  after(async () => {
    await sim?.stop();
  });

  test('driver: keyframeInterval reads GovLength/fps (Media1); setKeyframeInterval changes only the sub stream in the camera', async () => {
    for (const host of ['127.87.0.2', '127.87.0.3']) {
      const c = cam(host);
      const d = openDriver({ kind: 'onvif', host }, CREDS, { timeoutMs: 5000 });
      try {
        const [main, sub] = (await d.report()).channels[0].profiles;
        const before = await d.keyframeInterval!(sub.token);
        assert.deepEqual(
          { ...before, codec: undefined },
          { configurationToken: 'VideoEncoder_1_sub', govLength: 30, fps: 15, seconds: 2, codec: undefined },
          host,
        );
        const mainBefore = await d.keyframeInterval!(main.token);
        assert.equal(mainBefore.govLength, 50, host);
        await d.setKeyframeInterval!(sub.token, 15);
        assert.equal((await d.keyframeInterval!(sub.token)).govLength, 15, host);
        assert.equal(c.govLength(1, 'sub'), 15, `${host}: the simulator's encoder setting changed`);
        assert.equal(c.govLength(1, 'main'), 50, `${host}: main untouched`);
        assert.equal(c.encoderChanges(), 1, host);
        // Out of the device's range: its fault comes back as a DriverError naming the device.
        await assert.rejects(
          d.setKeyframeInterval!(sub.token, 1000),
          (e: unknown) => e instanceof DriverError && e.code === 'device-fault' && e.message.includes(host) && /GovLength/.test(e.message),
        );
        assert.equal(c.govLength(1, 'sub'), 15);
        await assert.rejects(d.keyframeInterval!('NoSuchProfile'), (e: unknown) => e instanceof DriverError && /NoSuchProfile|profile/i.test(e.message));
      } finally {
        d.close();
      }
    }
  });

  test('live pull with the real supervisor and the keeper as prepare: the sub GOP is shortened before ffmpeg starts; the stream then has a keyframe every second', async () => {
    const dir = tempDir();
    const db = openDatabase(join(dir, 'data'));
    const logger = createLogger({ level: 'silent' });
    const supervisor = new FfmpegSupervisor({
      binary: { path: '/usr/bin/ffmpeg', source: 'path' as const },
      defaults: { stallTimeoutMs: 15_000, restartMinMs: 300, restartMaxMs: 2000 },
      logger,
    });
    const c = cam('127.87.0.4');
    try {
      const d = openDriver({ kind: 'onvif', host: c.spec.host }, CREDS, { timeoutMs: 5000 });
      const cameraId = upsertDeviceReport(db, await d.report(), { now: new Date() }).cameras[0].id;
      d.close();
      // The camera ignores keyframe requests, so without the keeper a pull would wait up to 2 s.
      assert.equal(c.govLength(1, 'sub'), 30);
      const changes: KeyframeIntervalChange[] = [];
      const keeper = keyframeIntervalKeeper(db, () => CREDS, openDriver, 5000, { maxSec: 1, onChanged: (x) => changes.push(x) });
      let changesWhenFfmpegAsked = -1;
      const pulls = new LivePulls({
        supervise: (o) =>
          supervisor.supervise({
            ...o,
            args: async () => {
              const a = await (o.args as () => Promise<string[]>)();
              if (changesWhenFfmpegAsked < 0) changesWhenFfmpegAsked = c.encoderChanges();
              return a;
            },
          }),
        resolve: inventorySource(db, () => undefined),
        config: { lingerSec: 0, maxViewers: 8, fallbackWidth: 640, fallbackBitrateKbps: 500 },
        mpeg1FfmpegPath: '/usr/bin/ffmpeg',
        logger,
        prepare: keeper,
      });
      const got: LiveMessage[] = [];
      const session = await pulls.join(cameraId, { stream: 'sub' }, { bufferedAmount: 0, send: (m) => got.push(m) });
      const keyTimes = (): number[] => {
        const init = got.find((m) => m.type === 'init') as { init: InitSegment } | undefined;
        if (!init) return [];
        return (
          got
            .filter((m): m is { type: 'fragment'; fragment: MediaFragment } => m.type === 'fragment' && m.fragment.keyframe)
            .map((m) => (m.fragment.baseMediaDecodeTime ?? NaN) / init.init.timescale)
            // ffmpeg may write a keyframe's in-band parameter sets as a one-tick fragment of its own, flagged as a keyframe too
            .filter((t, i, all) => i === 0 || t - all[i - 1] > 0.05)
        );
      };
      await waitFor(() => keyTimes().length >= 4, 'four keyframes');
      assert.equal(got.filter((m) => m.type === 'init').length, 1, 'one ffmpeg run: the change was applied before the pull, not during it');
      session.leave();
      await pulls.close();

      assert.equal(changesWhenFfmpegAsked, 1, 'the camera was changed before the pull started');
      assert.equal(c.govLength(1, 'sub'), 15);
      assert.equal(c.govLength(1, 'main'), 50);
      assert.equal(changes.length, 1);
      assert.deepEqual(
        { ...changes[0], cameraId: 'x' },
        {
          cameraId: 'x',
          stream: 'sub',
          profileToken: changes[0].profileToken,
          configurationToken: 'VideoEncoder_1_sub',
          fps: 15,
          fromGovLength: 30,
          toGovLength: 15,
          fromSec: 2,
          toSec: 1,
        },
      );
      const times = keyTimes();
      const gaps = times.slice(1).map((t, i) => Math.round((t - times[i]) * 100) / 100);
      console.log(`keyframes in the pull after the change, every ${gaps.join(', ')} s (media time)`);
      for (const g of gaps) assert.ok(g > 0.8 && g < 1.2, `keyframes every ~1 s in media time, got ${gaps.join(', ')}`);
      // A second pull within the day: nothing asked of the camera.
      assert.equal((await keeper(cameraId, 'sub')).action, 'skipped');
      assert.equal(c.encoderChanges(), 1);
    } finally {
      await supervisor.stopAll();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
