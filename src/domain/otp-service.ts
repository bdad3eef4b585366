import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { hashToken } from './tokens';
import { DomainError } from './errors';
import type { OtpRequest } from './identity-ports';
import type { Clock, DeliveryQueue, Store, VisitorNotifier } from './ports';
import type { User, Visitor, VisitorId } from './types';
import { createIdentityLink, type IdentityRooms } from './identity-link';

/** The numbers behind docs/identity.md ("Why brute force does not work"). */
export const OTP_LIMITS = {
  /** A deep link must be opened within this time. */
  linkTtlMs: 10 * 60_000,
  /** After that, the whole request (all its codes) is dead this long after otp:start. */
  requestTtlMs: 30 * 60_000,
  codeTtlMs: 5 * 60_000,
  /** Tries per code, right or wrong; then the code is dead. */
  maxAttempts: 5,
  /** A new code at most once a minute… */
  resendAfterMs: 60_000,
  /** …and at most this many codes per request. */
  maxCodesPerRequest: 5,
  /** Requests older than this are deleted. */
  keepRequestsMs: 24 * 60 * 60_000,
} as const;

export type OtpLimits = typeof OTP_LIMITS;

/** Payloads are 43 characters of base64url (256 random bits); Telegram allows up to 64 of A-Za-z0-9_-. */
const PAYLOAD_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface OtpServiceDeps {
  store: Store;
  notifier: VisitorNotifier;
  rooms: IdentityRooms;
  delivery: DeliveryQueue;
  clock: Clock;
  /** Keys the code HMAC. Not stored in the database, so a database copy alone does not reveal live codes. */
  secret: string;
  limits?: Partial<OtpLimits>;
}

export type OpenResult = { status: 'ok'; requestId: number } | { status: 'invalid' | 'expired' | 'used' };

export type RequestState = 'live' | 'verified' | 'expired' | 'cancelled' | 'unknown';

/** What a code request in the bot leads to. The code itself never leaves `issued` except to go to Telegram. */
export type IssueResult =
  | { status: 'issued'; code: string; expiresAt: Date }
  | { status: 'too_soon'; retryAfterMs: number }
  | { status: 'closed'; reason: RequestState | 'limit' };

export interface TelegramIdentity {
  telegramUserId: number;
  phone: string;
  username: string | null;
  displayName: string;
}

export type OtpService = ReturnType<typeof createOtpService>;

/** "+90 (555) 123-45-67" or "905551234567" → "+905551234567". */
export function normalizePhone(raw: string): string {
  const digits = raw.replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '');
  return digits.startsWith('+') ? digits : `+${digits}`;
}

/**
 * Identity over Telegram (docs/identity.md): a visitor asks for a
 * one-time deep link, the bot collects the Telegram user's own phone number and
 * sends a 6-digit code, and the code typed on the page links the visitor to a
 * user. A verified visitor's threads are those of its user, on every device.
 */
export function createOtpService({ store, notifier, rooms, delivery, clock, secret, limits: overrides }: OtpServiceDeps) {
  const link = createIdentityLink({ store, notifier, rooms, delivery });
  const limits: OtpLimits = { ...OTP_LIMITS, ...overrides };
  const codeHash = (requestId: number, code: string) =>
    createHmac('sha256', secret).update(`otp:${requestId}:${code}`, 'utf8').digest('hex');

  function stateOf(request: OtpRequest, now: Date): RequestState {
    if (request.verifiedAt) return 'verified';
    if (request.cancelledAt) return 'cancelled';
    if (now.getTime() >= request.createdAt.getTime() + limits.requestTtlMs) return 'expired';
    return 'live';
  }

  function sameCode(candidate: string, request: OtpRequest): boolean {
    const expected = Buffer.from(request.codeHash ?? '', 'hex');
    const actual = Buffer.from(codeHash(request.id, candidate), 'hex');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** otp:start — a single-use payload bound to this visitor; the edge turns it into a t.me link. */
  async function start(visitorId: VisitorId): Promise<{ payload: string; expiresAt: Date }> {
    const visitor = await store.visitors.findById(visitorId);
    if (!visitor) throw new DomainError('unauthorized', 'Unknown visitor.');
    if (visitor.blocked) throw new DomainError('blocked', 'Support is not accepting messages from you.');
    if (visitor.verified) throw new DomainError('already_verified', 'You are already verified.');
    const now = clock.now();
    const payload = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + limits.linkTtlMs);
    await store.otp.prune(new Date(now.getTime() - limits.keepRequestsMs));
    await store.otp.create({ visitorId, payloadHash: hashToken(payload), linkExpiresAt: expiresAt, now });
    return { payload, expiresAt };
  }

  /**
   * `/start <payload>` in the bot: binds the request to the Telegram user who opened
   * the link first. The same user may open it again while the request is live
   * (the flow restarts); anyone else gets `used`.
   */
  async function open(payload: string, telegramUserId: number): Promise<OpenResult> {
    if (!PAYLOAD_PATTERN.test(payload)) return { status: 'invalid' };
    const request = await store.otp.findByPayloadHash(hashToken(payload));
    if (!request) return { status: 'invalid' };
    const now = clock.now();
    if (request.openedAt) {
      return request.telegramUserId === telegramUserId && stateOf(request, now) === 'live'
        ? { status: 'ok', requestId: request.id }
        : { status: 'used' };
    }
    if (now.getTime() >= request.linkExpiresAt.getTime()) return { status: 'expired' };
    if (!(await store.otp.claim(request.id, telegramUserId, now))) return { status: 'used' };
    return { status: 'ok', requestId: request.id };
  }

  async function requestState(requestId: number, telegramUserId: number): Promise<RequestState> {
    const request = await store.otp.findById(requestId);
    if (!request || request.telegramUserId !== telegramUserId) return 'unknown';
    return stateOf(request, clock.now());
  }

  /**
   * Makes a new code for the request (first with the shared contact). `trigger`
   * identifies the Telegram update asking: the same update handled again (a retry)
   * gets a fresh code without counting as a new request.
   */
  async function issueCode(
    requestId: number,
    identity: TelegramIdentity | { telegramUserId: number },
    trigger: string,
  ): Promise<IssueResult> {
    const request = await store.otp.findById(requestId);
    if (!request || request.telegramUserId !== identity.telegramUserId) return { status: 'closed', reason: 'unknown' };
    const now = clock.now();
    const state = stateOf(request, now);
    if (state !== 'live') return { status: 'closed', reason: state };
    if ('phone' in identity) {
      await store.otp.saveContact(request.id, {
        phone: normalizePhone(identity.phone),
        username: identity.username,
        displayName: identity.displayName,
      });
    } else if (!request.phone) {
      return { status: 'closed', reason: 'unknown' };
    }
    const retry = request.codeTrigger === trigger;
    if (!retry && request.codeSentAt) {
      const wait = request.codeSentAt.getTime() + limits.resendAfterMs - now.getTime();
      if (wait > 0) return { status: 'too_soon', retryAfterMs: wait };
    }
    if (!retry && request.codesSent >= limits.maxCodesPerRequest) return { status: 'closed', reason: 'limit' };
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(now.getTime() + limits.codeTtlMs);
    await store.otp.setCode(request.id, { codeHash: codeHash(request.id, code), expiresAt, sentAt: now, trigger, countAsNew: !retry });
    return { status: 'issued', code, expiresAt };
  }

  async function cancel(requestId: number, telegramUserId: number): Promise<void> {
    const request = await store.otp.findById(requestId);
    if (request && request.telegramUserId === telegramUserId) await store.otp.cancel(request.id, clock.now());
  }

  /**
   * otp:verify — checks the visitor's current code (at most `maxAttempts` tries,
   * counted atomically before comparing) and, when right, links the visitor to
   * the Telegram user and merges it with the user's other visitors.
   */
  async function verify(visitorId: VisitorId, code: string): Promise<{ visitor: Visitor; user: User }> {
    const visitor = await store.visitors.findById(visitorId);
    if (!visitor) throw new DomainError('unauthorized', 'Unknown visitor.');
    const request = await store.otp.latestWithCode(visitorId);
    const now = clock.now();
    if (!request || !request.codeHash || stateOf(request, now) === 'verified' || stateOf(request, now) === 'cancelled') {
      throw new DomainError('not_found', 'No code is waiting. Open the Telegram link first.');
    }
    if (request.attempts >= limits.maxAttempts) throw tooMany();
    if (now.getTime() >= (request.codeExpiresAt?.getTime() ?? 0) || stateOf(request, now) === 'expired') {
      throw new DomainError('code_expired', 'This code has expired. Send /code to the bot for a new one.');
    }
    if (!(await store.otp.reserveAttempt(request.id, request.codeHash, limits.maxAttempts))) {
      const fresh = await store.otp.findById(request.id);
      if (fresh && fresh.codeHash === request.codeHash && fresh.attempts >= limits.maxAttempts) throw tooMany();
      throw new DomainError('invalid_code', 'This code is no longer valid. Use the latest code the bot sent.');
    }
    if (!sameCode(code, request)) {
      const fresh = await store.otp.findById(request.id);
      const left = Math.max(0, limits.maxAttempts - (fresh?.attempts ?? limits.maxAttempts));
      throw new DomainError(
        'invalid_code',
        left > 0
          ? `Wrong code. ${left} ${left === 1 ? 'try' : 'tries'} left.`
          : 'Wrong code. This code no longer works: send /code to the bot for a new one.',
        { attemptsLeft: left },
      );
    }
    return link(visitorId, request, request.codeHash, now);
  }

  function tooMany(): DomainError {
    return new DomainError('too_many_attempts', 'Too many wrong tries: this code no longer works. Send /code to the bot for a new one.', {
      attemptsLeft: 0,
    });
  }

  return { start, open, requestState, issueCode, cancel, verify, limits };
}
