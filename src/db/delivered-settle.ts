import type { Knex } from 'knex';
import type { DeliveredGroup, Repositories } from '../domain/ports';
import { cacheKeys, type Cache } from './cache';
import { isPostgres, num } from './database';
import { createGroupCommit } from './group-commit';
import { toRow } from './telegram-link-repository';

/**
 * Settles a group the outbox delivered (src/outbox/settle.ts): its last send's Telegram links
 * recorded, its rows marked sent (only those this worker still holds), and the messages of those
 * rows delivered — all or nothing. On PostgreSQL that is one statement (data-modifying WITH
 * clauses run in one snapshot and commit together), on SQLite one transaction shared with the
 * groups that finished meanwhile. Returns the ids of the messages now delivered.
 */
export function createDeliveredSettle({
  db,
  cache,
  transaction,
}: {
  db: Knex;
  cache: Cache;
  transaction: <T>(work: (repos: Repositories) => Promise<T>) => Promise<T>;
}) {
  async function inOneStatement(g: DeliveredGroup): Promise<number[]> {
    const t = g.now.getTime();
    const parts: Array<{ sql: string; bindings: readonly Knex.Value[] }> = [];
    if (g.links.length)
      parts.push(
        db('telegram_links')
          .insert(g.links.map((l) => toRow(l, g.now)))
          .onConflict(['chat_id', 'telegram_message_id', 'message_id'])
          .ignore()
          .toSQL(),
      );
    const rows = db('outbox')
      .whereIn('id', g.rowIds)
      .andWhere({ status: 'pending', locked_by: g.workerId })
      .update({ status: 'sent', sent_at: t, locked_by: null, locked_until: null, last_error: null })
      .returning(['id', 'message_id'])
      .toSQL();
    const sql = `with ${g.links.length ? `l as (${parts[0].sql}), ` : ''}r as (${rows.sql}),
      m as (update messages set status = 'delivered' where thread_id = ? and id in (select message_id from r) returning id)
      select id from m`;
    const result = await db.raw<{ rows: Array<{ id: number | string }> }>(sql, [
      ...(parts[0]?.bindings ?? []),
      ...rows.bindings,
      g.threadId,
    ]);
    const delivered = new Set(result.rows.map((r) => num(r.id)));
    // In the rows' order, as the transaction gives them (the visitor's page is told in that order).
    return g.messageIds.filter((id): id is number => id !== null && delivered.has(id));
  }

  /**
   * SQLite: the groups that finished while another settle was in flight, in one transaction of
   * five statements however many there are (group-commit.ts: one commit, one fsync, one pass
   * through the single connection instead of five statements per group).
   */
  async function inOneTransaction(groups: DeliveredGroup[]): Promise<number[][]> {
    return transaction(async (repos) => {
      const latest = new Date(Math.max(...groups.map((g) => g.now.getTime())));
      await repos.telegramLinks.insertMany(
        groups.flatMap((g) => g.links),
        latest,
      );
      // Each worker settles only the rows it still holds (a process normally has one worker).
      const sent = new Set<number>();
      for (const workerId of new Set(groups.map((g) => g.workerId))) {
        const mine = groups.filter((g) => g.workerId === workerId);
        for (const id of await repos.outbox.completeMany(
          mine.flatMap((g) => g.rowIds),
          workerId,
          latest,
        ))
          sent.add(id);
      }
      const delivered = groups.map((g) => g.messageIds.filter((id, i): id is number => id !== null && sent.has(g.rowIds[i])));
      await repos.messages.markDeliveredIn(groups.map((g, i) => ({ threadId: g.threadId, ids: delivered[i] })));
      return delivered;
    });
  }

  const pg = isPostgres(db);
  const sqliteGroups = createGroupCommit(inOneTransaction);
  return async (g: DeliveredGroup): Promise<number[]> => {
    const ids = pg ? await inOneStatement(g) : await sqliteGroups.submit(g);
    cache.del([cacheKeys.recentMessages(g.threadId)]);
    return ids;
  };
}
