import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DepartmentScope, StaffSessionRepository } from './admin-ports';
import type { Clock } from './ports';
import { hashToken } from './tokens';

/** Who a staff session belongs to, as the staff chat knows them. */
export interface StaffIdentity {
  telegramUserId: number;
  name: string | null;
  username: string | null;
}

export type MembershipResult =
  /** `departments`: those whose staff chat they are in (never empty). */
  { status: 'member'; staff: StaffIdentity; departments: DepartmentScope } | { status: 'not_member' } | { status: 'unavailable' };

/** Whether a Telegram user is (still) in a staff chat, and in which departments' chats. */
export interface StaffMembership {
  check(telegramUserId: number): Promise<MembershipResult>;
  /** Drops what is remembered about a user, so the next check asks Telegram. */
  forget(telegramUserId: number): void;
}

export type AuthFailure =
  /** No cookie, a cookie that is not ours, or an unknown session. */
  | 'no_session'
  /** Idle for longer than the idle timeout, or older than the absolute limit. */
  | 'expired'
  /** Logged out, or revoked because its staff member left the staff chat. */
  | 'revoked'
  /** The staff member is in no staff chat (now or any more). */
  | 'not_staff'
  /** Telegram could not be asked. */
  | 'unavailable';

export type LoginFailure = 'invalid_token' | 'not_staff' | 'unavailable';

export interface AuthenticatedSession {
  idHash: string;
  staff: StaffIdentity;
  /** The departments they may read: those whose staff chat they are a member of (docs/departments.md). */
  departments: DepartmentScope;
  csrfToken: string;
  lastSeenAt: Date;
}

export interface StaffAuthOptions {
  sessions: StaffSessionRepository;
  membership: StaffMembership;
  clock: Clock;
  /** SESSION_SECRET: signs session cookies and derives CSRF tokens. */
  secret: string;
  idleTimeoutMs?: number;
  maxAgeMs?: number;
}

/** How long a /web login link works (once). */
export const LOGIN_TOKEN_TTL_MS = 10 * 60 * 1000;
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
export const SESSION_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** last_seen_at is written at most this often per session: reads should not each cost a write. */
const TOUCH_EVERY_MS = 60 * 1000;

export type StaffAuth = ReturnType<typeof createStaffAuth>;

/**
 * Staff sessions of the read-only page. The cookie value is `<id>.<mac>`: a
 * random 256-bit id and its HMAC-SHA256 under SESSION_SECRET. The database
 * keeps only SHA-256(id). A cookie must carry a valid MAC (forgeries are turned
 * away without a database read; a new secret ends every session) and name a
 * live session whose staff member is still in the staff chat.
 */
export function createStaffAuth({
  sessions,
  membership,
  clock,
  secret,
  idleTimeoutMs = SESSION_IDLE_MS,
  maxAgeMs = SESSION_MAX_AGE_MS,
}: StaffAuthOptions) {
  const mac = (purpose: string, value: string) => createHmac('sha256', secret).update(`${purpose}:${value}`).digest('base64url');

  function sameString(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  }

  /** The session id inside a signed cookie value, or null when it is malformed or its MAC is wrong. */
  function unsign(cookieValue: string | null | undefined): string | null {
    if (!cookieValue || cookieValue.length > 200) return null;
    const dot = cookieValue.indexOf('.');
    if (dot <= 0) return null;
    const id = cookieValue.slice(0, dot);
    return sameString(cookieValue.slice(dot + 1), mac('session', id)) ? id : null;
  }

  async function checkStaff(
    telegramUserId: number,
  ): Promise<{ ok: true; staff: StaffIdentity; departments: DepartmentScope } | { ok: false; reason: 'not_staff' | 'unavailable' }> {
    const result = await membership.check(telegramUserId);
    if (result.status === 'member') return { ok: true, staff: result.staff, departments: result.departments };
    if (result.status === 'unavailable') return { ok: false, reason: 'unavailable' };
    // Left or removed: every session they have ends now, not only the one asking.
    await sessions.revokeAllFor(telegramUserId, clock.now());
    return { ok: false, reason: 'not_staff' };
  }

  return {
    idleTimeoutMs,

    /** A one-time login token for /web: random (256 bits), stored hashed, valid LOGIN_TOKEN_TTL_MS, single use. */
    async issueLoginToken(telegramUserId: number): Promise<string> {
      const token = randomBytes(32).toString('base64url');
      const now = clock.now();
      await sessions.createLoginToken({
        tokenHash: hashToken(token),
        telegramUserId,
        expiresAt: new Date(now.getTime() + LOGIN_TOKEN_TTL_MS),
        now,
      });
      return token;
    },

    /** Uses a one-time login token from /web and opens a session. `cookieValue` goes into the session cookie. */
    async login(
      token: string,
      userAgent: string | null,
    ): Promise<{ ok: true; cookieValue: string; session: AuthenticatedSession } | { ok: false; reason: LoginFailure }> {
      if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return { ok: false, reason: 'invalid_token' };
      const now = clock.now();
      const telegramUserId = await sessions.consumeLoginToken(hashToken(token), now);
      if (telegramUserId === null) return { ok: false, reason: 'invalid_token' };
      // The link was sent to a staff member, who may have been removed since.
      membership.forget(telegramUserId);
      const staff = await checkStaff(telegramUserId);
      if (!staff.ok) return staff;
      const id = randomBytes(32).toString('base64url');
      const idHash = hashToken(id);
      const session = await sessions.create({ idHash, telegramUserId, userAgent: userAgent?.slice(0, 256) ?? null, now });
      return {
        ok: true,
        cookieValue: `${id}.${mac('session', id)}`,
        session: {
          idHash,
          staff: staff.staff,
          departments: staff.departments,
          csrfToken: mac('csrf', idHash),
          lastSeenAt: session.lastSeenAt,
        },
      };
    },

    /**
     * The live session a cookie names, with its staff member's membership
     * checked (cached briefly by the membership). `touch` records activity
     * (requests do; a connected socket being re-checked does not).
     */
    async authenticate(
      cookieValue: string | null | undefined,
      { touch }: { touch: boolean },
    ): Promise<{ ok: true; session: AuthenticatedSession } | { ok: false; reason: AuthFailure }> {
      const id = unsign(cookieValue);
      if (!id) return { ok: false, reason: 'no_session' };
      const idHash = hashToken(id);
      const row = await sessions.find(idHash);
      if (!row) return { ok: false, reason: 'no_session' };
      if (row.revokedAt) return { ok: false, reason: 'revoked' };
      const now = clock.now();
      if (now.getTime() - row.lastSeenAt.getTime() > idleTimeoutMs || now.getTime() - row.createdAt.getTime() > maxAgeMs) {
        return { ok: false, reason: 'expired' };
      }
      const staff = await checkStaff(row.telegramUserId);
      if (!staff.ok) return staff;
      let lastSeenAt = row.lastSeenAt;
      if (touch && now.getTime() - row.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
        await sessions.touch(idHash, now);
        lastSeenAt = now;
      }
      return {
        ok: true,
        session: { idHash, staff: staff.staff, departments: staff.departments, csrfToken: mac('csrf', idHash), lastSeenAt },
      };
    },

    /** Whether `token` is the CSRF token of the session (derived from it, so nothing more is stored). */
    checkCsrf(session: AuthenticatedSession, token: string | undefined): boolean {
      return typeof token === 'string' && sameString(token, session.csrfToken);
    },

    async logout(session: AuthenticatedSession): Promise<void> {
      await sessions.revoke(session.idHash, clock.now());
    },

    /** Removes sessions and tokens that can no longer be used. */
    async prune(): Promise<void> {
      const now = clock.now().getTime();
      await sessions.prune({
        sessionsIdleBefore: new Date(now - idleTimeoutMs),
        sessionsCreatedBefore: new Date(now - maxAgeMs),
        tokensExpiredBefore: new Date(now - 24 * 60 * 60 * 1000),
      });
    },
  };
}
