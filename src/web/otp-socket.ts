import type { Socket } from 'socket.io';
import { z } from 'zod';
import { DomainError, isDomainError } from '../domain/errors';
import type { OtpService } from '../domain/otp-service';
import { visitorView } from '../domain/types';
import type { Logger } from '../logger';
import { describeIssues, type Ack } from './protocol';
import { createRateLimiter, type RateLimiter } from './rate-limiter';

/** Per-visitor and per-IP budgets for the identity events (docs/identity.md). */
export const OTP_RATE_LIMITS = {
  // A visitor rarely needs more than one link; a few at once, then one a minute.
  startPerVisitor: { burst: 3, perMinute: 1 },
  // Many visitors may share an address (an office, a mobile carrier's NAT).
  startPerIp: { burst: 30, perMinute: 10 },
  // Above the 5 tries a code allows, so the per-code limit is what a visitor meets first.
  verifyPerVisitor: { burst: 10, perMinute: 10 },
  verifyPerIp: { burst: 50, perMinute: 30 },
};

export const otpSchemas = {
  'otp:start': z
    .strictObject({})
    .optional()
    .transform(() => ({})),
  'otp:verify': z.strictObject({
    code: z
      .string()
      .transform((s) => s.replace(/\s+/g, ''))
      .pipe(z.string().regex(/^\d{6}$/, 'code must be the 6 digits the bot sent')),
  }),
};

export interface OtpSocketDeps {
  otp: OtpService | null;
  /** The bot's username once Telegram is connected; null while it is not (or Telegram is disabled). */
  botUsername: () => string | null;
  logger: Logger;
  limits?: typeof OTP_RATE_LIMITS;
}

/** The part of a visitor socket these handlers need; visitor-socket.ts sets `data` in its auth middleware. */
type OtpSocket = Pick<Socket, 'on'> & { data: { visitorId: number; address: string } };

/**
 * `otp:start` and `otp:verify` (protocol v1, docs/identity.md). Each is limited per
 * visitor and per client address, on top of the per-code limits in the OTP service.
 */
export function createOtpSocketHandlers({ otp, botUsername, logger, limits = OTP_RATE_LIMITS }: OtpSocketDeps) {
  const log = logger.child({ unit: 'otp' });
  const buckets = {
    startVisitor: createRateLimiter(limits.startPerVisitor),
    startIp: createRateLimiter(limits.startPerIp),
    verifyVisitor: createRateLimiter(limits.verifyPerVisitor),
    verifyIp: createRateLimiter(limits.verifyPerIp),
  };

  function take(limiters: RateLimiter[], socket: OtpSocket) {
    const keys = [`v${socket.data.visitorId}`, `ip${socket.data.address}`];
    for (let i = 0; i < limiters.length; i++) {
      const allowed = limiters[i].take(keys[i]);
      if (!allowed.ok) {
        throw new DomainError('rate_limited', `Too many requests. Try again in ${Math.ceil(allowed.retryAfterMs / 1000)} s.`, { retryAfterMs: allowed.retryAfterMs });
      }
    }
  }

  function unavailable(): DomainError {
    return new DomainError('unavailable', 'Verification through Telegram is not available right now.');
  }

  function on<S extends z.ZodType, R extends object>(socket: OtpSocket, event: string, schema: S, limiters: RateLimiter[], handle: (input: z.output<S>) => Promise<R>) {
    socket.on(event, async (payload: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const reply = ack as Ack<R>;
      try {
        const parsed = schema.safeParse(payload);
        if (!parsed.success) throw new DomainError('bad_request', describeIssues(parsed.error));
        take(limiters, socket);
        reply({ ok: true, ...(await handle(parsed.data)) });
      } catch (error) {
        if (isDomainError(error)) {
          const { retryAfterMs, attemptsLeft } = error.details ?? {};
          reply({
            ok: false,
            error: { code: error.code, message: error.message, ...(retryAfterMs ? { retryAfterMs } : {}), ...(attemptsLeft !== undefined ? { attemptsLeft } : {}) },
          });
        } else {
          log.error('identity event failed', { event, error });
          reply({ ok: false, error: { code: 'internal', message: 'Something went wrong. Please try again.' } });
        }
      }
    });
  }

  return {
    register(socket: OtpSocket) {
      const visitorId = socket.data.visitorId;
      on(socket, 'otp:start', otpSchemas['otp:start'], [buckets.startVisitor, buckets.startIp], async () => {
        const username = botUsername();
        if (!otp || !username) throw unavailable();
        const { payload, expiresAt } = await otp.start(visitorId);
        return { link: `https://t.me/${username}?start=${payload}`, expiresAt: expiresAt.toISOString() };
      });
      on(socket, 'otp:verify', otpSchemas['otp:verify'], [buckets.verifyVisitor, buckets.verifyIp], async ({ code }) => {
        if (!otp) throw unavailable();
        const { visitor } = await otp.verify(visitorId, code);
        log.info('visitor verified', { visitorId, userId: visitor.userId });
        return { visitor: visitorView(visitor) };
      });
    },
    close() {
      for (const b of Object.values(buckets)) b.close();
    },
  };
}

export type OtpSocketHandlers = ReturnType<typeof createOtpSocketHandlers>;
