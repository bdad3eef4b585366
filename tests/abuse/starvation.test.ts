import { connectVisitor, STAFF_CHAT_ID, type VisitorClient } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { visitorWithThread } from '../staff/staff-helpers';

/**
 * New threads cannot starve existing conversations (docs/delivery.md, docs/security.md): under
 * Telegram's group limit — 20 sends a minute, in the emulator and in topicdesk's own pacing — a
 * spam wave of new threads from one address does not keep a real visitor's message waiting
 * behind its topics. The probe: 200 spam topics, a real message still waiting 456 s later.
 */
describeEachDatabase('a spam wave of new threads under the group limit, on %s', (kind) => {
  let setup: TopicdeskWithTelegram;
  const clients: VisitorClient[] = [];
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      env: { TELEGRAM_CHAT_SENDS_PER_MINUTE: '20' },
      prepare: (emu) => emu.setChatRateLimit(STAFF_CHAT_ID, { limit: 20, windowMs: 60_000 }),
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await setup?.stop();
  });

  /** When the emulator's staff chat got a message with this text (ms since epoch), once it has. */
  const waitForArrival = async (text: string, timeoutMs: number) =>
    (await setup.emu.waitFor((c) => c.method === 'sendMessage' && c.params.text === text, { timeoutMs })).at;

  it('a real visitor’s message and a newcomer’s first one reach staff within a minute, ahead of the spam’s topics, while the spam beyond the budget is refused', async () => {
    const { td, emu } = setup;
    // A real visitor with a conversation (and its topic) from before the wave.
    const real = await visitorWithThread(td, 'I ordered a blue one');
    clients.push(real.v);

    // The wave: fresh visitors from one address, each opening a thread, 8 at a time.
    const spamAcks: Array<Awaited<ReturnType<VisitorClient['send']>>> = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, n) => {
        for (let i = 0; i < 5; i++) {
          const v = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.2' });
          spamAcks.push(await v.send(`spam ${n}-${i}`));
          v.close();
        }
      }),
    );
    // ADDRESS_NEW_THREADS_PER_HOUR: 30 threads, then clear refusals that store nothing.
    expect(spamAcks.filter((a) => a.ok)).toHaveLength(30);
    for (const a of spamAcks.filter((x) => !x.ok)) expect(a.error?.code).toBe('rate_limited');

    // Right behind the wave: the real visitor writes again, and someone new from another address opens a conversation.
    const sent = await real.v.send('it came in red, what now?');
    expect(sent.ok).toBe(true);
    const newcomer = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.4' });
    clients.push(newcomer);
    expect((await newcomer.send('hello, is anyone there?')).ok).toBe(true);

    // Both reach the staff chat within a minute, though the wave needs 60 sends (3 minutes of the budget).
    const realAt = await waitForArrival('it came in red, what now?', 60_000);
    const newcomerAt = await waitForArrival('hello, is anyone there?', 60_000);
    // … ahead of the wave's topics: only those begun before half the budget was spent went first (10 sends,
    // less the set-up's topic and message: 4 topics of 2 sends), and on the reserve at most the fifth (an
    // address's sixth thread of the hour and later ones wait for topics while the budget is on its reserve).
    const spamRefs = new Set<string>();
    for (const a of spamAcks) if (a.ok) spamRefs.add((await td.app.store.threads.findById(a.message.threadId))!.ref);
    const spamTopicsBefore = (at: number) =>
      emu.callsTo('createForumTopic').filter((c) => c.ok && c.at < at && spamRefs.has(String(c.params.name).split(' · ')[1])).length;
    expect(spamTopicsBefore(realAt)).toBeLessThanOrEqual(5);
    expect(spamTopicsBefore(newcomerAt)).toBeLessThanOrEqual(5);
    // The pacing kept topicdesk under the group limit all along: Telegram never had to say 429.
    expect(emu.calls.filter((c) => (c.method === 'sendMessage' || c.method === 'createForumTopic') && !c.ok)).toEqual([]);
  }, 90_000);
});
