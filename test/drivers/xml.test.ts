import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, soapBody, soapFault, path, childText, descendant, textOf } from '../../drivers/xml';
import { DriverError } from '../../drivers/types';
import { allFixtures, fixture } from './helpers/fixtures';

function driverErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DriverError, `expected a DriverError, got ${(err as Error)?.constructor?.name}: ${err}`);
    return err.code;
  }
  assert.fail('expected a DriverError, nothing was thrown');
}

// Each fixture with what the safe parser must make of it. The test below fails when a fixture
// is added without an expectation here.
const EXPECT: Record<string, (text: string) => void> = {
  'agsh-mockup/GetDeviceInformation.xml': (t) => {
    const body = soapBody(parseXml(t));
    const info = path(body, 'GetDeviceInformationResponse');
    assert.equal(childText(info, 'Manufacturer'), 'Mockup Manufacturer');
    assert.equal(childText(info, 'SerialNumber'), '00000000'); // stays a string, leading zeros kept
  },
  'agsh-mockup/GetStreamUri.xml': (t) => {
    const uri = textOf(path(soapBody(parseXml(t)), 'GetStreamUriResponse', 'MediaUri', 'Uri'));
    assert.equal(uri, 'rtsp://192.168.68.111/h264main');
  },
  'agsh-mockup/ProbeMatches.xml': (t) => {
    const body = soapBody(parseXml(t));
    assert.equal(textOf(descendant(body, 'Address')), 'uuid:c9790c3a-701b-464d-a189-0060351c8ada');
  },
  'dahua/GetCapabilities.xml': (t) => {
    const caps = path(soapBody(parseXml(t)), 'GetCapabilitiesResponse', 'Capabilities');
    // Element names with dots survive, and "00" is not turned into 0.
    assert.equal(childText(path(caps, 'Device', 'Security'), 'TLS1.1'), 'false');
    assert.equal(childText(path(caps, 'Device', 'Security'), 'X.509Token'), 'false');
    assert.equal(childText(descendant(caps, 'SupportedVersions'), 'Minor'), '00');
  },
  'dahua/GetSnapshotUri.xml': (t) => {
    const uri = textOf(path(soapBody(parseXml(t)), 'GetSnapshotUriResponse', 'MediaUri', 'Uri'));
    assert.equal(uri, 'http://192.168.1.123/onvifsnapshot/media_service/snapshot?channel=1&subtype=1');
  },
  'dahua/GetStreamUri.xml': (t) => {
    const media = path(soapBody(parseXml(t)), 'GetStreamUriResponse', 'MediaUri');
    assert.equal(childText(media, 'Uri'), 'rtsp://192.168.1.123:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif');
    assert.equal(childText(media, 'InvalidAfterConnect'), 'true');
  },
  'dahua/GetStreamUri_formatted.xml': (t) => {
    const uri = textOf(path(soapBody(parseXml(t)), 'GetStreamUriResponse', 'MediaUri', 'Uri'));
    assert.equal(uri, 'rtsp://192.168.1.123:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif');
  },
  'unknown/GetStreamUri_MC-prefixes_NOT-WELLFORMED.xml': (t) => {
    assert.equal(
      driverErrorCode(() => parseXml(t)),
      'malformed',
    );
  },
};

test('every fixture file has an expectation', () => {
  assert.deepEqual(allFixtures(), Object.keys(EXPECT).sort());
});

for (const [name, check] of Object.entries(EXPECT)) {
  test(`fixture ${name}`, () => check(fixture(name)));
}

test('MC1:/MC2: prefixes are matched by local name once the envelope is well-formed', () => {
  const fixed = fixture('unknown/GetStreamUri_MC-prefixes_NOT-WELLFORMED.xml').replace('<SOAP-ENV:Envelope ...>', '<SOAP-ENV:Envelope>');
  const uri = path(soapBody(parseXml(fixed)), 'GetStreamUriResponse', 'MediaUri', 'Uri');
  assert.equal(textOf(uri), 'rtsp://192.168.5.53:8090/profile1=r');
});

test('values stay strings: numbers, booleans, attributes', () => {
  const root = parseXml('<env:Envelope xmlns:env="x"><env:Body><a v="1.00">1.00</a><b>true</b><c>0012</c></env:Body></env:Envelope>');
  const body = soapBody(root);
  assert.equal(childText(body, 'a'), '1.00');
  assert.equal(path(body, 'a')!.attrs.v, '1.00');
  assert.equal(childText(body, 'b'), 'true');
  assert.equal(childText(body, 'c'), '0012');
});

test('entities decode exactly once (numeric references included)', () => {
  const root = parseXml('<r><u>a&amp;b&#38;c&#x26;d&amp;amp;e</u></r>');
  assert.equal(childText(root, 'u'), 'a&b&c&d&amp;e');
});

test('DOCTYPE and ENTITY are refused before parsing, in any case', () => {
  const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><Envelope><Body>&lol2;</Body></Envelope>';
  assert.equal(
    driverErrorCode(() => parseXml(laughs)),
    'unsafe-xml',
  );
  assert.equal(
    driverErrorCode(() => parseXml('<!doctype html><html></html>')),
    'unsafe-xml',
  );
  assert.equal(
    driverErrorCode(() => parseXml('<r><!ENTITY x SYSTEM "file:///etc/passwd"></r>')),
    'unsafe-xml',
  );
  assert.equal(
    driverErrorCode(() => parseXml('<!DOCTYPE r SYSTEM "http://evil/x.dtd"><r/>')),
    'unsafe-xml',
  );
});

test('size cap: over maxBytes is too-large, counted in UTF-8 bytes', () => {
  const big = `<r>${'x'.repeat(2000)}</r>`;
  assert.equal(
    driverErrorCode(() => parseXml(big, { maxBytes: 1000 })),
    'too-large',
  );
  const multibyte = `<r>${'é'.repeat(600)}</r>`; // 607 chars, 1207 bytes
  assert.equal(
    driverErrorCode(() => parseXml(multibyte, { maxBytes: 1000 })),
    'too-large',
  );
  assert.equal(parseXml(big, { maxBytes: 5000 }).name, 'r');
});

test('not well-formed input fails as malformed, never another error type', () => {
  for (const bad of ['', 'not xml at all', '<a><b></a>', '<a>', '\u0000\u0001binary', '<a></a><b></b>', '<?xml version="1.0"?>', '<a x=1/>']) {
    assert.equal(
      driverErrorCode(() => parseXml(bad)),
      'malformed',
      JSON.stringify(bad),
    );
  }
});

test('error messages name the source', () => {
  try {
    parseXml('<a>', { source: '127.0.0.9:80' });
    assert.fail('should throw');
  } catch (err) {
    assert.match((err as Error).message, /127\.0\.0\.9:80/);
  }
});

test('soapFault reads SOAP 1.2 code/subcode/reason and SOAP 1.1 faultstring', () => {
  const f12 = soapFault(
    soapBody(
      parseXml(
        '<s:Envelope><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">Sender not Authorized</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>',
      ),
    ),
  );
  assert.deepEqual(f12, { codes: ['Sender', 'NotAuthorized'], reason: 'Sender not Authorized' });
  const f11 = soapFault(
    soapBody(parseXml('<E:Envelope><E:Body><E:Fault><faultcode>E:Client</faultcode><faultstring>bad</faultstring></E:Fault></E:Body></E:Envelope>')),
  );
  assert.deepEqual(f11, { codes: ['Client'], reason: 'bad' });
  assert.equal(soapBody(parseXml('<html><body/></html>')), undefined);
});
