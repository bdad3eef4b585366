import type { Knex } from 'knex';
import type { DeliveredGroup, Repositories } from '../domain/ports';
import { cacheKeys, type Cache } from './cache';
import { isPostgres, num } from './database';
import { toRow } from './telegram-link-repository';

/**
 * Settles a group the outbox delivered (src/outbox/settle.ts): its last send's Telegram links
 * recorded, its rows marked sent (only those this worker still holds), and the messages of those
 * rows delivered — all or nothing. On PostgreSQL that is one statement (data-modifying WITH
 * clauses run in one snapshot and commit together), on SQLite one transaction. Returns the
 * ids of the messages now delivered.
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

  async function inOneTransaction(g: DeliveredGroup): Promise<number[]> {
    return transaction(async (repos) => {
      await repos.telegramLinks.insertMany(g.links, g.now);
      const sent = await repos.outbox.completeMany(g.rowIds, g.workerId, g.now);
      const ids = g.messageIds.filter((id, i): id is number => id !== null && sent.has(g.rowIds[i]));
      await repos.messages.markDelivered(g.threadId, ids);
      return ids;
    });
  }

  const pg = isPostgres(db);
  return async (g: DeliveredGroup): Promise<number[]> => {
    const ids = pg ? await inOneStatement(g) : await inOneTransaction(g);
    cache.del([cacheKeys.recentMessages(g.threadId)]);
    return ids;
  };
}
