import { createDatabase, type Database } from '../../src/db/database';
import { TelegramEmulator } from '../../src/emulator';
import { hashToken } from '../../src/domain/tokens';
import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, storedVisitorId, type RunningTopicdesk } from '../support/harness';
import { testInstallation, type TestInstallation } from '../support/installation';
import { makePng } from '../support/media-samples';
import { describeEachDatabase, describeWith, services } from '../support/services';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { upload } from '../support/uploads';

/**
 * A visitor has one thread (docs/identity.md): its first messages, arriving at once from
 * several tabs, uploads and instances, must not each create one. The database serializes
 * them (visitors.lockIdentity), so this holds on PostgreSQL's pool as well as SQLite.
 */
describeEachDatabase('one thread per visitor under concurrent first messages on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    td = await startTopicdesk({ db, emulator: emu });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
  });
  afterAll(async () => {
    await td.stop();
    await emu.stop();
    await db.drop();
  });

  it('several messages at once from two tabs plus an upload make exactly one thread and one topic', async () => {
    for (let round = 0; round < 3; round++) {
      const first = await connectVisitor(td.url);
      const second = await connectVisitor(td.url, first.session.token);
      expect(second.session.visitor.id).toBe(first.session.visitor.id);
      const topicsBefore = emu.topics(STAFF_CHAT_ID).length;

      const [acks, uploaded] = await Promise.all([
        Promise.all([
          first.send(`r${round} one`),
          first.send(`r${round} two`),
          first.send(`r${round} three`),
          second.send(`r${round} four`),
          second.send(`r${round} five`),
        ]),
        upload(td.url, { token: first.session.token, parts: [{ name: 'file', filename: 'x.png', bytes: makePng(8, 8) }] }),
      ]);
      expect(uploaded.status).toBe(201);
      for (const ack of acks) expect(ack.ok).toBe(true);

      // The visitor was stored by whichever of these first writes came first, once.
      expect(await td.app.db('visitors').where({ token_hash: hashToken(first.session.token) })).toHaveLength(1);
      const threads = await td.app.store.threads.listForVisitor((await storedVisitorId(td.app, first))!);
      expect(threads).toHaveLength(1);
      const threadIds = new Set([...acks.map((a) => a.message.threadId), uploaded.body.message.threadId]);
      expect([...threadIds]).toEqual([threads[0].id]);

      // Every message reaches Telegram (consecutive ones may be merged into one send), all in the one topic.
      const sockets = [first, first, first, second, second];
      await Promise.all(acks.map((ack, i) => sockets[i].waitFor('message:status', (st) => st.id === ack.message.id, 15000)));
      await first.waitFor('message:status', (st) => st.id === uploaded.body.message.id, 15000);
      const topicId = (await td.app.store.threads.findById(threads[0].id))!.topicId;
      expect(topicId).not.toBeNull();
      expect(emu.topics(STAFF_CHAT_ID).length - topicsBefore).toBe(1);
      const sentThisRound = emu.sentMessages(STAFF_CHAT_ID).filter((m) => (m.text ?? '').includes(`r${round} `));
      expect(sentThisRound.map((m) => m.text).join('\n')).toContain(`r${round} five`);
      expect(new Set(sentThisRound.map((m) => m.message_thread_id))).toEqual(new Set([topicId]));
      first.close();
      second.close();
    }
  });
});

describeWith([services.postgres, services.redis], 'one thread per visitor across two instances on one PostgreSQL', () => {
  let testDb: TestDatabase;
  let emu: TelegramEmulator;
  let installation: TestInstallation;
  let sql: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    installation = testInstallation(testDb, { emulator: emu, env: { TELEGRAM_CHAT_SENDS_PER_MINUTE: '0' } });
    sql = createDatabase(testDb.config);
  });
  afterAll(async () => {
    await sql.destroy();
    await installation.stop();
    await emu.stop();
    await testDb.drop();
  });

  it('first messages racing on two server processes make one thread per visitor', async () => {
    const a = await installation.start();
    const b = await installation.start();
    const visitors = [];
    for (let i = 0; i < 4; i++) {
      const onA = await connectVisitor(a.url);
      const onB = await connectVisitor(b.url, onA.session.token);
      visitors.push({ onA, onB, tokenHash: hashToken(onA.session.token) });
    }
    const acks = await Promise.all(
      visitors.flatMap((v, i) => [v.onA.send(`v${i} a1`), v.onB.send(`v${i} b1`), v.onA.send(`v${i} a2`), v.onB.send(`v${i} b2`)]),
    );
    for (const ack of acks) expect(ack.ok).toBe(true);
    for (const v of visitors) {
      // Stored once by the first of the racing first messages, then one thread.
      const stored: Array<{ id: number }> = await sql('visitors').where({ token_hash: v.tokenHash });
      expect(stored).toHaveLength(1);
      const rows = await sql('threads').where({ visitor_id: stored[0].id });
      expect(rows).toHaveLength(1);
    }
    const threadCount = await sql('threads').count({ n: '*' });
    expect(Number(threadCount[0].n)).toBe(visitors.length);
    // Each visitor's messages go into its one topic.
    await eventually(async () => Number((await sql('threads').whereNotNull('topic_id').count({ n: '*' }))[0].n) === visitors.length, {
      timeoutMs: 20000,
      what: 'every thread has its topic',
    });
    await eventually(async () => Number((await sql('outbox').where({ status: 'sent' }).count({ n: '*' }))[0].n) >= acks.length, {
      timeoutMs: 20000,
      what: 'every message sent',
    });
    expect(emu.topics(STAFF_CHAT_ID)).toHaveLength(visitors.length);
    for (const v of visitors) {
      v.onA.close();
      v.onB.close();
    }
  });
});
