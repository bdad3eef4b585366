/** How staff commands print times and durations (the same in every language). */

export function formatDuration(ms: number | null, none: string): string {
  if (ms === null) return none;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export const formatTime = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
