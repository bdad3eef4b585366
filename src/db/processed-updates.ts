import type { Knex } from 'knex';

/**
 * Telegram delivers updates at least once. Each update_id handled is recorded,
 * so a repeated update (after a restart, or a webhook retry) is skipped.
 */
export function createProcessedUpdates(db: Knex) {
  return {
    async seen(updateId: number): Promise<boolean> {
      const row = await db('processed_updates').where({ update_id: updateId }).first();
      return Boolean(row);
    },
    async record(updateId: number, now: Date): Promise<void> {
      await db('processed_updates').insert({ update_id: updateId, processed_at: now.getTime() }).onConflict('update_id').ignore();
    },
    /** Forgets ids older than `olderThan` (Telegram never resends updates older than a day). */
    async prune(olderThan: Date): Promise<number> {
      return db('processed_updates').where('processed_at', '<', olderThan.getTime()).delete();
    },
  };
}

export type ProcessedUpdates = ReturnType<typeof createProcessedUpdates>;
