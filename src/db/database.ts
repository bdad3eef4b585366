import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { migrationSource } from '../../migrations';
import { keepStatements, type SqliteConnection } from './sqlite-statements';

export type Database = Knex;

export interface DatabaseOptions {
  /** Where knex's own warnings go (else the console). */
  logger?: Logger;
  /** PostgreSQL: how long opening one connection may take (a host that drops packets never refuses). */
  connectTimeoutMs?: number;
}

/**
 * knex's warnings as one line each. "Acquire connection error" is dropped: the query that
 * wanted the connection fails with the same error, and its caller reports it once.
 */
function knexLog(logger: Logger | undefined): Knex.Config['log'] {
  const write = (level: 'warn' | 'error') => (message: unknown) => {
    const line = String(message).split('\n')[0];
    if (line.startsWith('Acquire connection error')) return;
    if (logger) logger[level](`database: ${line}`);
    else process.stderr.write(`database: ${line}\n`);
  };
  return { warn: write('warn'), error: write('error'), deprecate: write('warn') };
}

/** knex's SQLite transaction (no type declarations: the constructor and the two members used here). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SqliteTransaction = require('knex/lib/dialects/sqlite3/execution/sqlite-transaction') as new (...args: unknown[]) => {
  query(conn: unknown, sql: string): Promise<unknown>;
};

/**
 * SQLite transactions begin IMMEDIATE: they take the write lock at the start (waiting up to
 * busy_timeout for another process's write) instead of at their first write. A transaction that
 * read first and wrote second (a new visitor's first message reads the revoked tokens, then
 * inserts) would otherwise fail at once with SQLITE_BUSY when another process on the same file
 * committed in between: waiting cannot help a read snapshot that is already behind.
 */
class ImmediateTransaction extends SqliteTransaction {
  begin(conn: unknown) {
    return this.query(conn, 'BEGIN IMMEDIATE;');
  }
}

/**
 * Opens the database (creating the SQLite file and its folder on first start). Does not migrate.
 *
 * SQLite goes through better-sqlite3, which runs each statement in this thread: a statement costs the
 * SQLite work and nothing around it, where a driver on Node's thread pool paid a hand-off to a pool
 * thread and a wake-up back for every statement (about half of a lone transaction's CPU, measured in
 * docs/benchmarks.md). What that means: a long query (a staff search over a large history) holds the
 * event loop while it runs, and a write that finds another process holding the file's write lock waits
 * in this thread for up to busy_timeout. One process owns the file (docs/deploy.md); commits of
 * concurrent visitors are still shared (src/db/group-commit.ts).
 */
export function createDatabase(database: Config['database'], { logger, connectTimeoutMs = 10000 }: DatabaseOptions = {}): Database {
  if (database.client === 'sqlite') {
    fs.mkdirSync(path.dirname(database.filename), { recursive: true });
    const db = knexFactory({
      log: knexLog(logger),
      client: 'better-sqlite3',
      connection: { filename: database.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
          // WAL lets readers in other processes proceed during a write; FK checks are off by default in SQLite.
          // synchronous = FULL: every commit is on disk before it is acknowledged, even across a power loss
          // (docs/delivery.md, "Durability"); concurrent visitors share commits (src/db/group-commit.ts).
          try {
            conn.exec('PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000');
            keepStatements(conn);
            done(null, conn);
          } catch (error) {
            done(error as Error, conn);
          }
        },
      },
    });
    const client = db.client as { transaction: (...args: unknown[]) => unknown };
    client.transaction = function (this: unknown, ...args: unknown[]) {
      return new ImmediateTransaction(this, ...args);
    };
    return db;
  }
  return knexFactory({
    log: knexLog(logger),
    client: 'pg',
    connection: { connectionString: database.url, connectionTimeoutMillis: connectTimeoutMs },
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 10000,
  });
}

export async function migrateToLatest(db: Database): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export async function rollbackAll(db: Database): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}

/** True when the database answers a trivial query. */
export async function pingDatabase(db: Database, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      db.raw('select 1').then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export const isPostgres = (db: Knex | Knex.Transaction): boolean => (db.client as Knex.Client).config.client === 'pg';

/** What `db.raw(...)` resolves to on PostgreSQL (node-postgres' result). */
export type PgRows<T> = { rows: T[] };

/** Takes one connection out of the pool and keeps it until `releaseConnection` (advisory locks belong to a session). */
export async function acquireConnection(db: Knex): Promise<unknown> {
  return (await (db.client as Knex.Client).acquireConnection()) as unknown;
}

/** Gives a connection from `acquireConnection` back to the pool. */
export async function releaseConnection(db: Knex, conn: unknown): Promise<void> {
  await ((db.client as Knex.Client).releaseConnection(conn) as Promise<unknown>);
}

/** bigint columns come back as strings from pg; numbers from sqlite. */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

/** The id of the row that `insert(...).returning('id')` made: `[{ id }]` from PostgreSQL and SQLite ≥ 3.35, a bare `[id]` from older drivers. */
export function insertedId(rows: unknown): number {
  const [row] = rows as unknown[];
  return num(typeof row === 'object' && row !== null ? (row as { id: unknown }).id : row);
}
