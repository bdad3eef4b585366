import type { Satisfaction } from './ratings';

/** What /stats and the staff page's figures read (src/db/stats-repository.ts). */
export interface SupportStats {
  openThreads: number;
  closedThreads: number;
  messagesToday: number;
  /** Median time from a thread's first visitor message to its first staff reply (last 30 days), or null. */
  medianFirstResponseMs: number | null;
  outboxPending: number;
  outboxFailed: number;
  /** Visitors' ratings given today (UTC) and in the last 30 days (domain/ratings.ts satisfaction). */
  satisfactionToday: Satisfaction;
  satisfaction30Days: Satisfaction;
}

/** One department's figures (null: the default department), as `/stats` and the staff page break them down. */
export interface DepartmentFigures {
  departmentId: number | null;
  openThreads: number;
  closedThreads: number;
  /** Over the stats' period; null when no thread started in it was answered. */
  medianFirstResponseMs: number | null;
}

export interface StatsRepository {
  /** With `departmentId`, only that department's threads (null: the default one); left out, every thread. */
  stats(now: Date, departmentId?: number | null): Promise<SupportStats>;
  /** Each department that has threads, over the last 30 UTC days (as stats). */
  byDepartment(now: Date): Promise<DepartmentFigures[]>;
}
