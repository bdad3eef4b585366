import type { Knex } from 'knex';
import type { Message, Thread } from '../domain/types';
import { toMessage, type MessageRow } from './message-repository';
import { toThread, type ThreadRow } from './thread-repository';

/**
 * A claimed head's thread, message and visitor's name, read by the claim itself (joined as `t`,
 * `m` and `v`) instead of look-ups per head afterwards: a lone message costs the outbox two
 * statements less, a thread's first message (its topic is named after the visitor) three.
 * The columns are those toThread and toMessage read (the checks below fail to compile when a
 * row type gains one that is not listed).
 */
const THREAD_COLUMNS = [
  ...['id', 'visitor_id', 'user_id', 'ref', 'status', 'topic_chat_id', 'topic_id'],
  ...['last_activity', 'created_at', 'opening_rank', 'department_id'],
] as const satisfies ReadonlyArray<keyof ThreadRow>;
const MESSAGE_COLUMNS = [
  ...['id', 'thread_id', 'sender_type', 'content_text', 'content_type', 'file_url', 'file_mime', 'file_size'],
  ...['visitor_id', 'client_id', 'status', 'created_at', 'notice_code', 'notice_params', 'content_html'],
] as const satisfies ReadonlyArray<keyof MessageRow>;

type Unlisted<Row, Listed> = [Exclude<keyof Row, Listed>] extends [never] ? true : false;
const threadColumnsComplete: Unlisted<ThreadRow, (typeof THREAD_COLUMNS)[number]> = true;
const messageColumnsComplete: Unlisted<MessageRow, (typeof MESSAGE_COLUMNS)[number]> = true;
void [threadColumnsComplete, messageColumnsComplete];

/** The select list of a claim whose query joins `threads as t`, `messages as m` and `visitors as v`. */
export const headColumns = (db: Knex | Knex.Transaction): Knex.Raw =>
  db.raw(
    [...THREAD_COLUMNS.map((c) => `t.${c} as t__${c}`), ...MESSAGE_COLUMNS.map((c) => `m.${c} as m__${c}`), 'v.name as v__name'].join(', '),
  );

/** The thread and message a claimed row came with (either absent when its row was not joined: no thread, a topic action). */
export function headOf(row: object): { thread?: Thread; message?: Message; visitorName?: string | null } {
  const raw = row as Record<string, unknown>;
  const part = (prefix: string, columns: readonly string[]) => Object.fromEntries(columns.map((c) => [c, raw[`${prefix}${c}`]])) as unknown;
  return {
    ...(raw.t__id == null
      ? {}
      : { thread: toThread(part('t__', THREAD_COLUMNS) as ThreadRow), visitorName: (raw.v__name as string | null) ?? null }),
    ...(raw.m__id == null ? {} : { message: toMessage(part('m__', MESSAGE_COLUMNS) as MessageRow) }),
  };
}
