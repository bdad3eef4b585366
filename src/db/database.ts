import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config';
import { migrationSource } from '../../migrations';

export type Database = Knex;

/** Opens the database (creating the SQLite file and its folder on first start). Does not migrate. */
export function createDatabase(database: Config['database']): Database {
  if (database.client === 'sqlite') {
    fs.mkdirSync(path.dirname(database.filename), { recursive: true });
    return knexFactory({
      client: 'sqlite3',
      connection: { filename: database.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
          // WAL lets readers in other processes proceed during a write; FK checks are off by default in SQLite.
          conn.run('PRAGMA foreign_keys = ON', (e1) => {
            if (e1) return done(e1, conn);
            conn.run('PRAGMA journal_mode = WAL', (e2) => {
              if (e2) return done(e2, conn);
              conn.run('PRAGMA busy_timeout = 5000', (e3) => done(e3, conn));
            });
          });
        },
      },
    });
  }
  return knexFactory({
    client: 'pg',
    connection: { connectionString: database.url },
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

export const isPostgres = (db: Knex | Knex.Transaction): boolean => db.client.config.client === 'pg';

/** bigint columns come back as strings from pg; numbers from sqlite. */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
