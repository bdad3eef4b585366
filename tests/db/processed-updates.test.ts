import { createDatabase, migrateToLatest, type Database } from '../../src/db/database';
import { createProcessedUpdates } from '../../src/db/processed-updates';
import { describeEachDatabase } from '../support/services';
import { statementsOf } from '../support/store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describeEachDatabase('handled Telegram updates, on %s', (kind) => {
  let testDb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    db = createDatabase(testDb.config);
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db.destroy();
    await testDb.drop();
  });

  it('a claim answers whether the update was handled in the same round trip on PostgreSQL; SQLite asks seen()', async () => {
    const updates = createProcessedUpdates(db);
    await updates.record(101, new Date());
    const { result: claim, statements } = await statementsOf(db, () => updates.claim(101));
    if (kind === 'postgres') {
      expect(claim.seen).toBe(true);
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/pg_try_advisory_lock.*;\s*select exists/s);
    } else {
      expect(claim.seen).toBeUndefined();
      expect(statements).toEqual([]);
    }
    await claim.release();
    const fresh = await updates.claim(102);
    expect(fresh.seen).toBe(kind === 'postgres' ? false : undefined);
    expect(await updates.seen(102)).toBe(false);
    await fresh.release();
  });

  if (kind === 'postgres') {
    it('another instance claiming the same update waits for the first, then learns it was handled', async () => {
      // A second instance: its own pool on the same database.
      const other = createDatabase(testDb.config);
      try {
        const a = createProcessedUpdates(db);
        const b = createProcessedUpdates(other);
        const first = await a.claim(201);
        expect(first.seen).toBe(false);
        let waited = true;
        const second = b.claim(201).then((c) => {
          waited = false;
          return c;
        });
        await new Promise((r) => setTimeout(r, 150));
        expect(waited).toBe(true);
        // The first instance handles it, records it, and lets go.
        await a.record(201, new Date());
        await first.release();
        const claim = await second;
        expect(claim.seen).toBe(true);
        await claim.release();
      } finally {
        await other.destroy();
      }
    });
  }
});
