import { connectVisitor, eventually, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import type { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { staffSays } from '../staff/staff-helpers';
import { api, connectStaff, movableClock, signIn, staffCookie, webLoginLink, type StaffEvent, type Staff } from './admin-helpers';

const SALES = -1002000000021;

/** The thread an event is about. */
const threadOf = (e: StaffEvent) =>
  e.event === 'thread:status' || e.event === 'thread:erased' ? e.payload.id : e.event === 'session:ended' ? null : e.payload.threadId;

/**
 * The staff page by department (SPEC §8, docs/departments.md, docs/admin.md): membership is per
 * chat. Someone only in the sales group signs in with /web sent there and reads sales threads
 * only — another department's thread is not_found by id, absent from search and counts, and never
 * on their live feed; someone in both chats reads both and can filter; someone in no staff chat
 * is refused. Real bot, emulator with two supergroups, real sockets, on both databases.
 */
describeEachDatabase('the staff page by department, on %s', (kind) => {
  let h: TopicdeskWithTelegram;
  let td: RunningTopicdesk;
  let emu: TelegramEmulator;
  let sam: Staff; // sales only
  let bea: Staff; // both chats
  let ola: Staff; // neither
  let salesThread: number;
  let supportThread: number;
  const clock = movableClock();

  beforeAll(async () => {
    h = await startWithTelegram(kind, {
      clock,
      env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' },
      prepare: (e) => {
        sam = e.addUser({ id: 5301, first_name: 'Sam', language_code: 'en', is_bot: false }) as Staff;
        bea = e.addUser({ id: 5302, first_name: 'Bea', language_code: 'en', is_bot: false }) as Staff;
        ola = e.addUser({ id: 5303, first_name: 'Ola', language_code: 'en', is_bot: false }) as Staff;
        e.addChat({ id: SALES, type: 'supergroup', title: 'Sales', is_forum: true });
        e.setChatMember(SALES, e.bot.id, { status: 'administrator', can_manage_topics: true });
        e.setChatMember(STAFF_CHAT_ID, sam.id, { status: 'left' });
        e.setChatMember(STAFF_CHAT_ID, ola.id, { status: 'left' });
        e.setChatMember(SALES, ola.id, { status: 'left' });
      },
    });
    ({ td, emu } = h);
    const added = await staffSays(emu, { chatId: STAFF_CHAT_ID, from: bea, text: '/department add Sales' });
    const code = /\/claim ([A-Z0-9]{10})/.exec(added.answer.text)![1];
    await staffSays(emu, { chatId: SALES, from: bea, text: `/claim ${code}` });
    salesThread = await visitorWrites('sales', 'A quote for 500 parcels please');
    supportThread = await visitorWrites(undefined, 'My parcel arrived broken');
  });
  afterAll(() => h?.stop());

  /** A visitor's first message (routed to `department`), delivered; its thread id. */
  async function visitorWrites(department: string | undefined, text: string): Promise<number> {
    const v = await connectVisitor(td.url);
    const sent = await v.emit('message:send', { text, clientId: `c-${Date.now()}`, ...(department ? { department } : {}) });
    if (!sent.ok) throw new Error(JSON.stringify(sent));
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    v.close();
    return sent.message.threadId;
  }

  it('someone only in the sales group: /web sent there signs in; sales threads only, the other department is not_found', async () => {
    const cookie = await staffCookie(td, emu, sam, SALES);
    expect((await api(td, '/api/admin/session', cookie)).body.departments).toEqual([{ key: 'sales', name: 'Sales' }]);

    const list = await api(td, '/api/admin/threads', cookie);
    expect(list.body.threads.map((t) => [t.id, t.department])).toEqual([[salesThread, { key: 'sales', name: 'Sales' }]]);
    // By id, its messages, a search that matches both, a filter naming the other department.
    for (const path of [`/api/admin/threads/${supportThread}`, `/api/admin/threads/${supportThread}/messages`]) {
      const res = await api(td, path, cookie);
      expect([path, res.status, res.body.error.code]).toEqual([path, 404, 'not_found']);
    }
    expect((await api(td, `/api/admin/threads/${salesThread}`, cookie)).body.thread.department).toEqual({ key: 'sales', name: 'Sales' });
    expect((await api(td, '/api/admin/threads?q=parcel', cookie)).body.threads.map((t) => t.id)).toEqual([salesThread]);
    const other = await api(td, '/api/admin/threads?department=general', cookie);
    expect([other.status, other.body.error.code]).toEqual([400, 'bad_request']);
    expect((await api(td, '/api/admin/stats?department=general', cookie)).status).toBe(400);

    const stats = (await api(td, '/api/admin/stats', cookie)).body;
    expect([stats.openThreads, stats.closedThreads]).toEqual([1, 0]);
    expect(stats.days.reduce((n, d) => n + d.visitorMessages, 0)).toBe(1);
    expect(stats.departments).toEqual([{ key: 'sales', name: 'Sales', openThreads: 1, closedThreads: 0, medianFirstResponseMs: null }]);
  });

  it('someone in both chats reads both and filters by department; stats per department', async () => {
    const cookie = await staffCookie(td, emu, bea);
    expect((await api(td, '/api/admin/session', cookie)).body.departments).toEqual([
      { key: 'general', name: 'General' },
      { key: 'sales', name: 'Sales' },
    ]);
    const ids = async (query: string) => (await api(td, `/api/admin/threads${query}`, cookie)).body.threads.map((t) => t.id);
    expect(await ids('')).toEqual([supportThread, salesThread]);
    expect(await ids('?department=sales')).toEqual([salesThread]);
    expect(await ids('?department=general&q=parcel')).toEqual([supportThread]);
    expect((await api(td, `/api/admin/threads/${supportThread}`, cookie)).body.thread.department).toEqual({
      key: 'general',
      name: 'General',
    });

    const all = (await api(td, '/api/admin/stats', cookie)).body;
    expect(all.openThreads).toBe(2);
    expect(all.departments.map((d) => [d.key, d.openThreads])).toEqual([
      ['general', 1],
      ['sales', 1],
    ]);
    const sales = (await api(td, '/api/admin/stats?department=sales', cookie)).body;
    expect(sales.openThreads).toBe(1);
    expect(sales.departments.map((d) => d.key)).toEqual(['sales']);
  });

  it('the live feed carries a thread only to those in its department’s chat', async () => {
    const samSocket = await connectStaff(td, { cookie: await staffCookie(td, emu, sam, SALES) });
    const beaSocket = await connectStaff(td, { cookie: await staffCookie(td, emu, bea) });

    const v = await connectVisitor(td.url);
    const support = await v.emit('message:send', { text: 'Support only: my address', clientId: 'feed-1' });
    if (!support.ok) throw new Error(JSON.stringify(support));
    // Delivered to Telegram: the message and its status change both went out on the feed.
    await eventually(() => beaSocket.events.find((e) => e.event === 'message:status' && e.payload.id === support.message.id));
    const sales = await visitorWrites('sales', 'Sales: any discount?');
    await eventually(() => samSocket.events.find((e) => e.event === 'message:status' && e.payload.threadId === sales));
    await eventually(() => beaSocket.events.find((e) => e.event === 'message' && e.payload.threadId === sales));

    // Sam's socket got the sales thread's events, none of the other's (sent before them on the same connection).
    expect(samSocket.events.some((e) => e.event === 'message' && e.payload.threadId === sales)).toBe(true);
    expect(samSocket.events.filter((e) => threadOf(e) !== sales)).toEqual([]);
    expect(beaSocket.events.some((e) => e.event === 'message' && e.payload.id === support.message.id)).toBe(true);
    samSocket.close();
    beaSocket.close();
    v.close();
  });

  it('a thread handed to another department by /move goes on the live feed of that department', async () => {
    const samSocket = await connectStaff(td, { cookie: await staffCookie(td, emu, sam, SALES) });
    const v = await connectVisitor(td.url);
    const first = await v.emit('message:send', { text: 'Support first, then sales', clientId: 'move-1' });
    if (!first.ok) throw new Error(JSON.stringify(first));
    await v.waitFor('message:status', (s) => s.id === first.message.id);
    const threadId = first.message.threadId;
    const { topicId } = (await td.app.store.threads.findById(threadId))!;
    // A staff reply in the default department's topic: not on Sam's feed.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: bea, threadId: topicId!, text: 'Let me hand you over.' });
    await v.waitFor('message', (m) => m.text === 'Let me hand you over.');

    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: bea, threadId: topicId!, text: '/move Sales' });
    const moved = (await td.app.store.threads.findById(threadId))!;
    expect(moved.topicChatId).toBe(SALES);
    emu.userSends({ chatId: SALES, from: sam, threadId: moved.topicId!, text: 'Sales here: 10% off.' });
    await v.waitFor('message', (m) => m.text === 'Sales here: 10% off.');
    // Sam's feed follows the thread to Sales: the reply written there, and nothing from before the move.
    const reply = await eventually(() => samSocket.events.find((e) => e.event === 'message' && e.payload.text === 'Sales here: 10% off.'));
    expect(threadOf(reply!)).toBe(threadId);
    expect(samSocket.events.filter((e) => e.event === 'message' && e.payload.threadId === threadId)).toHaveLength(1);
    samSocket.close();
    v.close();
  });

  it('an erased thread leaves the live feed of the staff pages of its department, and only theirs', async () => {
    const samSocket = await connectStaff(td, { cookie: await staffCookie(td, emu, sam, SALES) });
    const beaCookie = await staffCookie(td, emu, bea);
    const beaSocket = await connectStaff(td, { cookie: beaCookie });
    /** /forget in the thread's topic, then Erase, by `who` in `chatId`. */
    async function forget(threadId: number, chatId: number, who: Staff) {
      const { topicId } = (await td.app.store.threads.findById(threadId))!;
      const asked = await staffSays(emu, { chatId, from: who, threadId: topicId!, text: '/forget' });
      const [erase] = (asked.answer.params.reply_markup?.inline_keyboard ?? [])[0] as Array<{ callback_data: string }>;
      emu.userPressesButton({ chatId, from: who, messageId: asked.answer.message.message_id, data: erase.callback_data });
    }

    // A sales thread: both sales watchers are told.
    const salesDoomed = await visitorWrites('sales', 'Sales: please forget my quote');
    await forget(salesDoomed, SALES, sam);
    await eventually(() => samSocket.events.find((e) => e.event === 'thread:erased' && e.payload.id === salesDoomed));
    await eventually(() => beaSocket.events.find((e) => e.event === 'thread:erased' && e.payload.id === salesDoomed));

    // A thread of the default department: Bea is told and can no longer read it; Sam never hears of it.
    const supportDoomed = await visitorWrites(undefined, 'Support: please forget me');
    await forget(supportDoomed, STAFF_CHAT_ID, bea);
    await eventually(() => beaSocket.events.find((e) => e.event === 'thread:erased' && e.payload.id === supportDoomed));
    expect((await api(td, `/api/admin/threads/${supportDoomed}`, beaCookie)).status).toBe(404);
    // Emitted before a later sales thread's events: had it reached Sam's connection, it would be there by then.
    const sales = await visitorWrites('sales', 'Sales: still here');
    await eventually(() => samSocket.events.find((e) => e.event === 'message:status' && e.payload.threadId === sales));
    expect(samSocket.events.filter((e) => threadOf(e) === supportDoomed)).toEqual([]);
    samSocket.close();
    beaSocket.close();
  });

  it('someone who leaves a department’s chat stops reading it at the next membership check; the rest goes on', async () => {
    const beaCookie = await staffCookie(td, emu, bea);
    const beaSocket = await connectStaff(td, { cookie: beaCookie });
    const samSocket = await connectStaff(td, { cookie: await staffCookie(td, emu, sam, SALES) });
    // Removed without Telegram telling the bot (no chat_member update): the minute's cache runs out, the sockets are re-checked.
    emu.setChatMember(SALES, bea.id, { status: 'left' });
    clock.advance(61_000);
    await td.app.staffPage.recheckSockets();

    expect((await api(td, '/api/admin/session', beaCookie)).body.departments).toEqual([{ key: 'general', name: 'General' }]);
    expect((await api(td, `/api/admin/threads/${salesThread}`, beaCookie)).status).toBe(404);
    const sales = await visitorWrites('sales', 'Sales again: shipping costs?');
    // Emitted to the sales room (Sam has it) before the next thread's events, on Bea's connection too if she were there.
    await eventually(() => samSocket.events.find((e) => e.event === 'message:status' && e.payload.threadId === sales));
    const support = await visitorWrites(undefined, 'Support again: where is my refund?');
    await eventually(() => beaSocket.events.find((e) => e.event === 'message:status' && e.payload.threadId === support));
    expect(beaSocket.events.filter((e) => threadOf(e) === sales)).toEqual([]);
    emu.setChatMember(SALES, bea.id, { status: 'member' });
    beaSocket.close();
    samSocket.close();
  });

  it('someone in no staff chat is refused, even with a /web link', async () => {
    const { res } = await signIn(td, await webLoginLink(emu, ola));
    expect(res.status).toBe(403);
  });
});
