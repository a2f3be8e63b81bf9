import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, soapBody, type XmlElement } from '../../drivers/xml';
import {
  parseCapabilities,
  parseDeviceInformation,
  parseDeviceUtc,
  parseMac,
  parseProfiles,
  parseServices,
  parseVideoSources,
} from '../../drivers/onvif/parse';
import { parseProbeAnswer, buildProbe } from '../../drivers/onvif/probe-message';
import { targetFromProbeMatch } from '../../drivers';
import { fixture } from './helpers/fixtures';
import { normalizeCodec, normalizeMac, normalizeEndpointUuid } from '../../drivers/ids';

function response(xml: string): XmlElement {
  return soapBody(parseXml(xml))!.children[0];
}

const env = (inner: string) =>
  `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><SOAP-ENV:Body>${inner}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;

test('device information keeps numeric-looking strings as strings', () => {
  const info = parseDeviceInformation(
    response(
      env(
        '<tds:GetDeviceInformationResponse><tds:Manufacturer>HIKVISION</tds:Manufacturer><tds:Model>DS-2CD2043G0-I</tds:Model><tds:FirmwareVersion>1.00</tds:FirmwareVersion><tds:SerialNumber>0012345</tds:SerialNumber><tds:HardwareId>88</tds:HardwareId></tds:GetDeviceInformationResponse>',
      ),
    ),
  );
  assert.deepEqual(info, { manufacturer: 'HIKVISION', model: 'DS-2CD2043G0-I', firmware: '1.00', serial: '0012345', hardwareId: '88' });
  assert.deepEqual(parseDeviceInformation(response(fixture('agsh-mockup/GetDeviceInformation.xml'))), {
    manufacturer: 'Mockup Manufacturer',
    model: 'Mockup Model',
    firmware: 'Mockup_15_14_13',
    serial: '00000000',
    hardwareId: 'MOCKUP',
  });
});

test('MAC: first enabled interface, normalised to lower-case colons', () => {
  const nics = response(
    env(
      '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth1"><tt:Enabled>false</tt:Enabled><tt:Info><tt:HwAddress>00:11:22:33:44:55</tt:HwAddress></tt:Info></tds:NetworkInterfaces>' +
        '<tds:NetworkInterfaces token="eth0"><tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>eth0</tt:Name><tt:HwAddress>44-19-B6-0A-0B-0C</tt:HwAddress></tt:Info></tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>',
    ),
  );
  assert.equal(parseMac(nics), '44:19:b6:0a:0b:0c');
  assert.equal(normalizeMac('4419B60A0B0C'), '44:19:b6:0a:0b:0c');
  assert.equal(normalizeMac('00:00:00:00:00:00'), undefined);
  assert.equal(normalizeMac('garbage'), undefined);
});

test('clock: UTCDateTime only; the contradictory time zone is informational', () => {
  const r = parseDeviceUtc(
    response(
      env(
        '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
          '<tt:TimeZone><tt:TZ>CST+3:00:00</tt:TZ></tt:TimeZone>' +
          '<tt:UTCDateTime><tt:Time><tt:Hour>10</tt:Hour><tt:Minute>04</tt:Minute><tt:Second>05</tt:Second></tt:Time><tt:Date><tt:Year>2024</tt:Year><tt:Month>2</tt:Month><tt:Day>29</tt:Day></tt:Date></tt:UTCDateTime>' +
          '<tt:LocalDateTime><tt:Time><tt:Hour>13</tt:Hour><tt:Minute>4</tt:Minute><tt:Second>5</tt:Second></tt:Time><tt:Date><tt:Year>2024</tt:Year><tt:Month>2</tt:Month><tt:Day>29</tt:Day></tt:Date></tt:LocalDateTime>' +
          '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>',
      ),
    ),
  );
  assert.equal(r.utcMs, Date.UTC(2024, 1, 29, 10, 4, 5));
  assert.equal(r.timeZone, 'CST+3:00:00');
  const noUtc = parseDeviceUtc(
    response(
      env(
        '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:TimeZone><tt:TZ>BRT3</tt:TZ></tt:TimeZone></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>',
      ),
    ),
  );
  assert.deepEqual(noUtc, { timeZone: 'BRT3' });
});

test('services and capabilities (Dahua fixture) give the service XAddrs', () => {
  const caps = parseCapabilities(response(fixture('dahua/GetCapabilities.xml')));
  assert.equal(caps.device, 'http://192.168.1.123/onvif/device_service');
  assert.equal(caps.media, 'http://192.168.1.123/onvif/media_service');
  assert.equal(caps.deviceIO, 'http://192.168.1.123/onvif/deviceIO_service');
  const svcs = parseServices(
    response(
      env(
        '<tds:GetServicesResponse>' +
          '<tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace><tds:XAddr>http://10.0.0.1/onvif/device_service</tds:XAddr></tds:Service>' +
          '<tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace><tds:XAddr>http://10.0.0.1/onvif/Media</tds:XAddr></tds:Service>' +
          '<tds:Service><tds:Namespace>http://www.onvif.org/ver20/media/wsdl</tds:Namespace><tds:XAddr>http://10.0.0.1/onvif/Media2</tds:XAddr></tds:Service>' +
          '<tds:Service><tds:Namespace>http://www.axis.com/vapix/ws/action1</tds:Namespace><tds:XAddr>http://10.0.0.1/vapix/services</tds:XAddr></tds:Service>' +
          '</tds:GetServicesResponse>',
      ),
    ),
  );
  assert.deepEqual(svcs, { device: 'http://10.0.0.1/onvif/device_service', media: 'http://10.0.0.1/onvif/Media', media2: 'http://10.0.0.1/onvif/Media2' });
});

test('profiles: Hikvision encoding="H265" attribute beats <Encoding>H264; no Encoding is undefined', () => {
  const profiles = parseProfiles(
    response(
      env(
        '<trt:GetProfilesResponse>' +
          '<trt:Profiles token="Profile_1" fixed="true"><tt:Name>mainStream</tt:Name>' +
          '<tt:VideoSourceConfiguration token="VSC1"><tt:Name>V</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken></tt:VideoSourceConfiguration>' +
          '<tt:VideoEncoderConfiguration token="VEC1" encoding="H265"><tt:Name>E</tt:Name><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>2688</tt:Width><tt:Height>1520</tt:Height></tt:Resolution>' +
          '<tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl></tt:VideoEncoderConfiguration></trt:Profiles>' +
          '<trt:Profiles token="Profile_2"><tt:Name>sub</tt:Name><tt:VideoSourceConfiguration token="VSC1"><tt:SourceToken>VideoSource_1</tt:SourceToken></tt:VideoSourceConfiguration>' +
          '<tt:VideoEncoderConfiguration token="VEC2"><tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>' +
          '<trt:Profiles token="AudioOnly"><tt:Name>audio</tt:Name><tt:AudioSourceConfiguration token="A"/></trt:Profiles>' +
          '</trt:GetProfilesResponse>',
      ),
    ),
  );
  assert.deepEqual(profiles, [
    { token: 'Profile_1', name: 'mainStream', videoSourceToken: 'VideoSource_1', codec: 'H265', width: 2688, height: 1520, fps: 25, bitrateKbps: 4096 },
    { token: 'Profile_2', name: 'sub', videoSourceToken: 'VideoSource_1', width: 640, height: 360 },
  ]);
});

test('profiles: Media2 layout', () => {
  const profiles = parseProfiles(
    response(
      env(
        '<tr2:GetProfilesResponse xmlns:tr2="http://www.onvif.org/ver20/media/wsdl"><tr2:Profiles token="P0" fixed="true"><tr2:Name>main</tr2:Name><tr2:Configurations>' +
          '<tr2:VideoSource token="VS"><tt:SourceToken>SRC0</tt:SourceToken></tr2:VideoSource>' +
          '<tr2:VideoEncoder token="VE" GovLength="50" Profile="Main"><tt:Encoding>H265</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution><tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>20.0</tt:FrameRateLimit><tt:BitrateLimit>2048</tt:BitrateLimit></tt:RateControl></tr2:VideoEncoder>' +
          '</tr2:Configurations></tr2:Profiles></tr2:GetProfilesResponse>',
      ),
    ),
  );
  assert.deepEqual(profiles, [{ token: 'P0', name: 'main', videoSourceToken: 'SRC0', codec: 'H265', width: 1920, height: 1080, fps: 20, bitrateKbps: 2048 }]);
});

test('video sources in device order; codec names normalised', () => {
  const sources = parseVideoSources(
    response(
      env(
        '<trt:GetVideoSourcesResponse><trt:VideoSources token="VS_2"><tt:Framerate>25</tt:Framerate></trt:VideoSources><trt:VideoSources token="VS_1"/></trt:GetVideoSourcesResponse>',
      ),
    ),
  );
  assert.deepEqual(sources, ['VS_2', 'VS_1']);
  assert.equal(normalizeCodec('H.264'), 'H264');
  assert.equal(normalizeCodec('hevc'), 'H265');
  assert.equal(normalizeCodec('JPEG'), 'MJPEG');
  assert.equal(normalizeCodec(' '), undefined);
});

test('endpoint UUID normalisation', () => {
  assert.equal(normalizeEndpointUuid('uuid:C9790C3A-701B-464D-A189-0060351C8ADA'), 'urn:uuid:c9790c3a-701b-464d-a189-0060351c8ada');
  assert.equal(normalizeEndpointUuid(' urn:uuid:ABC '), 'urn:uuid:abc');
  assert.equal(normalizeEndpointUuid('c9790c3a-701b-464d-a189-0060351c8ada'), 'urn:uuid:c9790c3a-701b-464d-a189-0060351c8ada');
});

test('ProbeMatches fixture and a multi-line, %-encoded, multi-XAddr answer', () => {
  const a = parseProbeAnswer(Buffer.from(fixture('agsh-mockup/ProbeMatches.xml')), '127.31.0.9', 65536);
  assert.ok(a.ok);
  assert.equal(a.matches[0].endpointUuid, 'urn:uuid:c9790c3a-701b-464d-a189-0060351c8ada');
  assert.deepEqual(a.matches[0].xaddrs, ['SERVICE_URI']);
  assert.deepEqual(a.matches[0].types, ['dn:NetworkVideoTransmitter', 'tds:Device']);
  assert.ok(a.matches[0].scopes.includes('onvif://www.onvif.org/name/PREDATOR'));
  assert.equal(a.matches[0].from, '127.31.0.9');

  const multi = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:wsadis="http://schemas.xmlsoap.org/ws/2004/08/addressing"><env:Body><d:ProbeMatches><d:ProbeMatch>
    <wsadis:EndpointReference><wsadis:Address>urn:uuid:AAAA0000-0000-0000-0000-000000000001</wsadis:Address></wsadis:EndpointReference>
    <d:Types>tdn:NetworkVideoTransmitter</d:Types>
    <d:Scopes>onvif://www.onvif.org/name/Front%20Door
      onvif://www.onvif.org/location/city/S%C3%A3o%20Paulo   onvif://www.onvif.org/hardware/DS-2CD%
    </d:Scopes>
    <d:XAddrs>http://192.168.1.64/onvif/device_service http://[fe80::4619:b6ff:fe00:1]/onvif/device_service</d:XAddrs>
  </d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>`;
  const m = parseProbeAnswer(Buffer.from(multi), '127.31.0.10', 65536, 'eth0');
  assert.ok(m.ok);
  assert.deepEqual(m.matches[0], {
    endpointUuid: 'urn:uuid:aaaa0000-0000-0000-0000-000000000001',
    xaddrs: ['http://192.168.1.64/onvif/device_service', 'http://[fe80::4619:b6ff:fe00:1]/onvif/device_service'],
    scopes: ['onvif://www.onvif.org/name/Front Door', 'onvif://www.onvif.org/location/city/São Paulo', 'onvif://www.onvif.org/hardware/DS-2CD%'],
    types: ['tdn:NetworkVideoTransmitter'],
    from: '127.31.0.10',
    via: 'eth0',
  });
  // The target to open: the answering host, port and path from the XAddr.
  assert.deepEqual(targetFromProbeMatch(m.matches[0]), {
    kind: 'onvif',
    host: '127.31.0.10',
    path: '/onvif/device_service',
    endpointUuid: 'urn:uuid:aaaa0000-0000-0000-0000-000000000001',
    scopes: m.matches[0].scopes,
  });
  assert.equal(targetFromProbeMatch({ ...m.matches[0], xaddrs: ['http://10.9.9.9:2020/onvif/service'] }).port, 2020);
});

test('junk answers are classified, never thrown', () => {
  const cases: Array<[Buffer, string]> = [
    [Buffer.from('hello'), 'malformed'],
    [Buffer.from([0xff, 0x00, 0x13, 0x37]), 'malformed'],
    [Buffer.from('<!DOCTYPE x [<!ENTITY a "b">]><Envelope/>'), 'unsafe-xml'],
    [Buffer.from(`<Envelope><Body>${'x'.repeat(5000)}</Body></Envelope>`), 'oversized'],
    [Buffer.from('<Envelope><Body><Hello/></Body></Envelope>'), 'not-probe-match'],
    [Buffer.from('<Envelope><Body><ProbeMatches><ProbeMatch><XAddrs>http://x/</XAddrs></ProbeMatch></ProbeMatches></Body></Envelope>'), 'no-endpoint'],
    [buildProbe('dn:NetworkVideoTransmitter'), 'not-probe-match'],
  ];
  for (const [buf, reason] of cases) {
    const r = parseProbeAnswer(buf, '127.31.0.1', 4096);
    assert.deepEqual(r, { ok: false, reason }, buf.toString('latin1').slice(0, 40));
  }
});
