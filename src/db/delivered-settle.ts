import type { Knex } from 'knex';
import type { DeliveredGroup } from '../domain/ports';
import { cacheKeys, type Cache } from './cache';
import { isPostgres, num } from './database';
import { createGroupCommit } from './group-commit';
import { completeRows } from './outbox-repository';
import { createSqliteSessions } from './sqlite-session';
import { toRow } from './telegram-link-repository';

/**
 * Settles a group the outbox delivered (src/outbox/settle.ts): its last send's Telegram links
 * recorded, its rows marked sent (only those this worker still holds), and the messages of those
 * rows delivered with them (a trigger: migrations/20261210000000_sent_row_delivers_message.ts).
 * The groups that finish while a settle is in flight are settled together in the next one
 * (group-commit.ts): on PostgreSQL one statement (data-modifying WITH clauses run in one snapshot
 * and commit together), on SQLite two.
 * Returns the ids of the group's messages now delivered.
 */
export function createDeliveredSettle({ db, cache }: { db: Knex; cache: Cache }) {
  const sqlite = isPostgres(db) ? null : createSqliteSessions(db);
  /** PostgreSQL: the groups that finished while another settle was in flight, in one statement. */
  async function inOneStatement(groups: DeliveredGroup[]): Promise<number[][]> {
    const latest = Math.max(...groups.map((g) => g.now.getTime()));
    const links = groups.flatMap((g) => g.links.map((l) => toRow(l, g.now)));
    const linkInsert = links.length
      ? db('telegram_links').insert(links).onConflict(['chat_id', 'telegram_message_id', 'message_id']).ignore().toSQL()
      : null;
    // Each worker settles only the rows it still holds (a process normally has one worker).
    const workers = new Set(groups.map((g) => g.workerId));
    const rows = db('outbox')
      .where('status', 'pending')
      .andWhere((q) => {
        for (const workerId of workers)
          q.orWhere(
            (w) =>
              void w
                .whereIn(
                  'id',
                  groups.filter((g) => g.workerId === workerId).flatMap((g) => g.rowIds),
                )
                .andWhere('locked_by', workerId),
          );
      })
      .update({ status: 'sent', sent_at: latest, locked_by: null, locked_until: null, last_error: null })
      .returning(['id', 'message_id', 'thread_id'])
      .toSQL();
    // Each row's update marks its message delivered (migrations/20261210000000_sent_row_delivers_message.ts).
    const sql = `with ${linkInsert ? `l as (${linkInsert.sql}), ` : ''}r as (${rows.sql})
      select message_id as id from r where message_id is not null`;
    const result = await db.raw<{ rows: Array<{ id: number | string }> }>(sql, [...(linkInsert?.bindings ?? []), ...rows.bindings]);
    const delivered = new Set(result.rows.map((r) => num(r.id)));
    // In the rows' order, as the statement gives them (the visitor's page is told in that order).
    return groups.map((g) => g.messageIds.filter((id): id is number => id !== null && delivered.has(id)));
  }

  /**
   * SQLite: the groups that finished while another settle was in flight, in two statements however many there are
   * (group-commit.ts): the links first — a Telegram message is recorded before its rows are marked sent, so a crash in
   * between sends them again rather than losing a link — then the rows this worker still holds, whose update marks
   * their messages delivered in the same statement (the trigger of migrations/20261210000000_sent_row_delivers_message.ts).
   * Each is atomic on its own, no transaction around them; both on the driver's connection (src/db/sqlite-session.ts).
   */
  async function inTwoStatements(groups: DeliveredGroup[]): Promise<number[][]> {
    const latest = new Date(Math.max(...groups.map((g) => g.now.getTime())));
    const links = groups.flatMap((g) => g.links.map((l) => toRow(l, latest)));
    const sent = new Set<number>();
    await sqlite!.statements(async (s) => {
      if (links.length) {
        const insert = db('telegram_links').insert(links).onConflict(['chat_id', 'telegram_message_id', 'message_id']).ignore().toSQL();
        await s.all(insert.sql, insert.bindings);
      }
      // Each worker settles only the rows it still holds (a process normally has one worker).
      for (const workerId of new Set(groups.map((g) => g.workerId))) {
        const rowIds = groups.filter((g) => g.workerId === workerId).flatMap((g) => g.rowIds);
        const update = completeRows(db, rowIds, workerId, latest).toSQL();
        for (const row of await s.all<{ id: number | string }>(update.sql, update.bindings)) sent.add(num(row.id));
      }
    });
    return groups.map((g) => g.messageIds.filter((id, i): id is number => id !== null && sent.has(g.rowIds[i])));
  }

  const settled = createGroupCommit(isPostgres(db) ? inOneStatement : inTwoStatements);
  return async (g: DeliveredGroup): Promise<number[]> => {
    const ids = await settled.submit(g);
    cache.del([cacheKeys.recentMessages(g.threadId)]);
    return ids;
  };
}
