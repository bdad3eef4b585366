import type { Knex } from 'knex';
import type { Update } from 'grammy/types';

/**
 * Updates fetched by polling and still being handled when the next getUpdates confirms them
 * to Telegram (src/app/update-runner.ts). A row lives from that moment until its update is
 * handled; what is left at start-up is handled again (each handled update is recorded in
 * `processed_updates`, so one that was finished after all is skipped then).
 */
export function createUpdateInbox(db: Knex) {
  return {
    /** Keeps these updates (one statement); an update kept before stays as it was. */
    async keep(updates: readonly Update[], now: Date): Promise<void> {
      if (updates.length === 0) return;
      const rows = updates.map((u) => ({ update_id: u.update_id, payload: JSON.stringify(u), kept_at: now.getTime() }));
      await db('update_inbox').insert(rows).onConflict('update_id').ignore();
    },
    async drop(updateId: number): Promise<void> {
      await db('update_inbox').where({ update_id: updateId }).delete();
    },
    /** Every kept update, oldest first. */
    async all(): Promise<Update[]> {
      const rows = await db<{ update_id: number; payload: string }>('update_inbox').select('payload').orderBy('update_id');
      return rows.map((r) => JSON.parse(r.payload) as Update);
    },
  };
}

export type UpdateInbox = ReturnType<typeof createUpdateInbox>;
