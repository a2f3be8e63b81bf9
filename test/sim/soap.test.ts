// ONVIF SOAP services of the simulator: through the `onvif` npm client and raw HTTP (subnet 127.62.0.0/16).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulator } from '../../scripts/sim/index';
import type { RunningSimCamera, Simulator } from '../../scripts/sim/types';
import { descendant, parseXml, type XmlElement } from '../../scripts/sim/xml';
import { camCall, cameraById, connectCam, httpRequest, newCam, soapCall, soapEnvelope, TDS, TRT, wsseHeader } from './helpers';
import { sleep } from '../kit/wait';

const TT = 'http://www.onvif.org/ver10/schema';
const HOUR = 3_600_000;

function all(el: XmlElement, ns: string, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    for (const c of e.children) {
      if (c.ns === ns && c.local === local) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}

describe('simulator SOAP services', () => {
  let sim: Simulator;
  const byVendor = (id: string): RunningSimCamera => cameraById(sim, id);

  before(async () => {
    sim = await startSimulator({
      rtsp: false,
      cameras: [
        { host: '127.62.0.1', id: 'generic', vendor: 'generic' },
        { host: '127.62.0.2', id: 'hik', vendor: 'hikvision' },
        { host: '127.62.0.3', id: 'dahua', vendor: 'dahua' },
        { host: '127.62.0.4', id: 'nvr', vendor: 'nvr' },
        { host: '127.62.0.5', id: 'tapo', vendor: 'tapo' },
        { host: '127.62.0.6', id: 'skewed', vendor: 'generic', auth: 'wsse', clockSkewMs: 2 * HOUR },
        { host: '127.62.0.7', id: 'natted', vendor: 'generic', reportedHost: '127.99.99.99', auth: 'none' },
        { host: '127.62.0.8', id: 'reboot', vendor: 'generic', auth: 'none', rebootDowntimeMs: 600 },
        { host: '127.62.0.9', id: 'settime', vendor: 'generic', auth: 'wsse' },
      ],
    });
  });
  after(() => sim?.stop());

  it('GetDeviceInformation over WS-Security with the onvif package (tapo: port 2020, /onvif/service)', async () => {
    const cam = byVendor('tapo');
    assert.equal(cam.spec.httpPort, 2020);
    assert.equal(cam.spec.auth, 'wsse');
    const client = newCam(cam);
    await connectCam(client);
    const info = await camCall(client.getDeviceInformation.bind(client));
    assert.equal(info?.manufacturer, 'tp-link');
    assert.equal(info?.model, 'Tapo C200');
    assert.equal(client.profiles?.length, 2);
  });

  it('GetDeviceInformation over HTTP Digest with the onvif package (hikvision, SHA-256 offered)', async () => {
    const cam = byVendor('hik');
    assert.equal(cam.spec.auth, 'digest');
    const client = newCam(cam);
    await connectCam(client);
    const info = await camCall(client.getDeviceInformation.bind(client));
    assert.equal(info?.manufacturer, 'HIKVISION');
    // The firmware is numeric-looking on purpose; onvif coerces it (our client must not).
    assert.equal(cam.spec.firmware, '5.70');
    // Both challenges are offered, MD5 first then SHA-256.
    const res = await soapCall(cam, `<GetDeviceInformation xmlns="${TDS}"/>`);
    assert.equal(res.status, 401);
    const authHeaders: string[] = [];
    for (let i = 0; i < res.rawHeaders.length; i += 2)
      if (res.rawHeaders[i]?.toLowerCase() === 'www-authenticate') authHeaders.push(res.rawHeaders[i + 1] ?? '');
    assert.equal(authHeaders.length, 2);
    assert.doesNotMatch(authHeaders[0] ?? '', /algorithm/);
    assert.match(authHeaders[1] ?? '', /algorithm="SHA-256"/);
    assert.match(authHeaders[0] ?? '', /qop="auth"/);
  });

  it('Digest also works on a "both" device when WS-Security is off (useWSSecurity: false)', async () => {
    const client = newCam(byVendor('generic'), { useWSSecurity: false });
    await connectCam(client);
    const info = await camCall(client.getDeviceInformation.bind(client));
    assert.equal(info?.manufacturer, 'Generic');
  });

  it('wrong WS-Security credentials: HTTP 400 with ter:NotAuthorized "Sender not Authorized"', async () => {
    const cam = byVendor('tapo');
    const client = newCam(cam, { password: 'wrong' });
    await assert.rejects(connectCam(client), /Sender not Authorized/);
    const raw = await soapCall(cam, `<GetDeviceInformation xmlns="${TDS}"/>`, wsseHeader(cam.spec.username, 'wrong', new Date()));
    assert.equal(raw.status, 400);
    const root = parseXml(raw.text);
    assert.equal(descendant(root, 'http://www.w3.org/2003/05/soap-envelope', 'Subcode')?.children[0]?.text, 'ter:NotAuthorized');
    assert.match(raw.text, /Sender not Authorized/);
  });

  it('wrong Digest credentials on hikvision: 401 with the "Document Error: Unauthorized" page', async () => {
    const cam = byVendor('hik');
    const client = newCam(cam, { password: 'wrong' });
    await assert.rejects(connectCam(client), /401/);
    const raw = await soapCall(cam, `<GetDeviceInformation xmlns="${TDS}"/>`);
    assert.equal(raw.status, 401);
    assert.match(String(raw.headers['content-type']), /text\/html/);
    assert.match(raw.text, /Document Error: Unauthorized/);
  });

  it('GetSystemDateAndTime needs no auth and reports UTC plus a contradictory TZ', async () => {
    const cam = byVendor('hik');
    const raw = await soapCall(cam, `<GetSystemDateAndTime xmlns="${TDS}"/>`);
    assert.equal(raw.status, 200);
    const root = parseXml(raw.text);
    assert.equal(descendant(root, TT, 'TZ')?.text, 'CST-8:00:00');
    const utc = descendant(root, TT, 'UTCDateTime');
    assert.ok(utc);
    const year = Number(descendant(utc, TT, 'Year')?.text);
    assert.equal(year, new Date().getUTCFullYear());
  });

  it('clock skew: onvif connect compensates it, a client ignoring it is refused', async () => {
    const cam = byVendor('skewed');
    const client = newCam(cam);
    await connectCam(client);
    // onvif's timeShift = device time - process uptime; compare with the box clock.
    const deviceNow = process.uptime() * 1000 + (client.timeShift ?? 0);
    assert.ok(Math.abs(deviceNow - (Date.now() + 2 * HOUR)) < 3000, `timeShift should reflect +2 h skew (got ${deviceNow - Date.now()} ms)`);
    const info = await camCall(client.getDeviceInformation.bind(client));
    assert.equal(info?.manufacturer, 'Generic');
    // Same credentials, box time in Created: outside the ±5 s window of the device clock.
    const naive = await soapCall(cam, `<GetDeviceInformation xmlns="${TDS}"/>`, wsseHeader('admin', 'admin123', new Date()));
    assert.equal(naive.status, 400);
    assert.match(naive.text, /ter:NotAuthorized/);
    const skewAware = await soapCall(cam, `<GetDeviceInformation xmlns="${TDS}"/>`, wsseHeader('admin', 'admin123', new Date(Date.now() + 2 * HOUR)));
    assert.equal(skewAware.status, 200);
  });

  it('SetSystemDateAndTime really moves the simulated clock', async () => {
    const cam = byVendor('settime');
    assert.equal(cam.clockSkewMs(), 0);
    const target = new Date(Date.now() - 5 * HOUR);
    const body =
      `<SetSystemDateAndTime xmlns="${TDS}"><DateTimeType>Manual</DateTimeType><DaylightSavings>false</DaylightSavings>` +
      `<TimeZone><TZ xmlns="${TT}">UTC0</TZ></TimeZone><UTCDateTime><Time xmlns="${TT}"><Hour>${target.getUTCHours()}</Hour><Minute>${target.getUTCMinutes()}</Minute><Second>${target.getUTCSeconds()}</Second></Time>` +
      `<Date xmlns="${TT}"><Year>${target.getUTCFullYear()}</Year><Month>${target.getUTCMonth() + 1}</Month><Day>${target.getUTCDate()}</Day></Date></UTCDateTime></SetSystemDateAndTime>`;
    const res = await soapCall(cam, body, wsseHeader('admin', 'admin123', new Date()));
    assert.equal(res.status, 200, res.text);
    assert.ok(Math.abs(cam.clockSkewMs() + 5 * HOUR) < 2000, `skew now ${cam.clockSkewMs()}`);
    const after = await soapCall(cam, `<GetSystemDateAndTime xmlns="${TDS}"/>`);
    assert.equal(descendant(parseXml(after.text), TT, 'TZ')?.text, 'UTC0');
    // Old-clock tokens are now refused, new-clock tokens accepted.
    assert.equal((await soapCall(cam, `<GetHostname xmlns="${TDS}"/>`, wsseHeader('admin', 'admin123', new Date()))).status, 400);
    assert.equal((await soapCall(cam, `<GetHostname xmlns="${TDS}"/>`, wsseHeader('admin', 'admin123', new Date(Date.now() - 5 * HOUR)))).status, 200);
  });

  it('NVR with 4 channels: 8 profiles, 4 video sources, sub profiles without Encoding', async () => {
    const cam = byVendor('nvr');
    const client = newCam(cam);
    await connectCam(client);
    assert.equal(client.profiles?.length, 8);
    assert.equal(client.activeSources?.length, 4);
    const raw = await soapCall(cam, `<GetProfiles xmlns="${TRT}"/>`, wsseHeader('admin', 'admin123', new Date()));
    const root = parseXml(raw.text);
    const profiles = all(root, TRT, 'Profiles');
    assert.equal(profiles.length, 8);
    const sources = new Set(profiles.map((p) => descendant(p, TT, 'SourceToken')?.text));
    assert.equal(sources.size, 4);
    const withoutEncoding = profiles.filter((p) => !descendant(p, TT, 'Encoding'));
    assert.equal(withoutEncoding.length, 4);
    const main = profiles.find((p) => descendant(p, TT, 'Encoding'));
    assert.equal(descendant(main, TT, 'Width')?.text, '1920');
    assert.equal(descendant(main, TT, 'FrameRateLimit')?.text, '25');
  });

  it('Hikvision H265: <tt:Encoding>H264 with encoding="H265" on VideoEncoderConfiguration', async () => {
    const cam = byVendor('hik');
    const client = newCam(cam);
    await connectCam(client);
    let xml = '';
    client.on('rawResponse', (x: string) => (xml = x));
    await camCall(client.getProfiles.bind(client));
    const root = parseXml(xml);
    const vec = all(root, TT, 'VideoEncoderConfiguration');
    assert.equal(vec.length, 2);
    assert.equal(vec[0]?.attrs.encoding, 'H265');
    assert.equal(descendant(vec[0], TT, 'Encoding')?.text, 'H264');
    assert.equal(vec[1]?.attrs.encoding, undefined, 'the sub stream is real H.264');
  });

  it('Dahua quirks in raw XML: &amp; in the URI, newline inside <tt:Uri>, InvalidAfterConnect, PT0S', async () => {
    const cam = byVendor('dahua');
    const client = newCam(cam);
    await connectCam(client);
    let xml = '';
    client.on('rawResponse', (x: string) => (xml = x));
    const uri = await camCall<{ uri: string }>((cb) => client.getStreamUri({ protocol: 'RTSP' }, cb));
    assert.match(xml, /<tt:Uri>\n\s+rtsp:\/\/127\.62\.0\.3:\d+\/dahua\/ch1\/main\?channel=1&amp;subtype=0&amp;unicast=true&amp;proto=Onvif<\/tt:Uri>/);
    assert.match(xml, /<tt:InvalidAfterConnect>true<\/tt:InvalidAfterConnect>/);
    assert.match(xml, /<tt:Timeout>PT0S<\/tt:Timeout>/);
    assert.match(xml, /^<\?xml version="1.0" encoding="utf-8" standalone="yes" \?><s:Envelope/);
    assert.ok(uri?.uri.trim().endsWith('&proto=Onvif'));
    let snap = '';
    client.on('rawResponse', (x: string) => (snap = x));
    await camCall((cb) => client.getSnapshotUri({}, cb));
    assert.match(snap, /snapshot\?channel=1&amp;subtype=0/);
  });

  it('stream and snapshot URIs carry reportedHost; the snapshot is a real JPEG', async () => {
    const cam = byVendor('natted');
    const uriRes = await soapCall(cam, `<GetStreamUri xmlns="${TRT}"><ProfileToken>Profile_1_main</ProfileToken></GetStreamUri>`);
    assert.equal(descendant(parseXml(uriRes.text), TT, 'Uri')?.text, `rtsp://127.99.99.99:554/natted/ch1/main`);
    const snapRes = await soapCall(cam, `<GetSnapshotUri xmlns="${TRT}"><ProfileToken>Profile_1_sub</ProfileToken></GetSnapshotUri>`);
    assert.equal(descendant(parseXml(snapRes.text), TT, 'Uri')?.text, 'http://127.99.99.99:80/snapshot/1');
    const jpeg = await httpRequest(cam.snapshotUrl(1));
    assert.equal(jpeg.status, 200);
    assert.equal(jpeg.headers['content-type'], 'image/jpeg');
    assert.deepEqual([...jpeg.body.subarray(0, 2)], [0xff, 0xd8]);
    assert.deepEqual([...jpeg.body.subarray(-2)], [0xff, 0xd9]);
    assert.equal((await httpRequest('http://127.62.0.7/snapshot/9')).status, 404);
  });

  it('snapshot on a digest device needs digest credentials', async () => {
    const cam = byVendor('hik');
    const res = await httpRequest(cam.snapshotUrl(1));
    assert.equal(res.status, 401);
    assert.ok(res.headers['www-authenticate']);
  });

  it('matches operations by namespace, not prefix; unknown ones get ter:ActionNotSupported', async () => {
    const cam = byVendor('natted');
    const odd = await httpRequest(cam.deviceUrl, {
      body: `<?xml version="1.0"?><MC9:Envelope xmlns:MC9="http://www.w3.org/2003/05/soap-envelope" xmlns:zz="${TDS}"><MC9:Body><zz:GetHostname/></MC9:Body></MC9:Envelope>`,
    });
    assert.equal(odd.status, 200);
    assert.match(odd.text, /GetHostnameResponse/);
    // Right local name, wrong namespace: not the device service's operation.
    const wrongNs = await soapCall(cam, `<GetHostname xmlns="http://example.com/not-onvif"/>`);
    assert.equal(wrongNs.status, 500);
    assert.match(wrongNs.text, /ter:ActionNotSupported/);
    const unknown = await soapCall(cam, `<GetZoomLevelOfTheMoon xmlns="${TDS}"/>`);
    assert.equal(unknown.status, 500);
    assert.match(unknown.text, /<SOAP-ENV:Subcode><SOAP-ENV:Value>ter:ActionNotSupported<\/SOAP-ENV:Value>/);
  });

  it('refuses DOCTYPE, malformed XML and SOAP 1.1 requests', async () => {
    const cam = byVendor('natted');
    const laughs = `<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>${soapEnvelope(`<GetHostname xmlns="${TDS}">&b;</GetHostname>`).replace(/^<\?xml[^>]*>/, '')}`;
    const r1 = await httpRequest(cam.deviceUrl, { body: laughs });
    assert.equal(r1.status, 400);
    assert.match(r1.text, /DOCTYPE/);
    const r2 = await httpRequest(cam.deviceUrl, { body: '<s:Envelope xmlns:s="x"><s:Body>' });
    assert.equal(r2.status, 400);
    const r3 = await httpRequest(cam.deviceUrl, {
      body: `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><GetHostname xmlns="${TDS}"/></e:Body></e:Envelope>`,
    });
    assert.equal(r3.status, 400);
    assert.match(r3.text, /VersionMismatch/);
  });

  it('GetNetworkInterfaces, GetScopes, GetCapabilities, GetServices answer with the device data', async () => {
    const cam = byVendor('natted');
    const nics = parseXml((await soapCall(cam, `<GetNetworkInterfaces xmlns="${TDS}"/>`)).text);
    assert.equal(descendant(nics, TT, 'HwAddress')?.text, cam.spec.mac);
    assert.equal(descendant(nics, TT, 'Address')?.text, '127.99.99.99');
    const scopes = (await soapCall(cam, `<GetScopes xmlns="${TDS}"/>`)).text;
    assert.match(scopes, /onvif:\/\/www.onvif.org\/name\/IPC%201080P/);
    const caps = parseXml((await soapCall(cam, `<GetCapabilities xmlns="${TDS}"><Category>All</Category></GetCapabilities>`)).text);
    const xaddrs = all(caps, TT, 'XAddr').map((e) => e.text);
    assert.deepEqual(xaddrs, ['http://127.99.99.99:80/onvif/device_service', 'http://127.99.99.99:80/onvif/media_service']);
    const services = (await soapCall(cam, `<GetServices xmlns="${TDS}"><IncludeCapability>false</IncludeCapability></GetServices>`)).text;
    assert.doesNotMatch(services, /ver20\/media/, 'Media2 is not advertised');
    assert.match(services, /ver10\/media\/wsdl/);
  });

  it('SystemReboot takes the device down for rebootDowntimeMs, then it answers again', async () => {
    const cam = byVendor('reboot');
    const res = await soapCall(cam, `<SystemReboot xmlns="${TDS}"/>`);
    assert.equal(res.status, 200);
    assert.match(res.text, /Rebooting/);
    await sleep(150);
    const down = await soapCall(cam, `<GetHostname xmlns="${TDS}"/>`).then(
      () => false,
      () => true,
    );
    assert.ok(down, 'device should refuse connections while rebooting');
    let back = false;
    const deadline = Date.now() + 3000;
    while (!back && Date.now() < deadline) {
      back = await soapCall(cam, `<GetHostname xmlns="${TDS}"/>`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!back) await sleep(100);
    }
    assert.ok(back, 'device should be back after its downtime');
  });
});
