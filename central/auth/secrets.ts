// Session ids and API token secrets: 256 random bits each, so a fast hash (SHA-256) is enough to
// keep them unusable to whoever reads the database; only the hash is stored.
import { createHash, randomBytes } from 'node:crypto';

export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
