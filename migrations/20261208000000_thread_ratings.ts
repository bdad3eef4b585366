import type { Knex } from 'knex';

/**
 * Visitors' ratings of a closed thread (thread:rate, docs/protocol.md): one per closing, the
 * closing named by the thread's `closed_at` when it was rated (unique together with the thread),
 * so a thread reopened and closed again can be rated again. No foreign key to `threads`:
 * RETENTION_DAYS erases old threads, and the satisfaction figures keep their ratings.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('thread_ratings', (t) => {
    t.increments('id').primary();
    t.bigInteger('thread_id').notNullable();
    t.bigInteger('closed_at').notNullable();
    t.integer('score').notNullable();
    t.text('comment');
    t.bigInteger('created_at').notNullable();
    t.unique(['thread_id', 'closed_at'], { indexName: 'uq_thread_ratings_closing' });
    t.index(['created_at'], 'idx_thread_ratings_created_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('thread_ratings');
}
