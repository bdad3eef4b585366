import type { Knex } from 'knex';

/**
 * How many threads the visitor's address had opened in the hour when this one was
 * opened, this one included (1: its first). Under Telegram's group limit the outbox
 * creates topics for low ranks first, so an address opening many threads cannot keep
 * everyone else's new conversations waiting (docs/delivery.md). Threads opened before
 * this migration count as firsts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('threads', (t) => {
    t.integer('opening_rank').notNullable().defaultTo(1);
  });
}

export async function down(knex: Knex): Promise<void> {
  // A plain `drop column` on both databases (see 20261202100000_thread_closed_at).
  await knex.raw('alter table threads drop column opening_rank');
}
