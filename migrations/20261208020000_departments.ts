import type { Knex } from 'knex';

/**
 * Departments (SPEC §8): staff chats beside the default one (STAFF_CHAT_ID or the first /claim),
 * each with its key (used in page addresses), its name and its supergroup. A department added with
 * `/department add` waits for its `/claim <code>` (chat_id null, the code's hash kept) and is
 * usable once claimed. A thread belongs to one department for good (department_id null: the
 * default one); /move changes it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('departments', (t) => {
    t.increments('id').primary();
    t.string('key', 32).notNullable().unique();
    t.string('name', 64).notNullable();
    t.bigInteger('chat_id').nullable().unique();
    t.string('claim_code_hash', 64).nullable();
    t.bigInteger('claim_expires_at').nullable();
    t.bigInteger('created_by').notNullable();
    t.bigInteger('created_at').notNullable();
  });
  await knex.schema.alterTable('threads', (t) => {
    t.integer('department_id').nullable();
    t.index(['department_id', 'status'], 'threads_department_status');
  });
  // A thread's earlier topics, left behind by /move: staff replying there still reach the visitor.
  await knex.schema.createTable('moved_topics', (t) => {
    t.bigInteger('chat_id').notNullable();
    t.integer('topic_id').notNullable();
    t.integer('thread_id').notNullable();
    t.primary(['chat_id', 'topic_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('moved_topics');
  await knex.schema.alterTable('threads', (t) => {
    t.dropIndex(['department_id', 'status'], 'threads_department_status');
    t.dropColumn('department_id');
  });
  await knex.schema.dropTableIfExists('departments');
}
