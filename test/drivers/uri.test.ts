import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteDeviceUri } from '../../drivers';
import { redactUrl } from '../../lib/url';
import { cleanUri } from '../../drivers/uri';
import { parseXml, soapBody } from '../../drivers/xml';
import { parseMediaUri } from '../../drivers/onvif/parse';
import { fixture } from './helpers/fixtures';
import { splitUrl, withCredentials } from '../../lib/url';

function uriFromFixture(name: string): string {
  const body = soapBody(parseXml(fixture(name)))!;
  return parseMediaUri(body.children[0])!;
}

test('fixture URIs: &amp; decoded, whitespace/newlines trimmed, host rewritten, port kept', () => {
  assert.equal(
    rewriteDeviceUri(uriFromFixture('dahua/GetStreamUri.xml'), '127.31.0.5'),
    'rtsp://127.31.0.5:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif',
  );
  assert.equal(
    rewriteDeviceUri(uriFromFixture('dahua/GetStreamUri_formatted.xml'), '127.31.0.5'),
    'rtsp://127.31.0.5:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif',
  );
  assert.equal(
    rewriteDeviceUri(uriFromFixture('dahua/GetSnapshotUri.xml'), '127.31.0.5'),
    'http://127.31.0.5/onvifsnapshot/media_service/snapshot?channel=1&subtype=1',
  );
  // No port in the device's URI: none is invented (RTSP default 554 applies).
  assert.equal(rewriteDeviceUri(uriFromFixture('agsh-mockup/GetStreamUri.xml'), '10.1.2.3'), 'rtsp://10.1.2.3/h264main');
});

test('rewriting replaces private, link-local, IPv6 and NATed hosts; strips credentials', () => {
  const cases: Array<[string, string, string]> = [
    ['rtsp://admin:12345@192.168.1.64:554/Streaming/Channels/101', '127.31.0.2', 'rtsp://127.31.0.2:554/Streaming/Channels/101'],
    ['rtsp://169.254.10.20/live', '127.31.0.2', 'rtsp://127.31.0.2/live'],
    ['rtsp://[fe80::4619:b6ff:fe00:1%eth0]:554/ch1', '127.31.0.2', 'rtsp://127.31.0.2:554/ch1'],
    ['rtsp://[fe80::1]/ch1', 'fd00::5', 'rtsp://[fd00::5]/ch1'],
    ['http://user@203.0.113.9:8080/snap.jpg?a=1&b=2', '127.31.0.2', 'http://127.31.0.2:8080/snap.jpg?a=1&b=2'],
    ['  rtsp://10.0.0.1/a\n   b  ', '127.31.0.2', 'rtsp://127.31.0.2/ab'],
    ['rtsp://10.0.0.1/x?a=1&amp;amp;b=2', '127.31.0.2', 'rtsp://127.31.0.2/x?a=1&b=2'],
    ['RTSP://10.0.0.1', '127.31.0.2', 'rtsp://127.31.0.2'],
  ];
  for (const [raw, host, want] of cases) assert.equal(rewriteDeviceUri(raw, host), want, raw);
  assert.equal(rewriteDeviceUri('   ', '127.31.0.2'), undefined);
  assert.equal(rewriteDeviceUri('/relative/path', '127.31.0.2'), undefined);
  assert.equal(rewriteDeviceUri('rtsp://fe80::1/x', '127.31.0.2'), undefined); // unbracketed IPv6: ambiguous, refuse
});

test('redactUrl removes credentials and never throws', () => {
  assert.equal(redactUrl('rtsp://admin:secret@10.0.0.1:554/x?y=1'), 'rtsp://10.0.0.1:554/x?y=1');
  assert.equal(redactUrl('rtsp://a%40b:p@ss@10.0.0.1/'), 'rtsp://10.0.0.1/');
  assert.equal(redactUrl('http://10.0.0.1/'), 'http://10.0.0.1/');
  assert.equal(redactUrl('garbage //user:pw@host'), 'garbage //host');
  assert.equal(redactUrl('rtsp://admin:pw@[fe80::1]:554/a'), 'rtsp://[fe80::1]:554/a');
  assert.equal(redactUrl(''), '');
});

test('splitUrl / cleanUri edge cases', () => {
  assert.deepEqual(splitUrl('rtsp://h:70000/x'), undefined);
  assert.deepEqual(splitUrl('rtsp://[::1/x'), undefined);
  assert.equal(splitUrl('rtsp://[::1]:8554/x')!.port, 8554);
  assert.equal(cleanUri('\n\t rtsp://a/b?c=1&amp;d=2 \r\n'), 'rtsp://a/b?c=1&d=2');
});

test('withCredentials puts an encoded login into a URL (for ffmpeg) and redactUrl takes it out again', () => {
  const url = withCredentials('rtsp://127.0.0.5:554/Streaming/Channels/102?transportmode=unicast', { username: 'ad min', password: 'p@ss:w/rd' });
  assert.equal(url, 'rtsp://ad%20min:p%40ss%3Aw%2Frd@127.0.0.5:554/Streaming/Channels/102?transportmode=unicast');
  assert.equal(splitUrl(url)!.host, '127.0.0.5');
  assert.equal(redactUrl(url), 'rtsp://127.0.0.5:554/Streaming/Channels/102?transportmode=unicast');
  assert.equal(withCredentials('rtsp://old:x@[fe80::1]:554/a', { username: 'u', password: 'p' }), 'rtsp://u:p@[fe80::1]:554/a');
  assert.equal(withCredentials('not a url', { username: 'u', password: 'p' }), 'not a url');
});
