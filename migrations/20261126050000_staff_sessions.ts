import type { Knex } from 'knex';

/**
 * Sessions of the read-only staff page (docs/admin.md). The cookie carries a
 * random session id; only its SHA-256 is stored, so a database leak gives no
 * usable cookie. A session ends when idle too long, at its absolute limit, on
 * logout, or when its staff member leaves the staff chat (revoked_at).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('staff_sessions', (t) => {
    t.string('id_hash', 64).primary();
    t.bigInteger('telegram_user_id').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.bigInteger('revoked_at');
    t.string('user_agent', 256);
    t.index(['telegram_user_id'], 'idx_staff_sessions_user');
  });
  await knex.schema.alterTable('staff_login_tokens', (t) => {
    t.index(['expires_at'], 'idx_staff_login_tokens_expires');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_login_tokens', (t) => {
    t.dropIndex(['expires_at'], 'idx_staff_login_tokens_expires');
  });
  await knex.schema.dropTableIfExists('staff_sessions');
}
