import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import type { Config } from '../../src/config';
import { services, type DatabaseKind } from './services';

/** A database for one test file: a fresh SQLite file, or a fresh PostgreSQL database. */
export interface TestDatabase {
  kind: DatabaseKind;
  /** Env vars that point topicdesk at it. */
  env: Record<string, string>;
  config: Config['database'];
  dataDir: string;
  drop(): Promise<void>;
}

export type { DatabaseKind };

/** SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). Test groups use describeEachDatabase (./services). */
export const databaseKinds: DatabaseKind[] = services.postgres.available ? ['sqlite', 'postgres'] : ['sqlite'];

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-test-'));
  if (kind === 'sqlite') {
    const filename = path.join(dataDir, 'topicdesk.sqlite3');
    return {
      kind,
      env: { DATA_DIR: dataDir },
      config: { client: 'sqlite', filename },
      dataDir,
      drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `topicdesk_test_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`create database ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    config: { client: 'pg', url: url.toString() },
    dataDir,
    async drop() {
      const a = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
      try {
        await a.raw(`drop database if exists ${name} with (force)`);
      } finally {
        await a.destroy();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
