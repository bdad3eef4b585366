import type { Knex } from 'knex';
import { searchText } from '../domain/admin-search';
import type { VisitorAppend } from '../domain/ports';
import type { Message, Thread } from '../domain/types';
import { cacheKeys, type Cache } from './cache';
import { isPostgres, type PgRows } from './database';
import { createGroupCommit } from './group-commit';
import { toMessage, type MessageRow } from './message-repository';

/**
 * The messages of a batch (`input`: visitor_id, content_text, search_text, client_id,
 * created_at, ord), each stored only in its writer's latest thread (its own or, once
 * verified, its user's: as threads.findLatestForVisitor), only while that thread is open
 * and no visitor of the writer (or of its user) is blocked; a clientId the visitor already
 * used inserts nothing (the unique index on (visitor_id, client_id)). In the batch's order.
 */
const INSERT_FROM_INPUT = `insert into messages (thread_id, sender_type, content_text, search_text, content_type, visitor_id, client_id, status, created_at)
select t.id, 'visitor', i.content_text, i.search_text, 'text', i.visitor_id, i.client_id, 'stored', i.created_at
from input i
join threads t on t.id = (select max(l.id) from threads l where l.visitor_id = i.visitor_id or l.user_id = (select u.user_id from visitors u where u.id = i.visitor_id))
where t.status = 'open'
  and not exists (select 1 from visitors b where b.blocked = ? and (b.id = i.visitor_id or b.user_id = (select u.user_id from visitors u where u.id = i.visitor_id)))
order by i.ord
on conflict (visitor_id, client_id) do nothing
returning *`;

/** PostgreSQL: the batch as arrays, and its outbox rows and the threads' last activity in the same statement. */
const PG_APPEND = `with input as (
  select * from unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::bigint[]) with ordinality as i(visitor_id, content_text, search_text, client_id, created_at, ord)
),
m as (${INSERT_FROM_INPUT}),
o as (
  insert into outbox (thread_id, message_id, kind, status, attempts, available_at, created_at)
  select thread_id, id, 'message', 'pending', 0, created_at, created_at from m order by id
),
u as (
  update threads t set last_activity = x.at from (select thread_id, max(created_at) as at from m group by thread_id) x where t.id = x.thread_id
)
select * from m`;

const columns = (items: VisitorAppend[]) => ({
  visitorIds: items.map((a) => a.visitorId),
  texts: items.map((a) => a.text),
  // searchText is null only for a null text.
  searchTexts: items.map((a) => searchText(a.text) ?? ''),
  clientIds: items.map((a) => a.clientId),
  times: items.map((a) => a.now.getTime()),
});

/**
 * A visitor's text message appended to its open thread with its outbox row, in as few
 * statements as the databases allow, concurrent writers sharing one commit (group-commit.ts):
 * on PostgreSQL one statement per batch; on SQLite one transaction of three (the messages,
 * their outbox rows, the threads' last activity). Resolves after the commit: null when
 * nothing was stored (see INSERT_FROM_INPUT) and the caller must take the full path.
 */
export function createVisitorAppend({ db, cache }: { db: Knex; cache: Cache }) {
  const pg = isPostgres(db);

  async function appendPostgres(items: VisitorAppend[]): Promise<MessageRow[]> {
    const c = columns(items);
    const result = await db.raw<PgRows<MessageRow>>(PG_APPEND, [c.visitorIds, c.texts, c.searchTexts, c.clientIds, c.times, true]);
    return result.rows;
  }

  async function appendSqlite(items: VisitorAppend[], keys: Set<string>): Promise<MessageRow[]> {
    return db.transaction(async (trx) => {
      const input = `with input (ord, visitor_id, content_text, search_text, client_id, created_at) as (values ${items.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}) `;
      const c = columns(items);
      const bindings = items.flatMap((_, n) => [n, c.visitorIds[n], c.texts[n], c.searchTexts[n], c.clientIds[n], c.times[n]]);
      const rows = await trx.raw<MessageRow[]>(input + INSERT_FROM_INPUT, [...bindings, true]);
      if (rows.length === 0) return rows;
      rows.sort((a, b) => Number(a.id) - Number(b.id));
      await trx.raw(
        `insert into outbox (thread_id, message_id, kind, status, attempts, available_at, created_at) values ${rows.map(() => "(?, ?, 'message', 'pending', 0, ?, ?)").join(', ')}`,
        rows.flatMap((r) => [r.thread_id, r.id, r.created_at, r.created_at]),
      );
      const touched = new Map<number, number>();
      for (const r of rows) touched.set(Number(r.thread_id), Math.max(Number(r.created_at), touched.get(Number(r.thread_id)) ?? 0));
      await trx.raw(
        `update threads set last_activity = case id ${[...touched].map(() => 'when ? then ?').join(' ')} end where id in (${[...touched].map(() => '?').join(', ')})`,
        [...[...touched].flat(), ...touched.keys()],
      );
      // Readers may refill these from the state before the commit: dropped now and once more after it (the threads'
      // records only after it: touchCached).
      for (const id of touched.keys()) keys.add(cacheKeys.recentMessages(id));
      cache.del([...keys]);
      return rows;
    });
  }

  /**
   * After the commit: the threads' cached records keep everything but their last activity, which
   * the batch moved on; they are dropped (here and, through the cache's invalidations, on other
   * instances) and put back with the new time here, so the next reader of the thread (the staff
   * page's feed, the outbox) finds it without a read. Whatever a reader refilled meanwhile from the
   * state before the commit differs only in that time, which is set here.
   */
  function touchCached(rows: MessageRow[], keys: Set<string>): void {
    const latest = new Map<number, number>();
    for (const r of rows) latest.set(Number(r.thread_id), Math.max(Number(r.created_at), latest.get(Number(r.thread_id)) ?? 0));
    const cached = [...latest].map(([id, at]) => ({ key: cacheKeys.thread(id), at, thread: cache.get<Thread>(cacheKeys.thread(id)) }));
    for (const id of latest.keys()) keys.add(cacheKeys.thread(id)).add(cacheKeys.recentMessages(id));
    if (keys.size) cache.del([...keys]);
    for (const { key, at, thread } of cached)
      if (thread) cache.set<Thread>(key, { ...thread, lastActivityAt: new Date(Math.max(thread.lastActivityAt.getTime(), at)) });
  }

  async function write(items: VisitorAppend[]): Promise<Array<Message | null>> {
    const keys = new Set<string>();
    const rows = pg ? await appendPostgres(items) : await appendSqlite(items, keys);
    touchCached(rows, keys);
    // Each row answers the first item of its (visitor, clientId); a repeat within the batch gets null (the full path).
    const byKey = new Map(rows.map((r) => [`${Number(r.visitor_id)}:${r.client_id}`, toMessage(r)]));
    return items.map((a) => {
      const key = `${a.visitorId}:${a.clientId}`;
      const message = byKey.get(key) ?? null;
      byKey.delete(key);
      return message;
    });
  }

  const group = createGroupCommit(write);
  return { append: (input: VisitorAppend) => group.submit(input) };
}
