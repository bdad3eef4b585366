import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { visitorWithThread, type Staff } from '../staff/staff-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * Permanent failures are visible and never block (docs/delivery.md): the real
 * outbox against the emulator's fault injection, a real visitor socket, and a
 * real staff /retry through the bot.
 */
describeEachDatabase('a message Telegram will not take, on %s', (kind) => {
  let setup: TopicdeskWithTelegram;
  let deniz: Staff;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      env: { OUTBOX_MAX_ATTEMPTS: '3', OUTBOX_SEND_TIMEOUT_SECONDS: '2' },
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
      },
    });
  });
  afterAll(() => setup?.stop());

  const notices = (ref: string) =>
    setup.emu.sentMessages(STAFF_CHAT_ID).filter((m) => (m.text ?? '').startsWith(`⚠️ #${ref}: a visitor message could not be delivered.`));
  const statusOf = async (v: Awaited<ReturnType<typeof visitorWithThread>>['v'], id: number) =>
    ((await v.emit('history', {})).messages as Array<{ id: number; status: string }>).find((m) => m.id === id)?.status;

  it('a 400 fails at once, later messages go on, the visitor and staff (once) are told, and /retry delivers it', async () => {
    const { emu } = setup;
    const { v, topicId, ref } = await visitorWithThread(setup.td, 'first, delivered');

    emu.failNext('sendMessage', { error_code: 400, description: 'Bad Request: message is refused' });
    const a = await v.send('refused A');
    expect(await v.waitFor('message:status', (s) => s.id === a.message.id, 10000)).toEqual({ id: a.message.id, status: 'failed' });
    // (The staff notice is a sendMessage too: the next fault is armed once it is out.)
    await eventually(() => notices(ref).length === 1, { what: 'the staff notice' });
    emu.failNext('sendMessage', { error_code: 400, description: 'Bad Request: message is refused' });
    const b = await v.send('refused B');
    expect(await v.waitFor('message:status', (s) => s.id === b.message.id, 10000)).toEqual({ id: b.message.id, status: 'failed' });
    const c = await v.send('after the refused ones');
    expect(await v.waitFor('message:status', (s) => s.id === c.message.id, 10000)).toEqual({ id: c.message.id, status: 'delivered' });

    // At once: one attempt each, no retry.
    expect(emu.calls.filter((x) => x.method === 'sendMessage' && /^refused [AB]$/.test(String(x.params.text)))).toHaveLength(2);
    expect(await statusOf(v, a.message.id)).toBe('failed');
    expect(await statusOf(v, b.message.id)).toBe('failed');
    const row = await setup.td.app.db('outbox').where({ message_id: a.message.id }).first();
    expect(row).toMatchObject({ status: 'failed', last_error: '400: Bad Request: message is refused' });

    // One notice for the episode, in the thread's topic, saying what and why (English, then Turkish).
    const posted = notices(ref);
    expect(posted).toHaveLength(1);
    expect(posted[0].message_thread_id).toBe(topicId);
    expect(posted[0].text).toContain('Message: “refused A”');
    expect(posted[0].text).toContain('Reason: 400: Bad Request: message is refused');
    expect(posted[0].text).toContain(`⚠️ #${ref}: bir ziyaretçi mesajı iletilemedi.`);

    // /retry in the topic: both go again, in order, and are delivered; the answer says how many.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: '/retry', threadId: topicId! });
    const answer = await emu.waitFor((x) => x.method === 'sendMessage' && x.ok && /queued again/.test(String(x.params.text)));
    expect(answer.params).toMatchObject({ text: '🔁 2 failed messages are queued again.', message_thread_id: topicId });
    await v.waitFor('message:status', (s) => s.id === b.message.id && s.status === 'delivered', 10000);
    expect(await statusOf(v, a.message.id)).toBe('delivered');
    const texts = emu.sentMessages(STAFF_CHAT_ID).map((m) => m.text);
    expect(texts.filter((t) => t === 'refused A' || t === 'refused B')).toEqual(['refused A', 'refused B']);
    expect((await setup.td.app.db('outbox').where({ message_id: a.message.id }).first()).status).toBe('sent');

    // Nothing left: /retry says so.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: '/retry', threadId: topicId! });
    await emu.waitFor((x) => x.method === 'sendMessage' && x.ok && x.params.text === 'This conversation has no failed messages.');
    expect(notices(ref)).toHaveLength(1);

    // That episode is over: the next failure is told again.
    emu.failNext('sendMessage', { error_code: 403, description: 'Forbidden: refused again' });
    const d = await v.send('refused D');
    expect(await v.waitFor('message:status', (s) => s.id === d.message.id, 10000)).toEqual({ id: d.message.id, status: 'failed' });
    await eventually(() => notices(ref).length === 2, { what: 'a second notice' });
    expect(notices(ref)[1].text).toContain('Reason: 403: Forbidden: refused again');
    v.close();
  });

  it('5xx is retried, then failed after OUTBOX_MAX_ATTEMPTS, without losing the thread’s later messages', async () => {
    const { emu } = setup;
    const { v, ref } = await visitorWithThread(setup.td, 'second visitor');

    emu.failNext('sendMessage', { error_code: 502, description: 'Bad Gateway' }, 3);
    const m = await v.send('never gets through');
    const after = await v.send('waits, then goes');
    expect(await v.waitFor('message:status', (s) => s.id === m.message.id, 20000)).toEqual({ id: m.message.id, status: 'failed' });
    await v.waitFor('message:status', (s) => s.id === after.message.id && s.status === 'delivered', 10000);
    expect(emu.calls.filter((x) => x.method === 'sendMessage' && x.params.text === 'never gets through' && !x.ok)).toHaveLength(3);
    const row = await setup.td.app.db('outbox').where({ message_id: m.message.id }).first();
    expect(row).toMatchObject({ status: 'failed', attempts: 3, last_error: 'gave up after 3 attempts: 502: Bad Gateway' });
    expect(await statusOf(v, m.message.id)).toBe('failed');
    await eventually(() => notices(ref).length === 1, { what: 'the staff notice' });
    expect(notices(ref)[0].text).toContain('Reason: gave up after 3 attempts: 502: Bad Gateway');

    v.close();
  });

  it('when the topic itself is the problem, the notice goes to General', async () => {
    const { emu } = setup;
    emu.failNext('createForumTopic', { error_code: 400, description: 'Bad Request: not enough rights to create a topic' });
    const v = await connectVisitor(setup.td.url);
    const m = await v.send('no topic for me');
    expect(await v.waitFor('message:status', (s) => s.id === m.message.id, 10000)).toEqual({ id: m.message.id, status: 'failed' });
    const thread = (await setup.td.app.store.threads.findById(m.message.threadId))!;
    await eventually(() => notices(thread.ref).length === 1, { what: 'the staff notice' });
    expect(notices(thread.ref)[0].message_thread_id).toBeUndefined();
    expect(notices(thread.ref)[0].text).toContain('Reason: 400: Bad Request: not enough rights to create a topic');
    v.close();
  });
});
