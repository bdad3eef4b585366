import type { Knex } from 'knex';

/**
 * Identity over Telegram (docs/identity.md): one-time verification requests, the
 * conversations plugin's state (so a restart mid-flow does not lose it), and when
 * a user last verified.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('otp_requests', (t) => {
    t.increments('id').primary();
    t.integer('visitor_id').notNullable().references('id').inTable('visitors').onDelete('CASCADE');
    // SHA-256 of the deep-link payload: the payload itself is never stored.
    t.string('payload_hash', 64).notNullable().unique();
    // The link must be opened before this.
    t.bigInteger('link_expires_at').notNullable();
    t.bigInteger('opened_at');
    t.bigInteger('telegram_user_id');
    t.string('phone_number', 32);
    t.string('username', 64);
    t.string('display_name', 128);
    // HMAC of the current code; null when no code is live.
    t.string('code_hash', 64);
    t.bigInteger('code_expires_at');
    t.bigInteger('code_sent_at');
    // The Telegram update that issued the current code: a retried update re-issues instead of counting as a new request.
    t.string('code_trigger', 64);
    t.integer('codes_sent').notNullable().defaultTo(0);
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('verified_at');
    t.bigInteger('cancelled_at');
    t.bigInteger('created_at').notNullable();
    t.index(['visitor_id', 'id'], 'idx_otp_requests_visitor');
    t.index(['created_at'], 'idx_otp_requests_created');
  });

  await knex.schema.createTable('conversation_state', (t) => {
    t.string('key', 128).primary();
    t.text('value').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.alterTable('users', (t) => {
    t.bigInteger('verified_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('verified_at');
  });
  await knex.schema.dropTableIfExists('conversation_state');
  await knex.schema.dropTableIfExists('otp_requests');
}
