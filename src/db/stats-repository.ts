import type { DepartmentFigures, StatsRepository } from '../domain/ports';
import type { RepoContext } from './context';
import type { Knex } from 'knex';
import { median, statsPeriod, type FirstResponse } from '../domain/first-response';
import { num, numOrNull } from './database';
import { inDepartments } from './department-scope';
import { outboxBacklog } from './outbox-repository';
import { ratingCounts } from './rating-repository';
import { satisfaction } from '../domain/ratings';
import { erasedFirstResponses, erasedMessagesSince, erasedThreadCounts } from './erased-counts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** `/stats` covers the last 30 UTC calendar days, as the staff page does by default. */
const STATS_DAYS = 30;

/** The threads of some departments (null: the default one), or every thread when `departments` is left out. */
export function threadsOf(db: Knex, departments?: ReadonlyArray<number | null>): Knex.QueryBuilder {
  const q = db('threads').select('id');
  return departments ? inDepartments(q, 'department_id', departments) : q;
}

/**
 * First responses of the threads whose first visitor message is at or after `since`
 * (src/domain/first-response.ts: the one definition `/stats` and the staff page share), each
 * with its thread's department; with `departments`, only those departments' threads. Erased
 * visitors' threads are included (src/db/erased-counts.ts).
 */
export async function firstResponses(
  db: Knex,
  since: number,
  departments?: ReadonlyArray<number | null>,
): Promise<Array<FirstResponse & { departmentId: number | null }>> {
  // Threads begin with their first visitor message, so only threads created in the period (a day's margin) can start in it.
  const q = db('messages as m')
    .join('threads as t', 't.id', 'm.thread_id')
    .where('t.created_at', '>=', since - DAY_MS);
  if (departments) inDepartments(q, 't.department_id', departments);
  const rows: Array<{ department_id: number | string | null; first_visitor: number | string | null; first_staff: number | string | null }> =
    await q
      .groupBy('m.thread_id', 't.department_id')
      .select('m.thread_id', 't.department_id')
      .min({ first_visitor: db.raw("case when m.sender_type = 'visitor' then m.created_at end") })
      .min({ first_staff: db.raw("case when m.sender_type = 'staff' then m.created_at end") });
  const out: Array<FirstResponse & { departmentId: number | null }> = [];
  for (const r of rows) {
    const visitorAt = numOrNull(r.first_visitor);
    const staffAt = numOrNull(r.first_staff);
    if (visitorAt === null || staffAt === null || visitorAt < since || staffAt < visitorAt) continue;
    out.push({ firstVisitorAt: visitorAt, waitMs: staffAt - visitorAt, departmentId: numOrNull(r.department_id) });
  }
  return [...out, ...(await erasedFirstResponses(db, since, departments))];
}

/**
 * Open and closed threads per department (null: the default one); with `departments`, only those.
 * Erased visitors' threads count as closed (src/db/erased-counts.ts).
 */
export async function threadCounts(
  db: Knex,
  departments?: ReadonlyArray<number | null>,
): Promise<Array<{ departmentId: number | null; open: number; closed: number }>> {
  const q = db('threads');
  if (departments) inDepartments(q, 'department_id', departments);
  const rows: Array<{ department_id: number | string | null; status: string; n: number | string }> = await q
    .groupBy('department_id', 'status')
    .select('department_id', 'status')
    .count({ n: '*' });
  const out = new Map<number | null, { departmentId: number | null; open: number; closed: number }>();
  for (const r of rows) {
    const departmentId = numOrNull(r.department_id);
    const entry = out.get(departmentId) ?? { departmentId, open: 0, closed: 0 };
    if (r.status === 'open') entry.open += num(r.n);
    if (r.status === 'closed') entry.closed += num(r.n);
    out.set(departmentId, entry);
  }
  for (const e of await erasedThreadCounts(db, departments)) {
    const entry = out.get(e.departmentId) ?? { departmentId: e.departmentId, open: 0, closed: 0 };
    entry.closed += e.n;
    out.set(e.departmentId, entry);
  }
  return [...out.values()];
}

/**
 * Each department's open and closed threads and median first response over `days` days at a UTC offset:
 * the one breakdown `/stats` and the staff page show. Departments without threads are left out.
 */
export async function departmentFigures(
  db: Knex,
  input: { now: Date; days: number; utcOffsetMinutes?: number; departments?: ReadonlyArray<number | null> },
): Promise<DepartmentFigures[]> {
  const { since } = statsPeriod(input.now, input.days, input.utcOffsetMinutes ?? 0);
  const [counts, waits] = await Promise.all([threadCounts(db, input.departments), firstResponses(db, since, input.departments)]);
  return counts.map((c) => ({
    departmentId: c.departmentId,
    openThreads: c.open,
    closedThreads: c.closed,
    medianFirstResponseMs: median(waits.filter((w) => w.departmentId === c.departmentId).map((w) => w.waitMs)),
  }));
}

export function createStatsRepository({ db }: RepoContext): StatsRepository {
  return {
    async stats(now, departmentId) {
      const scope = departmentId === undefined ? undefined : [departmentId];
      const startOfDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      const counts = await threadCounts(db, scope);
      const sum = (k: 'open' | 'closed') => counts.reduce((n, c) => n + c[k], 0);
      const todayQuery = db('messages').where('created_at', '>=', startOfDay).whereNot('sender_type', 'system');
      if (scope) todayQuery.whereIn('thread_id', threadsOf(db, scope));
      const [today] = await todayQuery.count({ n: '*' });
      const period = statsPeriod(now, STATS_DAYS);
      const waits = (await firstResponses(db, period.since, scope)).map((r) => r.waitMs);
      const ratings = await ratingCounts(db, { since: period.since, utcOffsetMinutes: 0, departments: scope });
      const outbox = await outboxBacklog(db, scope);
      return {
        openThreads: sum('open'),
        closedThreads: sum('closed'),
        // Erased visitors' messages still count (src/db/erased-counts.ts).
        messagesToday: num(today?.n ?? 0) + (await erasedMessagesSince(db, startOfDay, scope)),
        medianFirstResponseMs: median(waits),
        outboxPending: outbox.pending,
        outboxFailed: outbox.failed,
        satisfactionToday: satisfaction(ratings, (c) => c.day === period.today),
        satisfaction30Days: satisfaction(ratings),
      };
    },
    byDepartment: (now) => departmentFigures(db, { now, days: STATS_DAYS }),
  };
}
