import type { Knex } from 'knex';

/**
 * `update_inbox`: Telegram updates this instance fetched by polling and was still handling
 * when it asked for the next ones (which tells Telegram the earlier ones arrived). Kept here
 * first, so that a process that dies mid-way handles them at its next start instead of losing
 * them; a row goes when its update is handled (src/app/update-runner.ts, docs/delivery.md
 * "Telegram → visitor").
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('update_inbox', (t) => {
    t.bigInteger('update_id').primary();
    t.text('payload').notNullable();
    t.bigInteger('kept_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('update_inbox');
}
