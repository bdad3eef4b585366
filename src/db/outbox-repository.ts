import type { Knex } from 'knex';
import type { OutboxQueue, OutboxQueueOptions } from '../domain/outbox-ports';
import type { OutboxBacklog, OutboxRepository } from '../domain/ports';
import type { RepoContext } from './context';
import { num, numOrNull } from './database';
import { createOutboxClaims } from './outbox-claims';
import { inDepartments } from './department-scope';

/** Marks sent the rows of `rowIds` this worker still holds (pending, leased to it), answering their ids. */
function completeRows(db: Knex, rowIds: number[], workerId: string, now: Date) {
  return db('outbox')
    .whereIn('id', rowIds)
    .andWhere({ status: 'pending', locked_by: workerId })
    .update({ status: 'sent', sent_at: now.getTime(), locked_by: null, locked_until: null, last_error: null })
    .returning<Array<{ id: number | string }>>('id');
}

/**
 * Pending and failed outbox rows, and the oldest pending one's age: one grouped query. With
 * `departments`, only rows of those departments' threads (null: the default department).
 */
export async function outboxBacklog(db: Knex, departments?: ReadonlyArray<number | null>): Promise<OutboxBacklog> {
  const q = db('outbox').whereIn('status', ['pending', 'failed']);
  if (departments) q.whereIn('thread_id', inDepartments(db('threads').select('id'), 'department_id', departments));
  const rows: Array<{ status: string; n: number | string; oldest: number | string | null }> = await q
    .groupBy('status')
    .select('status')
    .count({ n: '*' })
    .min({ oldest: 'created_at' });
  const pending = rows.find((r) => r.status === 'pending');
  return {
    pending: num(pending?.n ?? 0),
    failed: num(rows.find((r) => r.status === 'failed')?.n ?? 0),
    oldestPendingAt: pending?.oldest == null ? null : new Date(num(pending.oldest)),
  };
}

/**
 * A worker's OutboxQueue: the claims (src/db/outbox-claims.ts), and settling what it claimed
 * short of sending it (a sent row is completed by OutboxRepository.complete).
 */
function createOutboxQueue(db: Knex | Knex.Transaction, options: OutboxQueueOptions): OutboxQueue {
  const { workerId } = options;
  return {
    workerId,
    leaseMs: options.leaseMs,
    ...createOutboxClaims(db, options),
    async retryLater(id, availableAt, error, countAttempt) {
      await db('outbox')
        .where({ id, status: 'pending', locked_by: workerId })
        .update({
          available_at: availableAt,
          locked_by: null,
          locked_until: null,
          ...(error !== null ? { last_error: error.slice(0, 1000) } : {}),
          attempts: countAttempt ? db.raw('attempts + 1') : db.raw('attempts'),
        });
    },
    async fail(id, error) {
      const updated = await db('outbox')
        .where({ id, status: 'pending', locked_by: workerId })
        .update({
          status: 'failed',
          locked_by: null,
          locked_until: null,
          last_error: error.slice(0, 1000),
          attempts: db.raw('attempts + 1'),
        });
      return updated === 1;
    },
    async failedInThread(threadId) {
      const [row] = await db('outbox').where({ thread_id: threadId, status: 'failed', kind: 'message' }).count({ n: '*' });
      return num(row?.n ?? 0);
    },
    async nextDueAt() {
      const row = await db('outbox').where({ status: 'pending' }).min({ at: 'available_at' }).first();
      return numOrNull(row?.at);
    },
  };
}

export function createOutboxRepository({ db }: RepoContext): OutboxRepository {
  /** A row that carries no message: an action on the thread's topic, kept in order with its messages. */
  async function enqueueTopicAction(kind: 'topic_rename' | 'topic_reopen' | 'topic_close', threadId: number, now: Date): Promise<void> {
    await db('outbox').insert({
      thread_id: threadId,
      message_id: null,
      kind,
      status: 'pending',
      attempts: 0,
      available_at: now.getTime(),
      created_at: now.getTime(),
    });
  }

  return {
    async enqueue({ threadId, messageId, now, lease }) {
      const [row] = await db('outbox')
        .insert({
          thread_id: threadId,
          message_id: messageId,
          status: 'pending',
          attempts: 0,
          available_at: now.getTime(),
          created_at: now.getTime(),
          locked_by: lease?.workerId ?? null,
          locked_until: lease?.until ?? null,
        })
        .returning<Array<{ id: number | string }>>('id');
      return num(row.id);
    },
    enqueueTopicRename: ({ threadId, now }) => enqueueTopicAction('topic_rename', threadId, now),
    enqueueTopicReopen: ({ threadId, now }) => enqueueTopicAction('topic_reopen', threadId, now),
    enqueueTopicClose: ({ threadId, now }) => enqueueTopicAction('topic_close', threadId, now),
    async complete(rowId, workerId, now) {
      const n = await db('outbox')
        .where({ id: rowId, status: 'pending', locked_by: workerId })
        .update({ status: 'sent', sent_at: now.getTime(), locked_by: null, locked_until: null, last_error: null });
      return n === 1;
    },
    async completeMany(rowIds, workerId, now) {
      if (rowIds.length === 0) return new Set();
      const done = await completeRows(db, rowIds, workerId, now);
      return new Set(done.map((d) => num(d.id)));
    },
    backlog: () => outboxBacklog(db),
    async pendingCount() {
      return (await outboxBacklog(db)).pending;
    },
    async requeueFailed(threadId, now) {
      const rows: Array<{ id: number; message_id: number }> = await db('outbox')
        .where({ thread_id: threadId, status: 'failed', kind: 'message' })
        .orderBy('id', 'asc')
        .select('id', 'message_id');
      if (rows.length === 0) return [];
      await db('outbox')
        .whereIn(
          'id',
          rows.map((r) => r.id),
        )
        .andWhere({ status: 'failed' })
        .update({ status: 'pending', attempts: 0, available_at: now.getTime(), locked_by: null, locked_until: null, last_error: null });
      return rows.map((r) => num(r.message_id));
    },
    queue: (options) => createOutboxQueue(db, options),
  };
}
