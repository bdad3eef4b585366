import type { ForumTopic, Message } from 'grammy/types';
import { connectVisitor, eventually, outboxIdle, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

describeEachDatabase('a visitor and staff talk through a forum topic, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let staffMember: { id: number; first_name: string; is_bot: false };

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      prepare: (emu) => {
        staffMember = emu.addUser({ id: 5001, first_name: 'Deniz', is_bot: false }) as typeof staffMember;
      },
    });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  const topicSends = (topicId: number) =>
    emu.sentMessages(STAFF_CHAT_ID).filter((m) => m.message_thread_id === topicId && typeof m.text === 'string');

  it('the first message creates exactly one topic and posts the text there; later ones follow into it', async () => {
    const v = await connectVisitor(td.url);
    const topicsBefore = emu.callsTo('createForumTopic').length;
    const first = await v.send('Hello, my order has not arrived');
    expect(first.ok).toBe(true);

    const delivered = await v.waitFor('message:status', (s) => s.id === first.message.id);
    expect(delivered).toEqual({ id: first.message.id, status: 'delivered' });

    const creates = emu.callsTo('createForumTopic').slice(topicsBefore);
    expect(creates).toHaveLength(1);
    expect(creates[0].params.chat_id).toBe(STAFF_CHAT_ID);
    const thread = await td.app.store.threads.findById(first.message.threadId);
    // Staff see the visitor's database id; the protocol shows a public id that is not a count.
    expect(creates[0].params.name).toBe(`Visitor #${thread!.visitorId} · ${thread!.ref}`);
    expect(thread!.visitorId).not.toBe(v.session.visitor.id);
    const topicId = (creates[0].result as ForumTopic).message_thread_id;
    expect(thread!.topicId).toBe(topicId);

    const second = await v.send('Order number 1234');
    await v.waitFor('message:status', (s) => s.id === second.message.id);
    expect(emu.callsTo('createForumTopic').slice(topicsBefore)).toHaveLength(1);
    expect(topicSends(topicId).map((m) => m.text)).toEqual(['Hello, my order has not arrived', 'Order number 1234']);

    // Every Telegram message posted for the thread is recorded.
    const links = await td.app.db('telegram_links').where({ thread_id: first.message.threadId, direction: 'to_telegram' }).orderBy('id');
    expect(links.map((l) => Number(l.telegram_message_id))).toEqual(topicSends(topicId).map((m) => m.message_id));

    // history reports the delivery state.
    const h = await v.emit('history', {});
    expect(h.messages.map((m) => m.status)).toEqual(['delivered', 'delivered']);
    v.close();
  });

  it('the same clientId twice is stored once and sent once', async () => {
    const v = await connectVisitor(td.url);
    const a = await v.send('only once please', 'dup-1');
    const b = await v.send('only once please', 'dup-1');
    expect(b.message.id).toBe(a.message.id);
    await v.waitFor('message:status', (s) => s.id === a.message.id);
    await outboxIdle(td);
    expect(emu.sentMessages(STAFF_CHAT_ID).filter((m) => m.text === 'only once please')).toHaveLength(1);
    v.close();
  });

  it('HTML and Markdown in visitor text arrive literally in Telegram', async () => {
    const v = await connectVisitor(td.url);
    const text = '<b>bold?</b> <script>alert(1)</script> *star* _under_ [link](http://x.test) `code` &amp; < >';
    const sent = await v.send(text);
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    const call = emu.calls.filter((c) => c.method === 'sendMessage' && c.ok).find((c) => c.params.text === text)!;
    expect(call).toBeDefined();
    expect(call.params.parse_mode).toBeUndefined();
    expect(call.params.entities).toBeUndefined();
    expect((call.result as Message).text).toBe(text);
    v.close();
  });

  it('a 4000-character text arrives whole, in one Telegram message', async () => {
    const v = await connectVisitor(td.url);
    const text = Array.from({ length: 80 }, (_, i) => `line ${i} ` + 'x'.repeat(40))
      .join('\n')
      .slice(0, 4000);
    const sent = await v.send(text);
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    const links = await td.app.store.telegramLinks.listForMessage(sent.message.id);
    expect(links).toHaveLength(1);
    expect(emu.sentMessages(STAFF_CHAT_ID).find((m) => m.message_id === links[0].telegramMessageId)!.text).toBe(text);
    v.close();
  });

  it('a staff message in the topic reaches that visitor, and no other', async () => {
    const alice = await connectVisitor(td.url);
    const bob = await connectVisitor(td.url);
    const a1 = await alice.send('Alice here');
    const b1 = await bob.send('Bob here');
    await alice.waitFor('message:status', (s) => s.id === a1.message.id);
    await bob.waitFor('message:status', (s) => s.id === b1.message.id);
    const aliceThread = await td.app.store.threads.findById(a1.message.threadId);

    emu.userSends({ chatId: STAFF_CHAT_ID, from: staffMember, text: 'Hi Alice, checking now', threadId: aliceThread!.topicId! });
    const got = await alice.waitFor('message', (m) => m.sender === 'staff');
    expect(got).toMatchObject({
      threadId: a1.message.threadId,
      sender: 'staff',
      text: 'Hi Alice, checking now',
      status: 'delivered',
      clientId: null,
    });

    const bobHistory = await bob.emit('history', {}); // also the barrier: anything sent to Bob before has arrived
    expect(bob.received.filter((r) => r.event === 'message')).toEqual([]);
    expect(bobHistory.messages.map((m) => m.text)).toEqual(['Bob here']);

    // Stored, and mapped to its Telegram message.
    const link = await td.app.db('telegram_links').where({ thread_id: a1.message.threadId, direction: 'from_telegram' }).first();
    expect(link).toBeDefined();
    alice.close();
    bob.close();
  });

  it('history {after} gives a disconnected visitor what it missed, and the same update twice is handled once', async () => {
    const v = await connectVisitor(td.url);
    const first = await v.send('I will be right back');
    await v.waitFor('message:status', (s) => s.id === first.message.id);
    const thread = await td.app.store.threads.findById(first.message.threadId);
    v.close();

    const { update } = emu.userSends({
      chatId: STAFF_CHAT_ID,
      from: staffMember,
      text: 'Reply while you were away',
      threadId: thread!.topicId!,
    });
    await eventually(async () => (await td.app.db('messages').where({ thread_id: thread!.id, sender_type: 'staff' })).length === 1, {
      what: 'staff message stored',
    });
    // Telegram may deliver an update again (same update_id, after a restart or a webhook retry)...
    await td.app.bot!.handleUpdate(update);
    expect(await td.app.db('processed_updates').where({ update_id: update.update_id })).toHaveLength(1);
    // ...or the same message inside another update: neither creates a second message.
    const again = emu.injectUpdate({ message: update.message });
    await eventually(async () => (await td.app.db('processed_updates').where({ update_id: again.update_id })).length === 1, {
      what: 'the repeated message handled',
    });
    expect(await td.app.db('messages').where({ thread_id: thread!.id, sender_type: 'staff' })).toHaveLength(1);

    const back = await connectVisitor(td.url, v.session.token);
    const missed = await back.emit('history', { after: first.message.id });
    expect(missed.messages.map((m) => [m.sender, m.text])).toEqual([['staff', 'Reply while you were away']]);
    back.close();
  });

  it('ignores bots, commands and messages outside thread topics', async () => {
    const v = await connectVisitor(td.url);
    const first = await v.send('hello');
    await v.waitFor('message:status', (s) => s.id === first.message.id);
    const thread = await td.app.store.threads.findById(first.message.threadId);
    const otherBot = emu.addUser({ id: 777, first_name: 'Other bot', is_bot: true });
    emu.userSends({ chatId: STAFF_CHAT_ID, from: otherBot, text: 'bot chatter', threadId: thread!.topicId! });
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staffMember, text: '/notacommand', threadId: thread!.topicId! });
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staffMember, text: 'General chatter' });
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staffMember, text: 'real reply', threadId: thread!.topicId! });
    const got = await v.waitFor('message', (m) => m.sender === 'staff');
    expect(got.text).toBe('real reply');
    const staffTexts = (await td.app.db('messages').where({ sender_type: 'staff' })).map((m) => m.content_text);
    expect(staffTexts).not.toContain('bot chatter');
    expect(staffTexts).not.toContain('/notacommand');
    expect(staffTexts).not.toContain('General chatter');
    v.close();
  });
});
