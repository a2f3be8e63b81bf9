import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveCameraId, deriveDeviceId, idFromKey, identityKeys, meaningfulSerial, rtspSourceKey } from '../../agent/inventory/ids';
import { normalizeEndpointUuid, normalizeMac } from '../../drivers/ids';

const base = { driver: 'onvif' as const, host: '10.0.0.5', port: 80 };

test('endpoint UUID wins over serial and MAC, and ignores address and spelling', () => {
  const facts = { ...base, endpointUuid: 'uuid:ABCDEF01-0000-1111-2222-333344445555', serial: 'S1', manufacturer: 'Acme', mac: '44:19:b6:00:00:01' };
  const a = deriveDeviceId(facts);
  assert.equal(a.basis, 'uuid');
  const moved = deriveDeviceId({ ...facts, host: '10.0.0.99', endpointUuid: 'urn:uuid:abcdef01-0000-1111-2222-333344445555', serial: 'other' });
  assert.equal(moved.id, a.id);
  assert.match(a.id, /^cam-[0-9a-f]{10}$/);
});

test('then serial (with manufacturer), then MAC, then address', () => {
  const serial = deriveDeviceId({ ...base, serial: 'SN123', manufacturer: 'Acme', mac: '44:19:b6:00:00:01' });
  assert.equal(serial.basis, 'serial');
  assert.notEqual(deriveDeviceId({ ...base, serial: 'SN123', manufacturer: 'Other' }).id, serial.id);
  assert.equal(deriveDeviceId({ ...base, host: '10.9.9.9', serial: 'sn123', manufacturer: ' ACME ' }).id, serial.id);
  const mac = deriveDeviceId({ ...base, mac: '44-19-B6-00-00-01' });
  assert.equal(mac.basis, 'mac');
  assert.equal(deriveDeviceId({ ...base, host: '10.1.1.1', mac: '4419b6000001' }).id, mac.id);
  const addr = deriveDeviceId(base);
  assert.equal(addr.basis, 'address');
  assert.notEqual(deriveDeviceId({ ...base, host: '10.0.0.6' }).id, addr.id);
});

test('placeholder serials, zero MACs and zero UUIDs identify nothing', () => {
  assert.equal(meaningfulSerial('00000000'), undefined);
  assert.equal(meaningfulSerial('N/A'), undefined);
  assert.equal(meaningfulSerial('123456789'), undefined);
  assert.equal(meaningfulSerial(' DS-2CD2143 '), 'DS-2CD2143');
  assert.equal(normalizeMac('00:00:00:00:00:00'), undefined);
  assert.equal(normalizeMac('ff:ff:ff:ff:ff:ff'), undefined);
  assert.equal(normalizeMac('44-19-B6-00-00-01'), '44:19:b6:00:00:01');
  assert.equal(normalizeEndpointUuid('urn:uuid:00000000-0000-0000-0000-000000000000'), undefined);
  assert.equal(normalizeEndpointUuid('uuid:ABC'), 'urn:uuid:abc');
  assert.equal(deriveDeviceId({ ...base, serial: '0000', mac: '00:00:00:00:00:00' }).basis, 'address');
});

test('RTSP-only sources are identified by host, port, path and query, never credentials', () => {
  const a = { driver: 'rtsp' as const, host: '10.0.0.7', port: 554, url: 'rtsp://admin:pw@10.0.0.7/cam/realmonitor?channel=1&subtype=0' };
  const id = deriveDeviceId(a);
  assert.equal(id.basis, 'url');
  assert.equal(deriveDeviceId({ ...a, url: 'rtsp://10.0.0.7:554/cam/realmonitor?channel=1&subtype=0' }).id, id.id);
  assert.notEqual(deriveDeviceId({ ...a, url: 'rtsp://10.0.0.7/cam/realmonitor?channel=2&subtype=0' }).id, id.id);
  assert.equal(rtspSourceKey('rtsp://u:p@Host.Example/x'), 'host.example:554/x');
  assert.ok(!identityKeys(a).some((k) => k.key.includes('pw')));
});

test('a skipped basis falls through to the next one (cloned UUIDs)', () => {
  const facts = { ...base, endpointUuid: 'urn:uuid:1', serial: 'SN9', manufacturer: 'Acme' };
  const skipped = deriveDeviceId(facts, new Set(['uuid']));
  assert.equal(skipped.basis, 'serial');
  assert.equal(skipped.id, idFromKey('serial:acme:sn9'));
});

test('camera ids: a plain camera shares its device id, NVR channels get -chNN', () => {
  assert.equal(deriveCameraId('cam-0123456789', 1, false), 'cam-0123456789');
  assert.equal(deriveCameraId('cam-0123456789', 1, true), 'cam-0123456789-ch01');
  assert.equal(deriveCameraId('cam-0123456789', 2, true), 'cam-0123456789-ch02');
  assert.equal(deriveCameraId('cam-0123456789', 16, true), 'cam-0123456789-ch16');
  assert.equal(deriveCameraId('cam-0123456789', 128, true), 'cam-0123456789-ch128');
});

// The ids above are checked against each other; these are written out, so that any change to the
// id scheme (key text, hash, length, prefix, normalisation) fails here: every ledger in the field
// is keyed by these ids, and a new scheme would orphan its labels.
test('pinned: a known identity has the same id in every release', () => {
  const uuid = { ...base, endpointUuid: 'uuid:ABCDEF01-0000-1111-2222-333344445555', serial: 'S1', manufacturer: 'Acme', mac: '44:19:b6:00:00:01' };
  assert.deepEqual(deriveDeviceId(uuid), { id: 'cam-a4e6b31d47', basis: 'uuid' });
  assert.deepEqual(deriveDeviceId({ ...base, serial: 'SN123', manufacturer: 'Acme', mac: '44:19:b6:00:00:01' }), { id: 'cam-16cf3cd6ae', basis: 'serial' });
  assert.deepEqual(deriveDeviceId({ ...base, mac: '44-19-B6-00-00-01' }), { id: 'cam-022f94f05c', basis: 'mac' });
  const rtsp = { driver: 'rtsp' as const, host: '10.0.0.7', port: 554, url: 'rtsp://admin:pw@10.0.0.7/cam/realmonitor?channel=1&subtype=0' };
  assert.deepEqual(deriveDeviceId(rtsp), { id: 'cam-683dc56250', basis: 'url' });
  assert.deepEqual(deriveDeviceId(base), { id: 'cam-b52678ea93', basis: 'address' });
  assert.equal(deriveCameraId('cam-a4e6b31d47', 3, true), 'cam-a4e6b31d47-ch03');
});
