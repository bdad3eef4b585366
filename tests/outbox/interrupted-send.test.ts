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
import { createTelegramGateway } from '../../src/outbox/telegram-gateway';
import { createOutboxWorker } from '../../src/outbox/worker';
import { eventually, STAFF_CHAT_ID } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';

describeEachDatabase('resuming after an interrupted send, on %s', (kind) => {
  let testDb: TestDatabase;
  let emu: TelegramEmulator;
  let db: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    db = createDatabase(testDb.config);
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db.destroy();
    await emu.stop();
    await testDb.drop();
  });

  it('settles a message that already reached Telegram without sending it again, and merges only the rest', async () => {
    const store = createStore({ db, cache: createCache(180) });
    const chat = createChatService({
      store,
      notifier: silentNotifier,
      delivery: { wake: () => undefined },
      clock: systemClock,
      tokens: createVisitorTokens('a test secret of at least 32 characters'),
    });
    const session = await chat.openSession(undefined);
    const texts = ['first (already in Telegram)', 'second', 'third', 'fourth'];
    const ids: number[] = [];
    let visitorId = 0;
    for (const [i, text] of texts.entries()) {
      const posted = await chat.postVisitorMessage(visitorId ? { visitorId } : session.writer, { text, clientId: `i${i}` });
      visitorId = posted.visitorId;
      ids.push(posted.message.id);
    }

    // An earlier process sent the first message and recorded it, then died before marking its row sent.
    const thread = (await store.threads.findLatestForVisitor(visitorId))!;
    const topic = await new Api(emu.token, { apiRoot: emu.apiRoot }).createForumTopic(STAFF_CHAT_ID, 'Visitor');
    await store.threads.setTopic(thread.id, STAFF_CHAT_ID, topic.message_thread_id);
    const earlier = await new Api(emu.token, { apiRoot: emu.apiRoot }).sendMessage(STAFF_CHAT_ID, texts[0], {
      message_thread_id: topic.message_thread_id,
    });
    await store.telegramLinks.insert(
      {
        threadId: thread.id,
        messageId: ids[0],
        chatId: STAFF_CHAT_ID,
        topicId: topic.message_thread_id,
        telegramMessageId: earlier.message_id,
        direction: 'to_telegram',
      },
      new Date(),
    );

    const worker = createOutboxWorker({
      store,
      queue: store.outbox.queue({ workerId: 'after-restart', leaseMs: 30_000 }),
      telegram: createTelegramGateway(new Api(emu.token, { apiRoot: emu.apiRoot })),
      departments: { claimed: () => [{ id: null, key: 'general', name: 'General', chatId: STAFF_CHAT_ID }] },
      notifier: silentNotifier,
      pacer: createChatPacer(0),
      clock: systemClock,
      logger: createLogger({ log: { level: 'error', format: 'json' } }),
      options: { pollMs: 20, maxAttempts: 5 },
    });
    worker.start();
    try {
      await eventually(async () => (await db('outbox').where({ status: 'sent' })).length === 4, { what: 'all rows sent' });
    } finally {
      await worker.stop();
    }
    const sent = emu.sentMessages(STAFF_CHAT_ID).map((m) => m.text);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toBe(texts[0]);
    expect(sent[1]).toMatch(/^\[\d\d:\d\d:\d\d\] second\n\[\d\d:\d\d:\d\d\] third\n\[\d\d:\d\d:\d\d\] fourth$/);
    const statuses = await db('messages').whereIn('id', ids).orderBy('id').pluck('status');
    expect(statuses).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
  });
});
