import type { Knex } from 'knex';
import type { FirstResponse } from '../domain/first-response';
import { num, numOrNull } from './database';

/** Erased threads and messages are counted to the quarter hour: every UTC offset in use is a whole number of quarter hours. */
export const QUARTER_HOUR_MS = 15 * 60 * 1000;

const quarter = (t: number) => Math.floor(t / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;

/** The erased tables keep the default department as 0 (a key column cannot be null); departments' ids start at 1. */
const DEFAULT_DEPARTMENT = 0;
const toColumn = (departmentId: number | null) => departmentId ?? DEFAULT_DEPARTMENT;
const fromColumn = (v: unknown) => (num(v) === DEFAULT_DEPARTMENT ? null : num(v));
const scoped = (q: Knex.QueryBuilder, departments?: ReadonlyArray<number | null>) =>
  departments ? q.whereIn('department_id', departments.map(toColumn)) : q;

/**
 * Before a visitor's threads and messages are deleted (src/db/erasure-repository.ts): what
 * `/stats` and the staff page count of them, without content or any link to a visitor — a row
 * per thread (its department, when it began, when its visitor first wrote, how long staff took
 * to answer) and visitor/staff message counts per quarter hour, sender and department
 * (migrations/20261208010000_erasures.ts). `threadIds`: the visitor's threads; its own messages
 * in other threads count too.
 */
export async function keepCounts(trx: Knex.Transaction, threadIds: number[], visitorId: number): Promise<void> {
  if (threadIds.length > 0) {
    const threads = await trx<{ id: number; created_at: number | string; department_id: number | null }>('threads')
      .select('id', 'created_at', 'department_id')
      .whereIn('id', threadIds);
    const firsts: Array<{ thread_id: number; first_visitor: unknown; first_staff: unknown }> = await trx('messages')
      .whereIn('thread_id', threadIds)
      .groupBy('thread_id')
      .select('thread_id')
      .min({ first_visitor: trx.raw("case when sender_type = 'visitor' then created_at end") })
      .min({ first_staff: trx.raw("case when sender_type = 'staff' then created_at end") });
    const firstOf = new Map(firsts.map((f) => [num(f.thread_id), f]));
    const rows = threads.map((t) => {
      const f = firstOf.get(num(t.id));
      const visitorAt = numOrNull(f?.first_visitor);
      const staffAt = numOrNull(f?.first_staff);
      return {
        department_id: toColumn(numOrNull(t.department_id)),
        created_at: quarter(num(t.created_at)),
        first_visitor_at: visitorAt === null ? null : quarter(visitorAt),
        first_response_ms: visitorAt !== null && staffAt !== null && staffAt >= visitorAt ? staffAt - visitorAt : null,
      };
    });
    for (let i = 0; i < rows.length; i += 100) await trx('erased_threads').insert(rows.slice(i, i + 100));
  }
  const perSlot: Array<{ slot: number | string; sender_type: string; department_id: number | string | null; n: number | string }> =
    await trx('messages as m')
      .join('threads as t', 't.id', 'm.thread_id')
      .where((q) => {
        q.whereIn('m.thread_id', threadIds).orWhere('m.visitor_id', visitorId);
      })
      .whereIn('m.sender_type', ['visitor', 'staff'])
      .select(trx.raw(`(m.created_at / ${QUARTER_HOUR_MS}) * ${QUARTER_HOUR_MS} as slot`), 'm.sender_type', 't.department_id')
      .count({ n: '*' })
      .groupBy('slot', 'm.sender_type', 't.department_id');
  const tallies = perSlot.map((r) => ({
    slot: num(r.slot),
    sender_type: r.sender_type,
    department_id: toColumn(numOrNull(r.department_id)),
    n: num(r.n),
  }));
  for (let i = 0; i < tallies.length; i += 200) {
    await trx('erased_messages')
      .insert(tallies.slice(i, i + 200))
      .onConflict(['slot', 'sender_type', 'department_id'])
      .merge({ n: trx.raw('erased_messages.n + excluded.n') });
  }
}

/** How many threads were erased per department (counted as closed by `/stats` and the staff page). */
export async function erasedThreadCounts(
  db: Knex,
  departments?: ReadonlyArray<number | null>,
): Promise<Array<{ departmentId: number | null; n: number }>> {
  const rows: Array<{ department_id: number | string; n: number | string }> = await scoped(db('erased_threads'), departments)
    .groupBy('department_id')
    .select('department_id')
    .count({ n: '*' });
  return rows.map((r) => ({ departmentId: fromColumn(r.department_id), n: num(r.n) }));
}

/** Erased visitor and staff messages written at or after `since` (a whole quarter hour). */
export async function erasedMessagesSince(db: Knex, since: number, departments?: ReadonlyArray<number | null>): Promise<number> {
  const rows: Array<{ n: number | string | null }> = await scoped(db('erased_messages').where('slot', '>=', since), departments).sum({
    n: 'n',
  });
  return num(rows[0]?.n ?? 0);
}

/** Erased messages per day (days of `dayMs` at `offsetMs`, as the staff page's stats count them) and sender; with `departments`, only theirs. */
export async function erasedMessagesPerDay(
  db: Knex,
  { since, offsetMs, dayMs, departments }: { since: number; offsetMs: number; dayMs: number; departments?: ReadonlyArray<number | null> },
): Promise<Array<{ day: number; sender: string; n: number }>> {
  const rows: Array<{ day: number | string; sender_type: string; n: number | string }> = await scoped(db('erased_messages'), departments)
    .select(db.raw(`(slot + ${offsetMs}) / ${dayMs} as day`), 'sender_type')
    .sum({ n: 'n' })
    .where('slot', '>=', since)
    .groupBy('day', 'sender_type');
  return rows.map((r) => ({ day: num(r.day), sender: r.sender_type, n: num(r.n) }));
}

/** First responses of erased threads whose visitor first wrote at or after `since`, with their departments. */
export async function erasedFirstResponses(
  db: Knex,
  since: number,
  departments?: ReadonlyArray<number | null>,
): Promise<Array<FirstResponse & { departmentId: number | null }>> {
  const q = db<{ department_id: number | string; first_visitor_at: number | string; first_response_ms: number | string }>('erased_threads')
    .select('department_id', 'first_visitor_at', 'first_response_ms')
    .where('first_visitor_at', '>=', since)
    .whereNotNull('first_response_ms');
  if (departments) q.whereIn('department_id', departments.map(toColumn));
  const rows = await q;
  return rows.map((r) => ({
    firstVisitorAt: num(r.first_visitor_at),
    waitMs: num(r.first_response_ms),
    departmentId: fromColumn(r.department_id),
  }));
}
