import type { Knex } from 'knex';

/**
 * Staff tools: outbox rows that are not messages (topic renames), the page a
 * visitor came from, and one-time login tokens for the read-only staff page.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.integer('message_id').nullable().alter();
    t.string('kind', 24).notNullable().defaultTo('message');
  });
  await knex.schema.alterTable('visitors', (t) => {
    t.string('last_page', 512);
  });
  await knex.schema.createTable('staff_login_tokens', (t) => {
    t.string('token_hash', 64).primary();
    t.bigInteger('telegram_user_id').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('used_at');
    t.bigInteger('created_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('staff_login_tokens');
  await knex.schema.alterTable('visitors', (t) => {
    t.dropColumn('last_page');
  });
  await knex('outbox').whereNull('message_id').delete();
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('kind');
  });
  await knex.schema.alterTable('outbox', (t) => {
    t.integer('message_id').notNullable().alter();
  });
}
