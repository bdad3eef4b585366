import type { Socket } from 'socket.io';
import { z } from 'zod';
import { DomainError } from '../domain/errors';
import type { OtpService } from '../domain/otp-service';
import { visitorView } from '../domain/types';
import type { Logger } from '../logger';
import { onAckedEvent, spendOrRefuse } from './acked-event';
import { burstWindow, type Budget, type Budgets } from '../limits/budgets';

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
  /** False while support is offline (domain/support-status.ts): no new verification starts then. Default: always. */
  canVerify?: () => boolean;
  logger: Logger;
  limits?: typeof OTP_RATE_LIMITS;
  /** Where the budgets live: this process, or Redis across instances (src/limits/budgets.ts). */
  budgets: Budgets;
}

/** The part of a visitor socket these handlers need; visitor-socket.ts sets `data` in its auth middleware. */
type OtpSocket = Pick<Socket, 'on'> & { data: { publicId: number; address: string } };

/** The socket's visitor: `stored` when it has written already (or null), `ensure` stores it (otp:start is a write). */
export interface OtpVisitor {
  stored(): Promise<number | null>;
  ensure(): Promise<{ id: number }>;
}

/**
 * `otp:start` and `otp:verify` (protocol v1, docs/identity.md). Each is limited per
 * visitor and per client address, on top of the per-code limits in the OTP service.
 */
export function createOtpSocketHandlers({
  otp,
  botUsername,
  canVerify = () => true,
  logger,
  limits = OTP_RATE_LIMITS,
  budgets,
}: OtpSocketDeps) {
  const log = logger.child({ unit: 'otp' });
  const buckets = {
    startVisitor: budgets.budget('otp-start', [burstWindow(limits.startPerVisitor)]),
    startIp: budgets.budget('otp-start-ip', [burstWindow(limits.startPerIp)]),
    verifyVisitor: budgets.budget('otp-verify', [burstWindow(limits.verifyPerVisitor)]),
    verifyIp: budgets.budget('otp-verify-ip', [burstWindow(limits.verifyPerIp)]),
  };

  /** Budgets come in [per visitor, per address] pairs. */
  const limit = (pair: [visitor: Budget, address: Budget], socket: OtpSocket) => () =>
    spendOrRefuse([
      [pair[0], `v${socket.data.publicId}`],
      [pair[1], `ip${socket.data.address}`],
    ]);

  function unavailable(): DomainError {
    return new DomainError('unavailable', 'Verification through Telegram is not available right now.');
  }

  /** `refuse` runs before the buckets: an event that cannot work now spends none of the visitor's budget. */
  function on<S extends z.ZodType, R extends object>(
    socket: OtpSocket,
    event: string,
    schema: S,
    pair: [visitor: Budget, address: Budget],
    refuse: () => DomainError | null,
    handle: (input: z.output<S>) => Promise<R>,
  ) {
    const take = limit(pair, socket);
    const check = async () => {
      const refusal = refuse();
      if (refusal) throw refusal;
      return take();
    };
    onAckedEvent(socket as unknown as Socket, event, { schema, log, limit: check }, handle);
  }

  return {
    register(socket: OtpSocket, visitor: OtpVisitor) {
      // Nothing is issued while the bot cannot carry the conversation: no token, not connected, or support offline.
      const startRefusal = () => (!otp || !botUsername() || !canVerify() ? unavailable() : null);
      on(socket, 'otp:start', otpSchemas['otp:start'], [buckets.startVisitor, buckets.startIp], startRefusal, async () => {
        const username = botUsername();
        if (!otp || !username) throw unavailable();
        const { payload, expiresAt } = await otp.start((await visitor.ensure()).id);
        return { link: `https://t.me/${username}?start=${payload}`, expiresAt: expiresAt.toISOString() };
      });
      // A code the bot already sent is checked in the database: that works while Telegram is away too.
      const verifyRefusal = () => (!otp ? unavailable() : null);
      on(socket, 'otp:verify', otpSchemas['otp:verify'], [buckets.verifyVisitor, buckets.verifyIp], verifyRefusal, async ({ code }) => {
        if (!otp) throw unavailable();
        // A visitor not stored yet never started a verification: nothing to check, and nothing is stored.
        const visitorId = await visitor.stored();
        if (visitorId === null) throw new DomainError('not_found', 'No code is waiting. Open the Telegram link first.');
        const verified = (await otp.verify(visitorId, code)).visitor;
        log.info('visitor verified', { visitorId, userId: verified.userId });
        return { visitor: visitorView(verified) };
      });
    },
  };
}

export type OtpSocketHandlers = ReturnType<typeof createOtpSocketHandlers>;
