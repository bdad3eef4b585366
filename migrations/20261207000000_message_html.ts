import type { Knex } from 'knex';

/**
 * Staff messages keep their Telegram formatting as cleaned HTML (src/bot/formatting,
 * docs/protocol.md "Formatting from staff"); `content_text` stays the plain text.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.text('content_html');
  });
}

export async function down(knex: Knex): Promise<void> {
  // Plain `drop column`, as in 20261206010000_message_notices: SQLite keeps the search triggers.
  await knex.raw('alter table messages drop column content_html');
}
