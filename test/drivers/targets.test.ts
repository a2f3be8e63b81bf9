import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandTargets, TargetSpecError, parseDeviceTarget, parseRtspUrl } from '../../drivers';

function specError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TargetSpecError, `expected TargetSpecError, got ${err}`);
    return err.message;
  }
  assert.fail('expected an error');
}

test('single address, list separated by commas and spaces, de-duplicated in order', () => {
  assert.deepEqual(expandTargets('10.0.0.5'), ['10.0.0.5']);
  assert.deepEqual(expandTargets('10.0.0.5, 10.0.0.7 10.0.0.5,,10.0.0.6'), ['10.0.0.5', '10.0.0.7', '10.0.0.6']);
  assert.deepEqual(expandTargets(['10.0.0.1', '10.0.0.2']), ['10.0.0.1', '10.0.0.2']);
});

test('ranges are inclusive', () => {
  const r = expandTargets('10.0.0.5-10.0.0.40');
  assert.equal(r.length, 36);
  assert.equal(r[0], '10.0.0.5');
  assert.equal(r[35], '10.0.0.40');
  assert.deepEqual(expandTargets('10.0.0.255-10.0.1.1'), ['10.0.0.255', '10.0.1.0', '10.0.1.1']);
});

test('/24 and larger skip network and broadcast; smaller networks keep every address', () => {
  const c = expandTargets('192.168.1.0/24');
  assert.equal(c.length, 254);
  assert.equal(c[0], '192.168.1.1');
  assert.equal(c[253], '192.168.1.254');
  const b = expandTargets('172.16.0.0/16');
  assert.equal(b.length, 65534);
  assert.ok(b.includes('172.16.1.0') && b.includes('172.16.0.255'), 'inner .0/.255 are hosts in a /16');
  assert.ok(!b.includes('172.16.0.0') && !b.includes('172.16.255.255'));
  assert.deepEqual(expandTargets('10.0.0.16/30'), ['10.0.0.16', '10.0.0.17', '10.0.0.18', '10.0.0.19']);
  assert.deepEqual(expandTargets('10.0.0.9/32'), ['10.0.0.9']);
  // A host address with a prefix means its network.
  assert.equal(expandTargets('192.168.1.77/24')[0], '192.168.1.1');
});

test('more than a /16 needs force, and the error names the token and says --force', () => {
  const msg = specError(() => expandTargets('10.0.0.0/15'));
  assert.match(msg, /10\.0\.0\.0\/15/);
  assert.match(msg, /pass --force/);
  assert.match(
    specError(() => expandTargets('10.0.0.0-10.1.0.1')),
    /10\.0\.0\.0-10\.1\.0\.1.*--force/,
  );
  assert.equal(expandTargets('10.0.0.0/15', { force: true }).length, 131070);
  assert.match(
    specError(() => expandTargets('10.0.0.0/16 10.1.0.0/16')),
    /in total.*--force/,
  );
  assert.match(
    specError(() => expandTargets('10.0.0.0/7', { force: true })),
    /even with --force/,
  );
  assert.match(
    specError(() => expandTargets('10.0.0.0/24', { maxWithoutForce: 100 })),
    /--force/,
  );
});

test('garbage names the bad token and lists the accepted forms', () => {
  for (const bad of ['10.0.0', '10.0.0.256', 'camera', '10.0.0.1/33', '10.0.0.1/x', '10.0.0.9-10.0.0.1', '010.0.0.1', '1.2.3.4-5-6', '0x0a.0.0.1']) {
    const msg = specError(() => expandTargets(`10.0.0.1, ${bad}`));
    assert.ok(msg.includes(bad.split('/')[0].split('-')[0]) || msg.includes(bad), `${bad}: ${msg}`);
  }
  assert.match(
    specError(() => expandTargets('hello')),
    /"hello".*accepted forms: 10\.0\.0\.5, 192\.168\.1\.0\/24, 10\.0\.0\.5-10\.0\.0\.40/,
  );
  assert.match(
    specError(() => expandTargets('fe80::1')),
    /IPv6/,
  );
  assert.match(
    specError(() => expandTargets(' , ')),
    /no targets/,
  );
});

test('parseDeviceTarget: host, host:port, [v6]:port, http URL; clear errors', () => {
  assert.deepEqual(parseDeviceTarget('192.168.1.64'), { kind: 'onvif', host: '192.168.1.64' });
  assert.deepEqual(parseDeviceTarget(' 192.168.1.64:2020 '), { kind: 'onvif', host: '192.168.1.64', port: 2020 });
  assert.deepEqual(parseDeviceTarget('[fe80::1%eth0]:80'), { kind: 'onvif', host: 'fe80::1%eth0', port: 80 });
  assert.deepEqual(parseDeviceTarget('[::1]'), { kind: 'onvif', host: '::1' });
  assert.deepEqual(parseDeviceTarget('cam-01.site.local'), { kind: 'onvif', host: 'cam-01.site.local' });
  assert.deepEqual(parseDeviceTarget('http://10.0.0.9:2020/onvif/service'), { kind: 'onvif', host: '10.0.0.9', port: 2020, path: '/onvif/service' });
  assert.match(
    specError(() => parseDeviceTarget('fe80::1')),
    /IPv6 addresses must be in brackets, e.g. \[fe80::1\]/,
  );
  assert.match(
    specError(() => parseDeviceTarget('10.0.0.1:0')),
    /port must be a number from 1 to 65535/,
  );
  assert.match(
    specError(() => parseDeviceTarget('10.0.0.1:99999')),
    /port/,
  );
  assert.match(
    specError(() => parseDeviceTarget('10.0.0.300')),
    /not an IPv4 address/,
  );
  assert.match(
    specError(() => parseDeviceTarget('[zz::1]:80')),
    /not an IPv6 address/,
  );
  assert.match(
    specError(() => parseDeviceTarget('bad_host!')),
    /not a valid host/,
  );
  assert.match(
    specError(() => parseDeviceTarget('https://10.0.0.1/')),
    /only http/,
  );
  assert.match(
    specError(() => parseDeviceTarget('http://admin:pw@10.0.0.1/')),
    /credentials/,
  );
  assert.match(
    specError(() => parseDeviceTarget('')),
    /no device address/,
  );
});

test('parseRtspUrl: credentials extracted and decoded, URL stored without them, errors never echo the password', () => {
  const p = parseRtspUrl('rtsp://admin:p%40ss@10.0.0.9/Streaming/Channels/101?transportmode=unicast');
  assert.deepEqual(p.credentials, { username: 'admin', password: 'p@ss' });
  assert.equal(p.url, 'rtsp://10.0.0.9/Streaming/Channels/101?transportmode=unicast');
  assert.equal(p.port, 554);
  assert.equal(p.host, '10.0.0.9');
  const v6 = parseRtspUrl('rtsp://[fe80::2]:8554');
  assert.equal(v6.host, 'fe80::2');
  assert.equal(v6.port, 8554);
  assert.equal(v6.url, 'rtsp://[fe80::2]:8554/');
  const msg = specError(() => parseRtspUrl('http://admin:secret@10.0.0.1/x'));
  assert.match(msg, /only rtsp:\/\//);
  assert.ok(!msg.includes('secret'));
  assert.ok(!specError(() => parseRtspUrl('rtsp://admin:secret@10.0.0.1:70000/x')).includes('secret'));
  assert.match(
    specError(() => parseRtspUrl('10.0.0.1/stream')),
    /not a URL/,
  );
  assert.match(
    specError(() => parseRtspUrl('rtsp:///stream')),
    /no host/,
  );
});
