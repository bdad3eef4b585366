import type { NewRating, RatingCount, RatingRepository } from '../domain/ratings';
import type { Knex } from 'knex';
import type { RepoContext } from './context';
import { num, numOrNull } from './database';
import { inDepartments } from './department-scope';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Ratings given at or after `since`, counted per local day and score: the one query behind every
 * satisfaction figure (/stats, the staff page); with `departments`, only ratings of those
 * departments' threads (docs/departments.md).
 */
export async function ratingCounts(
  db: Knex,
  { since, utcOffsetMinutes, departments }: { since: number; utcOffsetMinutes: number; departments?: ReadonlyArray<number | null> },
): Promise<RatingCount[]> {
  // Integers only (validated at the edges), written into the SQL as the staff page's other per-day counts are.
  const offsetMs = Math.trunc(utcOffsetMinutes) * 60_000;
  const q = db('thread_ratings as r')
    .select(db.raw(`(r.created_at + ${offsetMs}) / ${DAY_MS} as day`), 'r.score')
    .count({ n: '*' })
    .where('r.created_at', '>=', since);
  // Some departments only: the one the rated thread belonged to when rated, kept with the rating (no join), so ratings
  // of threads that are gone (RETENTION_DAYS, /forget) still count for their department.
  if (departments) inDepartments(q, 'r.department_id', departments);
  const rows: Array<{ day: number | string; score: number | string; n: number | string }> = await q.groupBy('day', 'r.score');
  return rows.map((row) => ({ day: Math.floor(num(row.day)), score: num(row.score), count: num(row.n) }));
}

/** Visitors' ratings of closed threads (table thread_ratings, one per closing). */
export function createRatingRepository({ db }: RepoContext): RatingRepository {
  return {
    async currentClosing(threadId) {
      // Read past the thread cache: the closing must be the one stored now.
      const row = await db<{ id: number; status: string; closed_at: number | string | null }>('threads')
        .select('status', 'closed_at')
        .where('id', threadId)
        .first();
      return row?.status === 'closed' ? numOrNull(row.closed_at) : null;
    },
    async hasRating(threadId, closedAt) {
      const rows: unknown[] = await db('thread_ratings').select('id').where({ thread_id: threadId, closed_at: closedAt }).limit(1);
      return rows.length > 0;
    },
    async insert(r: NewRating) {
      // Two ratings of one closing at once: the unique index lets one in, the other inserts nothing.
      const rows = (await db('thread_ratings')
        .insert({
          thread_id: r.threadId,
          closed_at: r.closedAt,
          score: r.score,
          comment: r.comment,
          created_at: r.now.getTime(),
          department_id: db('threads').select('department_id').where({ id: r.threadId }),
        })
        .onConflict(['thread_id', 'closed_at'])
        .ignore()
        .returning('id')) as unknown[];
      return rows.length > 0;
    },
    countsSince: (input) => ratingCounts(db, input),
  };
}
