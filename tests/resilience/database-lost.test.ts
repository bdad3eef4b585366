import fs from 'node:fs';
import path from 'node:path';
import { TelegramEmulator, formatCall } from '../../src/emulator';
import { connectVisitor, eventually, STAFF_CHAT_ID, type VisitorClient } from '../support/harness';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { describeWith, services } from '../support/services';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { upload } from '../support/uploads';

const PHOTO = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'media', 'photo.jpg'));

/**
 * PostgreSQL restarting under a running instance (docs/deploy.md, "The database is lost
 * while running"), simulated by a relay the test cuts — every connection dropped, the port
 * closed — and restores on the same port. Acknowledged messages are kept and delivered after,
 * /health answers 503 meanwhile and 200 after, a visitor writing meanwhile is told at once,
 * and everything resumes by itself: no restart.
 */
describeWith([services.postgres], 'PostgreSQL lost mid-run, then back', () => {
  let testDb: TestDatabase;
  let emu: TelegramEmulator;
  let proxy: TcpProxy;
  let server: ServerProcess | undefined;
  const visitors: VisitorClient[] = [];
  const staff = { id: 5001, first_name: 'Deniz', is_bot: false as const };

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    emu.addUser(staff);
    const target = new URL(testDb.env.DATABASE_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });
  afterAll(async () => {
    for (const v of visitors) v.close();
    await server?.kill();
    await proxy.close();
    await emu.stop();
    await testDb.drop();
  });

  const health = async (s: ServerProcess) => {
    const res = await fetch(`${s.url}/health`);
    return { code: res.status, ...((await res.json()) as { status: string; db: string }) };
  };
  const visitor = async (s: ServerProcess, token?: string) => {
    const v = await connectVisitor(s.url, token, {}, { ackTimeoutMs: 15_000 });
    visitors.push(v);
    return v;
  };
  const sentTexts = () => emu.sentMessages(STAFF_CHAT_ID).map((m) => m.text);
  /** What went wrong, for a failed wait: the server's last lines and Telegram's calls. */
  const explain = (s: ServerProcess) => (error: Error) => {
    throw new Error(`${error.message}\nserver:\n${s.output().slice(-5000)}\nTelegram calls:\n${emu.calls.map(formatCall).join('\n')}`);
  };

  it('keeps acked messages and delivers them after, answers 503 meanwhile, tells a visitor writing meanwhile, and resumes by itself', async () => {
    const url = new URL(testDb.env.DATABASE_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    const s = await startServerProcess({
      ...testDb.env,
      DATABASE_URL: url.toString(),
      BOT_TOKEN: emu.token,
      TELEGRAM_API_ROOT: emu.apiRoot,
      STAFF_CHAT_ID: String(STAFF_CHAT_ID),
      OUTBOX_POLL_MS: '100',
      TELEGRAM_CHAT_SENDS_PER_MINUTE: '0',
      // The send caught by the outage gives up soon (the default lease, OUTBOX_LEASE_SECONDS, stays).
      OUTBOX_SEND_TIMEOUT_SECONDS: '2',
    });
    server = s;
    expect(await health(s)).toMatchObject({ code: 200, status: 'ok', db: 'ok' });

    const alice = await visitor(s);
    const before = await alice.send('alice: before');
    expect(before.ok).toBe(true);
    await alice.waitFor('message:status', (m) => m.id === before.message.id && m.status === 'delivered', 10_000);
    const topicId = emu.sentMessages(STAFF_CHAT_ID).find((m) => m.text === 'alice: before')!.message_thread_id!;

    // Acknowledged, and on its way to Telegram when the database goes: Telegram does not answer
    // that send, so the message is still waiting for delivery during the outage.
    emu.hangNext('sendMessage');
    const acked = await alice.send('alice: acked before the outage');
    expect(acked.ok).toBe(true);
    await emu.waitFor((c) => c.method === 'sendMessage' && c.params.text === 'alice: acked before the outage', { includeFailed: true });

    await proxy.cut();
    // Staff answer just as the database goes: the answer reaches the visitor after the outage, or
    // staff are told in the topic that it did not — it is never dropped without a word.
    const { message: early } = emu.userSends({
      chatId: STAFF_CHAT_ID,
      from: staff,
      text: 'answered as the database went',
      threadId: topicId,
    });

    // The probe says so: 503, db "error".
    await eventually(async () => (await health(s)).code === 503, { timeoutMs: 10_000, what: '/health 503' });
    expect(await health(s)).toMatchObject({ code: 503, status: 'error', db: 'error' });
    // A visitor writing now is told at once that nothing was stored, with a code the page retries on.
    const refused = await alice.send('alice: during', 'during-1');
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatchObject({
      code: 'unavailable',
      message: 'The chat cannot store messages right now. Nothing was stored; please try again in a moment.',
    });
    // An upload too: 503, and nothing of it is kept.
    const refusedUpload = await upload(s.url, {
      token: alice.session.token,
      parts: [{ name: 'file', filename: 'photo.jpg', contentType: 'image/jpeg', bytes: PHOTO }],
    });
    expect(refusedUpload.status).toBe(503);
    expect(refusedUpload.body.error).toEqual({
      code: 'unavailable',
      message: 'The chat cannot store messages right now. Nothing was stored; please try again in a moment.',
    });
    expect(fs.readdirSync(path.join(testDb.dataDir, 'media')).filter((f) => !f.startsWith('.'))).toEqual([]);
    // A new visitor still gets a session (nothing is stored for a connection: docs/protocol.md), and its
    // first message is told the same; the refused write stores nothing, not even the visitor.
    const newcomer = await connectVisitor(s.url);
    expect(newcomer.session.thread).toBeNull();
    expect((await newcomer.send('hello?', 'newcomer-1')).error).toMatchObject({ code: 'unavailable' });
    newcomer.close();
    // The send Telegram did not answer gives up meanwhile, and its outcome cannot be written: the
    // delivery breaks off with the row still leased.
    await eventually(() => s.output().includes('delivering a thread failed'), {
      timeoutMs: 10_000,
      what: 'the interrupted delivery',
    }).catch(explain(s));
    expect(sentTexts()).not.toContain('alice: acked before the outage');

    await proxy.restore();

    await eventually(async () => (await health(s)).code === 200, { timeoutMs: 15_000, what: '/health 200 again' }).catch(explain(s));
    expect(await health(s)).toMatchObject({ code: 200, status: 'ok', db: 'ok' });
    // The message acked before the outage reaches staff, once, and the visitor sees it delivered.
    await alice.waitFor('message:status', (m) => m.id === acked.message.id && m.status === 'delivered', 30_000).catch(explain(s));
    expect(sentTexts().filter((t) => t === 'alice: acked before the outage')).toHaveLength(1);
    // The page sends the refused message again with its clientId: stored once, delivered.
    const again = await alice.send('alice: during', 'during-1');
    expect(again.ok).toBe(true);
    await alice.waitFor('message:status', (m) => m.id === again.message.id && m.status === 'delivered', 15_000).catch(explain(s));
    // Telegram intake resumed too: a staff answer reaches the visitor.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'answered after the outage', threadId: topicId });
    await alice.waitFor('message', (m) => m.text === 'answered after the outage', 15_000).catch(explain(s));
    const notDelivered = () =>
      emu
        .sentMessages(STAFF_CHAT_ID)
        .some((m) => m.reply_to_message?.message_id === early.message_id && m.text?.startsWith('⚠️ This message could not be delivered'));
    await eventually(() => notDelivered() || alice.received.some((r) => r.event === 'message' && r.payload.text === early.text), {
      timeoutMs: 15_000,
      what: 'the early answer delivered, or staff told it was not',
    }).catch(explain(s));
    // New visitors are let in again, and history has everything once.
    const back = await visitor(s, alice.session.token);
    const history = (await back.emit('history', {})).messages.map((m) => m.text);
    expect(history.filter((t) => t !== early.text)).toEqual([
      'alice: before',
      'alice: acked before the outage',
      'alice: during',
      'answered after the outage',
    ]);
    expect(history.filter((t) => t === early.text)).toHaveLength(notDelivered() ? 0 : 1);

    // What the log said: the outbox paused and resumed once each, however long the outage.
    const lines = s
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { message: string }).message);
    expect(lines.filter((m) => m === 'outbox paused: the database cannot be reached; trying again')).toHaveLength(1);
    expect(lines.filter((m) => m === 'outbox resumed: the database answers again')).toHaveLength(1);
    expect(lines).toContain('visitor event refused: the database cannot be reached');
    // The same process all along.
    expect(s.child.exitCode).toBeNull();
    expect(proxy.accepted()).toBeGreaterThan(1);
  }, 120_000);
});
