import type { Knex } from 'knex';

/**
 * Erasing a visitor (/forget, docs/admin.md "Erasing a visitor"):
 *
 * - `erasures`: the log — who erased, when, the thread ref the command was given in, and how
 *   much went (threads, messages, files); never a text, a name or a phone number.
 *   `pending_media` holds the stored files (JSON `[{ url, path }]`) still to be removed after
 *   the commit; null once they all are (src/domain/erasure.ts retries the rest).
 * - `erased_threads` and `erased_messages`: what `/stats` and the staff page still count for
 *   erased threads, without content or any link to a visitor: one row per erased thread (its
 *   department, when it began, when its visitor first wrote and how long staff took to answer,
 *   both times to the quarter hour), and message counts per quarter hour, sender and department
 *   (0 stands for the default department).
 * - `revoked_visitor_tokens`: the SHA-256 of an erased visitor's token. Tokens are signed, so
 *   one stays recognisable without its row; this list makes the server issue a new one instead.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('erasures', (t) => {
    t.increments('id').primary();
    t.string('thread_ref', 16).notNullable();
    t.bigInteger('staff_telegram_id').notNullable();
    t.bigInteger('erased_at').notNullable();
    t.integer('threads').notNullable();
    t.integer('messages').notNullable();
    t.integer('files').notNullable();
    t.text('pending_media');
    t.index(['erased_at'], 'idx_erasures_erased_at');
  });
  await knex.schema.createTable('erased_threads', (t) => {
    t.increments('id').primary();
    // The thread's department (0: the default one), so /stats per department keeps counting it.
    t.integer('department_id').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('first_visitor_at');
    t.bigInteger('first_response_ms');
    t.index(['created_at'], 'idx_erased_threads_created');
  });
  await knex.schema.createTable('erased_messages', (t) => {
    t.bigInteger('slot').notNullable();
    t.string('sender_type', 16).notNullable();
    t.integer('department_id').notNullable().defaultTo(0);
    t.integer('n').notNullable();
    t.primary(['slot', 'sender_type', 'department_id']);
  });
  await knex.schema.createTable('revoked_visitor_tokens', (t) => {
    t.string('token_hash', 64).primary();
    t.bigInteger('revoked_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['revoked_visitor_tokens', 'erased_messages', 'erased_threads', 'erasures']) {
    await knex.schema.dropTableIfExists(table);
  }
}
