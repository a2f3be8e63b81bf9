// Passwords of the API's users: scrypt (node:crypto) with a random 16-byte salt per password; the
// parameters are stored with the hash, so stronger ones later still verify old hashes. Comparison
// in constant time. No password is ever stored, logged or defaulted.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

/** log2 N = 15, r = 8, p = 1: 32 MiB and some 50–100 ms per hash on a small box. */
const COST_LOG2 = 15;
const BLOCK_SIZE = 8;
const PARALLEL = 1;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, costLog2: number, r: number, p: number, length: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** costLog2, r, p, maxmem: 256 * 2 ** costLog2 * r };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Why `password` may not be used (undefined: it may). */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH)
    return `a password has at least ${MIN_PASSWORD_LENGTH} characters (this one has ${length}): a passphrase of several words is easiest`;
  if (length > MAX_PASSWORD_LENGTH) return `a password has at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}

/** scrypt$<log2 N>$<r>$<p>$<salt, base64>$<key, base64> */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST_LOG2, BLOCK_SIZE, PARALLEL, KEY_LENGTH);
  return ['scrypt', COST_LOG2, BLOCK_SIZE, PARALLEL, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Does `password` match `stored`? A hash this code cannot read matches nothing. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [costLog2, r, p] = parts.slice(1, 4).map(Number);
  if (![costLog2, r, p].every((n) => Number.isInteger(n) && n > 0) || costLog2 > 22 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (salt.length < 8 || expected.length < 16) return false;
  const key = await derive(password, salt, costLog2, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

let decoy: Promise<string> | undefined;

/** Spends the time of one verification on a hash of nothing, so an unknown user name answers as
 * slowly as a wrong password does. */
export async function verifyNothing(password: string): Promise<false> {
  decoy ??= hashPassword(randomBytes(12).toString('base64'));
  await verifyPassword(password, await decoy);
  return false;
}
