import type { Knex } from 'knex';

/** Staff's saved answers (/snippet, /snippets, /s): one per case-insensitive name (`name_key`), shared by all staff. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('snippets', (t) => {
    t.string('name_key', 128).primary();
    t.string('name', 128).notNullable();
    t.text('text').notNullable();
    t.bigInteger('saved_by').notNullable();
    t.bigInteger('saved_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('snippets');
}
