import type { User } from 'grammy/types';
import { noticeText } from '../../src/domain/notices';
import { connectVisitor, eventually, outboxIdle, roundTrip, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import type { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { botMessages, sendParams, staffSays, visitorWithThread, type Staff } from '../staff/staff-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * thread:rate (docs/protocol.md): real Socket.IO clients rate a thread that staff closed with a
 * real /close in its topic (the grammY bot over HTTP to the Bot API emulator); the rating reaches
 * the topic through the outbox as a plain line, and the topic is closed again afterwards.
 */
describeEachDatabase('rating a closed thread, on %s', (kind) => {
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

  const inTopic = (topicId: number, from: User, text: string) => staffSays(emu, { chatId: STAFF_CHAT_ID, from, text, threadId: topicId });
  const topic = (topicId: number) => emu.topics(STAFF_CHAT_ID).find((t) => t.message_thread_id === topicId)!;
  const ratingsOf = (threadId: number): Promise<Array<{ score: number | string; comment: string | null; closed_at: number | string }>> =>
    td.app.db('thread_ratings').where({ thread_id: threadId }).orderBy('id');
  const counts = async () => {
    const [r] = await td.app.db('thread_ratings').count({ n: '*' });
    const [m] = await td.app.db('messages').count({ n: '*' });
    const [o] = await td.app.db('outbox').count({ n: '*' });
    return { ratings: Number(r.n), messages: Number(m.n), outbox: Number(o.n) };
  };

  it('is rated once per closing: the line reaches the closed topic as plain text, and a reopened and closed thread is rated again', async () => {
    const { v, threadId, topicId } = await visitorWithThread(td, 'My parcel is late');
    await inTopic(topicId!, deniz, '/close');
    expect(await v.waitFor('thread:status')).toEqual({ id: threadId, status: 'closed', rateable: true });
    await eventually(() => topic(topicId!).closed, { what: 'the topic closed' });
    const topicCalls = () =>
      emu.calls
        .filter((c) => ['reopenForumTopic', 'closeForumTopic'].includes(c.method) && c.params.message_thread_id === topicId)
        .map((c) => `${c.method}:${c.ok}`);
    const callsBefore = topicCalls().length;

    // The comment is cleaned like any visitor text (the zero-width space goes) and stays plain text in Telegram.
    const rated = await v.emit('thread:rate', { threadId, score: 4, comment: '  <b>Great</b>\u200b help & thanks  ' });
    expect(rated).toEqual({ ok: true });
    const expected = 'Rating: ★★★★☆ 4/5 — “<b>Great</b> help & thanks”';
    const note = await v.waitFor('message', (m) => m.notice?.code === 'rating');
    expect(note).toMatchObject({
      threadId,
      sender: 'system',
      text: expected,
      notice: { params: { score: '4', comment: '<b>Great</b> help & thanks' } },
    });
    expect(noticeText(note.notice!, 'tr')).toBe('Değerlendirme: ★★★★☆ 4/5 — “<b>Great</b> help & thanks”');
    expect(await v.waitFor('thread:status', (s) => !s.rateable)).toEqual({ id: threadId, status: 'closed', rateable: false });

    const posted = await emu.waitFor((c) => c.method === 'sendMessage' && c.ok && sendParams(c).text === expected);
    expect(sendParams(posted).message_thread_id).toBe(topicId);
    expect(sendParams(posted).parse_mode).toBeUndefined();
    expect((posted.result as { entities?: unknown }).entities).toBeUndefined();
    await outboxIdle(td);
    // The emulator refuses posts into a closed topic (TOPIC_CLOSED): the outbox reopened it for the line and closed it again.
    expect(emu.callsTo('sendMessage').some((c) => !c.ok && c.error?.description === 'Bad Request: TOPIC_CLOSED')).toBe(true);
    expect(topicCalls().slice(callsBefore)).toEqual(['reopenForumTopic:true', 'closeForumTopic:true']);
    expect(topic(topicId!).closed).toBe(true);
    expect((await td.app.store.threads.findById(threadId))!.status).toBe('closed');
    expect(await v.waitFor('message:status', (s) => s.id === note.id)).toEqual({ id: note.id, status: 'delivered' });

    // Once per closing: a second rating is refused and changes nothing.
    const before = await counts();
    const again = await v.emit('thread:rate', { threadId, score: 1 });
    expect(again.ok).toBe(false);
    expect(again.error.code).toBe('already_rated');
    expect(await counts()).toEqual(before);
    // A reload is not asked again.
    const reloaded = await connectVisitor(td.url, v.session.token);
    expect(reloaded.session.thread).toEqual({ id: threadId, status: 'closed', rateable: false });
    reloaded.close();

    // Writing again reopens the thread: an open thread cannot be rated.
    const next = await v.send('One more thing');
    expect(next.ok).toBe(true);
    await v.waitFor('thread:status', (s) => s.status === 'open');
    const open = await v.emit('thread:rate', { threadId, score: 5 });
    expect(open.ok).toBe(false);
    expect(open.error.code).toBe('bad_request');
    await v.waitFor('message:status', (s) => s.id === next.message.id);

    // Closed again: a new closing, rated again.
    await inTopic(topicId!, deniz, '/close');
    await v.waitFor('thread:status', (s) => s.status === 'closed' && s.rateable);
    expect(await v.emit('thread:rate', { threadId, score: 2 })).toEqual({ ok: true });
    await emu.waitFor((c) => c.method === 'sendMessage' && c.ok && sendParams(c).text === 'Rating: ★★☆☆☆ 2/5');
    const rows = await ratingsOf(threadId);
    expect(rows.map((r) => [Number(r.score), r.comment])).toEqual([
      [4, '<b>Great</b> help & thanks'],
      [2, null],
    ]);
    expect(Number(rows[0].closed_at)).toBeLessThan(Number(rows[1].closed_at));
    await outboxIdle(td);
    expect(topic(topicId!).closed).toBe(true);
    expect(botMessages(emu, STAFF_CHAT_ID).filter((c) => sendParams(c).text.startsWith('Rating:'))).toHaveLength(2);
    v.close();
  });

  it('takes one of two ratings sent at once from two tabs, and tells both tabs', async () => {
    const { v, threadId, topicId } = await visitorWithThread(td, 'Two tabs');
    const tab = await connectVisitor(td.url, v.session.token);
    await inTopic(topicId!, deniz, '/close');
    await tab.waitFor('thread:status', (s) => s.rateable);
    const answers = await Promise.all([v.emit('thread:rate', { threadId, score: 5 }), tab.emit('thread:rate', { threadId, score: 1 })]);
    expect(answers.map((a) => a.ok).sort()).toEqual([false, true]);
    expect(answers.find((a) => !a.ok)!.error.code).toBe('already_rated');
    const rows = await ratingsOf(threadId);
    expect(rows).toHaveLength(1);
    expect(Number(rows[0].score)).toBe(answers[0].ok ? 5 : 1);
    for (const c of [v, tab])
      expect(await c.waitFor('thread:status', (s) => !s.rateable)).toEqual({ id: threadId, status: 'closed', rateable: false });
    await outboxIdle(td);
    const lines = botMessages(emu, STAFF_CHAT_ID).filter(
      (c) => sendParams(c).message_thread_id === topicId && sendParams(c).text.startsWith('Rating:'),
    );
    expect(lines).toHaveLength(1);
    for (const c of [v, tab]) c.close();
  });

  it('answers a foreign thread as one that does not exist, and refuses bad input, changing nothing', async () => {
    const owner = await visitorWithThread(td, 'Mine');
    await inTopic(owner.topicId!, deniz, '/close');
    await owner.v.waitFor('thread:status', (s) => s.status === 'closed');
    const other = await visitorWithThread(td, 'Someone else');
    const stranger = await connectVisitor(td.url); // never wrote: not stored
    await outboxIdle(td);
    const before = await counts();

    const foreign = await other.v.emit('thread:rate', { threadId: owner.threadId, score: 5 });
    const missing = await other.v.emit('thread:rate', { threadId: 987654321, score: 5 });
    const unstored = await stranger.emit('thread:rate', { threadId: owner.threadId, score: 5 });
    expect(foreign).toEqual({ ok: false, error: { code: 'not_found', message: 'There is no such conversation.' } });
    expect(missing).toEqual(foreign);
    expect(unstored).toEqual(foreign);

    const bad: unknown[] = [
      undefined,
      { threadId: owner.threadId },
      { threadId: owner.threadId, score: 0 },
      { threadId: owner.threadId, score: 6 },
      { threadId: owner.threadId, score: 3.5 },
      { threadId: owner.threadId, score: '4' },
      { threadId: String(owner.threadId), score: 4 },
      { threadId: owner.threadId, score: 4, comment: '\u200b\u200d \u2066' },
      { threadId: owner.threadId, score: 4, comment: 'x'.repeat(1001) },
      { threadId: owner.threadId, score: 4, comment: 'bell\u0007' },
      { threadId: owner.threadId, score: 4, comment: 42 },
      { threadId: owner.threadId, score: 4, extra: true },
    ];
    for (const payload of bad) {
      const answer = await owner.v.emit('thread:rate', payload);
      expect([payload, answer.ok, answer.error?.code]).toEqual([payload, false, 'bad_request']);
    }
    // An open thread of one's own.
    const openOwn = await other.v.emit('thread:rate', { threadId: other.threadId, score: 3 });
    expect(openOwn.error.code).toBe('bad_request');

    await roundTrip(owner.v);
    expect(await counts()).toEqual(before);
    expect(owner.v.received.filter((r) => r.event === 'message' && r.payload.notice?.code === 'rating')).toEqual([]);
    // The owner's closing is still there to rate: 1000 characters is the longest comment.
    expect(await owner.v.emit('thread:rate', { threadId: owner.threadId, score: 5, comment: 'y'.repeat(1000) })).toEqual({ ok: true });
    for (const c of [owner.v, other.v, stranger]) c.close();
  });
});
