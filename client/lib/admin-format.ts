import { format } from './i18n';
import type { AdminStrings } from './admin-i18n';

/** "35 s", "12 min", "2 h 5 min". */
export function formatDuration(ms: number, t: AdminStrings): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return format(t.seconds, { n: s });
  const m = Math.round(s / 60);
  if (m < 60) return format(t.minutes, { n: m });
  return format(t.hoursMinutes, { h: Math.floor(m / 60), m: m % 60 });
}

/** Today: the time; this year: day, month and time; else with the year. */
export function createTimeFormat(lang: string) {
  const time = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' });
  const dayTime = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });
  const full = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' });
  const day = new Intl.DateTimeFormat(lang, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  return {
    short(iso: string): string {
      const d = new Date(iso);
      if (Number.isNaN(d.getTime())) return '';
      const now = new Date();
      if (d.toDateString() === now.toDateString()) return time.format(d);
      return d.getFullYear() === now.getFullYear() ? dayTime.format(d) : full.format(d);
    },
    full: (iso: string) => full.format(new Date(iso)),
    time: (iso: string) => time.format(new Date(iso)),
    day: (iso: string) => day.format(new Date(iso)),
  };
}

/** Search words folded as the server folds them (src/domain/admin-search.ts). */
export function foldWord(word: string): string {
  return word
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFC')
    .toLowerCase();
}

export function searchWords(q: string): string[] {
  return [...new Set(foldWord(q).match(/[\p{L}\p{N}]+/gu) ?? [])];
}

/**
 * Appends `text` with every word the search matched (a word starting with one
 * of the terms, as the server matches) in <mark>. Text nodes only, never HTML.
 */
export function appendHighlighted(parent: Node, text: string, terms: string[]): void {
  if (terms.length === 0) {
    parent.appendChild(document.createTextNode(text));
    return;
  }
  let last = 0;
  for (const match of text.matchAll(/[\p{L}\p{N}\p{M}]+/gu)) {
    const word = foldWord(match[0]);
    if (!terms.some((term) => word.startsWith(term))) continue;
    const start = match.index ?? 0;
    if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
    const mark = document.createElement('mark');
    mark.textContent = match[0];
    parent.appendChild(mark);
    last = start + match[0].length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}
