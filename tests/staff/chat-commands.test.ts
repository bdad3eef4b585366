import { createHash } from 'node:crypto';
import { AWAY_REPLY_AFTER_MS } from '../../src/domain/visitor-messages';
import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk, type VisitorClient } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import { botMessages, movableClock, staffSays, visitorWithThread, type Staff } from './staff-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { api, staffCookie } from '../admin/admin-helpers';

/**
 * Commands that work anywhere in the staff chat (README "Commands"): /threads, /stats,
 * /web, /away, /back, /help — through the real bot, the Bot API emulator, real
 * sockets and a real database.
 */
const MINUTE = 60_000;
const PUBLIC_URL = 'https://support.example';
const todayAt10 = () => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 10));
};

describeEachDatabase('commands anywhere in the staff chat, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  let ayse: Staff;
  const clock = movableClock();

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      clock,
      env: { PUBLIC_URL },
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5002, first_name: 'Ayşe', language_code: 'tr', is_bot: false }) as Staff;
      },
    });
    ({ db, emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  const inGeneral = (text: string, from: Staff = deniz) => staffSays(emu, { chatId: STAFF_CHAT_ID, from, text });

  it('registers the command menu for the staff chat only, in English and Turkish', async () => {
    const calls = await emu.waitForCalls('setMyCommands', 2);
    expect(calls.map((c) => [c.params.scope, c.params.language_code])).toEqual([
      [{ type: 'chat', chat_id: STAFF_CHAT_ID }, undefined],
      [{ type: 'chat', chat_id: STAFF_CHAT_ID }, 'tr'],
    ]);
    const names = [
      'close',
      'reopen',
      'block',
      'unblock',
      'info',
      'retry',
      'threads',
      'stats',
      'web',
      'away',
      'back',
      'lockdown',
      's',
      'transcript',
      'move',
      'forget',
      'snippets',
      'snippet',
      'department',
      'help',
    ];
    for (const call of calls) expect((call.params.commands as Array<{ command: string }>).map((c) => c.command)).toEqual(names);
    expect((calls[1].params.commands as Array<{ description: string }>)[0].description).toBe('Bu görüşmeyi kapat');
  });

  it('/threads with nothing open says so', async () => {
    expect((await inGeneral('/threads')).answer.text).toBe('No open conversations. 🎉');
  });

  it('/threads lists open threads, newest activity first, linked to their topics, ten a page with buttons', async () => {
    const visitors = [];
    for (let i = 0; i < 12; i++) {
      clock.advance(1000);
      visitors.push(await visitorWithThread(td, `question ${i}`));
    }
    await visitors[0].v.emit('profile:update', { name: 'Zeynep' });
    // One closed thread is left out; the oldest writes again and moves to the top.
    const closed = await visitorWithThread(td, 'soon closed');
    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: closed.topicId! });
    clock.advance(1000);
    const again = await visitors[0].v.send('anyone there?');
    await visitors[0].v.waitFor('message:status', (s) => s.id === again.message.id);
    const order = [visitors[0], ...visitors.slice(1).reverse()];

    const { answer } = await inGeneral('/threads');
    const lines = answer.text.split('\n');
    expect(lines[0]).toBe('Open conversations: 12');
    expect(lines.at(-1)).toBe('Page 1 of 2');
    const items = lines.filter((l) => l.startsWith('• '));
    expect(items).toHaveLength(10);
    expect(items[0]).toMatch(new RegExp(`^• Zeynep · ${order[0].ref} — \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$`));
    expect(items.map((l) => l.split(' · ')[1].split(' ')[0])).toEqual(order.slice(0, 10).map((o) => o.ref));
    expect(items[1]).toContain(`Visitor #${order[1].visitorId} · ${order[1].ref}`);
    expect(answer.text).not.toContain(closed.ref);
    const links = (answer.message.entities ?? []).flatMap((e) => (e.type === 'text_link' ? [e.url] : []));
    expect(links).toEqual(order.slice(0, 10).map((o) => `https://t.me/c/1234567890/${o.topicId}`));
    expect(answer.params.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Older ›', callback_data: 'threads:1' }]] });

    // "Older ›" turns the same message to page 2.
    const press = emu.userPressesButton({ chatId: STAFF_CHAT_ID, from: deniz, messageId: answer.message.message_id, data: 'threads:1' });
    const edit = await emu.waitFor((c) => c.method === 'editMessageText' && c.params.message_id === answer.message.message_id);
    await emu.waitFor((c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === press.callbackQuery.id);
    const page2 = (edit.result as any).text.split('\n');
    expect(page2.filter((l: string) => l.startsWith('• ')).map((l: string) => l.split(' · ')[1].split(' ')[0])).toEqual(
      order.slice(10).map((o) => o.ref),
    );
    expect(page2.at(-1)).toBe('Page 2 of 2');
    expect(edit.params.reply_markup).toEqual({ inline_keyboard: [[{ text: '‹ Newer', callback_data: 'threads:0' }]] });

    // In Turkish, for a Turkish staff member.
    const tr = await inGeneral('/threads', ayse);
    expect(tr.answer.text.split('\n')[0]).toBe('Açık görüşmeler: 12');
    expect(tr.answer.params.reply_markup?.inline_keyboard?.[0][0].text).toBe('Daha eski ›');

    // A stale button (threads closed since) shows the last page that exists, not an empty one.
    for (const o of order.slice(9)) await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: o.topicId! });
    emu.userPressesButton({ chatId: STAFF_CHAT_ID, from: deniz, messageId: answer.message.message_id, data: 'threads:1' });
    const stale = await emu.waitFor(
      (c) => c.method === 'editMessageText' && c !== edit && c.params.message_id === answer.message.message_id,
    );
    const lines1 = (stale.result as any).text.split('\n');
    expect(lines1[0]).toBe('Open conversations: 9');
    expect(lines1.filter((l: string) => l.startsWith('• '))).toHaveLength(9);
    expect(lines1.at(-1)).toBe('Page 1 of 1');
    expect(stale.params.reply_markup).toBeUndefined();
    for (const { v } of [...visitors, closed]) v.close();
  });

  it('/web sends a one-time login link privately, or says how to let the bot write first', async () => {
    const refused = await inGeneral('/web');
    expect(refused.answer.text).toBe(
      'I can’t message you privately yet. Open @topicdesk_test_bot, press Start, then send /web here again.',
    );
    expect(
      emu
        .callsTo('sendMessage')
        .filter((c) => !c.ok && Number(c.params.chat_id) === deniz.id)
        .at(-1)!.error!.error_code,
    ).toBe(403);

    // Deniz opens the bot and presses Start: now the bot may write to him.
    await staffSays(emu, { chatId: deniz.id, from: deniz, text: '/start' });
    const privateBefore = botMessages(emu, deniz.id).length;
    const { answer } = await inGeneral('/web');
    expect(answer.text).toBe('🔐 I sent you a one-time login link in our private chat.');
    const link = botMessages(emu, deniz.id).slice(privateBefore);
    expect(link).toHaveLength(1);
    const url = /(https:\/\/\S+)$/.exec(link[0].params.text as string)![1];
    expect(url).toMatch(new RegExp(`^${PUBLIC_URL}/admin/login\\?token=[A-Za-z0-9_-]{43}$`));
    // Stored only as a hash, for this staff member, for 10 minutes, unused.
    const token = new URL(url).searchParams.get('token')!;
    const row = await td.app
      .db('staff_login_tokens')
      .where({ token_hash: createHash('sha256').update(token).digest('hex') })
      .first();
    expect(row).toBeDefined();
    expect(Number(row.telegram_user_id)).toBe(deniz.id);
    expect(Number(row.expires_at) - Number(row.created_at)).toBe(10 * MINUTE);
    expect(row.used_at).toBeNull();
    // The link never appears in the group.
    expect(botMessages(emu, STAFF_CHAT_ID).some((c) => String(c.params.text).includes(token))).toBe(false);
  });

  it('/away tells every connected visitor; a first message after 30 minutes of silence gets the away message; /back ends it', async () => {
    const talking = await visitorWithThread(td, 'Hi');
    const idle = await connectVisitor(td.url);
    const awayText = 'Back at 9:00 <b>tomorrow</b>';

    const { answer } = await inGeneral(`/away ${awayText}`);
    expect(answer.text).toBe(`🌙 Support is now away. Visitors see: “${awayText}”`);
    for (const v of [talking.v, idle])
      expect(await v.waitFor('support:status', (s) => s.status === 'away')).toEqual({ status: 'away', message: awayText });
    // A visitor connecting now hears it right after its session.
    const late = await connectVisitor(td.url);
    expect(late.received.map((r) => r.event).slice(0, 2)).toEqual(['session', 'support:status']);
    expect(late.received[1].payload).toEqual({ status: 'away', message: awayText });
    late.close();

    // A new thread's first message gets the away message at once.
    const first = await idle.send('Is anyone there?');
    const reply = await idle.waitFor('message', (m) => m.sender === 'system');
    expect(reply).toMatchObject({ threadId: first.message.threadId, text: awayText, status: 'delivered' });

    // Within 30 minutes of the last activity: no away message.
    clock.advance(AWAY_REPLY_AFTER_MS - MINUTE);
    const soon = await talking.v.send('One more thing');
    await talking.v.waitFor('message:status', (s) => s.id === soon.message.id);
    // After 30 minutes of silence: once, then not again right after.
    clock.advance(AWAY_REPLY_AFTER_MS + MINUTE);
    await talking.v.send('Hello again');
    await talking.v.send('And again');
    await talking.v.waitFor('message', (m) => m.sender === 'system');
    const history = await talking.v.emit('history', {});
    expect(history.messages.map((m) => [m.sender, m.text])).toEqual([
      ['visitor', 'Hi'],
      ['visitor', 'One more thing'],
      ['visitor', 'Hello again'],
      ['system', awayText],
      ['visitor', 'And again'],
    ]);
    // The away message is for the visitor; staff never get it in Telegram.
    await eventually(async () => (await td.app.health()).outbox === 0, { what: 'outbox drained' });
    expect(botMessages(emu, STAFF_CHAT_ID).some((c) => c.params.text === awayText)).toBe(false);

    // Too long: refused, nothing changes.
    expect((await inGeneral(`/away ${'x'.repeat(501)}`)).answer.text).toBe('The away message can be at most 500 characters.');
    expect(talking.v.received.filter((r) => r.event === 'support:status')).toHaveLength(2);

    // /back: everyone hears it, and silence no longer brings a reply.
    expect((await inGeneral('/back')).answer.text).toBe('☀️ Support is online again.');
    for (const v of [talking.v, idle])
      expect(await v.waitFor('support:status', (s) => s.status === 'online')).toEqual({ status: 'online', message: null });
    clock.advance(AWAY_REPLY_AFTER_MS + MINUTE);
    const after = await talking.v.send('Back online?');
    await talking.v.waitFor('message:status', (s) => s.id === after.message.id);
    expect(await td.app.db('messages').where({ thread_id: talking.threadId, sender_type: 'system' })).toHaveLength(1);
    talking.v.close();
    idle.close();
  });

  it('/away without a message uses the default text; the status survives a restart; answers in Turkish', async () => {
    expect((await inGeneral('/away', ayse)).answer.text).toBe('🌙 Destek artık uzakta.');
    await td.stop();
    td = setup.td = await startTopicdesk({ db, emulator: emu, clock, env: { PUBLIC_URL } });
    // Until the bot is connected again, visitors hear offline (tests/web/support-status.test.ts); then away.
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    const v = await connectVisitor(td.url);
    expect(await v.waitFor('support:status')).toEqual({ status: 'away', message: null });
    const hello = await v.send('Hello?');
    expect((await v.waitFor('message', (m) => m.sender === 'system')).text).toBe(
      'Support is away right now. We will answer as soon as we are back.',
    );
    await v.waitFor('message:status', (s) => s.id === hello.message.id);
    expect((await inGeneral('/back', ayse)).answer.text).toBe('☀️ Destek yeniden çevrimiçi.');
    v.close();
  });

  it('/help lists every command, in General and in a topic, in English and Turkish', async () => {
    const en = await inGeneral('/help');
    expect(en.answer.params.parse_mode).toBe('HTML');
    for (const c of [
      '/close',
      '/reopen',
      '/block',
      '/unblock',
      '/info',
      '/retry',
      '/threads',
      '/stats',
      '/web',
      '/away [message]',
      '/back',
      '/lockdown on|off',
      '/s <name>',
      '/transcript',
      '/snippets',
      '/help',
    ])
      expect(en.answer.text).toContain(`\n${c} — `);
    const { topicId } = await visitorWithThread(td);
    const inTopic = await staffSays(emu, { chatId: STAFF_CHAT_ID, from: ayse, text: '/help', threadId: topicId! });
    expect(inTopic.answer.params.message_thread_id).toBe(topicId);
    expect(inTopic.answer.text).toContain('/close — görüşmeyi kapat (ziyaretçiye bildirilir)');
    expect(inTopic.answer.text).toContain(
      '/lockdown on|off — spam altında: yalnızca Telegram ile doğrulanmış ziyaretçiler yeni görüşme açabilir',
    );
  });
});

describeEachDatabase('/stats, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  // Mid-morning UTC, so "today" never straddles midnight while the test runs.
  const clock = movableClock(todayAt10());

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      clock,
      env: { OUTBOX_SEND_TIMEOUT_SECONDS: '2' },
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
      },
    });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  const stats = async () => (await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/stats' })).answer.text.split('\n');
  const staffReply = async (topicId: number, v: VisitorClient, text: string) => {
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text, threadId: topicId });
    await v.waitFor('message', (m) => m.sender === 'staff' && m.text === text);
  };

  it("counts threads, today's messages, the median first response, and the outbox backlog and failures", async () => {
    expect(await stats()).toEqual([
      'Support at a glance',
      'Open conversations: 0',
      'Closed conversations: 0',
      'Messages today: 0',
      'Median first response (30 days): —',
      'Waiting to reach Telegram: 0',
      'Failed to reach Telegram: 0',
      'Satisfaction (30 days): no ratings yet',
      'Satisfaction today: no ratings yet',
    ]);

    // First responses after 2, 4 and 10 minutes: the median is 4 minutes.
    for (const wait of [2, 4, 10]) {
      const { v, topicId } = await visitorWithThread(td, `waiting ${wait}`);
      clock.advance(wait * MINUTE);
      await staffReply(topicId!, v, `answer after ${wait}`);
      await staffReply(topicId!, v, 'a second answer does not count');
      if (wait === 10) await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: topicId! });
      v.close();
    }
    // A message Telegram refuses for good, and one whose send hangs (still waiting).
    const refused = await connectVisitor(td.url);
    emu.failNext('sendMessage', { error_code: 400, description: 'Bad Request: message is too long' });
    await refused.send('refused by Telegram');
    await eventually(async () => (await td.app.health()).outboxFailed === 1, { what: 'a failed outbox row' });
    // Staff are told of the failure (after the row is marked failed): that send must not be the one held below.
    await emu.waitFor((c) => c.method === 'sendMessage' && String(c.params.text).includes('refused by Telegram'));
    const waiting = await connectVisitor(td.url);
    emu.hangNext('sendMessage');
    await waiting.send('stuck on the way');
    await emu.waitFor((c) => c.method === 'sendMessage' && c.error?.error_code === 0, { includeFailed: true });

    expect(await stats()).toEqual([
      'Support at a glance',
      'Open conversations: 4',
      'Closed conversations: 1',
      'Messages today: 11', // 3 × (1 visitor + 2 staff) + 2 visitors; system notes are not counted
      'Median first response (30 days): 4 min',
      'Waiting to reach Telegram: 1',
      'Failed to reach Telegram: 1',
      'Satisfaction (30 days): no ratings yet',
      'Satisfaction today: no ratings yet',
    ]);
    // The staff page's stats (same 30 days, UTC) say the same: one definition of first response.
    const page = await api(td, '/api/admin/stats', await staffCookie(td, emu, deniz));
    expect(page.status).toBe(200);
    const botSide = await td.app.store.stats.stats(clock.now());
    expect(botSide.medianFirstResponseMs).toBeGreaterThanOrEqual(4 * MINUTE);
    expect(page.body).toMatchObject({ medianFirstResponseMs: botSide.medianFirstResponseMs, openThreads: 4, closedThreads: 1 });
    // The hung send is retried after its timeout and arrives.
    await eventually(async () => (await td.app.health()).outbox === 0, { what: 'backlog drained', timeoutMs: 10_000 });
    refused.close();
    waiting.close();
  });
});
