import type { Knex } from 'knex';
import type { ThreadRepository } from '../domain/ports';
import type { Thread, ThreadStatus } from '../domain/types';
import { cacheKeys } from './cache';
import type { RepoContext } from './context';
import { num, numOrNull } from './database';

export interface ThreadRow {
  id: number;
  visitor_id: number;
  user_id: number | null;
  ref: string;
  status: string;
  topic_chat_id: number | string | null;
  topic_id: number | null;
  last_activity: number | string;
  created_at: number | string;
  opening_rank?: number | string;
  department_id?: number | string | null;
}

export function toThread(row: ThreadRow): Thread {
  return {
    id: num(row.id),
    visitorId: num(row.visitor_id),
    userId: numOrNull(row.user_id),
    ref: row.ref,
    status: row.status as ThreadStatus,
    topicChatId: numOrNull(row.topic_chat_id),
    topicId: numOrNull(row.topic_id),
    lastActivityAt: new Date(num(row.last_activity)),
    createdAt: new Date(num(row.created_at)),
    openingRank: num(row.opening_rank ?? 1),
    departmentId: numOrNull(row.department_id),
  };
}

export function createThreadRepository({ db, cache, invalidate, recordTopic }: RepoContext): ThreadRepository {
  const threads = () => db<ThreadRow>('threads');
  async function loadById(id: number): Promise<Thread | null> {
    const row = await threads().where({ id }).first();
    return row ? toThread(row) : null;
  }

  /** The thread whose topic it is, or the one that left it by /move (replies there still belong to it). */
  async function loadByTopic(chatId: number, topicId: number): Promise<ThreadRow | undefined> {
    return (
      (await threads().where({ topic_chat_id: chatId, topic_id: topicId }).orderBy('id', 'desc').first()) ??
      (await threads()
        .whereIn('id', db('moved_topics').select('thread_id').where({ chat_id: chatId, topic_id: topicId }))
        .first())
    );
  }

  async function findById(id: number): Promise<Thread | null> {
    const key = cacheKeys.thread(id);
    const hit = cache.get<Thread>(key);
    if (hit) return hit;
    const thread = await loadById(id);
    if (thread) cache.set(key, thread);
    return thread;
  }

  /**
   * A visitor's threads: its own and, once it is verified, every thread of its user
   * (all the user's visitors, i.e. devices) — see docs/identity.md.
   */
  const ofVisitor = (visitorId: number) => (q: Knex.QueryBuilder<ThreadRow>) =>
    void q
      .where('visitor_id', visitorId)
      .orWhereIn('user_id', db('visitors').select('user_id').where('id', visitorId).whereNotNull('user_id'));

  return {
    async create({ visitorId, ref, now, openingRank = 1, departmentId = null }) {
      const rows: unknown = await db('threads')
        .insert({
          visitor_id: visitorId,
          // A verified visitor's new thread belongs to its user from the start.
          user_id: db('visitors').select('user_id').where({ id: visitorId }),
          ref,
          status: 'open',
          last_activity: now.getTime(),
          created_at: now.getTime(),
          opening_rank: openingRank,
          department_id: departmentId,
        })
        .returning('*');
      // The row as stored (its user_id came from the visitor's): no read afterwards.
      return toThread((rows as ThreadRow[])[0]);
    },
    findById,
    remember(thread) {
      cache.set(cacheKeys.thread(thread.id), thread);
      cache.set(cacheKeys.threadDepartment(thread.id), { departmentId: thread.departmentId });
    },
    async findLatestForVisitor(visitorId) {
      const row = await threads().where(ofVisitor(visitorId)).orderBy('id', 'desc').first();
      return row ? toThread(row) : null;
    },
    async listForVisitor(visitorId) {
      const rows = await threads().where(ofVisitor(visitorId)).orderBy('id', 'asc');
      return rows.map(toThread);
    },
    async findByTopic(chatId, topicId) {
      const key = cacheKeys.topic(chatId, topicId);
      const cachedId = cache.get<number>(key);
      if (cachedId !== undefined) {
        const thread = await findById(cachedId);
        if (thread && thread.topicChatId === chatId && thread.topicId === topicId) return thread;
      }
      const row = await loadByTopic(chatId, topicId);
      if (!row) return null;
      const thread = toThread(row);
      cache.set(key, thread.id);
      cache.set(cacheKeys.thread(thread.id), thread);
      return thread;
    },
    async threadIdOfTopic(chatId, topicId) {
      const key = cacheKeys.topic(chatId, topicId);
      const cachedId = cache.get<number>(key);
      if (cachedId !== undefined) return cachedId;
      const row = await loadByTopic(chatId, topicId);
      if (!row) return null;
      cache.set(key, num(row.id));
      return num(row.id);
    },
    async departmentOf(id) {
      const key = cacheKeys.threadDepartment(id);
      const hit = cache.get<{ departmentId: number | null }>(key);
      if (hit) return hit.departmentId;
      const thread = await findById(id);
      if (!thread) return undefined;
      cache.set(key, { departmentId: thread.departmentId });
      return thread.departmentId;
    },
    async setTopic(id, chatId, topicId, known) {
      const before = known ?? (await loadById(id));
      if (recordTopic) await recordTopic(id, chatId, topicId);
      else await db('threads').where({ id }).update({ topic_chat_id: chatId, topic_id: topicId });
      const keys = [cacheKeys.thread(id)];
      if (before?.topicChatId != null && before.topicId != null) keys.push(cacheKeys.topic(before.topicChatId, before.topicId));
      if (chatId != null && topicId != null) keys.push(cacheKeys.topic(chatId, topicId));
      invalidate(keys);
    },
    async setStatus(id, status, now) {
      // closed_at: when it was closed, for RETENTION_DAYS (src/maintenance/pruner.ts); cleared on reopening.
      const closedAt = status === 'closed' ? (now ?? new Date()).getTime() : null;
      await db('threads').where({ id }).update({ status, closed_at: closedAt });
      invalidate([cacheKeys.thread(id)]);
    },
    async move(id, { departmentId, chatId, topicId }) {
      const before = await loadById(id);
      if (before?.topicChatId != null && before.topicId != null)
        await db('moved_topics')
          .insert({ chat_id: before.topicChatId, topic_id: before.topicId, thread_id: id })
          .onConflict(['chat_id', 'topic_id'])
          .ignore();
      await db('threads').where({ id }).update({ department_id: departmentId, topic_chat_id: chatId, topic_id: topicId });
      invalidate([cacheKeys.thread(id), cacheKeys.threadDepartment(id)]);
    },
    async touch(id, now) {
      await db('threads').where({ id }).update({ last_activity: now.getTime() });
      invalidate([cacheKeys.thread(id)]);
    },
    async listOpen({ limit, offset, departmentId }) {
      const inDepartment = (q: Knex.QueryBuilder) =>
        void (departmentId === undefined
          ? q
          : departmentId === null
            ? q.whereNull('department_id')
            : q.where({ department_id: departmentId }));
      const rows = await threads()
        .where({ status: 'open' })
        .where(inDepartment)
        .orderBy([
          { column: 'last_activity', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(limit)
        .offset(offset);
      const [count] = await db('threads').where({ status: 'open' }).where(inDepartment).count({ n: '*' });
      return { threads: rows.map(toThread), total: num(count?.n ?? 0) };
    },
  };
}
