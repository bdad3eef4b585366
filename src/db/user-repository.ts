import type { UserRepository } from '../domain/identity-ports';
import type { User } from '../domain/types';
import { cacheKeys } from './cache';
import type { RepoContext } from './context';
import { num, numOrNull } from './database';

interface UserRow {
  id: number;
  telegram_id: number | string;
  username: string | null;
  phone_number: string | null;
  display_name: string | null;
  verified_at: number | string | null;
  created_at: number | string;
}

function toUser(r: UserRow): User {
  const verifiedAt = numOrNull(r.verified_at);
  return {
    id: num(r.id),
    telegramId: num(r.telegram_id),
    username: r.username,
    phone: r.phone_number,
    displayName: r.display_name,
    verifiedAt: verifiedAt === null ? null : new Date(verifiedAt),
    createdAt: new Date(num(r.created_at)),
  };
}

export function createUserRepository({ db, invalidate }: RepoContext): UserRepository {
  async function findById(id: number): Promise<User | null> {
    const row = await db<UserRow>('users').where({ id }).first();
    return row ? toUser(row) : null;
  }

  return {
    async upsert({ telegramId, username, phone, displayName, now }) {
      const fields = {
        username: username?.slice(0, 64) ?? null,
        phone_number: phone.slice(0, 32),
        display_name: displayName.slice(0, 128),
        verified_at: now.getTime(),
      };
      await db('users')
        .insert({ telegram_id: telegramId, created_at: now.getTime(), ...fields })
        .onConflict('telegram_id')
        .merge(fields);
      const row = await db<UserRow>('users').where({ telegram_id: telegramId }).first();
      if (!row) throw new Error(`user with Telegram id ${telegramId} vanished after its upsert`);
      return toUser(row);
    },
    findById,
    async linkVisitor(visitorId, userId, name) {
      await db('visitors').where({ id: visitorId }).update({ user_id: userId });
      await db('visitors')
        .where({ user_id: userId })
        .update({ name: name.slice(0, 64) });
      const adopted = await db<{ id: number; visitor_id: number }>('threads').select('id').where({ visitor_id: visitorId });
      if (adopted.length === 0) return;
      await db('threads').where({ visitor_id: visitorId }).update({ user_id: userId });
      invalidate(adopted.map((t) => cacheKeys.thread(num(t.id))));
    },
    async threadIds(userId) {
      const rows = await db<{ id: number; user_id: number | null }>('threads').select('id').where({ user_id: userId }).orderBy('id', 'asc');
      return rows.map((r) => num(r.id));
    },
  };
}
