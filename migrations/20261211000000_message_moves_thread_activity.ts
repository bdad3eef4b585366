import type { Knex } from 'knex';

/**
 * A visitor's or staff member's message stored moves its thread's last activity to the message's time (never back),
 * in the same statement: a trigger on both databases. The appends then need no statement of their own for the
 * thread — on SQLite, where each statement is a trip to the driver's thread pool through the one connection, a
 * visitor's append is a transaction of four statements instead of five, a staff member's of five instead of six
 * (src/db/visitor-append.ts, src/db/staff-append.ts, docs/delivery.md). System notices do not count as activity
 * (a rating, a verification note), except those staff post from the staff page, which touch the thread themselves.
 *
 * PostgreSQL: one update per statement (a statement-level trigger reading the statement's new rows), however many
 * messages a batch stores; SQLite has row-level triggers only, and updates the row in place.
 */
const isPg = (knex: Knex) => (knex.client as Knex.Client).config.client === 'pg';

export async function up(knex: Knex): Promise<void> {
  if (isPg(knex)) {
    await knex.raw(`create function message_moves_thread_activity() returns trigger language plpgsql as $$
      begin
        update threads t set last_activity = greatest(t.last_activity, n.at)
        from (select thread_id, max(created_at) as at from new_messages where sender_type in ('visitor', 'staff') group by thread_id) n
        where t.id = n.thread_id;
        return null;
      end $$`);
    await knex.raw(`create trigger message_moves_thread_activity after insert on messages
      referencing new table as new_messages for each statement execute function message_moves_thread_activity()`);
    return;
  }
  await knex.raw(`create trigger message_moves_thread_activity after insert on messages for each row
    when new.sender_type in ('visitor', 'staff')
    begin
      update threads set last_activity = max(last_activity, new.created_at) where id = new.thread_id;
    end`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists message_moves_thread_activity' + (isPg(knex) ? ' on messages' : ''));
  if (isPg(knex)) await knex.raw('drop function if exists message_moves_thread_activity()');
}
