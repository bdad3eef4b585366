import type { Knex } from 'knex';

/**
 * A rating keeps the department its thread belonged to when it was given, so the satisfaction
 * figures of a department need no join with `threads` and keep the ratings of threads that are
 * gone (RETENTION_DAYS, /forget). Null: the default department.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('thread_ratings', (t) => {
    t.integer('department_id').nullable();
  });
  await knex('thread_ratings').update({
    department_id: knex('threads').select('department_id').whereRaw('threads.id = thread_ratings.thread_id'),
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('thread_ratings', (t) => {
    t.dropColumn('department_id');
  });
}
