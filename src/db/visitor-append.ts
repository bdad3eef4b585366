import type { Knex } from 'knex';
import { searchText } from '../domain/admin-search';
import type { Appended, VisitorAppend } from '../domain/ports';
import { handedOffRow } from '../domain/outbox-ports';
import type { Thread } from '../domain/types';
import { cacheKeys, type Cache } from './cache';
import { isPostgres, num, type PgRows } from './database';
import { createGroupCommit } from './group-commit';
import { createSqliteSessions } from './sqlite-session';
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

/** The thread's pending rows in the outbox, as the batch's row `h` finds them. */
const PENDING = `from outbox p where p.thread_id = h.thread_id and p.status = 'pending'`;

/**
 * Whether a batch's row `h` (thread_id, at, nth: its place among the batch's rows of its thread, locked_by: the lease
 * its writer asked for) is stored leased, handed to the worker without a claim: the first of its thread in the batch,
 * and either the thread's head (its topic already there, nothing of the thread waiting in the outbox, so no delivery
 * of it is in flight) or the one row that follows a delivery this same worker has in flight (the thread's only
 * pending row is leased to it, and the lease has not run out): it joins that drain. See docs/delivery.md, "The
 * hand-off".
 */
const HANDED = `(h.locked_by is not null and h.nth = 1 and (
  (exists (select 1 from threads ht where ht.id = h.thread_id and ht.topic_id is not null) and not exists (select 1 ${PENDING}))
  or (select count(*) = 1 and min(p.locked_by) = h.locked_by and min(p.locked_until) >= h.at ${PENDING})))`;

/**
 * PostgreSQL: the batch as arrays, and its outbox rows (the hand-off's leased) and the threads' last activity (moved
 * forward only) in the same statement. Each stored message comes back with its outbox row's id, whether that row was
 * leased, and how many of the batch's rows of its thread follow it.
 */
const PG_APPEND = `with input as (
  select * from unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::bigint[]) with ordinality
    as i(visitor_id, content_text, search_text, client_id, created_at, locked_by, locked_until, ord)
),
m as (${INSERT_FROM_INPUT}),
h as (
  select m.id, m.thread_id, m.created_at, m.created_at as at, l.locked_by, l.locked_until,
    (select count(*) from outbox p where p.thread_id = m.thread_id and p.status = 'pending') as ahead,
    row_number() over (partition by m.thread_id order by m.id) as nth, count(*) over (partition by m.thread_id) as of_thread
  from m cross join lateral (
    select i.locked_by, i.locked_until from input i where i.visitor_id = m.visitor_id and i.client_id = m.client_id order by i.ord limit 1
  ) l
),
o as (
  insert into outbox (thread_id, message_id, kind, status, attempts, available_at, created_at, locked_by, locked_until)
  select h.thread_id, h.id, 'message', 'pending', 0, h.created_at, h.created_at,
    case when ${HANDED} then h.locked_by end, case when ${HANDED} then h.locked_until end
  from h order by h.id
  returning id, message_id, locked_by
),
u as (
  update threads t set last_activity = greatest(t.last_activity, x.at)
  from (select thread_id, max(created_at) as at from m group by thread_id) x where t.id = x.thread_id
)
select m.*, o.id as outbox_id, o.locked_by as outbox_locked_by, h.of_thread - h.nth as behind, h.ahead
from m join o on o.message_id = m.id join h on h.id = m.id`;

/** SQLite: a batch's outbox rows (`v`: thread_id, message_id, at, locked_by, locked_until, nth), the hand-off's leased. */
const sqliteOutbox = (
  rows: number,
) => `insert into outbox (thread_id, message_id, kind, status, attempts, available_at, created_at, locked_by, locked_until)
select h.thread_id, h.message_id, 'message', 'pending', 0, h.at, h.at, case when ${HANDED} then h.locked_by end, case when ${HANDED} then h.locked_until end
from (select v.column1 as thread_id, v.column2 as message_id, v.column3 as at, v.column4 as locked_by, v.column5 as locked_until, v.column6 as nth
  from (values ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}) v) h
order by h.message_id
returning id, message_id, locked_by,
  (select count(*) from outbox p where p.thread_id = outbox.thread_id and p.status = 'pending' and p.id < outbox.id) as ahead`;

/**
 * A stored message as the append answers it: its outbox row's id, whether that row was leased, how many of the batch's
 * rows of its thread follow, and how many of the thread's rows were pending before it.
 */
type AppendedRow = MessageRow & {
  outbox_id: number | string;
  outbox_locked_by: string | null;
  behind: number | string;
  ahead: number | string;
};

const columns = (items: VisitorAppend[]) => ({
  visitorIds: items.map((a) => a.visitorId),
  texts: items.map((a) => a.text),
  // searchText is null only for a null text.
  searchTexts: items.map((a) => searchText(a.text) ?? ''),
  clientIds: items.map((a) => a.clientId),
  times: items.map((a) => a.now.getTime()),
  lockedBy: items.map((a) => a.lease?.workerId ?? null),
  lockedUntil: items.map((a) => a.lease?.until ?? null),
});

const keyOf = (visitorId: number | string | null, clientId: string | null) => `${Number(visitorId)}:${clientId}`;

/** A stored message, and its outbox row as a claim would give it to the worker when the row was stored leased. */
function appended(row: AppendedRow): Appended {
  const message = toMessage(row);
  if (row.outbox_locked_by === null) return { message, handedOff: null };
  return { message, handedOff: handedOffRow(num(row.outbox_id), message, { behind: num(row.behind), joins: num(row.ahead) > 0 }) };
}

/**
 * A visitor's text message appended to its open thread with its outbox row, in as few
 * statements as the databases allow, concurrent writers sharing one commit (group-commit.ts):
 * on PostgreSQL one statement per batch (the messages, their outbox rows, the threads' last
 * activity); on SQLite one transaction of two (the messages, their outbox rows: the threads' last
 * activity moves with the messages by a trigger, migrations/20261211000000_message_moves_thread_activity.ts).
 * Resolves after the commit: null when
 * nothing was stored (see INSERT_FROM_INPUT) and the caller must take the full path.
 */
export function createVisitorAppend({ db, cache }: { db: Knex; cache: Cache }) {
  const pg = isPostgres(db);
  const sqlite = pg ? null : createSqliteSessions(db);

  async function appendPostgres(items: VisitorAppend[]): Promise<AppendedRow[]> {
    const c = columns(items);
    // Arrays with nulls (no lease asked) are bound as they are: pg sends them as arrays with NULL elements.
    const leases = [c.lockedBy, c.lockedUntil] as unknown as Knex.RawBinding[];
    const bindings: Knex.RawBinding[] = [c.visitorIds, c.texts, c.searchTexts, c.clientIds, c.times, ...leases, true];
    return (await db.raw<PgRows<AppendedRow>>(PG_APPEND, bindings)).rows;
  }

  async function appendSqlite(items: VisitorAppend[], keys: Set<string>): Promise<AppendedRow[]> {
    return sqlite!.transaction(async (trx) => {
      const input = `with input (ord, visitor_id, content_text, search_text, client_id, created_at) as (values ${items.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}) `;
      const c = columns(items);
      const bindings = items.flatMap((_, n) => [n, c.visitorIds[n], c.texts[n], c.searchTexts[n], c.clientIds[n], c.times[n]]);
      const rows = await trx.all<MessageRow>(input + INSERT_FROM_INPUT, [...bindings, true]);
      if (rows.length === 0) return [];
      rows.sort((a, b) => Number(a.id) - Number(b.id));
      // Each message's lease as its first writer asked; its place among the batch's rows of its thread.
      const leases = new Map<string, VisitorAppend['lease']>();
      for (const a of items) if (!leases.has(keyOf(a.visitorId, a.clientId))) leases.set(keyOf(a.visitorId, a.clientId), a.lease);
      const ofThread = new Map<number, number>();
      const nth = rows.map((r) => {
        const n = (ofThread.get(Number(r.thread_id)) ?? 0) + 1;
        ofThread.set(Number(r.thread_id), n);
        return n;
      });
      const outbox = await trx.all<{ id: number; message_id: number; locked_by: string | null; ahead: number }>(
        sqliteOutbox(rows.length),
        rows.flatMap((r, i) => {
          const lease = leases.get(keyOf(r.visitor_id, r.client_id));
          return [r.thread_id, r.id, r.created_at, lease?.workerId ?? null, lease?.until ?? null, nth[i]];
        }),
      );
      const byMessage = new Map(outbox.map((o) => [Number(o.message_id), o]));
      const appended: AppendedRow[] = rows.map((r, i) => {
        const o = byMessage.get(Number(r.id))!;
        const behind = ofThread.get(Number(r.thread_id))! - nth[i];
        return { ...r, outbox_id: o.id, outbox_locked_by: o.locked_by, behind, ahead: o.ahead };
      });
      // Readers may refill these from the state before the commit: dropped now and once more after it (the threads'
      // records only after it: touchCached).
      for (const r of rows) keys.add(cacheKeys.recentMessages(Number(r.thread_id)));
      cache.del([...keys]);
      return appended;
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

  async function write(items: VisitorAppend[]): Promise<Array<Appended | null>> {
    const keys = new Set<string>();
    const rows = pg ? await appendPostgres(items) : await appendSqlite(items, keys);
    touchCached(rows, keys);
    // Each row answers the first item of its (visitor, clientId); a repeat within the batch gets null (the full path).
    const byKey = new Map(rows.map((r) => [keyOf(r.visitor_id, r.client_id), r]));
    return items.map((a) => {
      const key = keyOf(a.visitorId, a.clientId);
      const row = byKey.get(key);
      byKey.delete(key);
      return row ? appended(row) : null;
    });
  }

  const group = createGroupCommit(write);
  return { append: (input: VisitorAppend) => group.submit(input) };
}
