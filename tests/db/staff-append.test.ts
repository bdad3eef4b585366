import type { Database } from '../../src/db/database';
import type { Store } from '../../src/domain/ports';
import type { StaffAppend } from '../../src/domain/staff-message-ports';
import { describeEachDatabase } from '../support/services';
import { statementsOf, useStore } from '../support/store';

const CHAT = -100555;

describeEachDatabase('a staff message from Telegram on %s', (kind) => {
  const opened = useStore(kind);
  let db: Database;
  let store: Store;
  beforeAll(() => {
    ({ db, store } = opened());
  });

  async function threadInTopic(tag: string, topicId: number) {
    const now = new Date(Date.now() - 60_000);
    const { visitor } = await store.visitors.create({ tokenHash: `hash-${tag}`, now });
    const thread = await store.threads.create({ visitorId: visitor.id, ref: `ref-${tag}`, now });
    await store.threads.setTopic(thread.id, CHAT, topicId);
    return thread;
  }

  const staffMessage = (threadId: number, messageId: number, extra: Partial<StaffAppend> = {}): StaffAppend => ({
    threadId,
    sender: 'staff',
    text: 'On its way',
    html: '<b>On its way</b>',
    notice: null,
    attachment: null,
    telegram: { chatId: CHAT, topicId: 7, messageId },
    now: new Date(),
    ...extra,
  });

  it('stores the message, its link, the last activity and the handled update in one write; a repeat stores nothing', async () => {
    const thread = await threadInTopic('one', 7);
    const input = staffMessage(thread.id, 501, { updateId: 9001 });
    const { result: message, statements } = await statementsOf(db, () => store.appendStaffMessage(input));
    // PostgreSQL: one statement (WITH … insert, insert, update, insert); SQLite: BEGIN, three, COMMIT, the thread's
    // last activity moving with the message (a trigger: migrations/20261211000000_message_moves_thread_activity.ts).
    expect(statements).toHaveLength(kind === 'postgres' ? 1 : 5);
    expect(statements.filter((sql) => /^update/i.test(sql.trim()))).toEqual([]);
    expect(message).toMatchObject({
      threadId: thread.id,
      sender: 'staff',
      text: 'On its way',
      html: '<b>On its way</b>',
      status: 'delivered',
    });
    expect(await db('telegram_links').where({ message_id: message!.id })).toMatchObject([
      { thread_id: thread.id, topic_id: 7, direction: 'from_telegram' },
    ]);
    const link = await db<{ message_id: number; telegram_message_id: number | string }>('telegram_links')
      .where({ message_id: message!.id })
      .first();
    expect(Number(link?.telegram_message_id)).toBe(501);
    expect((await store.threads.findById(thread.id))!.lastActivityAt).toEqual(input.now);
    expect(await db('processed_updates').where({ update_id: 9001 })).toHaveLength(1);
    // The history read afterwards has it (the recent-messages cache was dropped).
    expect((await store.messages.history([thread.id], { limit: 10 })).map((m) => m.id)).toEqual([message!.id]);

    // The same Telegram message again (say, handled twice): nothing stored, that update not recorded.
    const again = await statementsOf(db, () => store.appendStaffMessage({ ...input, updateId: 9002 }));
    expect(again.result).toBeNull();
    expect(again.statements).toHaveLength(kind === 'postgres' ? 1 : 3);
    expect(await db('messages').where({ thread_id: thread.id })).toHaveLength(1);
    expect(await db('processed_updates').where({ update_id: 9002 })).toHaveLength(0);
  });

  it('a notice about a file, or an attachment, is stored as the message would be; a thread that is gone stores nothing', async () => {
    const thread = await threadInTopic('two', 8);
    const notice = await store.appendStaffMessage(
      staffMessage(thread.id, 601, {
        sender: 'system',
        text: 'A file',
        html: null,
        notice: { code: 'file_too_large', params: { mb: '25.0' } },
      }),
    );
    expect(notice).toMatchObject({ sender: 'system', html: null, notice: { code: 'file_too_large', params: { mb: '25.0' } } });
    // A notice staff caused is activity too (on SQLite it touches the thread itself: the trigger counts visitors' and
    // staff's messages).
    const touched = (await db('threads').where({ id: thread.id }).first()) as { last_activity: number | string };
    expect(Number(touched.last_activity)).toBe(notice!.createdAt.getTime());
    const attachment = { kind: 'image' as const, url: '/media/x.png', mime: 'image/png', size: 1234, path: 'x.png' };
    const photo = await store.appendStaffMessage(staffMessage(thread.id, 602, { text: null, html: null, attachment }));
    expect(photo).toMatchObject({ text: null, attachment: { kind: 'image', url: '/media/x.png', mime: 'image/png', size: 1234 } });
    expect((await db<{ id: number; file_path: string | null }>('messages').where({ id: photo!.id }).first())?.file_path).toBe('x.png');

    const gone = await store.appendStaffMessage(staffMessage(thread.id + 1000, 603, { updateId: 9003 }));
    expect(gone).toBeNull();
    expect(await db('telegram_links').where({ telegram_message_id: 603 })).toHaveLength(0);
    expect(await db('processed_updates').where({ update_id: 9003 })).toHaveLength(0);
  });

  it('the topic → thread look-up is answered from memory once known, and follows a new topic and a /move', async () => {
    const thread = await threadInTopic('three', 21);
    expect(await store.threads.threadIdOfTopic(CHAT, 21)).toBe(thread.id);
    // Known now: storing a staff message (which moves the thread's last activity) does not make it read again.
    await store.appendStaffMessage(staffMessage(thread.id, 701));
    const known = await statementsOf(db, () => store.threads.threadIdOfTopic(CHAT, 21));
    expect(known).toEqual({ result: thread.id, statements: [] });

    // The topic was deleted by hand and the thread got a new one: the old topic leads nowhere.
    await store.threads.setTopic(thread.id, CHAT, 22);
    expect(await store.threads.threadIdOfTopic(CHAT, 21)).toBeNull();
    expect(await store.threads.threadIdOfTopic(CHAT, 22)).toBe(thread.id);
    // /move to another department's chat: the new topic leads to it, and the topic it left still does.
    await store.threads.move(thread.id, { departmentId: null, chatId: CHAT - 1, topicId: 5 });
    expect(await store.threads.threadIdOfTopic(CHAT - 1, 5)).toBe(thread.id);
    expect(await store.threads.threadIdOfTopic(CHAT, 22)).toBe(thread.id);
    expect(await store.threads.threadIdOfTopic(CHAT, 23)).toBeNull();
  });

  it('the thread’s department (for the staff page’s live feed) is answered from memory after a message, and follows /move and a removed department', async () => {
    const thread = await threadInTopic('four', 31);
    const now = new Date();
    await store.departments.add({
      key: 'sales',
      name: 'Sales',
      codeHash: 'code-sales',
      claimExpiresAt: new Date(now.getTime() + 60_000),
      createdBy: 1,
      now,
    });
    const sales = (await store.departments.list()).find((d) => d.key === 'sales')!;
    expect(await store.threads.departmentOf(thread.id)).toBeNull();
    await store.appendStaffMessage(staffMessage(thread.id, 801));
    expect(await statementsOf(db, () => store.threads.departmentOf(thread.id))).toEqual({ result: null, statements: [] });

    await store.threads.move(thread.id, { departmentId: sales.id, chatId: CHAT - 2, topicId: 9 });
    expect(await store.threads.departmentOf(thread.id)).toBe(sales.id);
    await store.departments.remove(sales.id);
    expect(await store.threads.departmentOf(thread.id)).toBeNull();
    expect(await store.threads.departmentOf(thread.id + 1000)).toBeUndefined();
  });
});
