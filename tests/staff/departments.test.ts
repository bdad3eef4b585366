import { connectVisitor, STAFF_CHAT_ID, eventually, startTopicdesk } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { botMessages, sendParams, staffSays, type Staff } from './staff-helpers';

const SALES = -1002000000001;
const SHOP = -1002000000002;
const PLAIN = -1002000000003;

/**
 * Departments (SPEC §8, docs/departments.md): added from the default staff chat, claimed with a
 * one-time code in their own forum supergroup, listed and renamed; a visitor's new thread is
 * routed by `message:send`'s `department` (unknown: bad_request), delivered into a topic of that
 * department's chat, answered from there; /move hands it over both ways with replies going on;
 * a department removed with open threads hands them back to the default one. Through the real
 * bot and the emulator (several supergroups), on both databases.
 */
describeEachDatabase('departments, on %s', (kind) => {
  let h: TopicdeskWithTelegram;
  let deniz: Staff;
  let ayse: Staff;

  beforeAll(async () => {
    h = await startWithTelegram(kind, {
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5101, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5102, first_name: 'Ayşe', language_code: 'tr', is_bot: false }) as Staff;
        for (const [id, title, forum] of [
          [SALES, 'Sales', true],
          [SHOP, 'Shop', true],
          [PLAIN, 'Plain', false],
        ] as const) {
          emu.addChat({ id, type: 'supergroup', title, is_forum: forum });
          emu.setChatMember(id, emu.bot.id, { status: 'administrator', can_manage_topics: true });
        }
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const say = (text: string, o: { chatId?: number; from?: Staff; threadId?: number } = {}) =>
    staffSays(h.emu, { chatId: o.chatId ?? STAFF_CHAT_ID, from: o.from ?? deniz, text, threadId: o.threadId });
  const codeIn = (answer: string) => /\/claim ([A-Z0-9]{10})/.exec(answer)![1];

  /** A visitor's first message, routed to `department`, delivered: its thread as stored. */
  async function visitorIn(department: string | undefined, text: string) {
    const v = await connectVisitor(h.td.url);
    const sent = await v.emit('message:send', { text, clientId: `c-${text.length}-${Date.now()}`, ...(department ? { department } : {}) });
    if (!sent.ok) throw new Error(JSON.stringify(sent));
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    return { v, thread: (await h.td.app.store.threads.findById(sent.message.threadId))!, messageId: sent.message.id };
  }

  it('add → code → /claim in another forum supergroup; list and rename; the claim checks; stored for good', async () => {
    const added = await say('/department add Sales & Renewals');
    expect(added.answer.text).toMatch(/^Department “Sales & Renewals” \(key sales-renewals\) is ready to be claimed\./);
    const code = codeIn(added.answer.text);
    expect(await h.td.app.db('departments')).toMatchObject([{ key: 'sales-renewals', name: 'Sales & Renewals', chat_id: null }]);
    // Only the code's hash is kept.
    expect(JSON.stringify(await h.td.app.db('departments'))).not.toContain(code);

    // Not a forum, a wrong code, no code, already a staff chat, missing rights: clear answers, nothing claimed.
    expect((await say(`/claim ${code}`, { chatId: PLAIN })).answer.text).toBe(
      'A department needs Topics: turn on Topics in the group settings, then send /claim again.',
    );
    expect((await say('/claim WRONGCODE1', { chatId: SALES })).answer.text).toBe('That claim code is not right.');
    expect((await say('/claim', { chatId: SALES })).answer.text).toMatch(
      /^topicdesk already has a staff chat\. To make this group a department/,
    );
    expect((await say(`/claim ${code}`, { chatId: STAFF_CHAT_ID })).answer.text).toBe('This chat is already a staff chat of topicdesk.');
    // The bot not an administrator there, then one without “Manage topics”: told what to fix, the code still good.
    h.emu.setChatMember(SALES, h.emu.bot.id, { status: 'member' });
    expect((await say(`/claim ${code}`, { chatId: SALES })).answer.text).toBe(
      'Make me an administrator of this group first (with the “Manage topics” right), then send /claim again.',
    );
    h.emu.setChatMember(SALES, h.emu.bot.id, { status: 'administrator', can_manage_topics: false });
    expect((await say(`/claim ${code}`, { chatId: SALES })).answer.text).toBe(
      'Give me the “Manage topics” administrator right, then send /claim again.',
    );
    h.emu.setChatMember(SALES, h.emu.bot.id, { status: 'administrator', can_manage_topics: true });
    expect(await h.td.app.db('departments').whereNotNull('chat_id')).toEqual([]);

    expect((await say(`/claim ${code.toLowerCase()}`, { chatId: SALES })).answer.text).toBe(
      '✅ This chat is now the department “Sales & Renewals”. Its visitors’ conversations will appear here as topics. /help lists the commands.',
    );
    // The code works once.
    expect((await say(`/claim ${code}`, { chatId: SHOP })).answer.text).toBe('That claim code is not right.');

    // Rename (a name with spaces, found by key or name), in Turkish too; the key stays.
    expect((await say('/department rename sales-renewals Sales')).answer.text).toBe('Renamed: “Sales”.');
    expect((await say('/department rename General Support', { from: ayse })).answer.text).toBe('Yeni adı: “Support”.');
    expect((await say('/department rename Nobody Here')).answer.text).toBe(
      'There is no department “Nobody Here”. /department list shows them.',
    );
    expect((await say('/department add Sales')).answer.text).toBe('There is already a department “Sales” (or one with the same key).');
    expect((await say('/department add ⁣')).answer.text).toMatch(/^A department name is 1–64 characters/);

    const shopCode = codeIn((await say('/department add Shop')).answer.text);
    expect((await say('/department list')).answer.text).toBe(
      'Departments (key · name · where):\n• general · Support · this chat, default\n• sales-renewals · Sales · claimed\n• shop · Shop · waiting for /claim',
    );
    // Managed only from the default chat.
    expect((await say('/department list', { chatId: SALES })).answer.text).toBe('Departments are managed in the first staff chat.');
    expect((await say(`/claim ${shopCode}`, { chatId: SHOP })).answer.text).toMatch(/^✅ This chat is now the department “Shop”/);

    // A visitor's page is told the claimed departments, the default first.
    const v = await connectVisitor(h.td.url);
    expect(v.session.departments).toEqual([
      { key: 'general', name: 'Support' },
      { key: 'sales-renewals', name: 'Sales' },
      { key: 'shop', name: 'Shop' },
    ]);
    v.close();
  });

  it('routes a new thread by department key into a topic of that chat; staff answer from there; unknown key is bad_request', async () => {
    const bad = await (await connectVisitor(h.td.url)).emit('message:send', { text: 'hi', clientId: 'bad-1', department: 'nobody' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const malformed = await (
      await connectVisitor(h.td.url)
    ).emit('message:send', { text: 'hi', clientId: 'bad-2', department: 'Not A Key' });
    expect(malformed).toMatchObject({ ok: false, error: { code: 'bad_request' } });

    const { v, thread } = await visitorIn('sales-renewals', 'Do you sell in bulk?');
    expect(thread.topicChatId).toBe(SALES);
    const posted = botMessages(h.emu, SALES).find((c) => sendParams(c).text === 'Do you sell in bulk?')!;
    expect(sendParams(posted).message_thread_id).toBe(thread.topicId);
    // Nothing of it in the default chat.
    expect(botMessages(h.emu, STAFF_CHAT_ID).some((c) => sendParams(c).text === 'Do you sell in bulk?')).toBe(false);

    h.emu.userSends({ chatId: SALES, from: deniz, text: 'Yes, from 100 pieces.', threadId: thread.topicId! });
    expect(await v.waitFor('message', (m) => m.sender === 'staff')).toMatchObject({ threadId: thread.id, text: 'Yes, from 100 pieces.' });
    // Topic commands work in the department's chat.
    expect((await say('/info', { chatId: SALES, threadId: thread.topicId! })).answer.text).toContain('Messages: 1 from the visitor');

    // Closed there and rated: the rating counts for Sales, and keeps counting once the thread is gone (retention, /forget).
    await say('/close', { chatId: SALES, threadId: thread.topicId! });
    await v.waitFor('thread:status', (st) => st.status === 'closed');
    expect(await v.emit('thread:rate', { threadId: thread.id, score: 5 })).toEqual({ ok: true });
    const satisfaction = async () => (await h.td.app.store.stats.stats(new Date(), thread.departmentId)).satisfaction30Days.count;
    expect(await satisfaction()).toBe(1);
    await h.td.app.db('threads').where({ id: thread.id }).delete();
    expect(await satisfaction()).toBe(1);

    // Without a department: the default one.
    const plain = await visitorIn(undefined, 'Where is my order?');
    expect(plain.thread).toMatchObject({ departmentId: null, topicChatId: STAFF_CHAT_ID });
    v.close();
    plain.v.close();
  });

  it('/move hands a thread over and back: summary in the new topic, old one closed with a note, replies from either side go on', async () => {
    const { v, thread } = await visitorIn('shop', 'My parcel is late');
    expect(thread.topicChatId).toBe(SHOP);
    const oldTopic = thread.topicId!;

    const note = await say('/move Sales', { chatId: SHOP, threadId: oldTopic });
    expect(note.answer.text).toBe('➡️ Conversation handed to “Sales”. This topic is closed; the conversation goes on there.');
    const moved = (await h.td.app.store.threads.findById(thread.id))!;
    expect(moved.topicChatId).toBe(SALES);
    expect(moved.departmentId).not.toBe(thread.departmentId);
    // The old topic is closed after the note above is posted there.
    await eventually(() => h.emu.calls.some((c) => c.method === 'closeForumTopic' && Number(c.params.chat_id) === SHOP), {
      what: 'the old topic closed',
    });
    const summary = botMessages(h.emu, SALES).find((c) => sendParams(c).message_thread_id === moved.topicId)!;
    expect(sendParams(summary).text).toMatch(/^⬅️ Handed over from “Shop” \(/);
    expect(sendParams(summary).text).toContain('not verified');
    expect(sendParams(summary).text).toContain('My parcel is late');

    // The visitor writes on: it reaches the new topic. Staff reply from the new topic, and from the old one.
    await v.send('Any news?');
    await eventually(() =>
      botMessages(h.emu, SALES).find((c) => sendParams(c).text === 'Any news?' && sendParams(c).message_thread_id === moved.topicId),
    );
    h.emu.userSends({ chatId: SALES, from: deniz, text: 'It left the depot today.', threadId: moved.topicId! });
    await v.waitFor('message', (m) => m.text === 'It left the depot today.');
    h.emu.userSends({ chatId: SHOP, from: ayse, text: 'Sorry for the wait!', threadId: oldTopic });
    await v.waitFor('message', (m) => m.text === 'Sorry for the wait!');

    // And back, in Turkish.
    const back = await say('/move shop', { chatId: SALES, threadId: moved.topicId!, from: ayse });
    expect(back.answer.text).toMatch(/^➡️ Görüşme “Shop” departmanına devredildi/);
    const again = (await h.td.app.store.threads.findById(thread.id))!;
    expect(again.topicChatId).toBe(SHOP);
    expect(again.topicId).not.toBe(oldTopic);
    await v.send('Thanks');
    await eventually(() =>
      botMessages(h.emu, SHOP).find((c) => sendParams(c).text === 'Thanks' && sendParams(c).message_thread_id === again.topicId),
    );
    // Every visitor message reached Telegram once.
    const sent = botMessages(h.emu, SHOP)
      .concat(botMessages(h.emu, SALES))
      .filter((c) => ['My parcel is late', 'Any news?', 'Thanks'].includes(String(sendParams(c).text)));
    expect(sent.map((c) => sendParams(c).text).sort()).toEqual(['Any news?', 'My parcel is late', 'Thanks']);

    expect((await say('/move shop', { chatId: SHOP, threadId: again.topicId! })).answer.text).toBe(
      'This conversation already belongs to “Shop”.',
    );
    // Telegram refuses the new topic: staff are told why, and nothing moves.
    h.emu.failNext('createForumTopic', { error_code: 400, description: 'Bad Request: not enough rights to create a topic' });
    expect((await say('/move sales', { chatId: SHOP, threadId: again.topicId! })).answer.text).toBe(
      'Could not open a topic in “Sales” (Telegram said: Bad Request: not enough rights to create a topic). Nothing was moved; check that I am an administrator there with “Manage topics”.',
    );
    expect(await h.td.app.store.threads.findById(thread.id)).toMatchObject({ topicChatId: SHOP, topicId: again.topicId });
    expect((await say('/move nowhere', { chatId: SHOP, threadId: again.topicId! })).answer.text).toMatch(
      /^There is no department “nowhere”/,
    );
    v.close();
  });

  it('a department removed with open threads hands them to the default one; its key no longer routes', async () => {
    const { v, thread } = await visitorIn('shop', 'Is the shop still open?');
    const removed = await say('/department remove Shop');
    expect(removed.answer.text).toMatch(
      /^Department “Shop” removed\. Its \d+ open conversation\(s\) belong to the default department now\.$/,
    );
    const now = (await h.td.app.store.threads.findById(thread.id))!;
    expect(now).toMatchObject({ departmentId: null, topicChatId: STAFF_CHAT_ID });
    expect(await h.td.app.db('departments').where({ key: 'shop' })).toEqual([]);
    expect(await h.td.app.db('threads').where({ department_id: thread.departmentId })).toEqual([]);

    // The default chat answers it now; the removed chat is not a staff chat any more.
    h.emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'Yes, until 18:00.', threadId: now.topicId! });
    await v.waitFor('message', (m) => m.text === 'Yes, until 18:00.');
    const refused = await (await connectVisitor(h.td.url)).emit('message:send', { text: 'hi', clientId: 'gone-1', department: 'shop' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect((await say('/department remove general')).answer.text).toMatch(/^The first staff chat is the default department/);
    v.close();
  });

  it('kept across a restart; another instance routes to a department claimed through this one at once', async () => {
    await h.td.stop();
    h.td = await startTopicdesk({ db: h.db, emulator: h.emu });
    await eventually(async () => (await h.td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    const v = await connectVisitor(h.td.url);
    expect(v.session.departments).toEqual([
      { key: 'general', name: 'Support' },
      { key: 'sales-renewals', name: 'Sales' },
    ]);
    v.close();
    const { thread } = await visitorIn('sales-renewals', 'After the restart');
    expect(thread.topicChatId).toBe(SALES);

    // A second instance (web only) on the same database has read the departments at its start…
    const other = await startTopicdesk({ db: h.db });
    try {
      // …and a department claimed afterwards through the first one routes there at once (an unknown key reads them again).
      const code = codeIn((await say('/department add Shop Two')).answer.text);
      expect((await say(`/claim ${code}`, { chatId: SHOP })).answer.text).toMatch(/^✅/);
      const there = await connectVisitor(other.url);
      const sent = await there.emit('message:send', { text: 'Via the other instance', clientId: 'other-1', department: 'shop-two' });
      expect(sent).toEqual({ ok: true, message: expect.anything() });
      await eventually(() => h.emu.sentMessages(SHOP).some((m) => m.text === 'Via the other instance'), { what: 'in the Shop Two chat' });
      there.close();
    } finally {
      await other.stop();
    }
  });
});
