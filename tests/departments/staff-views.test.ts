import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { staffSays, type Staff } from '../staff/staff-helpers';

const SALES = -1002000000011;

/**
 * /threads and /stats by department (SPEC §8, docs/departments.md): each chat lists and counts
 * its own department's threads (the default chat: the default department's), naming the
 * department once there are several; /stats in the default chat adds a line per department.
 * Through the real bot and the emulator (two supergroups), on both databases.
 */
describeEachDatabase('/threads and /stats by department, on %s', (kind) => {
  let h: TopicdeskWithTelegram;
  let deniz: Staff;
  let ayse: Staff;

  beforeAll(async () => {
    h = await startWithTelegram(kind, {
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5201, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5202, first_name: 'Ayşe', language_code: 'tr', is_bot: false }) as Staff;
        emu.addChat({ id: SALES, type: 'supergroup', title: 'Sales', is_forum: true });
        emu.setChatMember(SALES, emu.bot.id, { status: 'administrator', can_manage_topics: true });
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const say = (text: string, o: { chatId?: number; from?: Staff; threadId?: number } = {}) =>
    staffSays(h.emu, { chatId: o.chatId ?? STAFF_CHAT_ID, from: o.from ?? deniz, text, threadId: o.threadId });

  /** A visitor's first message, routed to `department`, delivered: its thread as stored. */
  async function visitorIn(department: string | undefined, text: string) {
    const v = await connectVisitor(h.td.url);
    expect(await v.emit('profile:update', { name: `${text.split(' ')[0]} Visitor` })).toMatchObject({ ok: true });
    const sent = await v.emit('message:send', { text, clientId: `c-${Date.now()}`, ...(department ? { department } : {}) });
    if (!sent.ok) throw new Error(JSON.stringify(sent));
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    v.close();
    return (await h.td.app.store.threads.findById(sent.message.threadId))!;
  }

  it('with one department, /threads and /stats read as before (no department named)', async () => {
    const lines = (await say('/stats')).answer.text.split('\n');
    expect(lines[0]).toBe('Support at a glance');
    expect(lines).not.toContain('By department (median first response over 30 days):');
  });

  it('each chat lists and counts its own department; the default chat adds a line per department', async () => {
    const code = /\/claim ([A-Z0-9]{10})/.exec((await say('/department add Sales')).answer.text)![1];
    expect((await say(`/claim ${code}`, { chatId: SALES })).answer.text).toMatch(/^✅/);

    const bulk = await visitorIn('sales', 'Bulk prices please');
    const second = await visitorIn('sales', 'Invoice question');
    const order = await visitorIn(undefined, 'Order is late');
    expect([bulk.topicChatId, second.topicChatId, order.topicChatId]).toEqual([SALES, SALES, STAFF_CHAT_ID]);
    // Staff answer one sales thread (a first response), and close the other.
    h.emu.userSends({ chatId: SALES, from: deniz, text: 'From 100 pieces, 10% off.', threadId: bulk.topicId! });
    await eventually(async () => (await h.td.app.db('messages').where({ thread_id: bulk.id, sender_type: 'staff' })).length === 1);
    await say('/close', { chatId: SALES, threadId: second.topicId! });

    const inSales = (await say('/threads', { chatId: SALES })).answer.text.split('\n');
    expect(inSales.slice(0, 2)).toEqual(['🏷 Department: Sales', 'Open conversations: 1']);
    expect(inSales[2]).toMatch(new RegExp(`^• Bulk Visitor · ${bulk.ref} — `));
    expect(inSales.join('\n')).not.toContain(order.ref);

    const inDefault = (await say('/threads')).answer.text.split('\n');
    expect(inDefault.slice(0, 2)).toEqual(['🏷 Department: General', 'Open conversations: 1']);
    expect(inDefault[2]).toMatch(new RegExp(`^• Order Visitor · ${order.ref} — `));

    const salesStats = (await say('/stats', { chatId: SALES })).answer.text.split('\n');
    expect(salesStats.slice(0, 5)).toEqual([
      '🏷 Department: Sales',
      'Support at a glance',
      'Open conversations: 1',
      'Closed conversations: 1',
      'Messages today: 3',
    ]);
    expect(salesStats[5]).toMatch(/^Median first response \(30 days\): \d+ s$/);
    expect(salesStats).not.toContain('By department (median first response over 30 days):');

    const defaultStats = (await say('/stats')).answer.text.split('\n');
    expect(defaultStats.slice(0, 6)).toEqual([
      '🏷 Department: General',
      'Support at a glance',
      'Open conversations: 1',
      'Closed conversations: 0',
      'Messages today: 1',
      'Median first response (30 days): —',
    ]);
    const breakdown = defaultStats.slice(defaultStats.indexOf('By department (median first response over 30 days):') + 1);
    expect(breakdown).toHaveLength(2);
    expect(breakdown[0]).toBe('• General: 1 open · 0 closed · —');
    expect(breakdown[1]).toMatch(/^• Sales: 1 open · 1 closed · \d+ s$/);

    // In Turkish.
    const tr = (await say('/stats', { from: ayse })).answer.text.split('\n');
    expect(tr[0]).toBe('🏷 Departman: General');
    expect(tr).toContain('Departmanlara göre (30 günde medyan ilk yanıt):');
    expect(tr[tr.length - 1]).toMatch(/^• Sales: 1 açık · 1 kapalı · \d+ s$/);
    expect((await say('/threads', { chatId: SALES, from: ayse })).answer.text.split('\n')[0]).toBe('🏷 Departman: Sales');
  });
});
