import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { keyFingerprint, open, seal } from '../../agent/credentials/cipher';
import { decodeKey, keyFilePath, loadKey } from '../../agent/credentials/key';
import { clearDeviceCredentials, getDeviceCredentials, setDeviceCredentials } from '../../agent/credentials/store';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { CamgateError } from '../../lib/errors';
import { tempDir } from '../kit/temp';
import { report } from '../kit/reports';
import { PLANTED } from '../kit/secrets';

test('AES-256-GCM: round trip, fresh nonce every time, wrong key refused clearly', () => {
  const key = randomBytes(32);
  const a = seal(key, PLANTED);
  const b = seal(key, PLANTED);
  assert.notDeepEqual(a.nonce, b.nonce);
  assert.ok(!a.ciphertext.toString('latin1').includes(PLANTED));
  assert.equal(open(key, a), PLANTED);
  const other = randomBytes(32);
  assert.throws(
    () => open(other, a),
    (err: Error) => err instanceof CamgateError && /encrypted with another secret key/.test(err.message),
  );
  // Same fingerprint but tampered ciphertext: authentication fails.
  const tampered = { ...a, ciphertext: Buffer.from(a.ciphertext.map((x, i) => (i === 0 ? x ^ 1 : x))) };
  assert.throws(() => open(key, tampered), /failed authentication/);
  assert.equal(a.keyFingerprint, keyFingerprint(key));
});

test('key from CAMGATE_SECRET_KEY: hex or base64, 32 bytes, else a clear error', (t) => {
  const dir = tempDir(t);
  const key = randomBytes(32);
  assert.deepEqual(loadKey({ dataDir: dir, env: { CAMGATE_SECRET_KEY: key.toString('hex') }, create: true }), key);
  assert.deepEqual(loadKey({ dataDir: dir, env: { CAMGATE_SECRET_KEY: key.toString('base64') }, create: true }), key);
  assert.throws(() => loadKey({ dataDir: dir, env: { CAMGATE_SECRET_KEY: 'too-short' }, create: true }), /32-byte key as 64 hex digits or base64/);
  assert.equal(decodeKey(randomBytes(16).toString('base64')), undefined);
  assert.ok(!existsSync(keyFilePath(dir)), 'an environment key never creates a key file');
});

test('key file: created with mode 0600, reused, refused when group/others can read it', (t) => {
  const dir = join(tempDir(t), 'data');
  const key = loadKey({ dataDir: dir, env: {}, create: true });
  const file = keyFilePath(dir);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(loadKey({ dataDir: dir, env: {}, create: true }), key);
  chmodSync(file, 0o644);
  assert.throws(
    () => loadKey({ dataDir: dir, env: {}, create: true }),
    (err: Error) => {
      assert.match(err.message, /readable by group or others \(mode 644\); run: chmod 600 /);
      assert.ok(err.message.includes(`chmod 600 ${file}`));
      return true;
    },
  );
  writeFileSync(file, 'not a key\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  assert.throws(() => loadKey({ dataDir: dir, env: {}, create: true }), /does not hold a 32-byte key/);
});

test('a missing key file is an error, not a new key, when credentials need the old one', (t) => {
  const dir = tempDir(t);
  assert.throws(() => loadKey({ dataDir: dir, env: {}, create: false }), /encrypted credentials but .*secret\.key is missing/);
});

test('device credentials: stored encrypted, never in the DB in clear, key never in the DB', (t) => {
  const dir = tempDir(t);
  const db = openDatabase(dir);
  const r = upsertDeviceReport(db, report({ host: '10.0.0.5' }), { now: new Date() });
  const keyProvider = (purpose: 'read' | 'write') => loadKey({ dataDir: dir, env: {}, create: purpose === 'write' });
  setDeviceCredentials(db, r.deviceId, { username: 'operator', password: PLANTED }, keyProvider);
  assert.deepEqual(getDeviceCredentials(db, r.deviceId, keyProvider), { username: 'operator', password: PLANTED });
  setDeviceCredentials(db, r.deviceId, { username: 'operator', password: PLANTED + '2' }, keyProvider);
  assert.equal(getDeviceCredentials(db, r.deviceId, keyProvider)?.password, PLANTED + '2');
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM credentials').get() as { n: number }).n, 1);
  const keyText = readFileSync(keyFilePath(dir), 'utf8').trim();
  // Checked while open (the WAL holds the recent pages) and after close (checkpointed).
  const files = () => readdirSync(dir).filter((n) => n.startsWith('camgate.db'));
  assert.ok(files().includes('camgate.db-wal'));
  checkFiles(files());
  db.close();
  checkFiles(files());
  function checkFiles(names: string[]) {
    for (const name of names) {
      const bytes = readFileSync(join(dir, name));
      assert.ok(!bytes.includes(PLANTED), `${name} contains the password`);
      assert.ok(!bytes.includes('operator'), `${name} contains the username`);
      assert.ok(!bytes.includes(keyText), `${name} contains the key`);
      assert.ok(!bytes.includes(Buffer.from(keyText, 'base64')), `${name} contains the raw key`);
    }
  }
});

test('wrong key for stored credentials: a clear error naming both fingerprints', (t) => {
  const dir = tempDir(t);
  const db = openDatabase(dir);
  t.after(() => db.close());
  const r = upsertDeviceReport(db, report({ host: '10.0.0.5' }), { now: new Date() });
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  setDeviceCredentials(db, r.deviceId, { username: 'u', password: PLANTED }, () => k1);
  assert.throws(
    () => getDeviceCredentials(db, r.deviceId, () => k2),
    (err: Error) => {
      assert.match(err.message, new RegExp(`fingerprint ${keyFingerprint(k1)}; the key in use is ${keyFingerprint(k2)}`));
      assert.ok(!err.message.includes(PLANTED));
      return true;
    },
  );
  clearDeviceCredentials(db, r.deviceId);
  assert.equal(
    getDeviceCredentials(db, r.deviceId, () => k2),
    undefined,
  );
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM credentials').get() as { n: number }).n, 0);
});
