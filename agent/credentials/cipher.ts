// AES-256-GCM for credentials at rest. A fresh 96-bit nonce per encryption; the tag
// authenticates both the ciphertext and a fixed context string, so a wrong key is detected
// for certain instead of yielding garbage.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { CamgateError } from '../../lib/errors';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const CONTEXT = Buffer.from('camgate credentials v1');

export interface Sealed {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  /** Which key sealed it (see keyFingerprint). */
  keyFingerprint: string;
}

/** First 8 bytes of SHA-256 of the key, hex: names a key without revealing it. */
export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function seal(key: Buffer, plaintext: string): Sealed {
  if (key.length !== KEY_BYTES) throw new Error(`credential key must be ${KEY_BYTES} bytes, got ${key.length}`);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(CONTEXT);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag(), keyFingerprint: keyFingerprint(key) };
}

export function open(key: Buffer, sealed: Sealed): string {
  const mine = keyFingerprint(key);
  if (sealed.keyFingerprint !== mine) {
    throw new CamgateError(
      `stored credentials were encrypted with another secret key (fingerprint ${sealed.keyFingerprint}; the key in use is ${mine}): ` +
        'restore the original <data-dir>/secret.key or CAMGATE_SECRET_KEY, or set the credentials again',
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
    decipher.setAAD(CONTEXT);
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new CamgateError('stored credentials failed authentication (corrupted, or encrypted with another key): set them again');
  }
}
