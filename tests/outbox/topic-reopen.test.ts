import { STAFF_CHAT_ID } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { staffSays, visitorWithThread, type Staff } from '../staff/staff-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/** After /close, the visitor's next message reopens the thread; the outbox reopens its topic before posting into it. */
describeEachDatabase('a closed topic is reopened by the outbox, on %s', (kind) => {
  let setup: TopicdeskWithTelegram;
  let deniz: Staff;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
      },
    });
  });
  afterAll(() => setup?.stop());

  it('calls reopenForumTopic before the first message of the reopened thread, which lands in the open topic', async () => {
    const { emu, td } = setup;
    const { v, threadId, topicId } = await visitorWithThread(td, 'first question');
    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: topicId! });
    await v.waitFor('thread:status', (s) => s.status === 'closed');
    await emu.waitFor((c) => c.method === 'closeForumTopic' && c.params.message_thread_id === topicId);
    const topic = () => emu.topics(STAFF_CHAT_ID).find((t) => t.message_thread_id === topicId)!;
    expect(topic().closed).toBe(true);
    const mark = emu.calls.length;

    const next = await v.send('back again');
    await v.waitFor('message:status', (s) => s.id === next.message.id && s.status === 'delivered', 10000);

    const calls = emu.calls.slice(mark);
    const reopen = calls.findIndex((c) => c.method === 'reopenForumTopic' && c.params.message_thread_id === topicId);
    const send = calls.findIndex((c) => c.method === 'sendMessage' && c.params.text === 'back again');
    expect(reopen).toBeGreaterThanOrEqual(0);
    expect(calls[reopen].ok).toBe(true);
    expect(reopen).toBeLessThan(send);
    // Reopened in advance: no post ran into the closed topic (the TOPIC_CLOSED fallback was not needed).
    expect(calls.filter((c) => c.method === 'sendMessage' && !c.ok)).toEqual([]);
    expect(calls[send]).toMatchObject({ ok: true, params: { message_thread_id: topicId } });
    expect(topic().closed).toBe(false);
    expect((await td.app.store.threads.findById(threadId))!).toMatchObject({ status: 'open', topicId });
    v.close();
  });

  it('a topic staff already reopened by hand is not an error: the message goes on', async () => {
    const { emu, td } = setup;
    const { v, topicId } = await visitorWithThread(td, 'second visitor');
    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: topicId! });
    await v.waitFor('thread:status', (s) => s.status === 'closed');
    await emu.waitFor((c) => c.method === 'closeForumTopic' && c.params.message_thread_id === topicId);
    emu.reopenTopic(STAFF_CHAT_ID, topicId!); // in the Telegram app, the thread stays closed in the database

    const next = await v.send('still there?');
    await v.waitFor('message:status', (s) => s.id === next.message.id && s.status === 'delivered', 10000);
    expect(
      emu
        .sentMessages(STAFF_CHAT_ID)
        .filter((m) => m.text === 'still there?')
        .map((m) => m.message_thread_id),
    ).toEqual([topicId]);
    v.close();
  });
});
