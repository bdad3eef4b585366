import type { Knex } from 'knex';
import { MESSAGE_SEARCH_DOCUMENT_PG } from '../../migrations/20261206000000_message_search_text';
import type { AdminReadRepository, ThreadDetail, ThreadListQuery, ThreadSummary } from '../domain/admin-ports';
import type { Message, ThreadStatus } from '../domain/types';
import { isPostgres, num, numOrNull } from './database';
import { toMessage, type MessageRow } from './message-repository';
import { adminStats } from './admin-stats';
import { inDepartments } from './department-scope';

interface SummaryRow {
  id: number;
  ref: string;
  status: string;
  visitor_id: number;
  user_id: number | null;
  topic_chat_id: number | string | null;
  topic_id: number | null;
  department_id: number | string | null;
  last_activity: number | string;
  created_at: number | string;
  visitor_name: string | null;
  user_name: string | null;
  /** With a search: the thread's newest matching message. */
  match_id?: number | string | null;
}

interface DetailRow extends SummaryRow {
  visitor_blocked: boolean | number;
  visitor_created_at: number | string;
  visitor_last_seen_at: number | string;
  visitor_last_page: string | null;
  user_phone: string | null;
  user_username: string | null;
}

/**
 * The staff page's reads: thread list with filters and full-text search, one
 * thread, its messages, stats. Database-specific SQL (search) lives only here.
 */
export function createAdminReadRepository(db: Knex): AdminReadRepository {
  const pg = isPostgres(db);

  /** Messages (`m`) containing every term, each as a word prefix. Terms are letters and digits only (searchTerms). */
  function matching(terms: string[]): Knex.QueryBuilder {
    const q = db('messages as m');
    if (pg) {
      // The exact expression of idx_messages_search, so the GIN index serves it.
      q.whereRaw(`${MESSAGE_SEARCH_DOCUMENT_PG} @@ to_tsquery('simple', ?)`, [terms.map((t) => `'${t}':*`).join(' & ')]);
    } else {
      q.whereRaw('m.id in (select rowid from messages_fts where messages_fts match ?)', [terms.map((t) => `"${t}"*`).join(' ')]);
    }
    return q;
  }

  function inRange(q: Knex.QueryBuilder, from?: Date, to?: Date): Knex.QueryBuilder {
    if (from) q.where('m.created_at', '>=', from.getTime());
    if (to) q.where('m.created_at', '<=', to.getTime());
    return q;
  }

  function selectThreads(): Knex.QueryBuilder {
    return db('threads as t')
      .join('visitors as v', 'v.id', 't.visitor_id')
      .leftJoin('users as u', 'u.id', 't.user_id')
      .select(
        't.id',
        't.ref',
        't.status',
        't.visitor_id',
        't.user_id',
        't.topic_chat_id',
        't.topic_id',
        't.department_id',
        't.last_activity',
        't.created_at',
        'v.name as visitor_name',
        'u.display_name as user_name',
      );
  }

  /** The list rows with their message counts, last messages and (when searching) newest matches. */
  async function summarize(rows: SummaryRow[]): Promise<ThreadSummary[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => num(r.id));
    const counts: Array<{ thread_id: number; n: number | string; last_id: number | string }> = await db('messages')
      .whereIn('thread_id', ids)
      .groupBy('thread_id')
      .select('thread_id')
      .count({ n: '*' })
      .max({ last_id: 'id' });
    const matchIds = rows.map((r) => numOrNull(r.match_id)).filter((id): id is number => id !== null);
    const wanted = [...counts.map((c) => num(c.last_id)), ...matchIds];
    const messages = new Map<number, Message>();
    if (wanted.length)
      for (const row of await db<MessageRow>('messages').whereIn('id', [...new Set(wanted)])) messages.set(num(row.id), toMessage(row));
    const countOf = new Map(counts.map((c) => [num(c.thread_id), c]));
    return rows.map((r) => {
      const id = num(r.id);
      const count = countOf.get(id);
      const matchId = numOrNull(r.match_id);
      const chatId = numOrNull(r.topic_chat_id);
      const topicId = numOrNull(r.topic_id);
      return {
        id,
        ref: r.ref,
        status: r.status as ThreadStatus,
        departmentId: numOrNull(r.department_id),
        visitor: {
          id: num(r.visitor_id),
          name: r.visitor_name ?? r.user_name ?? null,
          verified: r.user_id !== null && r.user_id !== undefined,
        },
        topic: chatId !== null && topicId !== null ? { chatId, topicId } : null,
        lastActivityAt: new Date(num(r.last_activity)),
        createdAt: new Date(num(r.created_at)),
        messageCount: count ? num(count.n) : 0,
        lastMessage: count ? (messages.get(num(count.last_id)) ?? null) : null,
        match: matchId !== null ? (messages.get(matchId) ?? null) : null,
      };
    });
  }

  return {
    async listThreads(query: ThreadListQuery) {
      const q = inDepartments(selectThreads(), 't.department_id', query.departments);
      if (query.status) q.where('t.status', query.status);
      if (query.verified === true) q.whereNotNull('t.user_id');
      if (query.verified === false) q.whereNull('t.user_id');
      const terms = query.terms?.length ? query.terms : undefined;
      if (terms) {
        // The matching messages first, once, grouped by thread (with each thread's newest match), then the
        // threads. Materialized, so the planner cannot instead walk threads and test every message's text
        // (on PostgreSQL that recomputes the indexed expression per message: 100× slower for common words).
        const hits = inRange(matching(terms), query.from, query.to).select('m.thread_id').max({ match_id: 'm.id' }).groupBy('m.thread_id');
        q.withMaterialized('hits', hits).join('hits', 'hits.thread_id', 't.id').select('hits.match_id');
      } else if (query.from || query.to) {
        q.whereExists(inRange(db('messages as m').select(db.raw('1')).whereRaw('m.thread_id = t.id'), query.from, query.to));
      }
      // Keyset pagination: a page starts strictly after the previous page's last thread, so
      // threads created (or bumped to the top) meanwhile never shift a page or repeat one.
      if (query.cursor) q.whereRaw('(t.last_activity, t.id) < (?, ?)', [query.cursor.lastActivity, query.cursor.id]);
      const rows = (await q
        .orderBy([
          { column: 't.last_activity', order: 'desc' },
          { column: 't.id', order: 'desc' },
        ])
        .limit(query.limit + 1)) as SummaryRow[];
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return {
        threads: await summarize(page),
        next: rows.length > query.limit && last ? { lastActivity: num(last.last_activity), id: num(last.id) } : null,
      };
    },

    async thread(id, departments) {
      const row = (await inDepartments(selectThreads(), 't.department_id', departments)
        .select(
          'v.blocked as visitor_blocked',
          'v.created_at as visitor_created_at',
          'v.last_seen_at as visitor_last_seen_at',
          'v.last_page as visitor_last_page',
          'u.phone_number as user_phone',
          'u.username as user_username',
        )
        .where('t.id', id)
        .first()) as DetailRow | undefined;
      if (!row) return null;
      const [summary] = await summarize([row]);
      const detail: ThreadDetail = {
        ...summary,
        visitorDetail: {
          phone: row.user_phone ?? null,
          username: row.user_username ?? null,
          blocked: Boolean(row.visitor_blocked),
          createdAt: new Date(num(row.visitor_created_at)),
          lastSeenAt: new Date(num(row.visitor_last_seen_at)),
          lastPage: row.visitor_last_page ?? null,
        },
      };
      return detail;
    },

    async messages(threadId, { before, after, limit }) {
      const q = db<MessageRow>('messages').where({ thread_id: threadId });
      if (after !== undefined) {
        const rows = await q
          .andWhere('id', '>', after)
          .orderBy('id', 'asc')
          .limit(limit + 1);
        return { messages: rows.slice(0, limit).map(toMessage), hasMore: rows.length > limit };
      }
      if (before !== undefined) q.andWhere('id', '<', before);
      const rows = await q.orderBy('id', 'desc').limit(limit + 1);
      return { messages: rows.slice(0, limit).reverse().map(toMessage), hasMore: rows.length > limit };
    },

    stats: (input) => adminStats(db, input),
  };
}
