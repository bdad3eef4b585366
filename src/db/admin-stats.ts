import type { Knex } from 'knex';
import type { AdminStats, DayStats, DepartmentScope } from '../domain/admin-ports';
import { median, statsPeriod } from '../domain/first-response';
import { num } from './database';
import { departmentFigures, firstResponses, threadsOf } from './stats-repository';
import { ratingCounts } from './rating-repository';
import { satisfactionReport } from '../domain/ratings';
import { erasedMessagesPerDay } from './erased-counts';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The staff page's stats (docs/admin.md): messages and first responses per local day, open and
 * closed threads, visitors' ratings, and each department's figures — only of the threads of `departments`.
 */
export async function adminStats(
  db: Knex,
  { now, days, utcOffsetMinutes, departments }: { now: Date; days: number; utcOffsetMinutes: number; departments: DepartmentScope },
): Promise<AdminStats> {
  // Integers only (validated at the edge), so they can be written into the SQL: a bound
  // parameter in the select list would not match the same one in GROUP BY on PostgreSQL.
  const offsetMs = Math.trunc(utcOffsetMinutes) * 60_000;
  const { since, firstDay, today } = statsPeriod(now, days, utcOffsetMinutes);
  const dayOf = (t: number) => Math.floor((t + offsetMs) / DAY_MS);

  const perDay: Array<{ day: number | string; sender_type: string; n: number | string }> = await db('messages')
    .select(db.raw(`(created_at + ${offsetMs}) / ${DAY_MS} as day`), 'sender_type')
    .count({ n: '*' })
    .where('created_at', '>=', since)
    .whereIn('sender_type', ['visitor', 'staff'])
    .whereIn('thread_id', threadsOf(db, departments))
    .groupBy('day', 'sender_type');
  // Erased visitors' messages still count (src/db/erased-counts.ts).
  const erasedPerDay = await erasedMessagesPerDay(db, { since, offsetMs, dayMs: DAY_MS, departments });

  const waitsByDay = new Map<number, number[]>();
  const allWaits: number[] = [];
  for (const r of await firstResponses(db, since, departments)) {
    const d = dayOf(r.firstVisitorAt);
    const waits = waitsByDay.get(d) ?? [];
    waits.push(r.waitMs);
    waitsByDay.set(d, waits);
    allWaits.push(r.waitMs);
  }
  const list: DayStats[] = [];
  for (let d = firstDay; d <= today; d++) {
    const waits = waitsByDay.get(d) ?? [];
    const count = (sender: string) =>
      num(perDay.find((r) => num(r.day) === d && r.sender_type === sender)?.n ?? 0) +
      (erasedPerDay.find((r) => r.day === d && r.sender === sender)?.n ?? 0);
    list.push({
      date: new Date(d * DAY_MS).toISOString().slice(0, 10),
      visitorMessages: count('visitor'),
      staffMessages: count('staff'),
      answeredThreads: waits.length,
      medianFirstResponseMs: median(waits),
    });
  }
  const byDepartment = await departmentFigures(db, { now, days, utcOffsetMinutes, departments });
  const sum = (k: 'openThreads' | 'closedThreads') => byDepartment.reduce((n, f) => n + f[k], 0);
  return {
    days: list,
    openThreads: sum('openThreads'),
    closedThreads: sum('closedThreads'),
    medianFirstResponseMs: median(allWaits),
    satisfaction: satisfactionReport(await ratingCounts(db, { since, utcOffsetMinutes, departments }), firstDay, today),
    byDepartment,
  };
}
