import type { Knex } from 'knex';
import { searchText } from '../domain/admin-search';
import { LOCKDOWN_SETTING } from '../domain/lockdown';
import type { ConversationStart, StartedConversation } from '../domain/ports';
import { isPostgres, num, type PgRows } from './database';
import { createSqliteSessions } from './sqlite-session';
import { createGroupCommit } from './group-commit';
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

/** SQLite: `rows` rows of `columns` parameters, read as x.column1, x.column2, … */
const valuesOf = (rows: number, columns: number) =>
  `(values ${Array.from({ length: rows }, () => `(${Array(columns).fill('?').join(', ')})`).join(', ')})`;

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
  const sqlite = pg ? null : createSqliteSessions(db);

  async function startPostgres(s: ConversationStart): Promise<StartedConversation | null> {
    const bindings = [...visitorBindings(s), ...threadBindings(s), ...messageBindings(s), ...outboxBindings(s)];
    type Row = { visitor: VisitorRow; thread: ThreadRow; message: MessageRow; outbox_id: number | string };
    const [row] = (await db.raw<PgRows<Row>>(PG_START, bindings)).rows;
    if (!row) return null;
    return { visitor: toVisitor(row.visitor), thread: toThread(row.thread), message: toMessage(row.message), outboxId: num(row.outbox_id) };
  }

  /**
   * SQLite: the first messages of new visitors that arrive while another start is being written, together in one
   * transaction of the same four inserts, each of several rows (group-commit.ts): a wave of new conversations would
   * otherwise hold the one connection for six statements each, one after another. On the driver's connection
   * (src/db/sqlite-session.ts), as the visitor's append. A token met twice in a batch (two tabs of one new visitor) is
   * stored once; its other message takes the full path, which finds the visitor.
   */
  async function startManySqlite(starts: ConversationStart[]): Promise<Array<StartedConversation | null>> {
    const firstOfToken = new Map<string, ConversationStart>();
    for (const s of starts) if (!firstOfToken.has(s.tokenHash)) firstOfToken.set(s.tokenHash, s);
    const firsts = [...firstOfToken.values()];
    const stored = await sqlite!.transaction(async (trx) => {
      const visitors = await trx.all<VisitorRow>(
        `insert into visitors (token_hash, blocked, created_at, last_seen_at, last_page)
         select x.column1, false, x.column2, x.column2, x.column3 from ${valuesOf(firsts.length, 3)} as x
         where not exists (select 1 from revoked_visitor_tokens r where r.token_hash = x.column1)
           and not exists (select 1 from settings s where s.key = ? and s.value = ?)
         on conflict (token_hash) do nothing
         returning *`,
        [...firsts.flatMap((s) => [s.tokenHash, s.now.getTime(), s.page ? s.page.slice(0, 512) : null]), LOCKDOWN_SETTING, 'on'],
      );
      const visitorOf = new Map(visitors.map((v) => [v.token_hash, v]));
      const starting = firsts.flatMap((s) => {
        const visitor = visitorOf.get(s.tokenHash);
        return visitor ? [{ s, visitor }] : [];
      });
      if (starting.length === 0) return new Map<string, StartedConversation>();
      const threads = await trx.all<ThreadRow>(
        `insert into threads (visitor_id, ref, status, last_activity, created_at, opening_rank, department_id)
         select x.column1, x.column2, 'open', x.column3, x.column3, x.column4, x.column5 from ${valuesOf(starting.length, 5)} as x
         returning *`,
        starting.flatMap(({ s, visitor }) => [visitor.id, s.ref, s.now.getTime(), s.openingRank, s.departmentId]),
      );
      const threadOf = new Map(threads.map((t) => [num(t.visitor_id), t]));
      const withThread = starting.map((x) => ({ ...x, thread: threadOf.get(num(x.visitor.id))! }));
      const messages = await trx.all<MessageRow>(
        `insert into messages (thread_id, sender_type, content_text, search_text, content_type, visitor_id, client_id, status, created_at)
         select x.column1, 'visitor', x.column2, x.column3, 'text', x.column4, x.column5, 'stored', x.column6 from ${valuesOf(starting.length, 6)} as x
         returning *`,
        withThread.flatMap(({ s, visitor, thread }) => [thread.id, s.text, searchText(s.text), visitor.id, s.clientId, s.now.getTime()]),
      );
      const messageOf = new Map(messages.map((m) => [num(m.thread_id), m]));
      const withMessage = withThread.map((x) => ({ ...x, message: messageOf.get(num(x.thread.id))! }));
      const outbox = await trx.all<{ id: number; message_id: number }>(
        `insert into outbox (thread_id, message_id, kind, status, attempts, available_at, created_at, locked_by, locked_until)
         select x.column1, x.column2, 'message', 'pending', 0, x.column3, x.column3, x.column4, x.column5 from ${valuesOf(starting.length, 5)} as x
         returning id, message_id`,
        withMessage.flatMap(({ s, message }) => [
          message.thread_id,
          message.id,
          message.created_at,
          s.lease?.workerId ?? null,
          s.lease?.until ?? null,
        ]),
      );
      const outboxOf = new Map(outbox.map((o) => [num(o.message_id), num(o.id)]));
      return new Map(
        withMessage.map(({ s, visitor, thread, message }) => [
          s.tokenHash,
          { visitor: toVisitor(visitor), thread: toThread(thread), message: toMessage(message), outboxId: outboxOf.get(num(message.id))! },
        ]),
      );
    });
    // Null for a start whose visitor was not stored (revoked token, /lockdown, stored meanwhile) and for a token's second message.
    return starts.map((s) => (firstOfToken.get(s.tokenHash) === s ? (stored.get(s.tokenHash) ?? null) : null));
  }

  const sqliteStarts = createGroupCommit(startManySqlite);

  return (s: ConversationStart): Promise<StartedConversation | null> => (pg ? startPostgres(s) : sqliteStarts.submit(s));
}
