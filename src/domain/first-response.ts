/**
 * First-response time, one definition for `/stats` and the staff page (docs/admin.md "Stats"):
 * for each thread whose first visitor message falls in the period, the time from that message
 * to the thread's first staff message; threads nobody has answered yet are left out.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** Days counted by the stats: the last `days` calendar days (today included) at a UTC offset. */
export function statsPeriod(now: Date, days: number, utcOffsetMinutes = 0): { since: number; firstDay: number; today: number } {
  const offsetMs = Math.trunc(utcOffsetMinutes) * 60_000;
  const today = Math.floor((now.getTime() + offsetMs) / DAY_MS);
  const firstDay = today - days + 1;
  return { since: firstDay * DAY_MS - offsetMs, firstDay, today };
}

/** The median of some numbers (the mean of the middle two for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One thread's first response: when the visitor first wrote, and how long until staff first answered. */
export interface FirstResponse {
  firstVisitorAt: number;
  waitMs: number;
}
