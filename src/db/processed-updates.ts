import type { Knex } from 'knex';
import { acquireConnection, isPostgres, releaseConnection, type PgRows } from './database';

/** Advisory locks of updates: two 32-bit keys (class, update_id), a key space apart from the polling lock's 64-bit key. */
const UPDATE_LOCK_CLASS = 73_110_261;
/** The longest an instance waits for another one handling the same update before handling it anyway. */
const MAX_CLAIM_WAIT_MS = 120_000;

/** An update held by this instance while it handles it. */
export interface UpdateClaim {
  /**
   * Whether the update was already recorded as handled once the claim was held, when the claim
   * could tell in the same round trip (PostgreSQL); undefined otherwise — ask seen().
   */
  seen?: boolean;
  release(): Promise<void>;
}

/**
 * Telegram delivers updates at least once. Each update_id handled is recorded,
 * so a repeated update (after a restart, or a webhook retry) is skipped.
 */
export function createProcessedUpdates(db: Knex) {
  const claims = createUpdateClaims(db);
  return {
    /**
     * Waits until no other instance is handling this update, and holds it until the claim is
     * released: behind a load balancer Telegram's retry of a slow webhook answer can reach
     * another instance while the first is still handling the update. Whether it was handled
     * comes with the claim where it costs nothing more (`seen`); otherwise check seen() after it.
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
 * The lock and the look-up in `processed_updates` go in one round trip as two statements of one
 * simple query: each statement of it reads its own snapshot, so the look-up sees every handling
 * that finished before the lock was taken (one statement would read one snapshot, taken before).
 * SQLite: one process owns the file, and updates of one chat topic are already handled in order.
 */
function createUpdateClaims(db: Knex) {
  const unclaimed: UpdateClaim = { release: async () => undefined };
  if (!isPostgres(db)) return { claim: async (_updateId: number): Promise<UpdateClaim> => unclaimed };
  // The connection the locks live on, shared by the claims held at the moment.
  type Shared = { conn: Promise<unknown>; holders: number };
  let shared: Shared | null = null;

  function leave(s: Shared) {
    if (--s.holders > 0) return;
    if (shared === s) shared = null;
    void s.conn.then((c) => releaseConnection(db, c)).catch(() => undefined);
  }

  async function claim(updateId: number): Promise<UpdateClaim> {
    if (!Number.isSafeInteger(updateId)) throw new TypeError(`not an update id: ${updateId}`);
    const key = updateId | 0; // update ids fit in 32 bits; were they ever larger, a shared key would only mean waiting
    const s: Shared = (shared ??= { conn: acquireConnection(db), holders: 0 });
    s.holders++;
    try {
      const conn = await s.conn;
      // Integers only, written into the text: a simple query (no parameters) may hold two statements.
      const lockAndLook = `select pg_try_advisory_lock(${UPDATE_LOCK_CLASS}, ${key}) as ok;
        select exists (select 1 from processed_updates where update_id = ${updateId}) as seen`;
      for (const deadline = Date.now() + MAX_CLAIM_WAIT_MS; Date.now() < deadline;) {
        const [lock, look] = (await db.raw(lockAndLook).connection(conn)) as [PgRows<{ ok: boolean }>, PgRows<{ seen: boolean }>];
        if (lock.rows[0]?.ok === true) {
          return {
            seen: look.rows[0]?.seen === true,
            release: async () => {
              await db
                .raw('select pg_advisory_unlock(?, ?)', [UPDATE_LOCK_CLASS, key])
                .connection(conn)
                .catch(() => undefined);
              leave(s);
            },
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
    return unclaimed;
  }

  return { claim };
}
