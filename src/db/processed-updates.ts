import type { Knex } from 'knex';
import { acquireConnection, isPostgres, releaseConnection, type PgRows } from './database';

/** Advisory locks of updates: two 32-bit keys (class, update_id), a key space apart from the polling lock's 64-bit key. */
const UPDATE_LOCK_CLASS = 73_110_261;
/** The longest an instance waits for another one handling the same update before handling it anyway. */
const MAX_CLAIM_WAIT_MS = 120_000;

/**
 * Telegram delivers updates at least once. Each update_id handled is recorded,
 * so a repeated update (after a restart, or a webhook retry) is skipped.
 */
export function createProcessedUpdates(db: Knex) {
  const claims = createUpdateClaims(db);
  return {
    /**
     * Waits until no other instance is handling this update, and holds it until the returned
     * release is called: behind a load balancer Telegram's retry of a slow webhook answer can
     * reach another instance while the first is still handling the update. Check seen() after it.
     */
    claim: claims.claim,
    async seen(updateId: number): Promise<boolean> {
      const row = await db<{ update_id: number }>('processed_updates').where({ update_id: updateId }).first();
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

/**
 * PostgreSQL: a session-level advisory lock per update_id, on one connection held while this
 * instance holds any (a crash closes it and frees its locks, so a retry elsewhere proceeds).
 * SQLite: one process owns the file, and updates of one chat topic are already handled in order.
 */
function createUpdateClaims(db: Knex) {
  const noop = async () => undefined;
  if (!isPostgres(db)) return { claim: async (_updateId: number) => noop };
  // The connection the locks live on, shared by the claims held at the moment.
  type Shared = { conn: Promise<unknown>; holders: number };
  let shared: Shared | null = null;

  function leave(s: Shared) {
    if (--s.holders > 0) return;
    if (shared === s) shared = null;
    void s.conn.then((c) => releaseConnection(db, c)).catch(() => undefined);
  }

  async function claim(updateId: number): Promise<() => Promise<void>> {
    const key = updateId | 0; // update ids fit in 32 bits; were they ever larger, a shared key would only mean waiting
    const s: Shared = (shared ??= { conn: acquireConnection(db), holders: 0 });
    s.holders++;
    try {
      const conn = await s.conn;
      for (const deadline = Date.now() + MAX_CLAIM_WAIT_MS; Date.now() < deadline;) {
        const result = (await db.raw('select pg_try_advisory_lock(?, ?) as ok', [UPDATE_LOCK_CLASS, key]).connection(conn)) as PgRows<{
          ok: boolean;
        }>;
        if (result.rows[0]?.ok === true) {
          return async () => {
            await db
              .raw('select pg_advisory_unlock(?, ?)', [UPDATE_LOCK_CLASS, key])
              .connection(conn)
              .catch(() => undefined);
            leave(s);
          };
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    } catch {
      // The lock connection failed: go on without the claim (seen() still skips a handled update);
      // the next claim starts on a new connection.
      if (shared === s) shared = null;
    }
    leave(s);
    return noop;
  }

  return { claim };
}
