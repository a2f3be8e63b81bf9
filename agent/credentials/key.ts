// Where the credential key comes from: CAMGATE_SECRET_KEY (64 hex digits or base64 of 32
// bytes), else <dataDir>/secret.key, created with mode 0600 on first need. The key never goes
// into the database; a key file others can read is refused rather than silently used.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from './cipher';
import { CamgateError } from '../../lib/errors';

export const KEY_FILE = 'secret.key';
export const KEY_ENV = 'CAMGATE_SECRET_KEY';

export function keyFilePath(dataDir: string): string {
  return join(dataDir, KEY_FILE);
}

/** Hex (64 digits) or base64 (standard or URL-safe) text → 32-byte key; undefined when neither fits. */
export function decodeKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-f]{64}$/i.test(t)) return Buffer.from(t, 'hex');
  if (/^[\w+/-]+={0,2}$/.test(t)) {
    const b = Buffer.from(t, 'base64');
    if (b.length === KEY_BYTES) return b;
  }
  return undefined;
}

function checkPermissions(file: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CamgateError(`secret key file ${file} is readable by group or others (mode ${mode.toString(8).padStart(3, '0')}); ` + `run: chmod 600 ${file}`);
  }
}

function readKeyFile(file: string): Buffer {
  checkPermissions(file);
  const key = decodeKey(readFileSync(file, 'utf8'));
  if (!key) throw new CamgateError(`secret key file ${file} does not hold a 32-byte key (64 hex digits or base64)`);
  return key;
}

function fileExists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

export interface KeyOptions {
  dataDir: string;
  env: Record<string, string | undefined>;
  /** false: fail instead of creating a key file (when stored credentials need the existing key). */
  create: boolean;
}

export function loadKey(options: KeyOptions): Buffer {
  const fromEnv = options.env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = decodeKey(fromEnv);
    if (!key) throw new CamgateError(`${KEY_ENV} must be a 32-byte key as 64 hex digits or base64 (e.g. from: openssl rand -base64 32)`, 2);
    return key;
  }
  const file = keyFilePath(options.dataDir);
  if (fileExists(file)) return readKeyFile(file);
  if (!options.create) {
    throw new CamgateError(`the inventory holds encrypted credentials but ${file} is missing: restore it or set ${KEY_ENV}`);
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o750 });
  let fd: number;
  try {
    // 'wx': never overwrite a key another process just created (that would orphan its credentials).
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(file);
    throw new CamgateError(`cannot create ${file}: ${(err as Error).message}`, 1, { cause: err });
  }
  try {
    writeSync(fd, randomBytes(KEY_BYTES).toString('base64') + '\n');
  } finally {
    closeSync(fd);
  }
  return readKeyFile(file);
}
