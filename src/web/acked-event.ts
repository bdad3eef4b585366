import type { Socket } from 'socket.io';
import type { z } from 'zod';
import { DomainError, isDomainError } from '../domain/errors';
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from '../db/unavailable';
import type { Logger } from '../logger';
import { describeIssues, isTooLarge, MAX_ERROR_MESSAGE, type Ack } from './protocol';
import { spendAll, type Budget, type Receipt } from '../limits/budgets';

/** The refusal of a spent budget, with when to retry. */
export function rateLimited(retryAfterMs: number, what = 'Too many requests.'): DomainError {
  return new DomainError('rate_limited', `${what} Try again in ${Math.ceil(retryAfterMs / 1000)} s.`, { retryAfterMs });
}

/** Spends from every budget for its key, or refuses with `rate_limited` (and when to retry) spending nothing. */
export async function spendOrRefuse(spends: ReadonlyArray<readonly [budget: Budget, key: string, points?: number]>): Promise<Receipt> {
  const spent = await spendAll(spends);
  if (!spent.ok) throw rateLimited(spent.retryAfterMs);
  return spent;
}

/** Refusals by a limit met deeper in (a new thread, a new visitor): the event's own budgets are given back. */
const REFUNDED = new Set(['rate_limited', 'verification_required']);

/**
 * One client event of protocol v1: validated, limited, handled, and always
 * acknowledged with `{ ok: true, ... }` or `{ ok: false, error }`. Only domain
 * error codes reach the client; a database that cannot be reached is answered
 * `unavailable` (nothing was stored: try again), anything else is logged and
 * answered `internal`.
 * An event sent without an ack callback cannot be answered and is dropped.
 */
export function onAckedEvent<S extends z.ZodType, R extends object>(
  socket: Socket,
  event: string,
  options: { schema: S; log: Logger; limit: () => Promise<Receipt | void> },
  handle: (input: z.output<S>) => Promise<R>,
): void {
  socket.on(event, async (payload: unknown, ack: unknown) => {
    if (typeof ack !== 'function') return;
    const reply = ack as Ack<R>;
    let receipt: Receipt | void = undefined;
    try {
      const parsed = options.schema.safeParse(payload);
      if (!parsed.success) throw new DomainError(isTooLarge(parsed.error) ? 'too_large' : 'bad_request', describeIssues(parsed.error));
      receipt = await options.limit();
      reply({ ok: true, ...(await handle(parsed.data)) });
    } catch (error) {
      if (receipt && isDomainError(error) && REFUNDED.has(error.code))
        await receipt.refund().catch((e: unknown) => options.log.warn('giving back a budget failed', { event, error: e }));
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
      } else if (isDatabaseUnavailable(error)) {
        options.log.warn('visitor event refused: the database cannot be reached', { event, error: String(error) });
        reply({ ok: false, error: { code: 'unavailable', message: DATABASE_UNAVAILABLE_MESSAGE } });
      } else {
        options.log.error('visitor event failed', { event, error });
        reply({ ok: false, error: { code: 'internal', message: 'Something went wrong. Please try again.' } });
      }
    }
  });
}
