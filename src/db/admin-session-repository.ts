import type { Knex } from 'knex';
import type { StaffSession, StaffSessionRepository } from '../domain/admin-ports';
import { num, numOrNull } from './database';

interface SessionRow {
  id_hash: string;
  telegram_user_id: number | string;
  created_at: number | string;
  last_seen_at: number | string;
  revoked_at: number | string | null;
}

function toSession(row: SessionRow): StaffSession {
  const revoked = numOrNull(row.revoked_at);
  return {
    idHash: row.id_hash,
    telegramUserId: num(row.telegram_user_id),
    createdAt: new Date(num(row.created_at)),
    lastSeenAt: new Date(num(row.last_seen_at)),
    revokedAt: revoked === null ? null : new Date(revoked),
  };
}

/** staff_sessions and staff_login_tokens (tokens are issued by the bot's /web, used by the login link). */
export function createStaffSessionRepository(db: Knex): StaffSessionRepository {
  async function find(idHash: string): Promise<StaffSession | null> {
    const row = await db<SessionRow>('staff_sessions').where({ id_hash: idHash }).first();
    return row ? toSession(row) : null;
  }

  return {
    async consumeLoginToken(tokenHash, now) {
      // One conditional UPDATE: of two requests racing with one token, exactly one changes the row.
      const changed = await db('staff_login_tokens')
        .where({ token_hash: tokenHash })
        .whereNull('used_at')
        .andWhere('expires_at', '>', now.getTime())
        .update({ used_at: now.getTime() });
      if (changed !== 1) return null;
      const row = await db<{ token_hash: string; telegram_user_id: number | string }>('staff_login_tokens')
        .where({ token_hash: tokenHash })
        .first('telegram_user_id');
      return row ? num(row.telegram_user_id) : null;
    },
    async createLoginToken({ tokenHash, telegramUserId, expiresAt, now }) {
      await db('staff_login_tokens').insert({
        token_hash: tokenHash,
        telegram_user_id: telegramUserId,
        expires_at: expiresAt.getTime(),
        created_at: now.getTime(),
      });
    },
    async create({ idHash, telegramUserId, userAgent, now }) {
      await db('staff_sessions').insert({
        id_hash: idHash,
        telegram_user_id: telegramUserId,
        created_at: now.getTime(),
        last_seen_at: now.getTime(),
        user_agent: userAgent,
      });
      return (await find(idHash))!;
    },
    find,
    async touch(idHash, now) {
      await db('staff_sessions').where({ id_hash: idHash }).whereNull('revoked_at').update({ last_seen_at: now.getTime() });
    },
    async revoke(idHash, now) {
      await db('staff_sessions').where({ id_hash: idHash }).whereNull('revoked_at').update({ revoked_at: now.getTime() });
    },
    async revokeAllFor(telegramUserId, now) {
      return db('staff_sessions').where({ telegram_user_id: telegramUserId }).whereNull('revoked_at').update({ revoked_at: now.getTime() });
    },
    async prune({ sessionsIdleBefore, sessionsCreatedBefore, tokensExpiredBefore }) {
      await db('staff_sessions')
        .where('last_seen_at', '<', sessionsIdleBefore.getTime())
        .orWhere('created_at', '<', sessionsCreatedBefore.getTime())
        .orWhere('revoked_at', '<', sessionsIdleBefore.getTime())
        .delete();
      await db('staff_login_tokens').where('expires_at', '<', tokensExpiredBefore.getTime()).delete();
    },
  };
}
