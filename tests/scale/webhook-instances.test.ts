import { createDatabase } from '../../src/db/database';
import { connectVisitor, eventually, STAFF_CHAT_ID, type VisitorClient } from '../support/harness';
import { RoundRobin } from '../support/round-robin';
import { testInstallation, type TestInstallation } from '../support/installation';
import type { ServerProcess } from '../support/server-process';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeWith, services } from '../support/services';

/**
 * BOT_MODE=webhook with several instances (docs/deploy.md): two topicdesk processes on one
 * PostgreSQL database and one Redis, behind a round-robin balancer without stickiness.
 * Telegram (the emulator) knows one URL, the balancer's; any instance can take any update,
 * and update_id de-duplication is shared in the database.
 */
const SECRET = 'webhook-secret_0123456789abcdef';
/** Telegram gives up on a webhook answer after a while and delivers the update again. */
const WEBHOOK_TIMEOUT_MS = 1500;

describeWith(
  [services.postgres, services.redis],
  'webhook mode: two instances behind a round-robin balancer, one PostgreSQL database, one Redis',
  () => {
    let testDb: TestDatabase;
    let emu: TelegramEmulator;
    let lb: RoundRobin;
    let a: ServerProcess;
    let b: ServerProcess;
    let installation: TestInstallation;
    let db: ReturnType<typeof createDatabase>;
    let v: VisitorClient;
    let threadId: number;
    let topicId: number;
    const staff = { id: 5001, first_name: 'Deniz', is_bot: false as const };

    const start = () =>
      installation.start({
        BOT_MODE: 'webhook',
        WEBHOOK_SECRET: SECRET,
        // Telegram reaches the installation through the balancer only.
        PUBLIC_URL: lb.url,
        OUTBOX_LEASE_SECONDS: '3',
        TELEGRAM_CHAT_SENDS_PER_MINUTE: '0',
      });
    const health = async (s: ServerProcess) =>
      (await fetch(`${s.url}/health`).then((r) => r.json())) as { telegram: string; polling?: string };
    const webhookPath = '/telegram/webhook';
    /** update_id → the instances the balancer gave it to. */
    const takenBy = (updateId: number) =>
      lb.forwarded
        .filter((f) => f.path === webhookPath && f.body.length > 0 && JSON.parse(f.body.toString('utf8')).update_id === updateId)
        .map((f) => f.target);
    const staffRows = async (text: string) =>
      (await db('messages').where({ thread_id: threadId, sender_type: 'staff', content_text: text })).length;
    const received = (text: string) => v.received.filter((r) => r.event === 'message' && r.payload.text === text).length;
    /** A staff message in the visitor's topic, as Telegram posts it to the webhook. */
    const staffUpdate = (updateId: number, text: string) => ({
      update_id: updateId,
      message: {
        message_id: updateId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true },
        from: staff,
        message_thread_id: topicId,
        is_topic_message: true,
        text,
      },
    });
    /** Posts an update straight to one instance's webhook, past the balancer. */
    const post = (s: ServerProcess, update: object) =>
      fetch(`${s.url}${webhookPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': SECRET },
        body: JSON.stringify(update),
      });
    const BARRIER = 'barrier: ';
    let barriers = 0;
    /**
     * Every message either instance sent the visitor before now has reached it: a staff message
     * posted to each instance in turn arrives. An instance's broadcasts reach the visitor on A in
     * the order it made them (its own sockets directly, B's through one Redis connection).
     */
    const allInstancesDelivered = async () => {
      for (const s of [a, b]) {
        const text = `${BARRIER}${++barriers}`;
        expect((await post(s, staffUpdate(800_000 + barriers, text))).status).toBe(200);
        await v.waitFor('message', (m) => m.text === text, 10000);
      }
    };
    const staffTexts = () =>
      v.received.flatMap((r) =>
        r.event === 'message' && r.payload.sender === 'staff' && !r.payload.text?.startsWith(BARRIER) ? [r.payload.text] : [],
      );

    beforeAll(async () => {
      testDb = await createTestDatabase('postgres');
      db = createDatabase(testDb.config);
      emu = await TelegramEmulator.start({ webhookTimeoutMs: WEBHOOK_TIMEOUT_MS });
      emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
      emu.addUser(staff);
      installation = testInstallation(testDb, { emulator: emu });
      // The balancer listens first: PUBLIC_URL must be known before the instances start.
      lb = await RoundRobin.start();
      // One after the other: the first start migrates the fresh database.
      a = await start();
      b = await start();
      lb.setTargets([a.url, b.url]);
      await eventually(async () => (await health(a)).telegram === 'ok' && (await health(b)).telegram === 'ok', {
        timeoutMs: 15000,
        what: 'both connected to Telegram',
      });

      // A visitor on instance A, with a thread and its forum topic.
      v = await connectVisitor(a.url);
      const first = await v.send('hello from instance A');
      await v.waitFor('message:status', (s) => s.id === first.message.id && s.status === 'delivered', 15000);
      threadId = first.message.threadId;
      topicId = (await eventually(async () => emu.sentMessages(STAFF_CHAT_ID).find((m) => m.text === 'hello from instance A')))!
        .message_thread_id!;
    }, 60_000);

    afterAll(async () => {
      v?.close();
      for (const s of [a, b]) await s?.stop();
      await installation?.stop();
      await lb?.close();
      await emu?.stop();
      await db?.destroy();
      await testDb?.drop();
    });

    it('both instances register the same webhook at start-up, harmlessly; nobody polls', async () => {
      const calls = emu.callsTo('setWebhook');
      expect(calls).toHaveLength(2);
      for (const call of calls) {
        expect(call.ok).toBe(true);
        expect(call.params).toMatchObject({ url: `${lb.url}${webhookPath}`, secret_token: SECRET });
      }
      const info = (await fetch(`${emu.apiRoot}/bot${emu.token}/getWebhookInfo`).then((r) => r.json())) as {
        result: Record<string, unknown>;
      };
      expect(info.result.url).toBe(`${lb.url}${webhookPath}`);
      expect(info.result.last_error_message).toBeUndefined();
      expect(emu.callsTo('getUpdates')).toEqual([]);
      expect(emu.callsTo('deleteWebhook')).toEqual([]);
      // The polling leader lock plays no part in webhook mode.
      expect((await health(a)).polling).toBeUndefined();
      expect((await health(b)).polling).toBeUndefined();
    });

    it('staff replies land on either instance and every one reaches the visitor on A exactly once, in order', async () => {
      const texts = Array.from({ length: 10 }, (_, i) => `reply ${i} through the balancer`);
      const updates = texts.map((text) => emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text, threadId: topicId }).update);
      await v.waitFor('message', (m) => m.text === texts[texts.length - 1], 20000);
      await emu.webhookIdle();
      expect(emu.pendingUpdates()).toEqual([]);
      await allInstancesDelivered();

      expect(staffTexts()).toEqual(texts);
      const rows = await db('messages')
        .where({ thread_id: threadId, sender_type: 'staff' })
        .whereNot('content_text', 'like', `${BARRIER}%`)
        .orderBy('id');
      expect(rows.map((r) => r.content_text)).toEqual(texts);
      for (const u of updates) expect(await db('processed_updates').where({ update_id: u.update_id })).toHaveLength(1);
      // Round robin without stickiness: both instances took some of the updates.
      const targets = new Set(updates.flatMap((u) => takenBy(u.update_id)));
      expect([...targets].sort()).toEqual([a.url, b.url].sort());
    }, 60_000);

    it('the same update delivered to both instances at once is handled once', async () => {
      // Telegram re-delivers an update whose answer is slow; behind a balancer the repeat reaches
      // another instance while the first may still be handling it. Each update here goes to both at once.
      const texts: string[] = [];
      for (let i = 0; i < 6; i++) {
        const text = `said once, delivered twice (${i})`;
        texts.push(text);
        const update = staffUpdate(700_000 + i, text);
        const answers = await Promise.all([post(a, update), post(b, update)]);
        expect(answers.map((r) => r.status)).toEqual([200, 200]);
      }
      await v.waitFor('message', (m) => m.text === texts[texts.length - 1], 10000);
      await allInstancesDelivered();
      const counts = await Promise.all(texts.map(async (text) => ({ text, received: received(text), rows: await staffRows(text) })));
      expect(counts).toEqual(texts.map((text) => ({ text, received: 1, rows: 1 })));
      for (let i = 0; i < texts.length; i++) expect(await db('processed_updates').where({ update_id: 700_000 + i })).toHaveLength(1);
    }, 60_000);

    it('a slow answer makes Telegram deliver again through the balancer, to the other instance; handled once', async () => {
      // The instance that takes the update answers, but the answer reaches Telegram too late.
      lb.delayAnswers(1, WEBHOOK_TIMEOUT_MS + 1000);
      const text = 'answered slowly';
      const { update } = emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text, threadId: topicId });
      await v.waitFor('message', (m) => m.text === text, 10000);
      await eventually(async () => takenBy(update.update_id).length >= 2, {
        timeoutMs: 10000,
        what: 'Telegram delivered the update again',
      });
      await emu.webhookIdle();
      expect(emu.pendingUpdates()).toEqual([]);
      await allInstancesDelivered();

      expect(new Set(takenBy(update.update_id)).size).toBe(2); // first try on one instance, the repeat on the other
      expect(received(text)).toBe(1);
      expect(await staffRows(text)).toBe(1);
      expect(await db('processed_updates').where({ update_id: update.update_id })).toHaveLength(1);
    }, 60_000);
  },
);
