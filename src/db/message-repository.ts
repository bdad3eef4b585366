import { searchText } from '../domain/admin-search';
import { isNoticeCode, type Notice } from '../domain/notices';
import type { HistoryQuery, MessageRepository } from '../domain/ports';
import type { Attachment, AttachmentKind, Message, Sender, DeliveryStatus } from '../domain/types';
import { cacheKeys } from './cache';
import type { RepoContext } from './context';
import { num } from './database';

/** How many of a thread's latest messages the recent-messages cache holds. */
export const RECENT_WINDOW = 100;

export interface MessageRow {
  id: number;
  thread_id: number;
  sender_type: string;
  content_text: string | null;
  content_type: string;
  file_url: string | null;
  file_mime: string | null;
  file_size: number | null;
  visitor_id: number | null;
  client_id: string | null;
  status: string;
  created_at: number | string;
  notice_code?: string | null;
  notice_params?: string | null;
  content_html?: string | null;
}

/** A stored notice; null when the code is unknown (a newer version wrote it) or the parameters unreadable. */
function toNotice(row: MessageRow): Notice | null {
  if (!row.notice_code || !isNoticeCode(row.notice_code)) return null;
  try {
    const params: unknown = JSON.parse(row.notice_params ?? '{}');
    if (typeof params !== 'object' || params === null) return null;
    return { code: row.notice_code, params: params as Record<string, string> };
  } catch {
    return null;
  }
}

/** Also used by the staff page's read repository, so a message looks the same everywhere. */
export function toMessage(row: MessageRow): Message {
  const attachment: Attachment | null =
    row.content_type !== 'text' && row.file_url
      ? {
          kind: row.content_type as AttachmentKind,
          url: row.file_url,
          mime: row.file_mime ?? 'application/octet-stream',
          size: num(row.file_size ?? 0),
        }
      : null;
  return {
    id: num(row.id),
    threadId: num(row.thread_id),
    sender: row.sender_type as Sender,
    text: row.content_text,
    // Only staff write formatting; nothing else ever shows as HTML.
    html: row.sender_type === 'staff' ? (row.content_html ?? null) : null,
    attachment,
    notice: toNotice(row),
    clientId: row.client_id,
    status: row.status as DeliveryStatus,
    createdAt: new Date(num(row.created_at)),
  };
}

/** A thread's latest messages, ascending; `complete` when it is the whole thread. */
interface RecentWindow {
  messages: Message[];
  complete: boolean;
}

/** Answers a history query from the window, or returns null when the window cannot. */
function fromWindow(win: RecentWindow, q: HistoryQuery): Message[] | null {
  const list = win.messages;
  const first = list[0];
  if (q.after !== undefined) {
    if (!win.complete && (!first || q.after < first.id)) return null;
    const rows = list.filter((m) => m.id > q.after! && (q.before === undefined || m.id < q.before));
    return rows.slice(0, q.limit);
  }
  const below = q.before === undefined ? list : list.filter((m) => m.id < q.before!);
  if (below.length >= q.limit) return below.slice(below.length - q.limit);
  return win.complete ? below : null;
}

export function createMessageRepository({ db, cache, invalidate }: RepoContext): MessageRepository {
  async function loadWindow(threadId: number): Promise<RecentWindow> {
    const key = cacheKeys.recentMessages(threadId);
    const hit = cache.get<RecentWindow>(key);
    if (hit) return hit;
    const rows = await db<MessageRow>('messages')
      .where({ thread_id: threadId })
      .orderBy('id', 'desc')
      .limit(RECENT_WINDOW + 1);
    const complete = rows.length <= RECENT_WINDOW;
    const win = { messages: rows.slice(0, RECENT_WINDOW).reverse().map(toMessage), complete };
    cache.set(key, win);
    return win;
  }

  async function fromDatabase(threadIds: number[], q: HistoryQuery): Promise<Message[]> {
    const query = db<MessageRow>('messages').whereIn('thread_id', threadIds);
    if (q.after !== undefined) query.where('id', '>', q.after);
    if (q.before !== undefined) query.where('id', '<', q.before);
    if (q.after !== undefined) {
      const rows = await query.orderBy('id', 'asc').limit(q.limit);
      return rows.map(toMessage);
    }
    const rows = await query.orderBy('id', 'desc').limit(q.limit);
    return rows.reverse().map(toMessage);
  }

  async function findById(id: number): Promise<Message | null> {
    const row = await db<MessageRow>('messages').where({ id }).first();
    return row ? toMessage(row) : null;
  }

  return {
    async insert(input) {
      const [row] = (await db('messages')
        .insert({
          thread_id: input.threadId,
          sender_type: input.sender,
          content_text: input.text,
          content_html: input.sender === 'staff' ? (input.html ?? null) : null,
          search_text: searchText(input.text),
          notice_code: input.notice?.code ?? null,
          notice_params: input.notice ? JSON.stringify(input.notice.params) : null,
          content_type: input.attachment?.kind ?? 'text',
          file_path: input.attachment?.path ?? null,
          file_url: input.attachment?.url ?? null,
          file_mime: input.attachment?.mime ?? null,
          file_size: input.attachment?.size ?? null,
          visitor_id: input.visitorId,
          client_id: input.clientId,
          status: input.status,
          created_at: input.createdAt.getTime(),
        })
        .returning('*')) as MessageRow[];
      invalidate([cacheKeys.recentMessages(input.threadId)]);
      // One round trip: the inserted row comes back whole (RETURNING on PostgreSQL and SQLite ≥ 3.35).
      return toMessage(row);
    },
    findById,
    async findManyByIds(ids) {
      if (ids.length === 0) return [];
      const rows = await db<MessageRow>('messages').whereIn('id', ids);
      const byId = new Map(rows.map((r) => [num(r.id), toMessage(r)]));
      return ids.map((id) => byId.get(id)).filter((m): m is Message => m !== undefined);
    },
    async findByClientId(visitorId, clientId) {
      const row = await db<MessageRow>('messages').where({ visitor_id: visitorId, client_id: clientId }).first();
      return row ? toMessage(row) : null;
    },
    async history(threadIds, q) {
      if (threadIds.length === 1) {
        const answer = fromWindow(await loadWindow(threadIds[0]), q);
        if (answer) return answer;
      }
      return fromDatabase(threadIds, q);
    },
    async updateText(id, text, html) {
      const before = await findById(id);
      if (!before) throw new Error(`message ${id} not found`);
      const storedHtml = before.sender === 'staff' ? html : null;
      await db('messages')
        .where({ id })
        .update({ content_text: text, content_html: storedHtml, search_text: searchText(text) });
      invalidate([cacheKeys.recentMessages(before.threadId)]);
      return { ...before, text, html: storedHtml };
    },
    async countsBySender(threadId) {
      const rows: Array<{ sender_type: string; n: number | string }> = await db('messages')
        .where({ thread_id: threadId })
        .groupBy('sender_type')
        .select('sender_type')
        .count({ n: '*' });
      const counts: Record<Sender, number> = { visitor: 0, staff: 0, system: 0 };
      for (const r of rows) counts[r.sender_type as Sender] = num(r.n);
      return counts;
    },
    async setDeliveryStatus(threadId, ids, status) {
      if (ids.length === 0) return;
      await db('messages').whereIn('id', ids).andWhere({ thread_id: threadId }).update({ status });
      invalidate([cacheKeys.recentMessages(threadId)]);
    },
  };
}
