import type { Knex } from 'knex';

/**
 * System messages carry a notice (src/domain/notices.ts): its code and parameters (JSON),
 * so pages render them in the reader's language. Older system messages keep their English
 * text and no code.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.string('notice_code', 32);
    t.text('notice_params');
  });
}

export async function down(knex: Knex): Promise<void> {
  // Plain `drop column` on both databases: knex's SQLite emulation would rebuild `messages`
  // and drop the search triggers (20261206000000_message_search_text).
  await knex.raw('alter table messages drop column notice_params');
  await knex.raw('alter table messages drop column notice_code');
}
