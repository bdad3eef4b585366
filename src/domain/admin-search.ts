/**
 * Search words and list cursors of the staff page, the same for SQLite and
 * PostgreSQL (docs/admin.md "Search").
 */
import type { ThreadCursor } from './admin-ports';

export const MAX_SEARCH_TERMS = 8;
const MAX_TERM_LENGTH = 64;

/**
 * The one folding rule of search, for stored text and for queries alike: lower-cased
 * (Turkish İ and ı become i), diacritics removed (ş, ș → s; ğ → g; é → e), words are runs of
 * letters and digits. The database indexes `messages.search_text` (this, computed by the
 * application), so SQLite and PostgreSQL match exactly the same words.
 */
export function searchWords(text: string): string[] {
  const folded = text
    .replace(/[İı]/g, 'i')
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFC');
  return folded.match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** What is stored in `messages.search_text` for a message's text (null without text). */
export function searchText(text: string | null): string | null {
  if (text === null) return null;
  return searchWords(text).join(' ');
}

/**
 * The words of a search (searchWords), at most 8, each at most 64 characters; a word
 * matches a message containing a word that starts with it.
 */
export function searchTerms(query: string): string[] {
  const unique = [...new Set(searchWords(query).map((w) => w.slice(0, MAX_TERM_LENGTH)))];
  return unique.slice(0, MAX_SEARCH_TERMS);
}

/** Opaque to clients: base64url of `[lastActivity, id]`. */
export function encodeCursor(cursor: ThreadCursor): string {
  return Buffer.from(JSON.stringify([cursor.lastActivity, cursor.id])).toString('base64url');
}

export function decodeCursor(value: string): ThreadCursor | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) return null;
    const [lastActivity, id] = parsed as unknown[];
    if (typeof lastActivity !== 'number' || typeof id !== 'number') return null;
    if (!Number.isSafeInteger(lastActivity) || !Number.isSafeInteger(id) || lastActivity < 0 || id < 1) return null;
    return { lastActivity, id };
  } catch {
    return null;
  }
}
