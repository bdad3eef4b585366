import type { Knex } from 'knex';
import { acquireConnection, isPostgres, releaseConnection as giveBack, type PgRows } from './database';
import type { Logger } from '../logger';

/** Any fixed 64-bit number, the same for every instance of one installation. */
const POLLING_LOCK_KEY = 7_311_020_261_126;

/**
 * Exactly one instance polls Telegram (getUpdates allows one poller per bot).
 * On PostgreSQL the leader holds a session-level advisory lock on a dedicated
 * connection: when its process dies the connection closes, the lock is released
 * and a standby takes over at its next try. On SQLite there is one instance.
 */
export interface PollingLock {
  /** Resolves true once this instance leads; false if `stopping()` became true first. */
  acquire(stopping: () => boolean): Promise<boolean>;
  /** Resolves if the lock's connection is lost (another instance may lead now). */
  lost(): Promise<void>;
  release(): Promise<void>;
}

export function createPollingLock(db: Knex, logger: Logger, retryMs = 1000): PollingLock {
  const log = logger.child({ unit: 'polling-lock' });
  if (!isPostgres(db)) {
    return { acquire: async () => true, lost: () => new Promise(() => undefined), release: async () => undefined };
  }
  let conn: unknown = null;
  let watch: NodeJS.Timeout | null = null;
  let onLost: (() => void) | null = null;

  async function releaseConnection() {
    if (watch) clearInterval(watch);
    watch = null;
    if (conn) await giveBack(db, conn).catch(() => undefined);
    conn = null;
  }

  return {
    async acquire(stopping) {
      let announced = false;
      while (!stopping()) {
        try {
          conn ??= await acquireConnection(db);
          const result = (await db.raw('select pg_try_advisory_lock(?) as ok', [POLLING_LOCK_KEY]).connection(conn)) as PgRows<{
            ok: boolean;
          }>;
          if (result.rows[0]?.ok === true) {
            log.info('this instance polls Telegram');
            watch = setInterval(() => {
              db.raw('select 1')
                .connection(conn)
                .catch((error: unknown) => {
                  log.error('lost the polling lock connection', { error });
                  void releaseConnection();
                  onLost?.();
                });
            }, 5000);
            watch.unref();
            return true;
          }
          if (!announced) log.info('another instance polls Telegram; standing by');
          announced = true;
        } catch (error) {
          log.warn('polling lock attempt failed', { error });
          await releaseConnection();
        }
        await new Promise((r) => setTimeout(r, retryMs).unref());
      }
      await releaseConnection();
      return false;
    },
    lost: () =>
      new Promise<void>((resolve) => {
        onLost = resolve;
      }),
    async release() {
      if (conn)
        await db
          .raw('select pg_advisory_unlock(?)', [POLLING_LOCK_KEY])
          .connection(conn)
          .catch(() => undefined);
      await releaseConnection();
    },
  };
}
