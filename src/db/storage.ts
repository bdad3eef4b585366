import type { Knex } from 'knex';
import type { Config } from '../config';
import type { Clock, Store } from '../domain/ports';
import type { Logger } from '../logger';
import type { Cache } from './cache';
import { createConversationStorage, type ConversationStorageAdapter } from './conversation-storage';
import { migrateToLatest, pingDatabase } from './database';
import { openDatabase } from './open-database';
import { createPollingLock, type PollingLock } from './polling-lock';
import { createProcessedUpdates, type ProcessedUpdates } from './processed-updates';
import { createRetentionRepository, type RetentionRepository } from './retention-repository';
import { createStore } from './store';
import { createUpdateInbox, type UpdateInbox } from './update-inbox';

/**
 * Opens the configured database and brings its schema up to date. A DATABASE_URL or
 * DATA_DIR that cannot work stops start-up with a StartupError naming it.
 */
export async function openMigratedDatabase(config: Pick<Config, 'database' | 'dataDir'>, logger: Logger): Promise<Knex> {
  const db = await openDatabase(config, logger);
  const applied = await migrateToLatest(db);
  if (applied.length) logger.child({ unit: 'app' }).info('database migrated', { applied });
  return db;
}

/** Everything the application keeps in the database: the Store, and the parts outside the domain's ports. */
export interface Storage {
  store: Store;
  /** Telegram update ids already handled (src/db/processed-updates.ts). */
  processedUpdates: ProcessedUpdates;
  /** Polled updates still being handled when Telegram was told they arrived (src/db/update-inbox.ts). */
  updateInbox: UpdateInbox;
  /** The deletions of bounded growth (src/maintenance/pruner.ts). */
  retention: RetentionRepository;
  /** Exactly one instance polls Telegram (src/db/polling-lock.ts). */
  pollingLock: PollingLock;
  /** The state of the bot's conversations (src/db/conversation-storage.ts). */
  conversations<S>(): ConversationStorageAdapter<S>;
  /** True when the database answers within `timeoutMs`. */
  ping: (timeoutMs: number) => Promise<boolean>;
  /** Calls `listener` for every statement sent to the database, BEGIN and COMMIT included (GET /metrics counts them). */
  onStatement(listener: () => void): void;
  /** Closes the connection pool. */
  close: () => Promise<void>;
}

export function createStorage({ db, cache, clock, logger }: { db: Knex; cache: Cache; clock: Clock; logger: Logger }): Storage {
  return {
    store: createStore({ db, cache }),
    processedUpdates: createProcessedUpdates(db),
    updateInbox: createUpdateInbox(db),
    retention: createRetentionRepository(db, cache),
    pollingLock: createPollingLock(db, logger),
    conversations: () => createConversationStorage(db, () => clock.now()),
    ping: (timeoutMs) => pingDatabase(db, timeoutMs),
    onStatement(listener) {
      db.on('query', listener);
    },
    close: () => db.destroy(),
  };
}
