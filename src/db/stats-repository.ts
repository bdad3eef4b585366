import type { StatsRepository } from '../domain/ports';
import type { RepoContext } from './context';
import type { Knex } from 'knex';
import { median, statsPeriod, type FirstResponse } from '../domain/first-response';
import { num, numOrNull } from './database';
import { outboxBacklog } from './outbox-repository';

const DAY_MS = 24 * 60 * 60 * 1000;
/** `/stats` covers the last 30 UTC calendar days, as the staff page does by default. */
const STATS_DAYS = 30;

/**
 * First responses of the threads whose first visitor message is at or after `since`
 * (src/domain/first-response.ts: the one definition `/stats` and the staff page share).
 */
export async function firstResponses(db: Knex, since: number): Promise<FirstResponse[]> {
  // Threads begin with their first visitor message, so only threads created in the period (a day's margin) can start in it.
  const rows: Array<{ first_visitor: number | string | null; first_staff: number | string | null }> = await db('messages')
    .whereIn(
      'thread_id',
      db('threads')
        .select('id')
        .where('created_at', '>=', since - DAY_MS),
    )
    .groupBy('thread_id')
    .select('thread_id')
    .min({ first_visitor: db.raw("case when sender_type = 'visitor' then created_at end") })
    .min({ first_staff: db.raw("case when sender_type = 'staff' then created_at end") });
  const out: FirstResponse[] = [];
  for (const r of rows) {
    const visitorAt = numOrNull(r.first_visitor);
    const staffAt = numOrNull(r.first_staff);
    if (visitorAt === null || staffAt === null || visitorAt < since || staffAt < visitorAt) continue;
    out.push({ firstVisitorAt: visitorAt, waitMs: staffAt - visitorAt });
  }
  return out;
}

export function createStatsRepository({ db }: RepoContext): StatsRepository {
  return {
    async stats(now) {
      const startOfDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      const statusRows: Array<{ status: string; n: number | string }> = await db('threads')
        .groupBy('status')
        .select('status')
        .count({ n: '*' });
      const byStatus = (s: string) => num(statusRows.find((r) => r.status === s)?.n ?? 0);
      const [today] = await db('messages').where('created_at', '>=', startOfDay).whereNot('sender_type', 'system').count({ n: '*' });
      const waits = (await firstResponses(db, statsPeriod(now, STATS_DAYS).since)).map((r) => r.waitMs);
      const outbox = await outboxBacklog(db);
      return {
        openThreads: byStatus('open'),
        closedThreads: byStatus('closed'),
        messagesToday: num(today?.n ?? 0),
        medianFirstResponseMs: median(waits),
        outboxPending: outbox.pending,
        outboxFailed: outbox.failed,
      };
    },
  };
}
