import type { Knex } from 'knex';

/**
 * An outbox row marked sent marks its message delivered, in the same statement: a trigger on both
 * databases. The outbox's settle then needs no statement of its own for the messages — on SQLite,
 * where each statement is a trip to the driver's thread pool through the one connection, the
 * settle is the links' insert and the rows' update, two statements instead of a transaction of
 * five (src/db/delivered-settle.ts, docs/delivery.md).
 */
const isPg = (knex: Knex) => (knex.client as Knex.Client).config.client === 'pg';

export async function up(knex: Knex): Promise<void> {
  if (isPg(knex)) {
    await knex.raw(`create function outbox_sent_delivers_message() returns trigger language plpgsql as $$
      begin
        update messages set status = 'delivered' where id = new.message_id and thread_id = new.thread_id;
        return null;
      end $$`);
    await knex.raw(`create trigger outbox_sent_delivers_message after update of status on outbox for each row
      when (old.status = 'pending' and new.status = 'sent' and new.message_id is not null)
      execute function outbox_sent_delivers_message()`);
    return;
  }
  await knex.raw(`create trigger outbox_sent_delivers_message after update of status on outbox for each row
    when old.status = 'pending' and new.status = 'sent' and new.message_id is not null
    begin
      update messages set status = 'delivered' where id = new.message_id and thread_id = new.thread_id;
    end`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists outbox_sent_delivers_message' + (isPg(knex) ? ' on outbox' : ''));
  if (isPg(knex)) await knex.raw('drop function if exists outbox_sent_delivers_message()');
}
