import { spawn } from 'node:child_process';
import path from 'node:path';
import { eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import { staffSays, visitorWithThread, type Staff } from './staff-helpers';
import { freePort } from '../support/free-port';
import { statementsOf } from '../support/store';

/**
 * BOT_MODE=webhook over real HTTP: the emulator delivers updates by POSTing to
 * topicdesk's /telegram/webhook on its real port, with the secret header; a
 * request without the right secret is refused with 401 and changes nothing.
 */
const SECRET = 'webhook-secret_0123456789abcdef';

describeEachDatabase('webhook mode, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  let publicUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    td = await startTopicdesk({
      db,
      emulator: emu,
      env: { PORT: String(port), PUBLIC_URL: publicUrl, BOT_MODE: 'webhook', WEBHOOK_SECRET: SECRET },
    });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  /** An update Telegram would send for a staff reply in a topic (the message id is the update id). */
  const staffReplyUpdate = (updateId: number, topicId: number, text: string) => ({
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true },
      from: deniz,
      message_thread_id: topicId,
      is_topic_message: true,
      text,
    },
  });
  const webhookUrl = () => `${publicUrl}/telegram/webhook`;
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(webhookUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('registers PUBLIC_URL/telegram/webhook with the secret and never polls', async () => {
    const [call] = emu.callsTo('setWebhook');
    expect(call.params).toMatchObject({ url: webhookUrl(), secret_token: SECRET });
    expect(call.params.allowed_updates).toEqual(expect.arrayContaining(['message', 'edited_message', 'callback_query']));
    expect(emu.callsTo('getUpdates')).toEqual([]);
    expect(emu.callsTo('deleteWebhook')).toEqual([]);
  });

  it('updates arrive over HTTP: a staff reply reaches the visitor, a command is answered, an edit follows', async () => {
    const { v, topicId, ref, visitorId } = await visitorWithThread(td, 'Hello over webhook');
    const { message } = emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'Hi! Webhook reply here', threadId: topicId! });
    const got = await v.waitFor('message', (m) => m.sender === 'staff');
    expect(got.text).toBe('Hi! Webhook reply here');
    const info = await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/info', threadId: topicId! });
    expect(info.answer.text.split('\n')[0]).toBe(`Visitor #${visitorId} · ${ref}`);
    emu.userEdits({ chatId: STAFF_CHAT_ID, messageId: message.message_id, text: 'Hi! Webhook reply, edited' });
    expect((await v.waitFor('message:update')).text).toBe('Hi! Webhook reply, edited');
    await emu.webhookIdle();
    expect(emu.pendingUpdates()).toEqual([]);
    v.close();
  });

  it('answers 401 to a request without the right secret, whatever it carries, and changes nothing', async () => {
    const { v, threadId, topicId } = await visitorWithThread(td, 'Are you real?');
    // A well-formed update that would be a staff reply, had it come from Telegram.
    const forged = staffReplyUpdate(900_001, topicId!, 'forged staff reply');
    const body = JSON.stringify(forged);
    const attempts: Array<Record<string, string>> = [
      {},
      { 'X-Telegram-Bot-Api-Secret-Token': '' },
      { 'X-Telegram-Bot-Api-Secret-Token': 'wrong' },
      { 'X-Telegram-Bot-Api-Secret-Token': SECRET.slice(0, -1) + 'X' }, // same length, last character differs
      { 'X-Telegram-Bot-Api-Secret-Token': SECRET + 'X' },
    ];
    for (const headers of attempts) {
      const res = await post(body, headers);
      expect({ headers, status: res.status }).toEqual({ headers, status: 401 });
    }
    // Not even parsed: a broken or huge body without the secret is refused the same way.
    expect((await post('{not json')).status).toBe(401);
    expect((await post(JSON.stringify({ big: 'x'.repeat(2 * 1024 * 1024) }))).status).toBe(401);

    // Refused before anything was read or started, so there is nothing to wait for.
    expect(await td.app.db('messages').where({ thread_id: threadId, sender_type: 'staff' })).toEqual([]);
    expect(await td.app.db('processed_updates').where({ update_id: forged.update_id })).toEqual([]);
    expect(v.received.filter((r) => r.event === 'message')).toEqual([]);

    // The same update with the right secret is taken (this is what Telegram does).
    const ok = await post(body, { 'X-Telegram-Bot-Api-Secret-Token': SECRET });
    expect(ok.status).toBe(200);
    expect((await v.waitFor('message', (m) => m.sender === 'staff')).text).toBe('forged staff reply');
    v.close();
  });

  it('a staff reply Telegram delivers twice is stored and reaches the visitor once; its first pass writes without a look-up first', async () => {
    const { v, threadId, topicId } = await visitorWithThread(td, 'Twice?');
    const update = staffReplyUpdate(900_101, topicId!, 'said once, delivered twice');
    const deliver = () => post(JSON.stringify(update), { 'X-Telegram-Bot-Api-Secret-Token': SECRET });
    const first = await statementsOf(td.app.db, deliver);
    expect(first.result.status).toBe(200);
    // SQLite: nothing read before the message's transaction; PostgreSQL: the look-up rides with the update's lock.
    const lookUps = first.statements.filter((sql) => /processed_updates/.test(sql) && !/insert into/i.test(sql));
    expect(lookUps).toHaveLength(kind === 'postgres' ? 1 : 0);
    if (kind === 'postgres') expect(lookUps[0]).toMatch(/pg_try_advisory_lock/);
    await v.waitFor('message', (m) => m.text === 'said once, delivered twice');

    expect((await deliver()).status).toBe(200);
    expect(await td.app.db('messages').where({ thread_id: threadId, content_text: 'said once, delivered twice' })).toHaveLength(1);
    expect(await td.app.db('processed_updates').where({ update_id: update.update_id })).toHaveLength(1);
    expect(
      v.received.filter((r) => r.event === 'message' && (r.payload as { text?: string }).text === 'said once, delivered twice'),
    ).toHaveLength(1);
    v.close();
  });

  it('switching back to polling removes the webhook first, and updates flow by getUpdates', async () => {
    await td.stop();
    emu.reset();
    td = await startTopicdesk({ db, emulator: emu });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });

    const { v, topicId } = await visitorWithThread(td, 'Polling again');
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'Reply by polling', threadId: topicId! });
    expect((await v.waitFor('message', (m) => m.sender === 'staff')).text).toBe('Reply by polling');

    // Calls are recorded when answered; `at` is when each arrived.
    const [del] = emu.callsTo('deleteWebhook');
    const polls = emu.callsTo('getUpdates');
    expect(del).toBeDefined();
    expect(polls.length).toBeGreaterThan(0);
    expect(Math.min(...polls.map((c) => c.at))).toBeGreaterThanOrEqual(del.at);
    expect(polls.filter((c) => !c.ok)).toEqual([]); // never a 409 "webhook is active"
    expect(emu.callsTo('setWebhook')).toEqual([]);
    v.close();
  });
});

describe('webhook mode configuration', () => {
  it('a missing WEBHOOK_SECRET stops start-up with one clear line and exit code 2', async () => {
    const main = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH,
        BOT_MODE: 'webhook',
        BOT_TOKEN: '123:abc',
        PUBLIC_URL: 'https://support.example',
        PORT: '0',
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(out.trim().split('\n')).toEqual(['topicdesk: configuration error: WEBHOOK_SECRET: is required when BOT_MODE=webhook']);
  });
});
