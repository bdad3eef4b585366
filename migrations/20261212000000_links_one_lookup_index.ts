import type { Knex } from 'knex';

/**
 * `telegram_links` had two indexes starting with (chat_id, telegram_message_id): the unique one on
 * (chat_id, telegram_message_id, message_id) that keeps each link once, and a plain one on the first
 * two columns for looking a Telegram message up. The unique index serves that look-up as well (its
 * first two columns), so the plain one only cost a write for every link recorded — every message
 * delivered, every staff message — and its pages. It goes; `tests/db/migrations.test.ts` checks that
 * the look-up uses the unique index on both databases.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('telegram_links', (t) => {
    t.dropIndex(['chat_id', 'telegram_message_id'], 'idx_telegram_links_chat_message');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('telegram_links', (t) => {
    t.index(['chat_id', 'telegram_message_id'], 'idx_telegram_links_chat_message');
  });
}
