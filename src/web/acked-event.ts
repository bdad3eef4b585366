import type { Socket } from 'socket.io';
import type { z } from 'zod';
import { DomainError, isDomainError } from '../domain/errors';
import type { Logger } from '../logger';
import { describeIssues, isTooLarge, MAX_ERROR_MESSAGE, type Ack } from './protocol';
import type { RateLimiter } from './rate-limiter';

/** Refuses with `rate_limited` (and when to retry) if any of the buckets is empty for its key. */
export async function takeOrRefuse(buckets: Array<[limiter: RateLimiter, key: string]>): Promise<void> {
  for (const [limiter, key] of buckets) {
    const allowed = await limiter.take(key);
    if (!allowed.ok) {
      throw new DomainError('rate_limited', `Too many requests. Try again in ${Math.ceil(allowed.retryAfterMs / 1000)} s.`, {
        retryAfterMs: allowed.retryAfterMs,
      });
    }
  }
}

/**
 * One client event of protocol v1: validated, limited, handled, and always
 * acknowledged with `{ ok: true, ... }` or `{ ok: false, error }`. Only domain
 * error codes reach the client; anything else is logged and answered `internal`.
 * An event sent without an ack callback cannot be answered and is dropped.
 */
export function onAckedEvent<S extends z.ZodType, R extends object>(
  socket: Socket,
  event: string,
  options: { schema: S; log: Logger; limit: () => Promise<void> },
  handle: (input: z.output<S>) => Promise<R>,
): void {
  socket.on(event, async (payload: unknown, ack: unknown) => {
    if (typeof ack !== 'function') return;
    const reply = ack as Ack<R>;
    try {
      const parsed = options.schema.safeParse(payload);
      if (!parsed.success) throw new DomainError(isTooLarge(parsed.error) ? 'too_large' : 'bad_request', describeIssues(parsed.error));
      await options.limit();
      reply({ ok: true, ...(await handle(parsed.data)) });
    } catch (error) {
      if (isDomainError(error)) {
        const { retryAfterMs, attemptsLeft } = error.details ?? {};
        reply({
          ok: false,
          error: {
            code: error.code,
            message: error.message.slice(0, MAX_ERROR_MESSAGE),
            ...(retryAfterMs ? { retryAfterMs } : {}),
            ...(attemptsLeft !== undefined ? { attemptsLeft } : {}),
          },
        });
      } else {
        options.log.error('visitor event failed', { event, error });
        reply({ ok: false, error: { code: 'internal', message: 'Something went wrong. Please try again.' } });
      }
    }
  });
}
