import type { Knex } from 'knex';
import { searchText } from '../src/domain/admin-search';
import { createSearchIndex, dropSearchIndex } from './20261126051000_message_search';

/**
 * One folding rule for search on both databases (docs/admin.md "Search"): the application
 * stores each message's text folded (`messages.search_text`: lower-cased, diacritics and the
 * Turkish dotted/dotless i folded, words of letters and digits separated by one space — see
 * searchText in src/domain/admin-search.ts), and the databases index only that.
 *
 * - SQLite: an FTS5 table over `messages.search_text` (external content) kept current by
 *   triggers. A later migration that makes knex rebuild `messages` on SQLite (column
 *   alter/drop) drops these triggers and must create them again.
 * - PostgreSQL: a GIN index on `to_tsvector('simple', search_text)`; queries must use this
 *   exact expression (MESSAGE_SEARCH_DOCUMENT_PG) for the index to serve them.
 *
 * Existing messages are folded here, in batches, with the rule as it is in this version.
 */
export const MESSAGE_SEARCH_DOCUMENT_PG = `to_tsvector('simple'::regconfig, coalesce(search_text, ''))`;

const BATCH = 1000;

export async function up(knex: Knex): Promise<void> {
  await dropSearchIndex(knex);
  await knex.schema.alterTable('messages', (t) => {
    t.text('search_text');
  });
  for (let after = 0; ;) {
    const rows = await knex<{ id: number; content_text: string | null }>('messages')
      .select('id', 'content_text')
      .where('id', '>', after)
      .whereNotNull('content_text')
      .orderBy('id')
      .limit(BATCH);
    if (rows.length === 0) break;
    for (const row of rows)
      await knex('messages')
        .where({ id: row.id })
        .update({ search_text: searchText(row.content_text) });
    after = Number(rows[rows.length - 1].id);
  }
  if ((knex.client as Knex.Client).config.client === 'pg') {
    await knex.raw(`create index idx_messages_search_text on messages using gin ((${MESSAGE_SEARCH_DOCUMENT_PG}))`);
  } else {
    await knex.raw(
      `create virtual table messages_fts using fts5(search_text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 0')`,
    );
    await knex.raw(`create trigger messages_fts_insert after insert on messages begin
      insert into messages_fts(rowid, search_text) values (new.id, new.search_text);
    end`);
    await knex.raw(`create trigger messages_fts_delete after delete on messages begin
      insert into messages_fts(messages_fts, rowid, search_text) values ('delete', old.id, old.search_text);
    end`);
    await knex.raw(`create trigger messages_fts_update after update of search_text on messages begin
      insert into messages_fts(messages_fts, rowid, search_text) values ('delete', old.id, old.search_text);
      insert into messages_fts(rowid, search_text) values (new.id, new.search_text);
    end`);
    await knex.raw(`insert into messages_fts(messages_fts) values ('rebuild')`);
  }
}

export async function down(knex: Knex): Promise<void> {
  if ((knex.client as Knex.Client).config.client === 'pg') {
    await knex.raw('drop index if exists idx_messages_search_text');
  } else {
    for (const trigger of ['messages_fts_insert', 'messages_fts_delete', 'messages_fts_update'])
      await knex.raw(`drop trigger if exists ${trigger}`);
    await knex.raw('drop table if exists messages_fts');
  }
  // A plain `drop column` on both databases (knex's SQLite emulation would rebuild the table).
  await knex.raw('alter table messages drop column search_text');
  await createSearchIndex(knex);
}
