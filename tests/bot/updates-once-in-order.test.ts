import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

describeEachDatabase('staff updates are handled once and in order, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  const staff = { id: 5001, first_name: 'Deniz', is_bot: false as const };

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      prepare: (emu) => {
        emu.addUser(staff);
      },
      waitForTelegram: false,
    });
    ({ db, emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  it('a burst of staff messages in one topic reaches the visitor in the order written', async () => {
    const v = await connectVisitor(td.url);
    const first = await v.send('hello');
    await v.waitFor('message:status', (s) => s.id === first.message.id);
    const thread = (await td.app.store.threads.findById(first.message.threadId))!;
    const texts = Array.from({ length: 25 }, (_, i) => `staff line ${i}`);
    for (const text of texts) emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text, threadId: thread.topicId! });
    await v.waitFor('message', (m) => m.text === 'staff line 24', 10000);
    const received = v.received.filter((r) => r.event === 'message').map((r) => r.payload.text);
    expect(received).toEqual(texts);
    const stored = await td.app.db('messages').where({ thread_id: thread.id, sender_type: 'staff' }).orderBy('id');
    expect(stored.map((m) => m.content_text)).toEqual(texts);
    v.close();
  });

  it('an update delivered again after a restart is not handled twice', async () => {
    const v = await connectVisitor(td.url);
    const first = await v.send('before restart');
    await v.waitFor('message:status', (s) => s.id === first.message.id);
    const thread = (await td.app.store.threads.findById(first.message.threadId))!;
    const { update } = emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'answered once', threadId: thread.topicId! });
    await v.waitFor('message', (m) => m.text === 'answered once');
    v.close();

    await td.stop();
    td = setup.td = await startTopicdesk({ db, emulator: emu });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'bot connected' });
    // Telegram redelivers an update whose offset was never confirmed: the same update_id again.
    await td.app.bot!.handleUpdate(update);
    const count = async () => (await td.app.db('messages').where({ thread_id: thread.id, content_text: 'answered once' })).length;
    expect(await count()).toBe(1);
    // And the restarted bot still handles new updates.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'after restart', threadId: thread.topicId! });
    await eventually(
      async () => (await td.app.db('messages').where({ thread_id: thread.id, content_text: 'after restart' })).length === 1,
      {
        what: 'new update handled',
      },
    );
  });
});
