import type { Knex } from 'knex';
import type { OutboxDepartment, OutboxHold, OutboxQueue, OutboxQueueOptions, OutboxRow } from '../domain/outbox-ports';
import { num } from './database';
import { headColumns, headOf } from './outbox-heads';

interface RawRow {
  id: number;
  kind: string;
  thread_id: number;
  message_id: number | null;
  attempts: number;
  created_at: number | string;
  /** 1 when a Telegram message is already recorded for the row's message (an interrupted earlier attempt). */
  sent_before: number | string | boolean;
  behind?: number | string;
  /** A head's thread and message columns (src/db/outbox-heads.ts). */
  [joined: `${'t' | 'm'}__${string}`]: unknown;
}

const toRow = (r: RawRow): OutboxRow => ({
  ...headOf(r),
  id: num(r.id),
  kind: r.kind,
  threadId: num(r.thread_id),
  messageId: num(r.message_id ?? 0),
  attempts: num(r.attempts),
  createdAt: num(r.created_at),
  fresh: !Number(r.sent_before),
  ...(r.behind === undefined ? {} : { behind: num(r.behind) }),
});

export type OutboxClaims = Pick<
  OutboxQueue,
  'claimHeads' | 'claimThreadHead' | 'claimFollowers' | 'renew' | 'reclaimAbandoned' | 'release'
>;

/**
 * The claiming half of a worker's OutboxQueue (src/domain/outbox-ports.ts): claims, leases,
 * releases. A claim is a lease (locked_by + locked_until) taken with a compare-and-set UPDATE, so any number of workers on one database
 * never hold the same row at once; a worker that dies loses its lease when it
 * expires and the row is claimed again. Only the oldest pending row of each
 * thread (its head) is claimable, which keeps every thread in order.
 *
 * Leases are short: the worker renews the ones it holds (`renew`) while their
 * sends are in flight, so a dead worker's rows are free again within one lease,
 * however long a send may take. See docs/delivery.md.
 */
export function createOutboxClaims(db: Knex | Knex.Transaction, options: OutboxQueueOptions): OutboxClaims {
  const { workerId, leaseMs } = options;
  // Whether any part of the row's message already reached Telegram, read with the claim instead of one look-up per message.
  const sentBefore = db.raw(
    "(case when o.message_id is not null and exists (select 1 from telegram_links l where l.message_id = o.message_id and l.direction = 'to_telegram') then 1 else 0 end) as sent_before",
  );
  const columns = ['o.id', 'o.kind', 'o.thread_id', 'o.message_id', 'o.attempts', 'o.created_at', sentBefore];
  // How many of the thread's rows wait behind a head: whether followers or a next head need be looked for at all.
  const behind = db.raw(
    "(select count(*) from outbox b where b.thread_id = o.thread_id and b.status = 'pending' and b.id > o.id) as behind",
  );

  const claimable = (q: Knex.QueryBuilder, now: number) =>
    q
      .where('o.status', 'pending')
      .andWhere('o.available_at', '<=', now)
      .andWhere((w) => {
        w.whereNull('o.locked_until').orWhere('o.locked_until', '<', now);
      });

  const isHead = (q: Knex.QueryBuilder) =>
    q.whereNotExists(
      db('outbox as p')
        .select(db.raw('1'))
        .whereRaw('p.thread_id = o.thread_id')
        .andWhere('p.status', 'pending')
        .andWhereRaw('p.id < o.id'),
    );

  /**
   * Leases the candidates read a moment ago, all in one compare-and-set UPDATE: a row is taken
   * only if it is still pending and its lease free (never taken, or run out).
   */
  async function lease(rows: RawRow[], now: number): Promise<OutboxRow[]> {
    if (rows.length === 0) return [];
    const taken = await db('outbox')
      .whereIn(
        'id',
        rows.map((r) => num(r.id)),
      )
      .andWhere('status', 'pending')
      .andWhere((q) => {
        q.whereNull('locked_until').orWhere('locked_until', '<', now);
      })
      .update({ locked_by: workerId, locked_until: now + leaseMs })
      .returning<Array<{ id: number | string }>>('id');
    const ids = new Set(taken.map((t) => num(t.id)));
    return rows.filter((r) => ids.has(num(r.id))).map(toRow);
  }

  async function release(id: number): Promise<void> {
    await db('outbox').where({ id, status: 'pending', locked_by: workerId }).update({ locked_by: null, locked_until: null });
  }

  return {
    /**
     * Extends this worker's leases on the threads it is delivering now (the heartbeat): rows in
     * flight stay ours however long the send takes. A row left leased by a delivery that broke
     * off (the database went away under it) is on no such thread: its lease runs out, and it
     * is claimed again.
     */
    async renew(now: number, threadIds: number[]): Promise<number> {
      if (threadIds.length === 0) return 0;
      return db('outbox')
        .where({ status: 'pending', locked_by: workerId })
        .whereIn('thread_id', threadIds)
        .update({ locked_until: now + leaseMs });
    },
    /**
     * At start, for the sole user of the database (one process owns a SQLite file):
     * every lease left in it belonged to a process that is gone, and is taken back
     * at once. Where other instances may be alive (PostgreSQL), leases expire by
     * themselves. Returns how many rows were freed.
     */
    async reclaimAbandoned(): Promise<number> {
      if (!options.soleUser) return 0;
      return db('outbox').where({ status: 'pending' }).whereNotNull('locked_by').update({ locked_by: null, locked_until: null });
    },
    /**
     * Claims up to `limit` due thread heads, skipping threads already being worked on here;
     * with `hold`, only threads that went quiet or waited long enough. Within `sends`, the
     * Telegram sends the chat's budget lets start now (default: `limit`), a head whose thread
     * has no topic yet counts twice (the topic, then the message).
     *
     * Order: first the threads that already have a topic (existing conversations) and topic
     * actions, oldest first; then the threads still waiting for their topic, those of an
     * address opening few threads before those of an address opening many (`opening_rank`),
     * then oldest first. With `crowdedAbove` (when half the chat's budget is spent), threads still
     * waiting for their topic whose address had opened more than that many are not claimed at
     * all: they wait until the budget has room again, which keeps its reserve for existing
     * conversations and ordinary newcomers. So under the group limit new threads — a
     * flood of them from one address above all — never keep others waiting (docs/delivery.md).
     */
    async claimHeads(
      now: number,
      limit: number,
      excludeThreadIds: number[],
      hold?: OutboxHold,
      sends = limit,
      crowdedAbove?: number,
      department?: OutboxDepartment,
    ): Promise<OutboxRow[]> {
      if (limit <= 0 || sends <= 0) return [];
      // A thread moved to another department gets its topic there (src/outbox/topics.ts): it costs two sends as well.
      const needsTopic = department
        ? `(o.kind = 'message' and (t.topic_id is null or t.topic_chat_id <> ${Number(department.chatId)}))`
        : "(o.kind = 'message' and t.topic_id is null)";
      const q = db('outbox as o')
        .leftJoin('threads as t', 't.id', 'o.thread_id')
        .leftJoin('messages as m', 'm.id', 'o.message_id')
        .leftJoin('visitors as v', 'v.id', 't.visitor_id')
        .select([...columns, behind, headColumns(db), db.raw(`case when ${needsTopic} then 1 else 0 end as needs_topic`)]);
      claimable(q, now);
      isHead(q);
      if (excludeThreadIds.length) q.whereNotIn('o.thread_id', excludeThreadIds);
      if (department?.id === null) q.whereNull('t.department_id');
      else if (department) q.where('t.department_id', department.id);
      if (hold && hold.maxMs > 0) {
        // Held back to be merged: until the thread has been quiet for a moment, or its oldest message has waited long enough.
        q.andWhere((w) => {
          w.where('o.created_at', '<=', now - hold.maxMs).orWhereRaw(
            '(select max(q2.created_at) from outbox q2 where q2.thread_id = o.thread_id and q2.status = ?) <= ?',
            ['pending', now - hold.quietMs],
          );
        });
      }
      if (crowdedAbove !== undefined) q.andWhereRaw(`(not ${needsTopic} or coalesce(t.opening_rank, 1) <= ?)`, [crowdedAbove]);
      const candidates = (await q
        .orderByRaw(`case when ${needsTopic} then 1 else 0 end asc`)
        .orderByRaw(`case when ${needsTopic} then coalesce(t.opening_rank, 1) else 0 end asc`)
        .orderBy('o.id', 'asc')
        .limit(Math.min(limit, sends))) as Array<RawRow & { needs_topic: number | string }>;
      const chosen: RawRow[] = [];
      const twice = new Set<number>();
      let cost = 0;
      for (const c of candidates) {
        const cs = num(c.needs_topic) === 1 ? 2 : 1;
        // A topic may start on the last free send (its message then takes the next one): else a single free
        // send below the pressure mark would hold every new thread until the window moves on.
        if (cost >= sends) break;
        cost += cs;
        chosen.push(c);
        if (cs === 2) twice.add(num(c.id));
      }
      return (await lease(chosen, now)).map((r) => (twice.has(r.id) ? { ...r, needsTopic: true } : r));
    },
    /** Claims the head of one thread, if it is due. */
    async claimThreadHead(threadId: number, now: number): Promise<OutboxRow | null> {
      const q = db('outbox as o')
        .leftJoin('threads as t', 't.id', 'o.thread_id')
        .leftJoin('messages as m', 'm.id', 'o.message_id')
        .leftJoin('visitors as v', 'v.id', 't.visitor_id')
        .select([...columns, behind, headColumns(db)])
        .where('o.thread_id', threadId);
      claimable(q, now);
      isHead(q);
      const [row] = await lease((await q.orderBy('o.id', 'asc').limit(1)) as RawRow[], now);
      return row ?? null;
    },
    /**
     * Claims the thread's next waiting rows of `contentType` (text, or image for an album) right after `afterId`, in order,
     * stopping at the first gap; none when fewer than `atLeast` are waiting.
     */
    async claimFollowers(
      threadId: number,
      afterId: number,
      now: number,
      max: number,
      contentType = 'text',
      atLeast = 1,
    ): Promise<OutboxRow[]> {
      const candidates = (await db('outbox as o')
        .leftJoin('messages as m', 'm.id', 'o.message_id')
        .select([...columns, 'o.available_at', 'm.content_type'])
        .where('o.thread_id', threadId)
        .andWhere('o.status', 'pending')
        .andWhere('o.id', '>', afterId)
        .orderBy('o.id', 'asc')
        .limit(max)) as Array<RawRow & { content_type: string | null; available_at: number | string }>;
      const run: RawRow[] = [];
      for (const c of candidates) {
        // A topic action (reopen, rename) between two messages keeps its place: the run stops there.
        if (c.kind !== 'message' || c.content_type !== contentType || num(c.available_at) > now) break;
        run.push(c);
      }
      // Fewer than wanted: nothing is leased (and nothing given back).
      if (run.length < atLeast) return [];
      const claimed = await lease(run, now);
      // Keep only the unbroken prefix: order within the thread must hold.
      const out: OutboxRow[] = [];
      for (let i = 0; i < claimed.length && claimed[i].id === num(run[i].id); i++) out.push(claimed[i]);
      for (const extra of claimed.slice(out.length)) await release(extra.id);
      return out;
    },
    /** Gives a claimed row back untouched (e.g. it did not fit into a merged message). */
    release,
  };
}
