import type { Knex } from 'knex';

/**
 * The seed's four tables (users, threads, messages, telegram_links) with their
 * indexes, extended for visitors, delivery and settings. Times are stored as
 * integer milliseconds since the epoch (bigint), identical on SQLite and PostgreSQL.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.bigInteger('telegram_id').unique();
    t.string('username', 64);
    t.string('phone_number', 32);
    t.string('display_name', 128);
    t.bigInteger('created_at').notNullable();
    t.index(['username'], 'idx_users_username');
  });

  await knex.schema.createTable('visitors', (t) => {
    t.increments('id').primary();
    t.string('token_hash', 64).notNullable().unique();
    t.string('name', 64);
    t.integer('user_id').references('id').inTable('users').onDelete('SET NULL');
    t.boolean('blocked').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.index(['user_id'], 'idx_visitors_user');
  });

  await knex.schema.createTable('threads', (t) => {
    t.increments('id').primary();
    t.integer('visitor_id').notNullable().references('id').inTable('visitors').onDelete('CASCADE');
    t.integer('user_id').references('id').inTable('users').onDelete('SET NULL');
    t.string('ref', 16).notNullable().unique();
    t.string('status', 16).notNullable().defaultTo('open');
    t.bigInteger('topic_chat_id');
    t.integer('topic_id');
    t.bigInteger('last_activity').notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['user_id'], 'idx_threads_user');
    t.index(['visitor_id'], 'idx_threads_visitor');
    t.index(['status', 'last_activity'], 'idx_threads_status_activity');
    t.index(['topic_chat_id', 'topic_id'], 'idx_threads_topic');
  });

  await knex.schema.createTable('messages', (t) => {
    t.increments('id').primary();
    t.integer('thread_id').notNullable().references('id').inTable('threads').onDelete('CASCADE');
    t.string('sender_type', 16).notNullable();
    t.text('content_text');
    t.string('content_type', 16).notNullable().defaultTo('text');
    t.string('file_path', 512);
    t.string('file_url', 1024);
    t.string('file_mime', 128);
    t.integer('file_size');
    t.integer('visitor_id').references('id').inTable('visitors').onDelete('SET NULL');
    t.string('client_id', 64);
    t.string('status', 16).notNullable().defaultTo('stored');
    t.bigInteger('created_at').notNullable();
    t.index(['thread_id', 'id'], 'idx_messages_thread');
    t.unique(['visitor_id', 'client_id'], { indexName: 'uq_messages_visitor_client' });
  });

  await knex.schema.createTable('telegram_links', (t) => {
    t.increments('id').primary();
    t.integer('thread_id').notNullable().references('id').inTable('threads').onDelete('CASCADE');
    t.integer('message_id').references('id').inTable('messages').onDelete('CASCADE');
    t.bigInteger('chat_id').notNullable();
    t.integer('topic_id');
    t.bigInteger('telegram_message_id').notNullable();
    t.string('direction', 16).notNullable();
    t.bigInteger('created_at').notNullable();
    // Telegram message ids are unique within a chat: one row per posted/received message.
    t.unique(['chat_id', 'telegram_message_id'], { indexName: 'uq_telegram_links_chat_message' });
    t.index(['thread_id'], 'idx_telegram_links_thread');
    t.index(['message_id'], 'idx_telegram_links_message');
  });

  await knex.schema.createTable('outbox', (t) => {
    t.increments('id').primary();
    t.integer('thread_id').notNullable().references('id').inTable('threads').onDelete('CASCADE');
    t.integer('message_id').notNullable().references('id').inTable('messages').onDelete('CASCADE');
    t.string('status', 16).notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('available_at').notNullable();
    t.string('locked_by', 64);
    t.bigInteger('locked_until');
    t.text('last_error');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('sent_at');
    t.index(['status', 'thread_id', 'id'], 'idx_outbox_status_thread');
  });

  await knex.schema.createTable('processed_updates', (t) => {
    t.bigInteger('update_id').primary();
    t.bigInteger('processed_at').notNullable();
  });

  await knex.schema.createTable('settings', (t) => {
    t.string('key', 64).primary();
    t.text('value').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['settings', 'processed_updates', 'outbox', 'telegram_links', 'messages', 'threads', 'visitors', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
