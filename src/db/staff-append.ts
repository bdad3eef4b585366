import type { Knex } from 'knex';
import { searchText } from '../domain/admin-search';
import type { StaffAppend } from '../domain/staff-message-ports';
import type { Message } from '../domain/types';
import { cacheKeys, type Cache } from './cache';
import { isPostgres, type PgRows } from './database';
import { toMessage, type MessageRow } from './message-repository';
import { createSqliteSessions } from './sqlite-session';

/**
 * The message, stored only while its thread exists and no message came from this Telegram
 * message before (a redelivered update stores nothing twice). The casts type the parameters
 * for PostgreSQL, which cannot tell them from a select list; SQLite reads them alike.
 */
const INSERT_MESSAGE = `insert into messages (thread_id, sender_type, content_text, content_html, search_text, notice_code, notice_params,
  content_type, file_path, file_url, file_mime, file_size, status, created_at)
select t.id, cast(? as text), cast(? as text), cast(? as text), cast(? as text), cast(? as text), cast(? as text),
  cast(? as text), cast(? as text), cast(? as text), cast(? as text), cast(? as integer),
  'delivered', cast(? as bigint)
from threads t
where t.id = ?
  and not exists (select 1 from telegram_links k where k.chat_id = ? and k.telegram_message_id = ?)
returning *`;

/** PostgreSQL: the message, its link, the thread's last activity and the handled update in one statement. */
const pgAppend = (recordUpdate: boolean) => `with m as (${INSERT_MESSAGE}),
l as (
  insert into telegram_links (thread_id, message_id, chat_id, topic_id, telegram_message_id, direction, created_at)
  select thread_id, id, cast(? as bigint), cast(? as integer), cast(? as bigint), 'from_telegram', created_at from m
),
u as (update threads set last_activity = greatest(last_activity, cast(? as bigint)) where id in (select thread_id from m))${
  recordUpdate
    ? `,
p as (insert into processed_updates (update_id, processed_at) select cast(? as bigint), cast(? as bigint) where exists (select 1 from m) on conflict (update_id) do nothing)`
    : ''
}
select * from m`;

function messageBindings(a: StaffAppend): Knex.Value[] {
  const attachment = a.attachment;
  return [
    ...[a.sender, a.text, a.sender === 'staff' ? a.html : null, searchText(a.text)],
    ...[a.notice?.code ?? null, a.notice ? JSON.stringify(a.notice.params) : null],
    ...[attachment?.kind ?? 'text', attachment?.path ?? null, attachment?.url ?? null, attachment?.mime ?? null, attachment?.size ?? null],
    ...[a.now.getTime(), a.threadId, a.telegram.chatId, a.telegram.messageId],
  ];
}

/**
 * SQLite: a staff member's message moves its thread's last activity by itself (a trigger:
 * migrations/20261211000000_message_moves_thread_activity.ts); a notice staff caused, stored as a system message, is
 * activity too, and touches the thread here.
 */
const touchesItself = (a: StaffAppend) => a.sender === 'system';

const linkBindings = (a: StaffAppend): Knex.Value[] => [a.telegram.chatId, a.telegram.topicId, a.telegram.messageId];

/**
 * A staff message from Telegram stored with its `telegram_links` row, its thread's last activity
 * and (when given) its update recorded as handled, all or nothing, without reading anything first: one
 * statement on PostgreSQL, one transaction on SQLite. Null when nothing was stored (the thread
 * is gone, or this Telegram message was stored before).
 */
export function createStaffAppend({ db, cache }: { db: Knex; cache: Cache }) {
  const pg = isPostgres(db);
  const sqlite = pg ? null : createSqliteSessions(db);

  async function appendPostgres(a: StaffAppend): Promise<MessageRow | undefined> {
    const recordUpdate = a.updateId !== undefined;
    const result = await db.raw<PgRows<MessageRow>>(pgAppend(recordUpdate), [
      ...messageBindings(a),
      ...linkBindings(a),
      a.now.getTime(),
      ...(recordUpdate ? [a.updateId!, a.now.getTime()] : []),
    ]);
    return result.rows[0];
  }

  async function appendSqlite(a: StaffAppend): Promise<MessageRow | undefined> {
    return sqlite!.transaction(async (trx) => {
      const [row] = await trx.all<MessageRow>(INSERT_MESSAGE, messageBindings(a));
      if (row) {
        await trx.all(
          `insert into telegram_links (thread_id, message_id, chat_id, topic_id, telegram_message_id, direction, created_at)
          values (?, ?, ?, ?, ?, 'from_telegram', ?)`,
          [row.thread_id, row.id, ...linkBindings(a), row.created_at],
        );
        if (touchesItself(a))
          await trx.all('update threads set last_activity = max(last_activity, ?) where id = ?', [a.now.getTime(), a.threadId]);
        if (a.updateId !== undefined)
          await trx.all('insert into processed_updates (update_id, processed_at) values (?, ?) on conflict (update_id) do nothing', [
            a.updateId,
            a.now.getTime(),
          ]);
      }
      return row;
    });
  }

  return async (a: StaffAppend): Promise<Message | null> => {
    const row = pg ? await appendPostgres(a) : await appendSqlite(a);
    if (!row) return null;
    cache.del([cacheKeys.thread(a.threadId), cacheKeys.recentMessages(a.threadId)]);
    return toMessage(row);
  };
}
