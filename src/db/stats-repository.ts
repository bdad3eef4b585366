import type { StatsRepository } from '../domain/ports';
import type { RepoContext } from './context';
import { num } from './database';

const DAY_MS = 24 * 60 * 60 * 1000;

export function createStatsRepository({ db }: RepoContext): StatsRepository {
  return {
    async stats(now) {
      const startOfDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      const since = now.getTime() - 30 * DAY_MS;
      const statusRows: Array<{ status: string; n: number | string }> = await db('threads')
        .groupBy('status')
        .select('status')
        .count({ n: '*' });
      const byStatus = (s: string) => num(statusRows.find((r) => r.status === s)?.n ?? 0);
      const [today] = await db('messages').where('created_at', '>=', startOfDay).whereNot('sender_type', 'system').count({ n: '*' });
      // First visitor message and first staff message per thread, for threads started in the last 30 days.
      const firsts: Array<{ first_visitor: number | string | null; first_staff: number | string | null }> = await db('messages')
        .select('thread_id')
        .min({ first_visitor: db.raw("case when sender_type = 'visitor' then created_at end") })
        .min({ first_staff: db.raw("case when sender_type = 'staff' then created_at end") })
        .groupBy('thread_id')
        .havingRaw("min(case when sender_type = 'visitor' then created_at end) >= ?", [since]);
      const waits = firsts
        .filter((r) => r.first_visitor !== null && r.first_staff !== null && num(r.first_staff) >= num(r.first_visitor))
        .map((r) => num(r.first_staff) - num(r.first_visitor))
        .sort((a, b) => a - b);
      const median =
        waits.length === 0
          ? null
          : waits.length % 2
            ? waits[(waits.length - 1) / 2]
            : (waits[waits.length / 2 - 1] + waits[waits.length / 2]) / 2;
      const outbox: Array<{ status: string; n: number | string }> = await db('outbox')
        .whereIn('status', ['pending', 'failed'])
        .groupBy('status')
        .select('status')
        .count({ n: '*' });
      return {
        openThreads: byStatus('open'),
        closedThreads: byStatus('closed'),
        messagesToday: num(today?.n ?? 0),
        medianFirstResponseMs: median,
        outboxPending: num(outbox.find((r) => r.status === 'pending')?.n ?? 0),
        outboxFailed: num(outbox.find((r) => r.status === 'failed')?.n ?? 0),
      };
    },
  };
}
