import type { Knex } from 'knex';
import { num, numOrNull } from '../db/database';

export interface OutboxRow {
  id: number;
  threadId: number;
  messageId: number;
  attempts: number;
}

const toRow = (r: { id: number; thread_id: number; message_id: number; attempts: number }): OutboxRow => ({
  id: num(r.id),
  threadId: num(r.thread_id),
  messageId: num(r.message_id),
  attempts: num(r.attempts),
});

/**
 * Claims and settles outbox rows. A claim is a lease (locked_by + locked_until)
 * taken with a compare-and-set UPDATE, so any number of workers on one database
 * never hold the same row at once; a worker that dies loses its lease when it
 * expires and the row is claimed again. Only the oldest unsent row of each
 * thread is ever claimable, which keeps every thread in order.
 */
export function createOutboxQueue(db: Knex, options: { workerId: string; leaseMs: number }) {
  const { workerId, leaseMs } = options;

  /** Claims up to `limit` thread heads that are due, skipping threads whose chat is paused. */
  async function claim(now: number, limit: number, excludeThreadIds: number[] = []): Promise<OutboxRow[]> {
    const candidates = await db('outbox as o')
      .select('o.id', 'o.thread_id', 'o.message_id', 'o.attempts')
      .where('o.status', 'pending')
      .andWhere('o.available_at', '<=', now)
      .andWhere((q) => q.whereNull('o.locked_until').orWhere('o.locked_until', '<', now))
      .whereNotExists(
        db('outbox as p').select(db.raw('1')).whereRaw('p.thread_id = o.thread_id').andWhere('p.status', 'pending').andWhereRaw('p.id < o.id'),
      )
      .modify((q) => {
        if (excludeThreadIds.length) q.whereNotIn('o.thread_id', excludeThreadIds);
      })
      .orderBy('o.id', 'asc')
      .limit(limit);

    const claimed: OutboxRow[] = [];
    for (const c of candidates) {
      const updated = await db('outbox')
        .where({ id: c.id, status: 'pending' })
        .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<', now))
        .update({ locked_by: workerId, locked_until: now + leaseMs });
      if (updated === 1) claimed.push(toRow(c));
    }
    return claimed;
  }

  const mine = (id: number) => db('outbox').where({ id, status: 'pending', locked_by: workerId });

  return {
    workerId,
    claim,
    /** Gives the row back to be tried at `availableAt`; `countAttempt` false for throttling. */
    async retryLater(id: number, availableAt: number, error: string, countAttempt: boolean): Promise<void> {
      await mine(id).update({
        available_at: availableAt,
        locked_by: null,
        locked_until: null,
        last_error: error.slice(0, 1000),
        attempts: countAttempt ? db.raw('attempts + 1') : db.raw('attempts'),
      });
    },
    async fail(id: number, error: string): Promise<void> {
      await mine(id).update({ status: 'failed', locked_by: null, locked_until: null, last_error: error.slice(0, 1000), attempts: db.raw('attempts + 1') });
    },
    /** Soonest time any pending row becomes claimable (for the worker's sleep), or null. */
    async nextDueAt(): Promise<number | null> {
      const row = await db('outbox').where({ status: 'pending' }).min({ at: 'available_at' }).first();
      return numOrNull(row?.at);
    },
  };
}

export type OutboxQueue = ReturnType<typeof createOutboxQueue>;
