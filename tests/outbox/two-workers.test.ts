import { Api } from 'grammy';
import { createLogger } from '../../src/logger';
import { createCache } from '../../src/db/cache';
import { createDatabase, migrateToLatest, type Database } from '../../src/db/database';
import { createStore } from '../../src/db/store';
import { createChatService } from '../../src/domain/chat-service';
import { createVisitorTokens } from '../../src/domain/tokens';
import { systemClock } from '../../src/domain/ports';
import { silentNotifier } from '../support/silent-notifier';
import { createChatPacer } from '../../src/outbox/chat-pacer';
import { createTelegramGateway, type TelegramGateway } from '../../src/outbox/telegram-gateway';
import { createOutboxWorker } from '../../src/outbox/worker';
import { eventually, STAFF_CHAT_ID } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';

describeEachDatabase('two outbox workers on one %s database', (kind) => {
  let testDb: TestDatabase;
  let emu: TelegramEmulator;
  const dbs: Database[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    emu.setLatency(15); // widens every race window between the two workers
  });
  afterAll(async () => {
    for (const db of dbs) await db.destroy();
    await emu.stop();
    await testDb.drop();
  });

  /** One "process": its own connection pool, cache, queue lease identity and worker. */
  function worker(name: string, sends: string[]) {
    const db = createDatabase(testDb.config);
    dbs.push(db);
    const store = createStore({ db, cache: createCache(180) });
    const real = createTelegramGateway(new Api(emu.token, { apiRoot: emu.apiRoot }));
    const telegram: TelegramGateway = {
      ...real,
      sendText: async (chatId, topicId, text) => {
        sends.push(text);
        return real.sendText(chatId, topicId, text);
      },
    };
    const w = createOutboxWorker({
      store,
      queue: store.outbox.queue({ workerId: name, leaseMs: 30_000 }),
      telegram,
      departments: { claimed: () => [{ id: null, key: 'general', name: 'General', chatId: STAFF_CHAT_ID }] },
      notifier: silentNotifier,
      pacer: createChatPacer(0),
      clock: systemClock,
      logger: createLogger({ log: { level: 'error', format: 'json' } }),
      options: { pollMs: 20, maxAttempts: 5, concurrency: 4, mergeBacklog: 1000 },
    });
    return { store, w };
  }

  it('never send a row twice, keep every thread in order, and share the work', async () => {
    const setupDb = createDatabase(testDb.config);
    dbs.push(setupDb);
    await migrateToLatest(setupDb);
    const store = createStore({ db: setupDb, cache: createCache(0) });
    const chat = createChatService({
      store,
      notifier: silentNotifier,
      delivery: { wake: () => undefined },
      clock: systemClock,
      tokens: createVisitorTokens('a test secret of at least 32 characters'),
    });

    const expected: string[] = [];
    for (let v = 0; v < 8; v++) {
      // The visitor is stored with its first message; the same writer finds it afterwards.
      const { writer } = await chat.openSession(undefined);
      for (let n = 0; n < 6; n++) {
        const text = `v${v} m${n}`;
        await chat.postVisitorMessage(writer, { text, clientId: `c${v}-${n}` });
        expected.push(text);
      }
    }

    const sendsA: string[] = [];
    const sendsB: string[] = [];
    const a = worker('worker-a', sendsA);
    const b = worker('worker-b', sendsB);
    a.w.start();
    b.w.start();
    try {
      await eventually(async () => Number((await setupDb('outbox').where({ status: 'sent' }).count({ n: '*' }))[0].n) === expected.length, {
        timeoutMs: 30000,
        what: 'every row sent',
      });
    } finally {
      await a.w.stop();
      await b.w.stop();
    }

    const inTelegram = emu.sentMessages(STAFF_CHAT_ID).map((m) => m.text ?? '');
    expect([...inTelegram].sort()).toEqual([...expected].sort()); // each exactly once
    expect(sendsA.length + sendsB.length).toBe(expected.length);
    expect(sendsA.length).toBeGreaterThan(0);
    expect(sendsB.length).toBeGreaterThan(0);
    for (let v = 0; v < 8; v++) {
      expect(inTelegram.filter((t) => t.startsWith(`v${v} `))).toEqual(expected.filter((t) => t.startsWith(`v${v} `)));
    }
    // One topic per thread, even with both workers racing for a thread's first message.
    expect(emu.callsTo('createForumTopic').filter((c) => c.ok)).toHaveLength(8);
    expect(Number((await setupDb('messages').where({ status: 'delivered' }).count({ n: '*' }))[0].n)).toBe(expected.length);
  });
});
