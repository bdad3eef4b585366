import type { Knex } from 'knex';
import { searchText } from '../domain/admin-search';
import type { VisitorAppend } from '../domain/ports';
import type { Message } from '../domain/types';
import { cacheKeys, type Cache } from './cache';
import { isPostgres, type PgRows } from './database';
import { createGroupCommit } from './group-commit';
import { toMessage, type MessageRow } from './message-repository';

/**
 * The message lands only in the writer's latest thread (its own or, once verified, its
 * user's: as threads.findLatestForVisitor), only while that thread is open and no visitor
 * of the writer (or of its user) is blocked; a clientId the visitor already used inserts
 * nothing (the unique index on (visitor_id, client_id)). No row back: the full path decides.
 */
const INSERT = `insert into messages (thread_id, sender_type, content_text, search_text, content_type, visitor_id, client_id, status, created_at)
select t.id, 'visitor', ?, ?, 'text', ?, ?, 'stored', ?
from threads t
where t.id = (select max(l.id) from threads l where l.visitor_id = ? or l.user_id = (select u.user_id from visitors u where u.id = ?))
  and t.status = 'open'
  and not exists (select 1 from visitors b where b.blocked = ? and (b.id = ? or b.user_id = (select u.user_id from visitors u where u.id = ?)))
on conflict (visitor_id, client_id) do nothing
returning *`;

/**
 * A visitor's text message appended to its open thread with its outbox row, in as few
 * statements as the databases allow, concurrent writers sharing one transaction
 * (group-commit.ts): per message one insert, per batch one outbox insert and one
 * update of the threads' last activity. Resolves after the commit: null when nothing
 * was stored (see INSERT) and the caller must take the full path.
 */
export function createVisitorAppend({ db, cache }: { db: Knex; cache: Cache }) {
  const pg = isPostgres(db);

  async function insertOne(trx: Knex.Transaction, a: VisitorAppend): Promise<Message | null> {
    const at = a.now.getTime();
    const bindings = [a.text, searchText(a.text), a.visitorId, a.clientId, at, a.visitorId, a.visitorId, true, a.visitorId, a.visitorId];
    const result: unknown = await trx.raw(INSERT, bindings);
    const rows = pg ? (result as PgRows<MessageRow>).rows : (result as MessageRow[]);
    return rows.length ? toMessage(rows[0]) : null;
  }

  async function write(items: VisitorAppend[]): Promise<Array<Message | null>> {
    const keys = new Set<string>();
    const out = await db.transaction(async (trx) => {
      const messages: Array<Message | null> = [];
      for (const a of items) messages.push(await insertOne(trx, a));
      const stored = messages.flatMap((m, i) => (m ? [{ m, at: items[i].now.getTime() }] : []));
      if (stored.length === 0) return messages;
      await trx.raw(
        `insert into outbox (thread_id, message_id, kind, status, attempts, available_at, created_at) values ${stored.map(() => "(?, ?, 'message', 'pending', 0, ?, ?)").join(', ')}`,
        stored.flatMap(({ m, at }) => [m.threadId, m.id, at, at]),
      );
      const threads = new Map<number, number>();
      for (const { m, at } of stored) threads.set(m.threadId, Math.max(at, threads.get(m.threadId) ?? 0));
      const touched = [...threads];
      await trx.raw(
        `update threads set last_activity = case id ${touched.map(() => 'when ? then cast(? as bigint)').join(' ')} end where id in (${touched.map(() => '?').join(', ')})`,
        [...touched.flat(), ...touched.map(([id]) => id)],
      );
      for (const [threadId] of touched) keys.add(cacheKeys.thread(threadId)).add(cacheKeys.recentMessages(threadId));
      // Readers may refill these from the state before the commit: dropped now and once more after it.
      cache.del([...keys]);
      return messages;
    });
    if (keys.size) cache.del([...keys]);
    return out;
  }

  const group = createGroupCommit(write, { maxBatch: 100 });
  return { append: (input: VisitorAppend) => group.submit(input) };
}
