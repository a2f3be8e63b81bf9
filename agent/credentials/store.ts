// Credentials in the inventory: per device (an NVR's channels share the NVR's login),
// sealed with the site key. Plaintext exists only in memory, only when a driver needs it.
import type { Database } from 'better-sqlite3';
import type { Credentials } from '../../drivers/types';
import { open, seal } from './cipher';
import { CamgateError } from '../../lib/errors';

interface CredentialRow {
  id: number;
  key_fingerprint: string;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Gives the key only when needed, so commands that never touch credentials never create a key file. */
export type KeyProvider = (purpose: 'read' | 'write') => Buffer;

export function hasAnyCredentials(db: Database): boolean {
  return db.prepare('SELECT 1 FROM credentials LIMIT 1').get() !== undefined;
}

export function setDeviceCredentials(db: Database, deviceId: string, credentials: Credentials, key: KeyProvider): void {
  const sealed = seal(key('write'), JSON.stringify({ username: credentials.username, password: credentials.password }));
  const now = new Date().toISOString();
  db.transaction(() => {
    const device = db.prepare('SELECT credential_id FROM devices WHERE id = ?').get(deviceId) as { credential_id: number | null } | undefined;
    if (!device) throw new CamgateError(`no device with id "${deviceId}"`);
    if (device.credential_id !== null) {
      db.prepare('UPDATE credentials SET key_fingerprint = ?, nonce = ?, ciphertext = ?, tag = ?, updated_at = ? WHERE id = ?').run(
        sealed.keyFingerprint,
        sealed.nonce,
        sealed.ciphertext,
        sealed.tag,
        now,
        device.credential_id,
      );
      return;
    }
    const info = db
      .prepare('INSERT INTO credentials (key_fingerprint, nonce, ciphertext, tag, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(sealed.keyFingerprint, sealed.nonce, sealed.ciphertext, sealed.tag, now, now);
    db.prepare('UPDATE devices SET credential_id = ? WHERE id = ?').run(info.lastInsertRowid, deviceId);
  })();
}

/** Seals a login into a credentials row of its own (for a pending move: upsert.ts setPendingMoveCredential); returns its id. */
export function storeCredentials(db: Database, credentials: Credentials, key: KeyProvider): number {
  const sealed = seal(key('write'), JSON.stringify({ username: credentials.username, password: credentials.password }));
  const now = new Date().toISOString();
  const info = db
    .prepare('INSERT INTO credentials (key_fingerprint, nonce, ciphertext, tag, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(sealed.keyFingerprint, sealed.nonce, sealed.ciphertext, sealed.tag, now, now);
  return Number(info.lastInsertRowid);
}

export function clearDeviceCredentials(db: Database, deviceId: string): void {
  db.transaction(() => {
    const device = db.prepare('SELECT credential_id FROM devices WHERE id = ?').get(deviceId) as { credential_id: number | null } | undefined;
    if (!device || device.credential_id === null) return;
    db.prepare('UPDATE devices SET credential_id = NULL WHERE id = ?').run(deviceId);
    const stillUsed = db.prepare('SELECT 1 FROM devices WHERE credential_id = ?').get(device.credential_id);
    if (!stillUsed) db.prepare('DELETE FROM credentials WHERE id = ?').run(device.credential_id);
  })();
}

/** The device's own credentials, or undefined when it has none stored. */
export function getDeviceCredentials(db: Database, deviceId: string, key: KeyProvider): Credentials | undefined {
  const row = db.prepare('SELECT c.* FROM credentials c JOIN devices d ON d.credential_id = c.id WHERE d.id = ?').get(deviceId) as CredentialRow | undefined;
  if (!row) return undefined;
  const text = open(key('read'), { keyFingerprint: row.key_fingerprint, nonce: row.nonce, ciphertext: row.ciphertext, tag: row.tag });
  const parsed = JSON.parse(text) as Credentials;
  return { username: String(parsed.username), password: String(parsed.password) };
}

/** The site default login (cameras.username / cameras.password), when either is set. */
export function siteDefaultCredentials(cameras: { username?: string; password?: string }): Credentials | undefined {
  const { username, password } = cameras;
  if (username === undefined && password === undefined) return undefined;
  return { username: username ?? '', password: password ?? '' };
}

/** Whether an installer allowed Basic auth (the password in cleartext) for this device. */
export function basicAuthAllowed(db: Database, deviceId: string): boolean {
  const row = db.prepare('SELECT allow_basic_auth FROM devices WHERE id = ?').get(deviceId) as { allow_basic_auth: number } | undefined;
  return row?.allow_basic_auth === 1;
}

export function setBasicAuthAllowed(db: Database, deviceId: string, allowed: boolean): void {
  const r = db.prepare('UPDATE devices SET allow_basic_auth = ? WHERE id = ?').run(allowed ? 1 : 0, deviceId);
  if (r.changes === 0) throw new CamgateError(`no device with id "${deviceId}"`);
}

/**
 * The login to use with a device: its own stored credentials, else the site default, carrying
 * the device's Basic setting (allowBasic only when an installer allowed it for this device;
 * drivers/auth.ts refuses Basic otherwise). Undefined when there is no login at all.
 */
export function deviceOrSiteCredentials(
  db: Database,
  deviceId: string | undefined,
  key: KeyProvider,
  siteDefault: Credentials | undefined,
): Credentials | undefined {
  const login = (deviceId ? getDeviceCredentials(db, deviceId, key) : undefined) ?? siteDefault;
  if (!login) return undefined;
  const allowBasic = deviceId !== undefined && basicAuthAllowed(db, deviceId);
  return { username: login.username, password: login.password, ...(allowBasic ? { allowBasic: true } : {}) };
}
