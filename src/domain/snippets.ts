import { cleanText, MAX_TEXT_LENGTH } from './text';

/** A saved answer staff share (/snippet, /snippets, /s: README "Commands"); names are case-insensitive. */
export interface Snippet {
  /** As staff wrote it the last time it was saved. */
  name: string;
  text: string;
  /** Telegram user id of who saved it. */
  savedBy: number;
  savedAt: Date;
}

export interface SnippetRepository {
  /** Saves under the name (case-insensitive); replaces the earlier one of that name. Returns whether it is new. */
  save(snippet: Snippet): Promise<{ created: boolean }>;
  find(name: string): Promise<Snippet | null>;
  /** Every snippet, by name. */
  list(): Promise<Snippet[]>;
  /** Whether there was one to remove. */
  remove(name: string): Promise<boolean>;
}

export const MAX_SNIPPET_NAME = 32;
const NAME = /^[\p{L}\p{N}_-]+$/u;

/** The name compared: snippets are found whatever the case. */
export function snippetKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** A usable name (letters, digits, _ and -; 1–32), or null. */
export function snippetName(raw: string): string | null {
  const name = raw.trim().normalize('NFC');
  return name.length >= 1 && name.length <= MAX_SNIPPET_NAME && NAME.test(name) ? name : null;
}

/** A snippet's text, cleaned as any message text; empty or too long are refused (with why). */
export function snippetText(raw: string): { ok: true; text: string } | { ok: false; why: 'empty' | 'too_long' } {
  const text = cleanText(raw).trim();
  if (!text) return { ok: false, why: 'empty' };
  if (text.length > MAX_TEXT_LENGTH) return { ok: false, why: 'too_long' };
  return { ok: true, text };
}
