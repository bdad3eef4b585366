import { createHash, randomBytes } from 'node:crypto';

/** A visitor token: 32 random bytes (256 bits), base64url. */
export function newVisitorToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a text (UTF-8) or bytes. */
export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Tokens (and one-time codes) are stored only as SHA-256 hashes, so a database leak gives no credentials. */
export function hashToken(token: string): string {
  return sha256(token).toString('hex');
}

const REF_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Short thread reference staff can read aloud: 6 chars, no look-alike characters. */
export function newThreadRef(): string {
  const bytes = randomBytes(6);
  let out = '';
  for (const b of bytes) out += REF_ALPHABET[b % REF_ALPHABET.length];
  return out;
}
