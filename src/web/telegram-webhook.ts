import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../domain/tokens';
import type { RequestHandler } from 'express';

export const SECRET_HEADER = 'X-Telegram-Bot-Api-Secret-Token';

const digest = sha256;

/**
 * Refuses, with 401, any webhook request whose secret header is not WEBHOOK_SECRET.
 * It runs before the body is parsed and before grammY (which would first call
 * getMe), so an unauthenticated request costs nothing and always gets 401.
 * Digests of equal length make the comparison constant-time whatever was sent.
 */
export function requireTelegramSecret(secret: string): RequestHandler {
  const expected = digest(secret);
  return (req, res, next) => {
    const given = req.get(SECRET_HEADER);
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return next();
    res.status(401).json({ error: { code: 'unauthorized', message: 'Wrong or missing secret token.' } });
  };
}
