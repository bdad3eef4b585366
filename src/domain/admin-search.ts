/**
 * Search words and list cursors of the staff page, the same for SQLite and
 * PostgreSQL (docs/admin.md "Search").
 */
import type { ThreadCursor } from './admin-ports';

export const MAX_SEARCH_TERMS = 8;
const MAX_TERM_LENGTH = 64;

/**
 * The words of a search: runs of letters and digits, lower-cased, diacritics
 * removed (ş → s, é → e; the dotless ı stays), at most 8, each at most 64
 * characters. This is how the database indexes message text, so a word matches
 * a message containing a word that starts with it.
 */
export function searchTerms(query: string): string[] {
  const folded = query
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFC')
    .toLowerCase();
  const words = folded.match(/[\p{L}\p{N}]+/gu) ?? [];
  const unique = [...new Set(words.map((w) => w.slice(0, MAX_TERM_LENGTH)))];
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
