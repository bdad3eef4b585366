import { connectVisitor, eventually, STAFF_CHAT_ID, type VisitorClient } from '../support/harness';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import type { RecordedCall } from '../../src/emulator/types';
import { movableClock, staffSays, visitorWithThread, type Staff } from './staff-helpers';

/**
 * A visitor typing shows as "typing…" in the thread's topic (docs/protocol.md `typing`): one
 * sendChatAction per thread per 4 s at most, straight to the Bot API — not through the outbox,
 * never retried, dropped while Telegram is slow. Asserted from the emulator's recorded calls; the
 * 4 s are the app's clock, moved by the test. Each `typing` here takes an ack, which the server
 * gives once it has sent or dropped the call, so the calls counted are all there will be.
 */
describe('visitor typing, shown in the topic', () => {
  const clock = movableClock();
  let h: TopicdeskWithTelegram;
  let deniz: Staff;

  beforeAll(async () => {
    h = await startWithTelegram('sqlite', {
      clock,
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const typingCalls = (): RecordedCall[] => h.emu.callsTo('sendChatAction');
  /** Waits until exactly `n` typing calls were made (none is left on its way once the acks are in). */
  async function expectCalls(n: number): Promise<RecordedCall[]> {
    await eventually(() => typingCalls().length >= n, { what: `${n} sendChatAction calls` });
    expect(typingCalls()).toHaveLength(n);
    return typingCalls();
  }
  async function types(v: VisitorClient, times = 1): Promise<void> {
    for (let i = 0; i < times; i++) expect(await v.emit('typing', {})).toEqual({ ok: true });
  }

  it('throttles to one "typing…" per thread every 4 s, in its topic; an ack is optional', async () => {
    // Before the first message there is no thread, so no topic: nothing is sent.
    const early = await connectVisitor(h.td.url);
    await types(early, 3);
    expect(typingCalls()).toEqual([]);
    early.close();

    const { v, topicId } = await visitorWithThread(h.td, 'I have a question');
    await types(v, 5);
    const [first] = await expectCalls(1);
    expect(first.ok).toBe(true);
    expect(first.params).toMatchObject({ chat_id: STAFF_CHAT_ID, action: 'typing', message_thread_id: topicId });

    clock.advance(3_900);
    await types(v, 3);
    await expectCalls(1);
    clock.advance(200);
    await types(v, 3);
    await expectCalls(2);

    // A second tab of the same visitor shares the thread's throttle.
    const tab = await connectVisitor(h.td.url, v.session.token);
    await types(tab, 2);
    await expectCalls(2);

    // Without an ack it works the same.
    clock.advance(4_000);
    v.socket.emit('typing', {});
    await expectCalls(3);
    tab.close();
    v.close();
  });

  it('is dropped, never queued or retried, when Telegram is slow or refuses; messages go on meanwhile', async () => {
    const { v } = await visitorWithThread(h.td, 'Another question');
    const before = typingCalls().length;

    // Telegram does not answer the typing call: the next ones are dropped while it hangs.
    h.emu.hangNext('sendChatAction');
    await types(v);
    await expectCalls(before + 1);
    clock.advance(5_000);
    await types(v, 2);
    // The visitor's message is delivered all the same: typing is not in the outbox's way.
    const sent = await v.send('Still there?');
    expect(sent.ok).toBe(true);
    await v.waitFor('message:status', (s) => s.id === sent.message.id && s.status === 'delivered');
    await expectCalls(before + 1);

    // Once the hung call is given up (3 s), a 429 is not waited out: one call, no retry.
    await eventually(
      async () => {
        clock.advance(4_000);
        await types(v);
        return typingCalls().length === before + 2;
      },
      // Slowly: each try is an event, within the socket's event budget.
      { what: 'typing relayed again after the hung call was given up', intervalMs: 500, timeoutMs: 10_000 },
    );
    h.emu.failNext('sendChatAction', { error_code: 429, description: 'Too Many Requests: retry after 30', retry_after: 30 });
    clock.advance(4_000);
    await types(v);
    const calls = await expectCalls(before + 3);
    expect(calls.at(-1)!.ok).toBe(false);
    clock.advance(4_000);
    await types(v);
    expect((await expectCalls(before + 4)).at(-1)!.ok).toBe(true);
    v.close();
  });

  it('a closed thread shows nothing; a payload other than {} is bad_request', async () => {
    const { v, topicId } = await visitorWithThread(h.td, 'Close me');
    await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: topicId! });
    await v.waitFor('thread:status', (s) => s.status === 'closed');
    const before = typingCalls().length;
    clock.advance(4_000);
    await types(v, 2);
    expect(typingCalls()).toHaveLength(before);

    expect(await v.emit('typing', { text: 'secret' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await v.emit('typing', 'x')).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await v.emit('typing')).toEqual({ ok: true });
    v.close();
  });
});
