import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_RANDOM_BYTES = 16;
const TOKEN_MAC_BYTES = 16;

/**
 * Visitor tokens that prove they were issued here: 16 random bytes (128 bits) and
 * 16 bytes of HMAC-SHA-256 over them with the session secret, base64url (43
 * characters). A token this server issued is recognised without a database row, so
 * a connection that never writes stores nothing: its visitor is stored on the first
 * write (docs/protocol.md). Tokens issued before this scheme (32 random bytes) keep
 * working through their stored hash.
 */
export function createVisitorTokens(secret: string) {
  const mac = (random: Buffer) =>
    createHmac('sha256', secret).update('visitor-token\0').update(random).digest().subarray(0, TOKEN_MAC_BYTES);
  return {
    issue(): string {
      const random = randomBytes(TOKEN_RANDOM_BYTES);
      return Buffer.concat([random, mac(random)]).toString('base64url');
    },
    /** True for a token this installation issued (whether or not its visitor is stored yet). */
    isIssued(token: string): boolean {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
      const bytes = Buffer.from(token, 'base64url');
      // Only the canonical spelling: a last character that differs in its unused bits decodes to the same bytes,
      // and would otherwise be a second token (another visitor) made from an issued one.
      if (bytes.length !== TOKEN_RANDOM_BYTES + TOKEN_MAC_BYTES || bytes.toString('base64url') !== token) return false;
      return timingSafeEqual(bytes.subarray(TOKEN_RANDOM_BYTES), mac(bytes.subarray(0, TOKEN_RANDOM_BYTES)));
    },
  };
}

export type VisitorTokens = ReturnType<typeof createVisitorTokens>;

/**
 * The visitor id clients see (`session.visitor.id`): derived from the token's hash,
 * so it is known before the visitor is stored, stays the same afterwards, and says
 * nothing about how many visitors there are. A positive integer below 2^52.
 */
export function publicVisitorId(tokenHash: string): number {
  return Number.parseInt(sha256(`visitor-public-id\0${tokenHash}`).toString('hex').slice(0, 13), 16) || 1;
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
