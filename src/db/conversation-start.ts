import type { Knex } from 'knex';
import { searchText } from '../domain/admin-search';
import { LOCKDOWN_SETTING } from '../domain/lockdown';
import type { ConversationStart, StartedConversation } from '../domain/ports';
import { isPostgres, num, type PgRows } from './database';
import { toMessage, type MessageRow } from './message-repository';
import { toThread, type ThreadRow } from './thread-repository';
import { toVisitor, type VisitorRow } from './visitor-repository';

/**
 * The visitor, stored only when its token was never revoked (an erased visitor's page) and staff's
 * /lockdown is off (a new visitor is not verified, and its message opens a thread), and only when no
 * other tab or instance stored it first (the token's unique hash). Otherwise nothing is stored.
 */
const INSERT_VISITOR = `insert into visitors (token_hash, blocked, created_at, last_seen_at, last_page)
select cast(? as text), false, cast(? as bigint), cast(? as bigint), cast(? as text)
where not exists (select 1 from revoked_visitor_tokens r where r.token_hash = ?)
  and not exists (select 1 from settings s where s.key = ? and s.value = ?)
on conflict (token_hash) do nothing
returning *`;

const INSERT_THREAD = `insert into threads (visitor_id, ref, status, last_activity, created_at, opening_rank, department_id)
select v.id, cast(? as text), 'open', cast(? as bigint), cast(? as bigint), cast(? as integer), cast(? as integer) from v
returning *`;

const INSERT_MESSAGE = `insert into messages (thread_id, sender_type, content_text, search_text, content_type, visitor_id, client_id, status, created_at)
select t.id, 'visitor', cast(? as text), cast(? as text), 'text', t.visitor_id, cast(? as text), 'stored', cast(? as bigint) from t
returning *`;

const INSERT_OUTBOX = `insert into outbox (thread_id, message_id, kind, status, attempts, available_at, created_at, locked_by, locked_until)
select m.thread_id, m.id, 'message', 'pending', 0, m.created_at, m.created_at, cast(? as text), cast(? as bigint) from m
returning id`;

/** PostgreSQL: all four in one statement, the rows back as JSON (a row per table would need four reads). */
const PG_START = `with v as (${INSERT_VISITOR}),
t as (${INSERT_THREAD}),
m as (${INSERT_MESSAGE}),
o as (${INSERT_OUTBOX})
select row_to_json(v) as visitor, row_to_json(t) as thread, row_to_json(m) as message, o.id as outbox_id from v, t, m, o`;

const visitorBindings = (s: ConversationStart): Knex.Value[] => [
  ...[s.tokenHash, s.now.getTime(), s.now.getTime(), s.page ? s.page.slice(0, 512) : null],
  ...[s.tokenHash, LOCKDOWN_SETTING, 'on'],
];
const threadBindings = (s: ConversationStart): Knex.Value[] => [s.ref, s.now.getTime(), s.now.getTime(), s.openingRank, s.departmentId];
const messageBindings = (s: ConversationStart): Knex.Value[] => [s.text, searchText(s.text), s.clientId, s.now.getTime()];
const outboxBindings = (s: ConversationStart): Knex.Value[] => [s.lease?.workerId ?? null, s.lease?.until ?? null];

/**
 * A new visitor's first text message — the visitor, its new thread, the message and its outbox
 * row (stored leased when the caller asked: the hand-off) — in one statement on PostgreSQL and in
 * one transaction of four on SQLite, with no read first: the checks a new visitor meets (its token
 * not revoked, /lockdown off) are conditions of the visitor's insert. Null when nothing was stored
 * (one of those checks, or the visitor stored meanwhile): the caller takes the full path, which
 * tells which.
 */
export function createConversationStart({ db }: { db: Knex }) {
  const pg = isPostgres(db);

  async function startPostgres(s: ConversationStart): Promise<StartedConversation | null> {
    const bindings = [...visitorBindings(s), ...threadBindings(s), ...messageBindings(s), ...outboxBindings(s)];
    type Row = { visitor: VisitorRow; thread: ThreadRow; message: MessageRow; outbox_id: number | string };
    const [row] = (await db.raw<PgRows<Row>>(PG_START, bindings)).rows;
    if (!row) return null;
    return { visitor: toVisitor(row.visitor), thread: toThread(row.thread), message: toMessage(row.message), outboxId: num(row.outbox_id) };
  }

  /** Rolled back: nothing of a start that could not store its visitor stays. */
  class NotStored extends Error {}

  async function startSqlite(s: ConversationStart): Promise<StartedConversation | null> {
    return db
      .transaction(async (trx) => {
        const [visitor] = await trx.raw<VisitorRow[]>(INSERT_VISITOR, visitorBindings(s));
        if (!visitor) throw new NotStored();
        const v = `with v as (select ? as id) `;
        const [thread] = await trx.raw<ThreadRow[]>(v + INSERT_THREAD, [visitor.id, ...threadBindings(s)]);
        const t = `with t as (select ? as id, ? as visitor_id) `;
        const [message] = await trx.raw<MessageRow[]>(t + INSERT_MESSAGE, [thread.id, visitor.id, ...messageBindings(s)]);
        const m = `with m as (select ? as id, ? as thread_id, ? as created_at) `;
        const [outbox] = await trx.raw<Array<{ id: number }>>(m + INSERT_OUTBOX, [
          message.id,
          thread.id,
          message.created_at,
          ...outboxBindings(s),
        ]);
        return { visitor: toVisitor(visitor), thread: toThread(thread), message: toMessage(message), outboxId: num(outbox.id) };
      })
      .catch((error: unknown) => {
        if (error instanceof NotStored) return null;
        throw error;
      });
  }

  return (s: ConversationStart): Promise<StartedConversation | null> => (pg ? startPostgres(s) : startSqlite(s));
}
