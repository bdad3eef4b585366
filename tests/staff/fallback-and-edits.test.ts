import { noticeText } from '../../src/domain/notices';

const SYSTEM_TEXTS = {
  closed: noticeText({ code: 'thread_closed', params: {} }, 'en'),
  reopened: noticeText({ code: 'thread_reopened', params: {} }, 'en'),
};
import { connectVisitor, eventually, roundTrip, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import { botMessages, staffSays, staffSaysUnanswered, telegramIdsOf, visitorWithThread, type Staff } from './staff-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * Without forum topics (README "Staff guide", without topics) staff answer by replying to the bot's
 * `#<ref>` messages; edits in Telegram reach the visitor (README "Answering"); topic
 * names follow the visitor's name, and a closed thread's topic is closed.
 */
describeEachDatabase('a staff chat without topics (reply-to mode), on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  let can: Staff;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: false });
    deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
    can = emu.addUser({ id: 5003, first_name: 'Can', language_code: 'en', is_bot: false }) as Staff;
    td = await startTopicdesk({ db, emulator: emu });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  const reply = (text: string, replyToMessageId: number, from: Staff = deniz) =>
    emu.userSends({ chatId: STAFF_CHAT_ID, from, text, replyToMessageId });

  it('posts visitor messages with a #ref header, no topics; a reply to any of them reaches that visitor only', async () => {
    const alice = await visitorWithThread(td, 'Alice: where is my order?');
    const bob = await visitorWithThread(td, 'Bob: I need an invoice');
    const bob2 = await bob.v.send('Bob again: for March');
    await bob.v.waitFor('message:status', (s) => s.id === bob2.message.id);

    expect(emu.callsTo('createForumTopic')).toEqual([]);
    expect(alice.topicId).toBeNull();
    const [aliceTg] = await telegramIdsOf(td, alice.firstMessageId);
    const [bobTg2] = await telegramIdsOf(td, bob2.message.id);
    expect(emu.message(STAFF_CHAT_ID, aliceTg)!.text).toBe(`#${alice.ref}\nAlice: where is my order?`);
    expect(emu.message(STAFF_CHAT_ID, bobTg2)!.text).toBe(`#${bob.ref}\nBob again: for March`);
    expect(emu.message(STAFF_CHAT_ID, aliceTg)!.message_thread_id).toBeUndefined();

    // Replying to Bob's *second* message answers Bob.
    reply('Invoice is on its way', bobTg2);
    expect(await bob.v.waitFor('message', (m) => m.sender === 'staff')).toMatchObject({
      threadId: bob.threadId,
      text: 'Invoice is on its way',
    });
    const { message: toAlice } = reply('Checking your order now', aliceTg);
    expect(await alice.v.waitFor('message', (m) => m.sender === 'staff')).toMatchObject({
      threadId: alice.threadId,
      text: 'Checking your order now',
    });
    // A colleague replying to that staff message also reaches Alice.
    reply('It left the warehouse today', toAlice.message_id, can);
    await alice.v.waitFor('message', (m) => m.text === 'It left the warehouse today');

    await roundTrip(alice.v);
    expect(alice.v.received.filter((r) => r.event === 'message').map((r) => r.payload.text)).toEqual([
      'Checking your order now',
      'It left the warehouse today',
    ]);
    expect(bob.v.received.filter((r) => r.event === 'message').map((r) => r.payload.text)).toEqual(['Invoice is on its way']);
    alice.v.close();
    bob.v.close();
  });

  it("a reply to a bot message that is not a visitor's gets a hint; plain chatter is left alone", async () => {
    const { v } = await visitorWithThread(td);
    const help = await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/help' });
    const hint = await staffSays(emu, {
      chatId: STAFF_CHAT_ID,
      from: deniz,
      text: 'Thanks bot',
      replyToMessageId: help.answer.message.message_id,
    });
    expect(hint.answer.text).toBe('To answer a visitor, reply to one of their messages (the ones starting with #).');
    expect(hint.answer.params.reply_parameters).toEqual({ message_id: hint.sent.message_id });
    await staffSaysUnanswered(emu, td, { chatId: STAFF_CHAT_ID, from: deniz, text: 'Lunch at 1?' });
    await staffSaysUnanswered(emu, td, { chatId: STAFF_CHAT_ID, from: can, text: 'Sure', replyToMessageId: hint.sent.message_id });
    expect(
      await td.app.db('messages').where({ sender_type: 'staff' }).whereIn('content_text', ['Thanks bot', 'Lunch at 1?', 'Sure']),
    ).toEqual([]);
    expect(v.received.filter((r) => r.event === 'message')).toEqual([]);
    v.close();
  });

  it('topic commands work as replies to a visitor message; without a reply they say how to use them', async () => {
    const { v, threadId, firstMessageId, ref, visitorId } = await visitorWithThread(td, 'Please close my ticket');
    const [tg] = await telegramIdsOf(td, firstMessageId);

    expect((await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close' })).answer.text).toBe(
      'Send this command as a reply to one of the visitor’s messages (the ones starting with #).',
    );
    const info = await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/info', replyToMessageId: tg });
    expect(info.answer.text.split('\n')[0]).toBe(`Visitor #${visitorId} · ${ref}`);

    const close = await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', replyToMessageId: tg });
    expect(close.answer.text).toMatch(/^✅ Conversation closed/);
    expect(await v.waitFor('thread:status')).toEqual({ id: threadId, status: 'closed', rateable: true });
    expect((await v.waitFor('message', (m) => m.sender === 'system')).text).toBe(SYSTEM_TEXTS.closed);
    expect(emu.callsTo('closeForumTopic')).toEqual([]);

    // The visitor writes again: reopened, and posted with its header as before.
    const again = await v.send('One more question');
    await v.waitFor('message:status', (s) => s.id === again.message.id);
    expect((await td.app.store.threads.findById(threadId))!.status).toBe('open');
    expect(botMessages(emu, STAFF_CHAT_ID).at(-1)!.params.text).toBe(`#${ref}\nOne more question`);

    // A name change has no topic to rename here; the queued rename completes without a Telegram call.
    expect((await v.emit('profile:update', { name: 'Selin' })).ok).toBe(true);
    await eventually(async () => (await td.app.health()).outbox === 0, { what: 'rename row done' });
    expect(emu.callsTo('editForumTopic')).toEqual([]);
    v.close();
  });

  it('a staff edit reaches the visitor as message:update, also in reply-to mode', async () => {
    const { v, firstMessageId } = await visitorWithThread(td);
    const [tg] = await telegramIdsOf(td, firstMessageId);
    const { message } = reply('Your order ships Mondya', tg);
    const original = await v.waitFor('message', (m) => m.sender === 'staff');
    emu.userEdits({ chatId: STAFF_CHAT_ID, messageId: message.message_id, text: 'Your order ships Monday' });
    expect(await v.waitFor('message:update')).toEqual({ ...original, text: 'Your order ships Monday' });
    v.close();
  });
});

describeEachDatabase('edits and topic names in a forum staff chat, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
      },
    });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  const topic = (topicId: number) => emu.topics(STAFF_CHAT_ID).find((t) => t.message_thread_id === topicId)!;

  it('an edit updates the stored message and reaches only that visitor, on every device, as message:update', async () => {
    const { v, threadId, topicId } = await visitorWithThread(td);
    const other = await visitorWithThread(td, 'someone else');
    const { message } = emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'Teh answer is 42', threadId: topicId! });
    const original = await v.waitFor('message', (m) => m.sender === 'staff');
    // Read once, so the recent-messages cache holds the old text.
    expect((await v.emit('history', {})).messages.at(-1)!.text).toBe('Teh answer is 42');
    const secondDevice = await connectVisitor(td.url, v.session.token);

    emu.userEdits({ chatId: STAFF_CHAT_ID, messageId: message.message_id, text: 'The answer is 42' });
    const updated = await v.waitFor('message:update');
    expect(updated).toEqual({ ...original, text: 'The answer is 42' });
    expect(await secondDevice.waitFor('message:update')).toEqual(updated);
    expect((await td.app.store.messages.findById(original.id))!.text).toBe('The answer is 42');
    expect((await v.emit('history', {})).messages.map((m) => m.text)).toEqual(['Hello, I need help', 'The answer is 42']);
    expect(await td.app.db('messages').where({ thread_id: threadId, sender_type: 'staff' })).toHaveLength(1);

    await roundTrip(other.v);
    expect(other.v.received.filter((r) => r.event === 'message:update')).toEqual([]);
    v.close();
    secondDevice.close();
    other.v.close();
  });

  it('edits of messages that are not staff replies change nothing', async () => {
    const { v, topicId } = await visitorWithThread(td);
    const chatter = emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'General chatter' });
    const command = emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: '/help', threadId: topicId! });
    await eventually(async () => (await td.app.db('processed_updates').where({ update_id: command.update.update_id })).length === 1);
    const before = botMessages(emu, STAFF_CHAT_ID).length;
    for (const { message } of [chatter, command]) {
      const { update } = emu.userEdits({ chatId: STAFF_CHAT_ID, messageId: message.message_id, text: 'edited' });
      await eventually(async () => (await td.app.db('processed_updates').where({ update_id: update.update_id })).length === 1);
    }
    await roundTrip(v);
    expect(v.received.filter((r) => r.event === 'message:update' || (r.event === 'message' && r.payload.sender !== 'visitor'))).toEqual([]);
    expect(await td.app.db('messages').where({ content_text: 'edited' })).toEqual([]);
    expect(botMessages(emu, STAFF_CHAT_ID).length).toBe(before);
    v.close();
  });

  it('the topic is named after the visitor, renamed through the outbox when the name changes, and closed with the thread', async () => {
    // A name given before the first message names the topic from the start.
    const v = await connectVisitor(td.url);
    expect((await v.emit('profile:update', { name: 'Mert' })).ok).toBe(true);
    const sent = await v.send('Hi, Mert here');
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    const thread = (await td.app.store.threads.findById(sent.message.threadId))!;
    expect(topic(thread.topicId!).name).toBe(`Mert · ${thread.ref}`);

    // A new name: a topic_rename outbox row, sent as editForumTopic.
    expect((await v.emit('profile:update', { name: 'Mert Kaya' })).ok).toBe(true);
    const rename = await emu.waitFor((c) => c.method === 'editForumTopic' && c.params.message_thread_id === thread.topicId);
    expect(rename.params).toMatchObject({ chat_id: STAFF_CHAT_ID, name: `Mert Kaya · ${thread.ref}` });
    expect(topic(thread.topicId!).name).toBe(`Mert Kaya · ${thread.ref}`);
    await eventually(
      async () => (await td.app.db('outbox').where({ thread_id: thread.id, kind: 'topic_rename', status: 'pending' })).length === 0,
    );
    expect(await td.app.db('outbox').where({ thread_id: thread.id, kind: 'topic_rename' })).toHaveLength(1);

    // The same name again queues nothing.
    expect((await v.emit('profile:update', { name: 'Mert Kaya' })).ok).toBe(true);
    expect(await td.app.db('outbox').where({ thread_id: thread.id, kind: 'topic_rename' })).toHaveLength(1);

    // /close closes the topic; a rename while closed still follows the visitor.
    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: thread.topicId! });
    await emu.waitFor((c) => c.method === 'closeForumTopic' && c.params.message_thread_id === thread.topicId);
    expect(topic(thread.topicId!)).toMatchObject({ closed: true, name: `Mert Kaya · ${thread.ref}` });
    expect((await v.emit('profile:update', { name: 'M. Kaya' })).ok).toBe(true);
    await emu.waitFor((c) => c.method === 'editForumTopic' && c.params.name === `M. Kaya · ${thread.ref}`);
    expect(topic(thread.topicId!)).toMatchObject({ closed: true, name: `M. Kaya · ${thread.ref}` });
    v.close();
  });
});
