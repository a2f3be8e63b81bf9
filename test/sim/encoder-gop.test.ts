// Keyframe interval (ONVIF GovLength) in the simulator: Media1 Get/SetVideoEncoderConfiguration(s),
// the real RTSP stream following a change (measured with ffprobe from PATH), and a device that
// refuses SetSynchronizationPoint. Loopback 127.86.0.0/16 belongs to this file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startSimulator } from '../../scripts/sim/index';
import type { RunningSimCamera, Simulator } from '../../scripts/sim/types';
import { parseXml, type XmlElement } from '../../scripts/sim/xml';
import { cameraById, soapCall, TRT, type HttpResult } from './helpers';
import { eventually } from '../kit/wait';

const TT = 'http://www.onvif.org/ver10/schema';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';

function all(el: XmlElement, ns: string, local: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.ns === ns && c.local === local ? [c] : []), ...all(c, ns, local)]);
}

/** Subcodes (outermost first) and reason of a SOAP fault answer. */
function faultOf(res: HttpResult): { subcodes: string[]; reason: string } {
  const root = parseXml(res.text);
  const code = all(root, SOAP12, 'Code')[0];
  assert.ok(code, `not a fault: ${res.text.slice(0, 300)}`);
  const subcodes = all(code, SOAP12, 'Subcode').map((s) => s.children.find((c) => c.local === 'Value')?.text ?? '');
  return { subcodes, reason: all(root, SOAP12, 'Text')[0]?.text ?? '' };
}

/** GovLength values by encoder configuration token, from any response listing encoder configurations. */
function govLengths(res: HttpResult, element: string): Map<string, number> {
  assert.equal(res.status, 200, res.text.slice(0, 500));
  const out = new Map<string, number>();
  for (const cfg of all(parseXml(res.text), element === 'VideoEncoderConfiguration' ? TT : TRT, element)) {
    out.set(cfg.attrs.token ?? '', Number(all(cfg, TT, 'GovLength')[0]?.text));
  }
  return out;
}

/** A SetVideoEncoderConfiguration body as a client echoing the Get answer sends it. */
function setBody(token: string, gov: string | null, opts: { codec?: 'H264' | 'H265'; persistence?: boolean; govNs?: string } = {}): string {
  const codec = opts.codec ?? 'H264';
  const govXml = gov === null ? '' : opts.govNs ? `<GovLength xmlns="${opts.govNs}">${gov}</GovLength>` : `<tt:GovLength>${gov}</tt:GovLength>`;
  return (
    `<SetVideoEncoderConfiguration xmlns="${TRT}"><Configuration xmlns:tt="${TT}" token="${token}">` +
    `<tt:Name>${token}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${codec}</tt:Encoding>` +
    '<tt:Resolution><tt:Width>320</tt:Width><tt:Height>240</tt:Height></tt:Resolution><tt:Quality>3</tt:Quality>' +
    '<tt:RateControl><tt:FrameRateLimit>5</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>64</tt:BitrateLimit></tt:RateControl>' +
    `<tt:${codec}>${govXml}<tt:${codec}Profile>Main</tt:${codec}Profile></tt:${codec}>` +
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    '<tt:SessionTimeout>PT60S</tt:SessionTimeout></Configuration>' +
    (opts.persistence === false ? '' : '<ForcePersistence>true</ForcePersistence>') +
    '</SetVideoEncoderConfiguration>'
  );
}

const getConfig = (cam: RunningSimCamera, token: string): Promise<HttpResult> =>
  soapCall(cam, `<GetVideoEncoderConfiguration xmlns="${TRT}"><ConfigurationToken>${token}</ConfigurationToken></GetVideoEncoderConfiguration>`);

interface Packet {
  pts: number;
  key: boolean;
}

/** ffprobe (from PATH) reads `seconds` of the stream's video packets (null: until the server ends the stream). */
function probePackets(url: string, seconds: number | null, timeoutMs = 30_000): { done: Promise<{ packets: Packet[]; stderr: string }>; kill: () => void } {
  const args = ['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0'];
  if (seconds !== null) args.push('-read_intervals', `%+${seconds}`);
  const proc = spawn('ffprobe', [...args, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ packets: Packet[]; stderr: string }>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', () => {
      clearTimeout(timer);
      const packets: Packet[] = [];
      for (const line of out.split('\n')) {
        const [pts, flags] = line.trim().split(',');
        if (pts && flags && pts !== 'N/A') packets.push({ pts: Number(pts), key: flags.startsWith('K') });
      }
      resolve({ packets, stderr });
    });
  });
  return { done, kill: () => proc.kill('SIGKILL') };
}

/** Seconds between successive keyframes. ffmpeg's RTP depacketiser may hand out the parameter
 * sets (config-interval=-1) as a packet of their own with the IDR's timestamp: one keyframe each. */
function keyframeGaps(packets: Packet[]): number[] {
  const keys = [...new Set(packets.filter((p) => p.key).map((p) => p.pts))];
  return keys.slice(1).map((t, i) => Math.round((t - (keys[i] ?? 0)) * 1000) / 1000);
}

function assertGaps(gaps: number[], expected: number, what: string, min = 2): void {
  assert.ok(gaps.length >= min, `${what}: need at least ${min} keyframe gaps, got ${JSON.stringify(gaps)}`);
  for (const g of gaps) assert.ok(Math.abs(g - expected) <= expected * 0.15, `${what}: keyframe gaps ${JSON.stringify(gaps)} s, expected ~${expected} s each`);
}

describe('simulator: keyframe interval (GovLength) and keyframe requests', () => {
  let sim: Simulator;
  const cam = (id: string): RunningSimCamera => cameraById(sim, id);

  before(async () => {
    sim = await startSimulator({
      cameras: [
        { host: '127.86.0.1', id: 'gop-gen', vendor: 'generic', auth: 'none' },
        { host: '127.86.0.2', id: 'gop-nokf', vendor: 'generic', auth: 'none', keyframeRequests: false },
        { host: '127.86.0.3', id: 'gop-hik', vendor: 'hikvision', auth: 'none' }, // H.265 main, encoding="H265" attribute
        { host: '127.86.0.4', id: 'gop-bad', vendor: 'generic', auth: 'none' }, // validation only
      ],
    });
  });
  after(() => sim?.stop());

  it('GetVideoEncoderConfigurations / GetVideoEncoderConfiguration report GovLength = fps * 2, GetProfiles the same', async () => {
    const c = cam('gop-gen');
    const list = await soapCall(c, `<GetVideoEncoderConfigurations xmlns="${TRT}"/>`);
    assert.deepEqual(
      [...govLengths(list, 'Configurations')],
      [
        ['VideoEncoder_1_main', 50],
        ['VideoEncoder_1_sub', 30],
      ],
    );
    const one = await getConfig(c, 'VideoEncoder_1_sub');
    assert.deepEqual([...govLengths(one, 'Configuration')], [['VideoEncoder_1_sub', 30]]);
    const root = parseXml(one.text);
    assert.equal(all(root, TT, 'FrameRateLimit')[0]?.text, '15');
    assert.equal(all(root, TT, 'Width')[0]?.text, '640');
    const profiles = await soapCall(c, `<GetProfiles xmlns="${TRT}"/>`);
    assert.deepEqual(
      [...govLengths(profiles, 'VideoEncoderConfiguration')],
      [
        ['VideoEncoder_1_main', 50],
        ['VideoEncoder_1_sub', 30],
      ],
    );
    assert.equal(c.govLength(1, 'sub'), 30);
    assert.equal(c.encoderChanges(), 0);
  });

  it('unknown configuration token: ter:InvalidArgVal / ter:NoConfig on Get and Set', async () => {
    const c = cam('gop-bad');
    const get = await getConfig(c, 'VideoEncoder_9_main');
    assert.equal(get.status, 400);
    assert.deepEqual(faultOf(get).subcodes, ['ter:InvalidArgVal', 'ter:NoConfig']);
    assert.match(faultOf(get).reason, /VideoEncoder_9_main/);
    const set = await soapCall(c, setBody('nope', '15'));
    assert.equal(set.status, 400);
    assert.deepEqual(faultOf(set).subcodes, ['ter:InvalidArgVal', 'ter:NoConfig']);
    assert.equal(c.encoderChanges(), 0);
  });

  it('bad SetVideoEncoderConfiguration (GovLength 0, 1000, "abc", wrong namespace, no ForcePersistence): ter:ConfigModify naming the problem, nothing changes', async () => {
    const c = cam('gop-bad');
    for (const gov of ['0', '1000', 'abc', '-5', '1.5']) {
      const res = await soapCall(c, setBody('VideoEncoder_1_sub', gov));
      assert.equal(res.status, 400, `GovLength ${gov}: ${res.text}`);
      const f = faultOf(res);
      assert.deepEqual(f.subcodes, ['ter:InvalidArgVal', 'ter:ConfigModify']);
      assert.match(f.reason, /GovLength must be an integer 1\.\.400/);
      assert.ok(f.reason.includes(`"${gov}"`), f.reason);
    }
    const wrongNs = await soapCall(c, setBody('VideoEncoder_1_sub', '15', { govNs: TRT }));
    assert.equal(wrongNs.status, 400);
    assert.match(faultOf(wrongNs).reason, /GovLength must be in the http:\/\/www\.onvif\.org\/ver10\/schema namespace/);
    const noPersist = await soapCall(c, setBody('VideoEncoder_1_sub', '15', { persistence: false }));
    assert.equal(noPersist.status, 400);
    assert.match(faultOf(noPersist).reason, /ForcePersistence/);
    assert.equal(c.govLength(1, 'sub'), 30);
    assert.deepEqual([...govLengths(await getConfig(c, 'VideoEncoder_1_sub'), 'Configuration')], [['VideoEncoder_1_sub', 30]]);
    assert.equal(c.encoderChanges(), 0);
    // Without a GovLength the call succeeds (other fields are accepted and ignored), nothing changes.
    const none = await soapCall(c, setBody('VideoEncoder_1_sub', null));
    assert.equal(none.status, 200, none.text);
    assert.equal(c.encoderChanges(), 1);
    assert.equal(c.govLength(1, 'sub'), 30);
    const root = parseXml((await getConfig(c, 'VideoEncoder_1_sub')).text);
    assert.equal(all(root, TT, 'Width')[0]?.text, '640', 'the resolution in the request is ignored');
    assert.equal(all(root, TT, 'BitrateLimit')[0]?.text, '512', 'the bitrate in the request is ignored');
  });

  it('H265/GovLength is applied too (Hikvision main stream, encoding="H265")', async () => {
    const c = cam('gop-hik');
    const res = await soapCall(c, setBody('VideoEncoder_1_main', '25', { codec: 'H265' }));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<trt:SetVideoEncoderConfigurationResponse\/>/);
    assert.deepEqual([...govLengths(await getConfig(c, 'VideoEncoder_1_main'), 'Configuration')], [['VideoEncoder_1_main', 25]]);
    assert.equal(c.govLength(1, 'main'), 25);
    assert.equal(c.govLength(1, 'sub'), 30);
    assert.equal(c.encoderChanges(), 1);
  });

  it('the real stream follows: ~2 s between keyframes, GovLength 15 on the 15 fps sub stream -> ~1 s; a viewer is dropped on the change', async () => {
    const c = cam('gop-gen');
    const url = c.rtspUrl(1, 'sub');
    const beforeChange = await probePackets(url, 5).done;
    assertGaps(keyframeGaps(beforeChange.packets), 2, `before (stderr: ${beforeChange.stderr.trim()})`);

    // A viewer that stays on: the encoder restart must not leave it on the old encoder (it is
    // dropped, as a camera does), and nobody after it may get the old media either.
    const viewer = probePackets(url, null, 60_000);
    let viewerClosed = false;
    void viewer.done.then(() => (viewerClosed = true));
    await new Promise((r) => setTimeout(r, 2600)); // past its second keyframe
    assert.equal(viewerClosed, false, 'the long-running viewer is playing');

    const res = await soapCall(c, setBody('VideoEncoder_1_sub', '15'));
    assert.equal(res.status, 200, res.text);
    assert.equal(c.encoderChanges(), 1);
    assert.equal(c.govLength(1, 'sub'), 15);
    assert.deepEqual(
      [...govLengths(await soapCall(c, `<GetProfiles xmlns="${TRT}"/>`), 'VideoEncoderConfiguration')],
      [
        ['VideoEncoder_1_main', 50],
        ['VideoEncoder_1_sub', 15],
      ],
    );
    assert.deepEqual([...govLengths(await getConfig(c, 'VideoEncoder_1_sub'), 'Configuration')], [['VideoEncoder_1_sub', 15]]);

    const dropped = await eventually(() => viewerClosed, 10_000);
    if (!dropped) viewer.kill();
    assert.ok(dropped, 'the viewer of the old encoder was dropped');
    const seen = await viewer.done;
    assertGaps(keyframeGaps(seen.packets), 2, 'the dropped viewer saw the old interval', 1);

    const afterChange = await probePackets(url, 5).done;
    console.log(
      `keyframe gaps (s) of the 15 fps sub stream: GovLength 30 ${JSON.stringify(keyframeGaps(beforeChange.packets))}, GovLength 15 ${JSON.stringify(keyframeGaps(afterChange.packets))}`,
    );
    assertGaps(keyframeGaps(afterChange.packets), 1, `after (stderr: ${afterChange.stderr.trim()})`);
    // The main stream of the same camera is untouched.
    const main = await probePackets(c.rtspUrl(1, 'main'), 4.5).done;
    assertGaps(keyframeGaps(main.packets), 2, 'main stream');
  });

  it('keyframeRequests: false -> SetSynchronizationPoint is ter:ActionNotSupported and not counted; the default device accepts it', async () => {
    const sync = (token: string) => `<SetSynchronizationPoint xmlns="${TRT}"><ProfileToken>${token}</ProfileToken></SetSynchronizationPoint>`;
    const refusing = cam('gop-nokf');
    const profiles = parseXml((await soapCall(refusing, `<GetProfiles xmlns="${TRT}"/>`)).text);
    const token = all(profiles, TRT, 'Profiles')[0]?.attrs.token ?? '';
    assert.ok(token);
    const res = await soapCall(refusing, sync(token));
    assert.equal(res.status, 500);
    assert.deepEqual(faultOf(res).subcodes, ['ter:ActionNotSupported']);
    assert.match(faultOf(res).reason, /SetSynchronizationPoint/);
    assert.equal(refusing.keyframeRequests(), 0);
    // Everything else on that device works.
    assert.equal((await getConfig(refusing, 'VideoEncoder_1_main')).status, 200);

    const ok = await soapCall(cam('gop-bad'), sync(token));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(cam('gop-bad').keyframeRequests(), 1);
  });
});
