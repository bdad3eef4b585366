import type { Knex } from 'knex';
import type { VisitorRepository } from '../domain/ports';
import type { Visitor } from '../domain/types';
import type { RepoContext } from './context';
import { publicVisitorId } from '../domain/tokens';
import { isPostgres, num, numOrNull } from './database';

export interface VisitorRow {
  id: number;
  token_hash: string;
  name: string | null;
  user_id: number | null;
  blocked: boolean | number;
  user_blocked?: boolean | number;
  created_at: number | string;
  last_seen_at: number | string;
  phone_number?: string | null;
}

export function toVisitor(row: VisitorRow): Visitor {
  return {
    id: num(row.id),
    publicId: publicVisitorId(row.token_hash),
    name: row.name,
    userId: numOrNull(row.user_id),
    verified: row.user_id !== null && row.user_id !== undefined,
    phone: row.phone_number ?? null,
    blocked: Boolean(row.blocked) || Boolean(row.user_blocked),
    createdAt: new Date(num(row.created_at)),
    lastSeenAt: new Date(num(row.last_seen_at)),
  };
}

export function createVisitorRepository({ db }: RepoContext): VisitorRepository {
  // `user_blocked`: a verified visitor is blocked while any visitor of its user is (blocking one device blocks the person).
  const select = () =>
    db('visitors')
      .leftJoin('users', 'users.id', 'visitors.user_id')
      .select(
        'visitors.*',
        'users.phone_number',
        db.raw(
          'exists (select 1 from visitors as same_user where same_user.user_id = visitors.user_id and same_user.blocked = ?) as user_blocked',
          [true],
        ),
      );

  /** The visitor itself and, once it is verified, every visitor of its user. */
  const sameUser = (id: number) => (q: Knex.QueryBuilder) => {
    q.where('id', id).orWhereIn('user_id', db('visitors').select('user_id').where({ id }).whereNotNull('user_id'));
  };

  async function findById(id: number): Promise<Visitor | null> {
    const row = (await select().where('visitors.id', id).first()) as VisitorRow | undefined;
    return row ? toVisitor(row) : null;
  }

  return {
    async create({ tokenHash, now, page }) {
      // Two tabs (or instances) storing one new visitor at once: the token's unique hash lets one row in, both get it.
      const inserted: unknown[] = await db('visitors')
        .insert({
          token_hash: tokenHash,
          blocked: false,
          created_at: now.getTime(),
          last_seen_at: now.getTime(),
          ...(page ? { last_page: page.slice(0, 512) } : {}),
        })
        .onConflict('token_hash')
        .ignore()
        .returning('*');
      // A new visitor has no user yet (no phone, no blocked user): the row as stored is the whole of it.
      const row = ((inserted as VisitorRow[])[0] ?? (await select().where('visitors.token_hash', tokenHash).first())) as
        VisitorRow | undefined;
      if (!row) throw new Error('a stored visitor vanished');
      return { visitor: toVisitor(row), created: inserted.length > 0 };
    },
    async findByTokenHash(tokenHash) {
      const row = (await select().where('visitors.token_hash', tokenHash).first()) as VisitorRow | undefined;
      return row ? toVisitor(row) : null;
    },
    findById,
    async updateName(id, name) {
      await db('visitors').where({ id }).update({ name });
      const visitor = await findById(id);
      if (!visitor) throw new Error(`visitor ${id} vanished`);
      return visitor;
    },
    async setBlocked(id, blocked) {
      await db('visitors').where(sameUser(id)).update({ blocked });
    },
    async setLastPage(id, page) {
      await db('visitors')
        .where({ id })
        .update({ last_page: page.slice(0, 512) });
    },
    async lastPage(id) {
      const row = await db<{ id: number; last_page: string | null }>('visitors').where({ id }).first('last_page');
      return row?.last_page ?? null;
    },
    async touch(id, now) {
      await db('visitors').where({ id }).update({ last_seen_at: now.getTime() });
    },
    async lockIdentity(id) {
      // SQLite has one writer at a time (and one connection per process): nothing to lock.
      if (!isPostgres(db)) return;
      // Visitor first, then its user: every caller takes them in this order, so they never deadlock.
      const row = await db<{ id: number; user_id: number | null }>('visitors').select('user_id').where({ id }).forUpdate().first();
      if (row?.user_id != null) await db('users').select('id').where({ id: row.user_id }).forUpdate().first();
    },
  };
}
