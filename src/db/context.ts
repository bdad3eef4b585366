import type { Knex } from 'knex';
import type { Cache } from './cache';

/** What every repository gets: a connection (or transaction) and the cache. */
export interface RepoContext {
  db: Knex | Knex.Transaction;
  cache: Cache;
  /** Drops cache keys now and, inside a transaction, once more after commit. */
  invalidate: (keys: string[]) => void;
  /** SQLite, outside a transaction: a thread's topic recorded in the turn's shared commit (src/db/topic-record.ts). */
  recordTopic?: (threadId: number, chatId: number | null, topicId: number | null) => Promise<void>;
}
