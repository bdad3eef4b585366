import type { Knex } from 'knex';

/**
 * One Telegram message may carry several visitor messages (coalescing under the
 * group limit), so a link is unique per (chat, Telegram message, stored message).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('telegram_links', (t) => {
    t.dropUnique(['chat_id', 'telegram_message_id'], 'uq_telegram_links_chat_message');
  });
  await knex.schema.alterTable('telegram_links', (t) => {
    t.unique(['chat_id', 'telegram_message_id', 'message_id'], { indexName: 'uq_telegram_links_chat_message_stored' });
    t.index(['chat_id', 'telegram_message_id'], 'idx_telegram_links_chat_message');
  });
  await knex.schema.alterTable('outbox', (t) => {
    t.index(['thread_id', 'status', 'id'], 'idx_outbox_thread_status');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropIndex(['thread_id', 'status', 'id'], 'idx_outbox_thread_status');
  });
  await knex.schema.alterTable('telegram_links', (t) => {
    t.dropIndex(['chat_id', 'telegram_message_id'], 'idx_telegram_links_chat_message');
    t.dropUnique(['chat_id', 'telegram_message_id', 'message_id'], 'uq_telegram_links_chat_message_stored');
  });
  await knex.schema.alterTable('telegram_links', (t) => {
    t.unique(['chat_id', 'telegram_message_id'], { indexName: 'uq_telegram_links_chat_message' });
  });
}
