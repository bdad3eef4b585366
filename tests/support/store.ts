import { createCache } from '../../src/db/cache';
import { createDatabase, migrateToLatest, type Database } from '../../src/db/database';
import { createStore } from '../../src/db/store';
import type { Store } from '../../src/domain/ports';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './test-database';

/** A fresh migrated database of `kind` and a Store on it, for the tests of one group; the getter is good after beforeAll. */
export function useStore(kind: DatabaseKind): () => { db: Database; store: Store } {
  let testDb: TestDatabase;
  let db: Database;
  let store: Store;
  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    db = createDatabase(testDb.config);
    await migrateToLatest(db);
    store = createStore({ db, cache: createCache(180) });
  });
  afterAll(async () => {
    await db.destroy();
    await testDb.drop();
  });
  return () => ({ db, store });
}

/** What `work` sends to `db`, statement by statement (knex's query events), with what it returned. */
export async function statementsOf<T>(db: Database, work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const count = (q: { sql: string }) => statements.push(q.sql);
  db.on('query', count);
  try {
    return { result: await work(), statements };
  } finally {
    db.off('query', count);
  }
}
