import { createDatabase, migrateToLatest, type Database } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from './test-database';

/**
 * For a describe block: one migrated SQLite file and two connections on it (`a` and `b`, as two processes on the same
 * file would have), each its own knex instance; closed and removed after the block.
 */
export function useTwoSqliteConnections(): { a: Database; b: Database } {
  const two = {} as { a: Database; b: Database };
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    two.a = createDatabase(testDb.config);
    two.b = createDatabase(testDb.config);
    await migrateToLatest(two.a);
  });
  afterAll(async () => {
    await two.a?.destroy();
    await two.b?.destroy();
    await testDb?.drop();
  });
  return two;
}
