import type { Knex } from 'knex';
import type { DeliveredGroup } from '../domain/ports';
import { cacheKeys, type Cache } from './cache';
import { isPostgres, num } from './database';
import { createGroupCommit } from './group-commit';
import { createSqliteSessions } from './sqlite-session';
import { toRow } from './telegram-link-repository';

/** The columns of a link's row, in the order `toRow` gives them. */
const LINK_COLUMNS = ['thread_id', 'message_id', 'chat_id', 'topic_id', 'telegram_message_id', 'direction', 'created_at'] as const;

/**
 * The settle's two statements as SQL text (the same for both databases; knex turns `?` into PostgreSQL's `$n`): built
 * here rather than through knex's query builder, which was most of the settle's JavaScript (docs/benchmarks.md).
 */
function settleStatements(groups: DeliveredGroup[]) {
  const latest = new Date(Math.max(...groups.map((g) => g.now.getTime())));
  const links = groups.flatMap((g) => g.links.map((l) => toRow(l, latest)));
  const linkInsert = links.length
    ? {
        sql: `insert into telegram_links (${LINK_COLUMNS.join(', ')}) values ${links.map(() => `(${LINK_COLUMNS.map(() => '?').join(', ')})`).join(', ')}
          on conflict (chat_id, telegram_message_id, message_id) do nothing`,
        bindings: links.flatMap((row) => LINK_COLUMNS.map((c) => row[c])),
      }
    : null;
  // Each worker settles only the rows it still holds (a process normally has one worker).
  const byWorker = new Map<string, number[]>();
  for (const g of groups) if (g.rowIds.length) byWorker.set(g.workerId, [...(byWorker.get(g.workerId) ?? []), ...g.rowIds]);
  const held = byWorker.size
    ? [...byWorker.values()].map((ids) => `(id in (${ids.map(() => '?').join(', ')}) and locked_by = ?)`).join(' or ')
    : '1 = 0';
  const rowsUpdate = {
    sql: `update outbox set status = 'sent', sent_at = ?, locked_by = null, locked_until = null, last_error = null
      where status = 'pending' and (${held}) returning id, message_id`,
    bindings: [latest.getTime(), ...[...byWorker].flatMap(([workerId, ids]) => [...ids, workerId])],
  };
  return { linkInsert, rowsUpdate };
}

/**
 * Settles a group the outbox delivered (src/outbox/settle.ts): its last send's Telegram links
 * recorded, its rows marked sent (only those this worker still holds), and the messages of those
 * rows delivered with them (a trigger: migrations/20261210000000_sent_row_delivers_message.ts).
 * The groups that finish while a settle is in flight are settled together in the next one
 * (group-commit.ts): on PostgreSQL one statement (data-modifying WITH clauses run in one snapshot
 * and commit together), on SQLite one transaction of two.
 * Returns the ids of the group's messages now delivered.
 */
export function createDeliveredSettle({ db, cache }: { db: Knex; cache: Cache }) {
  const sqlite = isPostgres(db) ? null : createSqliteSessions(db);
  /** PostgreSQL: the groups that finished while another settle was in flight, in one statement. */
  async function inOneStatement(groups: DeliveredGroup[]): Promise<number[][]> {
    const { linkInsert, rowsUpdate } = settleStatements(groups);
    // Each row's update marks its message delivered (migrations/20261210000000_sent_row_delivers_message.ts).
    const sql = `with ${linkInsert ? `l as (${linkInsert.sql}), ` : ''}r as (${rowsUpdate.sql})
      select message_id as id from r where message_id is not null`;
    const result = await db.raw<{ rows: Array<{ id: number | string }> }>(sql, [...(linkInsert?.bindings ?? []), ...rowsUpdate.bindings]);
    const delivered = new Set(result.rows.map((r) => num(r.id)));
    // In the rows' order, as the statement gives them (the visitor's page is told in that order).
    return groups.map((g) => g.messageIds.filter((id): id is number => id !== null && delivered.has(id)));
  }

  /**
   * SQLite: the groups that finished while another settle was in flight, in one transaction of two statements however
   * many there are (group-commit.ts): the links, then the rows each worker still holds, whose update marks their
   * messages delivered in the same statement (the trigger of migrations/20261210000000_sent_row_delivers_message.ts).
   * One transaction, so one commit and one fsync (synchronous = FULL): the driver waits for the disk in the server's
   * thread (src/db/database.ts), and two statements on their own would wait twice. On the driver's connection
   * (src/db/sqlite-session.ts).
   */
  async function inOneTransaction(groups: DeliveredGroup[]): Promise<number[][]> {
    const { linkInsert, rowsUpdate } = settleStatements(groups);
    const sent = new Set<number>();
    await sqlite!.transaction(async (s) => {
      if (linkInsert) await s.all(linkInsert.sql, linkInsert.bindings);
      for (const row of await s.all<{ id: number | string }>(rowsUpdate.sql, rowsUpdate.bindings)) sent.add(num(row.id));
    });
    return groups.map((g) => g.messageIds.filter((id, i): id is number => id !== null && sent.has(g.rowIds[i])));
  }

  const settled = createGroupCommit(isPostgres(db) ? inOneStatement : inOneTransaction);
  return async (g: DeliveredGroup): Promise<number[]> => {
    const ids = await settled.submit(g);
    cache.del([cacheKeys.recentMessages(g.threadId)]);
    return ids;
  };
}
