import { snippetKey, type Snippet, type SnippetRepository } from '../domain/snippets';
import type { RepoContext } from './context';
import { num } from './database';

interface SnippetRow {
  name_key: string;
  name: string;
  text: string;
  saved_by: number | string;
  saved_at: number | string;
}

const toSnippet = (row: SnippetRow): Snippet => ({
  name: row.name,
  text: row.text,
  savedBy: num(row.saved_by),
  savedAt: new Date(num(row.saved_at)),
});

/** Staff's saved answers, shared by all staff (table `snippets`, one row per case-insensitive name). */
export function createSnippetRepository({ db }: RepoContext): SnippetRepository {
  const find = async (name: string) => {
    const row = await db<SnippetRow>('snippets')
      .where({ name_key: snippetKey(name) })
      .first();
    return row ? toSnippet(row) : null;
  };
  return {
    async save(s) {
      const row = { name_key: snippetKey(s.name), name: s.name, text: s.text, saved_by: s.savedBy, saved_at: s.savedAt.getTime() };
      // Inserted, or the row of that name replaced: one statement, so two staff saving at once cannot fail.
      const inserted = (await db('snippets').insert(row).onConflict('name_key').ignore().returning('name_key')) as unknown[];
      if (inserted.length > 0) return { created: true };
      await db('snippets').where({ name_key: row.name_key }).update(row);
      return { created: false };
    },
    find,
    async list() {
      const rows = await db<SnippetRow>('snippets').orderBy('name_key', 'asc');
      return rows.map(toSnippet);
    },
    async remove(name) {
      return (
        (await db('snippets')
          .where({ name_key: snippetKey(name) })
          .delete()) > 0
      );
    },
  };
}
