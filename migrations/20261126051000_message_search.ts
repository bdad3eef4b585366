import type { Knex } from 'knex';

/**
 * Full-text search over message text for the staff page (docs/admin.md), as first built:
 * words are runs of letters and digits, compared case-insensitively and without the
 * diacritics of a fixed table. Replaced by 20261206000000_message_search_text, which indexes
 * text folded by the application so both databases follow one rule.
 *
 * - SQLite: an FTS5 table over `messages` (external content, so the text is not
 *   stored twice) kept current by triggers. NOTE: a later migration that makes
 *   knex rebuild `messages` on SQLite (column alter/drop) drops these triggers
 *   and must create them again.
 * - PostgreSQL: a GIN index on an expression that folds the same diacritics and
 *   splits on the same characters, so `to_tsvector('simple', …)` yields the
 *   tokens FTS5's unicode61 tokenizer does. Queries must use this exact
 *   expression (MESSAGE_SEARCH_DOCUMENT_PG) for the index to be used.
 */

/** Letters whose diacritics are folded on PostgreSQL, and what they become (FTS5 `remove_diacritics 2` does the same). */
const FOLD_FROM = 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿĞğİŞşĀāĂăĄąĆćČčĎďĒēĖėĘęĚěĪīĮįŃńŇňŌōŐőŘřŚśŠšŢţŤťŪūŮůŰűŲųŹźŻżŽž';
const FOLD_TO = 'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYyyGgISsAaAaAaCcCcDdEeEeEeEeIiIiNnNnOoOoRrSsSsTtTtUuUuUuUuZzZzZz';

/** The indexed document on PostgreSQL: SQL over `messages.content_text`. */
export const MESSAGE_SEARCH_DOCUMENT_PG = `to_tsvector('simple'::regconfig, regexp_replace(translate(coalesce(content_text, ''), '${FOLD_FROM}', '${FOLD_TO}'), '[^[:alnum:]]+', ' ', 'g'))`;

/** The search structures of this migration (undone by 20261206000000_message_search_text, and redone by its `down`). */
export async function createSearchIndex(knex: Knex): Promise<void> {
  if (FOLD_FROM.length !== FOLD_TO.length) throw new Error('diacritic fold tables differ in length');
  if ((knex.client as Knex.Client).config.client === 'pg') {
    await knex.raw(`create index idx_messages_search on messages using gin ((${MESSAGE_SEARCH_DOCUMENT_PG}))`);
  } else {
    await knex.raw(
      `create virtual table messages_fts using fts5(content_text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`,
    );
    await knex.raw(`create trigger messages_fts_insert after insert on messages begin
      insert into messages_fts(rowid, content_text) values (new.id, new.content_text);
    end`);
    await knex.raw(`create trigger messages_fts_delete after delete on messages begin
      insert into messages_fts(messages_fts, rowid, content_text) values ('delete', old.id, old.content_text);
    end`);
    await knex.raw(`create trigger messages_fts_update after update of content_text on messages begin
      insert into messages_fts(messages_fts, rowid, content_text) values ('delete', old.id, old.content_text);
      insert into messages_fts(rowid, content_text) values (new.id, new.content_text);
    end`);
    await knex.raw(`insert into messages_fts(messages_fts) values ('rebuild')`);
  }
}

export async function dropSearchIndex(knex: Knex): Promise<void> {
  if ((knex.client as Knex.Client).config.client === 'pg') {
    await knex.raw('drop index if exists idx_messages_search');
  } else {
    for (const trigger of ['messages_fts_insert', 'messages_fts_delete', 'messages_fts_update'])
      await knex.raw(`drop trigger if exists ${trigger}`);
    await knex.raw('drop table if exists messages_fts');
  }
}

export async function up(knex: Knex): Promise<void> {
  await createSearchIndex(knex);
  // Date ranges and the stats' per-day counts; the thread list's newest-activity-first order.
  await knex.schema.alterTable('messages', (t) => {
    t.index(['created_at'], 'idx_messages_created');
  });
  await knex.schema.alterTable('threads', (t) => {
    t.index(['last_activity', 'id'], 'idx_threads_activity');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('threads', (t) => {
    t.dropIndex(['last_activity', 'id'], 'idx_threads_activity');
  });
  await knex.schema.alterTable('messages', (t) => {
    t.dropIndex(['created_at'], 'idx_messages_created');
  });
  await dropSearchIndex(knex);
}
