import type { Knex } from 'knex';
import { cacheKeys, type Cache } from './cache';
import { num, numOrNull } from './database';

/** A stored file of an erased message: what the media storage needs to remove it. */
export interface ErasedMedia {
  url: string;
  path: string;
}

/** Closed threads erased for RETENTION_DAYS: ids, departments (same order) and the stored files to remove. */
export interface ErasedThreads {
  threadIds: number[];
  departmentIds: Array<number | null>;
  media: ErasedMedia[];
}

interface ErasableThread {
  id: number | string;
  status: string;
  closed_at: number | null;
  department_id: number | string | null;
  topic_chat_id: number | string | null;
  topic_id: number | string | null;
}

/**
 * The deletions of bounded growth (src/maintenance/pruner.ts): sent outbox rows, and
 * closed threads past `RETENTION_DAYS` with everything hanging off them. Handled-update
 * ids are pruned by src/db/processed-updates.ts.
 */
export function createRetentionRepository(db: Knex, cache: Pick<Cache, 'del'>) {
  return {
    /** Deletes outbox rows sent before `before`. Pending and failed rows are kept. */
    async pruneSentOutbox(before: Date): Promise<number> {
      return db('outbox').where({ status: 'sent' }).andWhere('sent_at', '<', before.getTime()).delete();
    },

    /** Up to `limit` threads closed before `before`, oldest closing first. */
    async closedThreadsBefore(before: Date, limit: number): Promise<number[]> {
      const rows = await db<{ id: number; status: string; closed_at: number | null }>('threads')
        .select('id')
        .where({ status: 'closed' })
        .andWhere('closed_at', '<', before.getTime())
        .orderBy('closed_at', 'asc')
        .limit(limit);
      return rows.map((r) => num(r.id));
    },

    /**
     * Erases the threads (if still closed before `before`: a visitor may have reopened one
     * meanwhile) with their messages, Telegram links and outbox rows, in one transaction; then
     * drops them from the cache (their records, recent messages, departments and topics).
     * Returns the erased threads' ids, their departments (in the same order: the staff pages
     * watching each are told, src/web/admin/admin-socket.ts) and their messages' stored files.
     */
    async eraseClosedThreads(ids: number[], before: Date): Promise<ErasedThreads> {
      if (ids.length === 0) return { threadIds: [], departmentIds: [], media: [] };
      const erased = await db.transaction(async (trx) => {
        const still = await trx<ErasableThread>('threads')
          .select('id', 'department_id', 'topic_chat_id', 'topic_id')
          .whereIn('id', ids)
          .andWhere({ status: 'closed' })
          .andWhere('closed_at', '<', before.getTime())
          .forUpdate();
        const threadIds = still.map((r) => num(r.id));
        if (threadIds.length === 0) return { threads: still, media: [] };
        const files = await trx<{ thread_id: number; file_url: string; file_path: string }>('messages')
          .select('file_url', 'file_path')
          .whereIn('thread_id', threadIds)
          .whereNotNull('file_url')
          .whereNotNull('file_path');
        await trx('outbox').whereIn('thread_id', threadIds).delete();
        await trx('telegram_links').whereIn('thread_id', threadIds).delete();
        await trx('messages').whereIn('thread_id', threadIds).delete();
        await trx('threads').whereIn('id', threadIds).delete();
        return { threads: still, media: files.map((f) => ({ url: f.file_url, path: f.file_path })) };
      });
      // After the commit: a reader may have cached the threads meanwhile.
      const stale: string[] = [];
      for (const t of erased.threads) {
        const id = num(t.id);
        stale.push(cacheKeys.thread(id), cacheKeys.recentMessages(id), cacheKeys.threadDepartment(id));
        if (t.topic_chat_id !== null && t.topic_id !== null) stale.push(cacheKeys.topic(num(t.topic_chat_id), num(t.topic_id)));
      }
      if (stale.length) cache.del(stale);
      return {
        threadIds: erased.threads.map((t) => num(t.id)),
        departmentIds: erased.threads.map((t) => numOrNull(t.department_id)),
        media: erased.media,
      };
    },

    /** Which of these stored-file paths a message still refers to. */
    async referencedMedia(paths: string[]): Promise<Set<string>> {
      const found = new Set<string>();
      for (let i = 0; i < paths.length; i += 500) {
        const rows = await db<{ file_path: string }>('messages')
          .distinct('file_path')
          .whereIn('file_path', paths.slice(i, i + 500));
        for (const r of rows) found.add(r.file_path);
      }
      return found;
    },
  };
}

export type RetentionRepository = ReturnType<typeof createRetentionRepository>;
