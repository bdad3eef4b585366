import type { Knex } from 'knex';

/**
 * When a thread was closed (null while open), so `RETENTION_DAYS` can erase threads closed
 * longer than that (src/maintenance/pruner.ts). Threads closed before this migration get
 * their last activity as the closing time: the latest moment known for them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('threads', (t) => {
    t.bigInteger('closed_at');
    t.index(['closed_at'], 'idx_threads_closed_at');
  });
  await knex('threads')
    .where({ status: 'closed' })
    .update({ closed_at: knex.ref('last_activity') });
  // Sent outbox rows are pruned by age.
  await knex.schema.alterTable('outbox', (t) => {
    t.index(['sent_at'], 'idx_outbox_sent_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropIndex(['sent_at'], 'idx_outbox_sent_at');
  });
  await knex.schema.alterTable('threads', (t) => {
    t.dropIndex(['closed_at'], 'idx_threads_closed_at');
  });
  // A plain `drop column` on both databases: knex's SQLite emulation would rebuild the table,
  // and dropping the old threads table under foreign_keys=ON would cascade into messages.
  await knex.raw('alter table threads drop column closed_at');
}
