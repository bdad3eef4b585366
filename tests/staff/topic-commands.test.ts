import type { User } from 'grammy/types';
import { noticeText } from '../../src/domain/notices';

const SYSTEM_TEXTS = {
  closed: noticeText({ code: 'thread_closed', params: {} }, 'en'),
  reopened: noticeText({ code: 'thread_reopened', params: {} }, 'en'),
};
import { connectVisitor, eventually, outboxIdle, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { GROUP_ANONYMOUS_BOT } from '../../src/emulator/staff-topics';
import { describeEachDatabase } from '../support/services';
import { runToCode } from '../otp/otp-helpers';
import { botMessages, staffSays, staffSaysUnanswered, visitorWithThread, type Staff } from './staff-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * Commands inside a visitor's topic (README "Commands"): the real bot polls the Bot API
 * emulator, staff send real `bot_command` messages into real forum topics, and
 * the visitor side is a real Socket.IO client.
 */
describeEachDatabase('commands in a thread topic, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  let ayse: Staff;

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5002, first_name: 'Ayşe', language_code: 'tr', is_bot: false }) as Staff;
      },
    });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  const inTopic = (topicId: number, from: User, text: string) => staffSays(emu, { chatId: STAFF_CHAT_ID, from, text, threadId: topicId });
  const topic = (topicId: number) => emu.topics(STAFF_CHAT_ID).find((t) => t.message_thread_id === topicId)!;

  it('/close closes the thread and its topic and tells the visitor; writing again reopens both', async () => {
    const { v, threadId, topicId } = await visitorWithThread(td, 'My parcel is late');

    const { sent, answer } = await inTopic(topicId!, deniz, '/close');
    expect(sent.entities).toEqual([{ type: 'bot_command', offset: 0, length: 6 }]);
    expect(answer.params.message_thread_id).toBe(topicId);
    expect(answer.text).toMatch(/^✅ Conversation closed/);

    // Telegram: the topic is closed.
    await emu.waitFor((c) => c.method === 'closeForumTopic' && c.params.message_thread_id === topicId);
    expect(topic(topicId!).closed).toBe(true);
    // Visitor: the status, and a system note, live.
    expect(await v.waitFor('thread:status')).toEqual({ id: threadId, status: 'closed', rateable: true });
    const note = await v.waitFor('message', (m) => m.sender === 'system');
    expect(note).toMatchObject({ threadId, sender: 'system', text: SYSTEM_TEXTS.closed, notice: { code: 'thread_closed', params: {} } });
    // Stored.
    expect((await td.app.store.threads.findById(threadId))!.status).toBe('closed');

    // A reconnecting visitor sees the closed thread in its session.
    const again = await connectVisitor(td.url, v.session.token);
    expect(again.session.thread).toEqual({ id: threadId, status: 'closed', rateable: true });
    again.close();

    // The visitor writes again: the thread reopens and the message reaches the (reopened) topic.
    const next = await v.send('Hello? Still waiting');
    expect(next.ok).toBe(true);
    await v.waitFor('thread:status', (s) => s.status === 'open');
    await v.waitFor('message:status', (s) => s.id === next.message.id);
    expect(topic(topicId!).closed).toBe(false);
    expect((await td.app.store.threads.findById(threadId))!).toMatchObject({ status: 'open', topicId });
    expect(botMessages(emu, STAFF_CHAT_ID).at(-1)!.params).toMatchObject({ text: 'Hello? Still waiting', message_thread_id: topicId });
    v.close();
  });

  it('/close on a closed thread and /reopen on an open one say so and change nothing', async () => {
    const { v, threadId, topicId, ref, visitorId } = await visitorWithThread(td);
    await inTopic(topicId!, deniz, '/close');
    await v.waitFor('thread:status');
    // The topic is closed once Telegram answered closeForumTopic (it may come after the visitor heard of it).
    await eventually(() => topic(topicId!).closed, { what: 'the topic closed' });
    const closes = emu.callsTo('closeForumTopic').length;

    // The closed topic refuses the bot's posts (TOPIC_CLOSED): the answer goes to General, naming the thread.
    const second = await inTopic(topicId!, deniz, '/close');
    expect(second.answer.text).toBe(`#${ref} · This conversation is already closed.`);
    expect(second.answer.params.message_thread_id).toBeUndefined();
    expect(emu.callsTo('closeForumTopic')).toHaveLength(closes);
    const info = await inTopic(topicId!, deniz, '/info');
    expect(info.answer.text).toMatch(new RegExp(`^#${ref} · Visitor #${visitorId} · ${ref}\n`));
    expect(info.answer.text).toContain('Status: closed');

    const reopen = await inTopic(topicId!, deniz, '/reopen@topicdesk_test_bot');
    expect(reopen.answer.text).toBe('↩️ Conversation reopened.');
    expect(topic(topicId!).closed).toBe(false);
    expect(await v.waitFor('thread:status', (s) => s.status === 'open')).toEqual({ id: threadId, status: 'open', rateable: false });
    expect(await v.waitFor('message', (m) => m.text === SYSTEM_TEXTS.reopened)).toMatchObject({ sender: 'system', threadId });

    const twice = await inTopic(topicId!, deniz, '/reopen');
    expect(twice.answer.text).toBe('This conversation is already open.');
    expect(v.received.filter((r) => r.event === 'thread:status')).toHaveLength(2);
    expect((await td.app.db('messages').where({ thread_id: threadId, sender_type: 'system' })).map((m) => m.content_text)).toEqual([
      SYSTEM_TEXTS.closed,
      SYSTEM_TEXTS.reopened,
    ]);
    v.close();
  });

  it("/block refuses the visitor's further messages with a clear `blocked` error; /unblock lets them through again", async () => {
    const { v, threadId, topicId, visitorId } = await visitorWithThread(td, 'spam spam');

    const block = await inTopic(topicId!, deniz, '/block');
    expect(block.answer.text).toBe('⛔ Visitor blocked. Their messages are refused until /unblock.');
    expect((await td.app.store.visitors.findById(visitorId))!.blocked).toBe(true);

    const sendsBefore = botMessages(emu, STAFF_CHAT_ID).length;
    const refused = await v.send('more spam');
    expect(refused).toEqual({ ok: false, error: { code: 'blocked', message: 'Support is not accepting messages from you.' } });
    // Every device of the visitor is refused too, and nothing is stored or sent.
    const otherTab = await connectVisitor(td.url, v.session.token);
    expect((await otherTab.send('from another tab')).error.code).toBe('blocked');
    expect(await td.app.db('messages').where({ thread_id: threadId, sender_type: 'visitor' })).toHaveLength(1);
    await outboxIdle(td);
    expect(botMessages(emu, STAFF_CHAT_ID)).toHaveLength(sendsBefore);

    expect((await inTopic(topicId!, deniz, '/block')).answer.text).toBe('This visitor is already blocked.');

    // Staff can still write to a blocked visitor.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'Please stop.', threadId: topicId! });
    await v.waitFor('message', (m) => m.sender === 'staff' && m.text === 'Please stop.');

    const unblock = await inTopic(topicId!, deniz, '/unblock');
    expect(unblock.answer.text).toBe('✅ Visitor unblocked.');
    const ok = await v.send('sorry about that');
    expect(ok.ok).toBe(true);
    await v.waitFor('message:status', (s) => s.id === ok.message.id);
    expect((await inTopic(topicId!, deniz, '/unblock')).answer.text).toBe('This visitor is not blocked.');
    v.close();
    otherTab.close();
  });

  it('/block holds for every device of a verified visitor, also one verified after the block', async () => {
    const user = emu.addUser({ id: 7002, first_name: 'Kerem', language_code: 'en', is_bot: false });
    const phone = connectVisitor(td.url);
    const { v: laptop, threadId, topicId } = await visitorWithThread(td, 'From my laptop');
    expect((await laptop.emit('otp:verify', { code: (await runToCode(emu, laptop, user)).code })).ok).toBe(true);
    const tablet = await phone;
    expect((await tablet.emit('otp:verify', { code: (await runToCode(emu, tablet, user)).code })).ok).toBe(true);
    const fromTablet = await tablet.send('From my tablet');
    expect(fromTablet.message.threadId).toBe(threadId);
    // In the topic before /block: otherwise its post could be taken for the bot's answer to /block.
    await tablet.waitFor('message:status', (s) => s.id === fromTablet.message.id && s.status === 'delivered');

    await inTopic(topicId!, deniz, '/block');
    expect((await laptop.send('laptop, blocked')).error?.code).toBe('blocked');
    expect((await tablet.send('tablet, blocked')).error?.code).toBe('blocked');
    // A new device verified as the same person afterwards is refused too.
    const desktop = await connectVisitor(td.url);
    expect((await desktop.emit('otp:verify', { code: (await runToCode(emu, desktop, user)).code })).ok).toBe(true);
    expect((await desktop.send('desktop, blocked')).error?.code).toBe('blocked');
    expect(await td.app.db('messages').where({ thread_id: threadId }).whereLike('content_text', '%blocked')).toEqual([]);

    await inTopic(topicId!, deniz, '/unblock');
    for (const [v, text] of [
      [laptop, 'laptop ok'],
      [tablet, 'tablet ok'],
      [desktop, 'desktop ok'],
    ] as const) {
      const res = await v.send(text);
      expect({ text, ok: res.ok }).toEqual({ text, ok: true });
    }
    for (const v of [laptop, tablet, desktop]) v.close();
  });

  it('/info shows who the visitor is: name (escaped), not verified, first seen, activity, counts, the page they came from', async () => {
    const page = 'https://shop.example/checkout?step=2&x=<y>';
    const { v, topicId, ref, visitorId } = await visitorWithThread(td, 'Is this in stock?', { page });
    expect((await v.emit('profile:update', { name: '<b>Can</b> & Co' })).ok).toBe(true);
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'Let me check.', threadId: topicId! });
    await v.waitFor('message', (m) => m.sender === 'staff');

    const { answer } = await inTopic(topicId!, deniz, '/info');
    expect(answer.params.parse_mode).toBe('HTML');
    const lines = answer.text.split('\n');
    expect(lines[0]).toBe(`Visitor #${visitorId} · ${ref}`);
    expect(lines).toContain('Name: <b>Can</b> & Co'); // markup from the visitor arrives as text
    expect(lines).toContain('Verified: no');
    expect(lines.some((l) => l.startsWith('Phone'))).toBe(false);
    expect(lines.find((l) => l.startsWith('First seen: '))).toMatch(/^First seen: \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(lines.find((l) => l.startsWith('Last activity: '))).toMatch(/UTC$/);
    expect(lines).toContain('Messages: 1 from the visitor, 1 from staff');
    expect(lines).toContain('Status: open');
    // In the URL parser's spelling (pageAddress): what is not plain ASCII or is markup is percent-encoded; `&` arrives as text.
    expect(lines).toContain('Page: https://shop.example/checkout?step=2&x=%3Cy%3E');
    expect(answer.message.entities).toContainEqual(expect.objectContaining({ type: 'bold', offset: 0 }));
    v.close();
  });

  it('/info of a verified visitor shows the phone; answers in Turkish to a Turkish staff member', async () => {
    const { v, topicId } = await visitorWithThread(td, 'Merhaba');
    const user = emu.addUser({ id: 7001, first_name: 'Elif', language_code: 'en', is_bot: false });
    const { code } = await runToCode(emu, v, user, '905551112233');
    expect((await v.emit('otp:verify', { code })).ok).toBe(true);
    // The outbox posts the verification into the topic: once it is there, the bot's next message in it is /info's answer.
    await emu.waitFor(
      (c) =>
        c.ok && c.method === 'sendMessage' && c.params.message_thread_id === topicId && String(c.params.text).startsWith('✅ Verified'),
    );

    const { answer } = await inTopic(topicId!, ayse, '/info');
    const lines = answer.text.split('\n');
    expect(lines).toContain('Doğrulandı: evet');
    expect(lines).toContain('Telefon: +905551112233');
    expect(lines).toContain('Durum: açık');
    expect(lines.find((l) => l.startsWith('Mesajlar: '))).toBe('Mesajlar: ziyaretçiden 1, personelden 0');
    v.close();
  });

  it('answers in Turkish to /close, /block and the misuse explanation', async () => {
    const { v, topicId } = await visitorWithThread(td);
    expect((await inTopic(topicId!, ayse, '/block')).answer.text).toBe(
      '⛔ Ziyaretçi engellendi. /unblock yapılana kadar mesajları reddedilir.',
    );
    expect((await inTopic(topicId!, ayse, '/close')).answer.text).toMatch(/^✅ Görüşme kapatıldı/);
    expect((await staffSays(emu, { chatId: STAFF_CHAT_ID, from: ayse, text: '/info' })).answer.text).toBe(
      'Bu komutu bir ziyaretçinin konusunda kullanın.',
    );
    v.close();
  });

  it('an admin posting anonymously (as the group) is staff too: replies reach the visitor, commands work, /web explains', async () => {
    const { v, threadId, topicId } = await visitorWithThread(td);
    let nextId = 50_000;
    const supergroup = { id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true };
    /** What Telegram sends when an admin with "Remain anonymous" posts: from GroupAnonymousBot, sender_chat the group. */
    const asGroup = (text: string, threadId?: number) => {
      const command = /^\/\w+/.exec(text);
      emu.injectUpdate({
        message: {
          message_id: ++nextId,
          from: GROUP_ANONYMOUS_BOT,
          sender_chat: supergroup,
          chat: supergroup,
          date: Math.floor(Date.now() / 1000),
          ...(threadId !== undefined ? { message_thread_id: threadId, is_topic_message: true } : {}),
          text,
          ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
        },
      });
    };
    asGroup('Answer from an anonymous admin', topicId!);
    expect((await v.waitFor('message', (m) => m.sender === 'staff')).text).toBe('Answer from an anonymous admin');

    const before = botMessages(emu, STAFF_CHAT_ID).length;
    asGroup('/close', topicId!);
    await v.waitFor('thread:status');
    expect((await td.app.store.threads.findById(threadId))!.status).toBe('closed');
    asGroup('/web');
    await eventually(() => botMessages(emu, STAFF_CHAT_ID).length >= before + 2, { what: 'two answers' });
    expect(
      botMessages(emu, STAFF_CHAT_ID)
        .slice(before)
        .map((c) => c.params.text),
    ).toEqual([
      expect.stringMatching(/^✅ Conversation closed/),
      'You are posting anonymously, so I can’t tell who you are. Turn off “Remain anonymous” in your admin rights, then send /web again.',
    ]);
    v.close();
  });

  describe('used in the wrong place', () => {
    it('a topic command in General gets a short explanation and changes nothing', async () => {
      const { v, threadId, visitorId } = await visitorWithThread(td);
      for (const command of ['/close', '/reopen', '/block', '/unblock', '/info']) {
        const { answer } = await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: command });
        expect(answer.text).toBe('Use this command inside a visitor’s topic.');
        expect(answer.params.message_thread_id).toBeUndefined();
      }
      expect((await td.app.store.threads.findById(threadId))!.status).toBe('open');
      expect((await td.app.store.visitors.findById(visitorId))!.blocked).toBe(false);
      v.close();
    });

    it('a topic command in a topic that is not a visitor conversation says so', async () => {
      const handMade = emu.createTopic(STAFF_CHAT_ID, 'Team chat', { by: deniz, silent: true });
      const { answer } = await inTopic(handMade.message_thread_id, deniz, '/close');
      expect(answer.text).toBe('This topic is not a visitor conversation.');
      expect(answer.params.message_thread_id).toBe(handMade.message_thread_id);
      expect(topic(handMade.message_thread_id).closed).toBe(false);
    });

    it('commands from bots, for another bot, or outside the staff chat do nothing and say nothing', async () => {
      const { v, threadId, topicId } = await visitorWithThread(td);
      const otherBot = emu.addUser({ id: 9001, first_name: 'Helper bot', is_bot: true });
      await staffSaysUnanswered(emu, td, { chatId: STAFF_CHAT_ID, from: otherBot, text: '/close', threadId: topicId! });
      await staffSaysUnanswered(emu, td, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close@some_other_bot', threadId: topicId! });

      const elsewhere = -1009999999999;
      emu.addChat({ id: elsewhere, type: 'supergroup', title: 'Some other group', is_forum: true });
      const strangerTopic = emu.createTopic(elsewhere, 'Chat', { by: deniz, silent: true });
      for (const text of ['/close', '/info', '/block', '/threads', '/stats', '/web', '/away gone', '/help'])
        await staffSaysUnanswered(emu, td, { chatId: elsewhere, from: deniz, text, threadId: strangerTopic.message_thread_id });
      for (const text of ['/close', '/threads', '/stats']) await staffSaysUnanswered(emu, td, { chatId: elsewhere, from: deniz, text });

      expect((await td.app.store.threads.findById(threadId))!.status).toBe('open');
      expect(v.received.filter((r) => r.event === 'support:status')).toHaveLength(1); // only the one after `session`
      expect(emu.callsTo('closeForumTopic').filter((c) => Number(c.params.chat_id) === elsewhere)).toEqual([]);
      v.close();
    });

    it('commands in a private chat with the bot get the general explanation, never thread data', async () => {
      const { v } = await visitorWithThread(td, 'a secret question');
      for (const text of ['/threads', '/info', '/stats', '/close']) {
        const { answer } = await staffSays(emu, { chatId: deniz.id, from: deniz, text });
        expect(answer.text).toMatch(/^I am @topicdesk_test_bot, the support bot of this site\./);
        expect(answer.text).not.toContain('secret');
      }
      v.close();
    });
  });
});
