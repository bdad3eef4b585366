import { createCache } from '../../src/db/cache';
import { createDatabase, migrateToLatest, type Database } from '../../src/db/database';
import { createStore } from '../../src/db/store';
import { createChatService } from '../../src/domain/chat-service';
import { createVisitorTokens } from '../../src/domain/tokens';
import { systemClock } from '../../src/domain/ports';
import { describeEachDatabase } from '../support/services';
import { silentNotifier } from '../support/silent-notifier';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * A delivery that broke off — the database went away between Telegram's answer and the
 * bookkeeping — leaves its row leased by a worker that is alive and busy with other
 * threads. The heartbeat renews only the threads being delivered, so that row's lease runs
 * out and the row is claimed again (docs/delivery.md, "Leases").
 */
describeEachDatabase('a broken-off delivery on %s', (kind) => {
  let testDb: TestDatabase;
  let db: Database;
  const LEASE_MS = 10_000;

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    db = createDatabase(testDb.config);
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db.destroy();
    await testDb.drop();
  });

  it('is not kept leased by the heartbeat of the threads still being delivered', async () => {
    const store = createStore({ db, cache: createCache(0) });
    const chat = createChatService({
      store,
      notifier: silentNotifier,
      delivery: { wake: () => undefined },
      clock: systemClock,
      tokens: createVisitorTokens('a test secret of at least 32 characters'),
    });
    for (const name of ['busy', 'broken']) {
      const { writer } = await chat.openSession(undefined);
      await chat.postVisitorMessage(writer, { text: `${name} thread`, clientId: name });
    }
    const alive = store.outbox.queue({ workerId: 'alive', leaseMs: LEASE_MS });
    const other = store.outbox.queue({ workerId: 'other', leaseMs: LEASE_MS });

    const t0 = Date.now();
    const [busy, broken] = await alive.claimHeads(t0, 10, []);
    expect([busy, broken].map((r) => r.threadId)).toHaveLength(2);

    // The worker keeps delivering `busy`; `broken`'s delivery broke off. Heartbeats, a third of a lease apart:
    for (let tick = 1; tick <= 6; tick++) await alive.renew(t0 + Math.round((tick * LEASE_MS) / 3), [busy.threadId]);
    // Two leases later, the busy row is still the live worker's, and the broken-off one is free again.
    const claimed = await other.claimHeads(t0 + 2 * LEASE_MS + 1, 10, []);
    expect(claimed.map((r) => r.id)).toEqual([broken.id]);
    // Nothing to renew while nothing is being delivered.
    expect(await alive.renew(t0 + 2 * LEASE_MS + 2, [])).toBe(0);
  });
});
