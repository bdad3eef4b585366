import { connectVisitor, eventually, STAFF_CHAT_ID, storedVisitorId, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { statementsOf } from '../support/store';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/** A claim reads the outbox joined with its threads (src/db/outbox-claims.ts): claimHeads, claimThreadHead. */
const isClaim = (sql: string) => /from [`"]outbox[`"] as [`"]o[`"]/.test(sql);
/** The texts the bot posted in the staff chat, oldest first. */
const postedIn = (emu: TelegramEmulator) => emu.sentMessages(STAFF_CHAT_ID).map((m) => m.text);

describeEachDatabase('the hand-off: a message the worker sends without claiming it, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    // No poll during a test: every claim a test sees was asked for by a wake, not by the clock.
    setup = await startWithTelegram(kind, { env: { OUTBOX_POLL_MS: '60000' } });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  const inTelegram = () => postedIn(emu);

  it('a message into a thread that has its topic reaches Telegram with no claim: the append and the settle only', async () => {
    const v = await connectVisitor(td.url);
    // The first message opens the thread: its topic is created through a claim, as before.
    const first = await v.send('first, through a claim');
    await v.waitFor('message:status', (s) => s.id === first.message.id && s.status === 'delivered');

    // The next one is handed over; the worker reads its thread once (setting the topic dropped the cached record).
    const second = await v.send('second, handed over');
    await v.waitFor('message:status', (s) => s.id === second.message.id && s.status === 'delivered');

    const { statements } = await statementsOf(td.app.db, async () => {
      const sent = await v.send('third, handed over');
      await v.waitFor('message:status', (s) => s.id === sent.message.id && s.status === 'delivered');
    });
    expect(inTelegram().slice(-3)).toEqual(['first, through a claim', 'second, handed over', 'third, handed over']);
    expect(statements.filter(isClaim)).toEqual([]);
    // PostgreSQL: one statement to store it (message, outbox row leased, thread), one to settle it. SQLite: a
    // transaction of four to store it (begin, two statements — the thread's last activity moves by a trigger —,
    // commit), a transaction of four to settle it (begin, the link, the row and with it the message, commit: one
    // commit, one fsync). No read of the thread: it is cached.
    expect(statements).toHaveLength(kind === 'postgres' ? 2 : 8);
    v.close();
  });

  it("a new conversation's first message is handed over too, and nothing is read that its transaction just wrote", async () => {
    const v = await connectVisitor(td.url);
    const { statements } = await statementsOf(td.app.db, async () => {
      const sent = await v.send('a new conversation');
      await v.waitFor('message:status', (s) => s.id === sent.message.id && s.status === 'delivered');
    });
    expect(inTelegram().slice(-1)).toEqual(['a new conversation']);
    // The thread it opened is known to no other delivery: its row is stored leased, and the worker creates the topic.
    const topic = emu.calls.filter((c) => c.ok && c.method === 'createForumTopic').at(-1)?.result as { message_thread_id: number };
    const post = emu.calls.filter((c) => c.ok && c.method === 'sendMessage').at(-1);
    expect(post?.params.message_thread_id).toBe(topic.message_thread_id);
    expect(statements.filter(isClaim)).toEqual([]);
    // No look-up of the new visitor's threads, no lock of a visitor no one else can see yet, no read of the new
    // thread afterwards (the staff page's feed finds it, and its department, in the cache).
    expect(statements.filter((sql) => /from [`"]threads[`"]/.test(sql))).toEqual([]);
    expect(statements.filter((sql) => /for update/.test(sql))).toEqual([]);
    // The visitor (its token not revoked, /lockdown off: conditions of its insert, no reads), the thread, the message
    // and its outbox row — PostgreSQL: one statement; SQLite: begin, four, commit — then the topic (SQLite: begin, one,
    // commit: recorded in its turn's transaction, src/db/topic-record.ts), then the settle (SQLite: begin, two, commit;
    // PostgreSQL: one statement).
    expect(statements.filter((sql) => /from [`"]?(revoked_visitor_tokens|settings)[`"]? where/.test(sql))).toEqual([]);
    expect(statements).toHaveLength(kind === 'postgres' ? 3 : 13);
    v.close();
  });

  it('a burst from two visitors while Telegram is slow arrives in order, each message once, no lease left behind', async () => {
    const a = await connectVisitor(td.url);
    const b = await connectVisitor(td.url);
    for (const [v, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      const warm = await v.send(`${name} warm`);
      await v.waitFor('message:status', (s) => s.id === warm.message.id && s.status === 'delivered');
    }
    emu.setLatency(30);
    try {
      // Three at a time each, without waiting for single acks: some are handed over, some wait behind a send in flight
      // and are claimed after it; each round starts once the last one's messages are stored (acknowledged).
      const acks = [];
      for (let i = 1; i <= 12; i++) {
        acks.push(a.send(`a ${i}`), b.send(`b ${i}`));
        if (i % 3 === 0) await Promise.all(acks);
      }
      const sent = await Promise.all(acks);
      expect(sent.every((s) => s.ok)).toBe(true);
      const last = [sent[sent.length - 2], sent[sent.length - 1]];
      await a.waitFor('message:status', (s) => s.id === last[0].message.id && s.status === 'delivered', 20_000);
      await b.waitFor('message:status', (s) => s.id === last[1].message.id && s.status === 'delivered', 20_000);
    } finally {
      emu.setLatency(0);
    }
    // Merged sends carry several lines ("[hh:mm:ss] text"): each line is one message.
    const lines = inTelegram().flatMap((t) => (t ?? '').split('\n').map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, '')));
    for (const name of ['a', 'b']) {
      const mine = lines.filter((l) => new RegExp(`^${name} \\d+$`).test(l));
      expect(mine).toEqual(Array.from({ length: 12 }, (_, i) => `${name} ${i + 1}`));
    }
    const left = await td.app.db('outbox').where({ status: 'pending' });
    expect(left).toEqual([]);
    a.close();
    b.close();
  });

  /** The outbox row of a stored message, as the database holds it now. */
  const rowOf = async (messageId: number) =>
    (
      (await td.app.db('outbox').where({ message_id: messageId })) as Array<{
        id: number | string;
        locked_by: string | null;
        status: string;
      }>
    )[0];
  const sendsAt = () => {
    const calls = emu.calls.filter((c) => c.ok && c.method === 'sendMessage');
    return (text: string) => calls.find((c) => c.params.text === text)!.at;
  };

  it("a message stored while its thread's previous one is on its way joins that drain: leased, sent right after it, no claim", async () => {
    const v = await connectVisitor(td.url);
    const warm = await v.send('chain warm');
    await v.waitFor('message:status', (s) => s.id === warm.message.id && s.status === 'delivered');
    emu.setLatency(300);
    try {
      const { statements } = await statementsOf(td.app.db, async () => {
        // Handed over: its send is in flight for 300 ms, the thread's drain with it.
        await v.send('chain 1');
        // Acknowledged while the first is still on its way: stored leased to the same worker, behind it.
        const second = await v.send('chain 2');
        expect((await rowOf(second.message.id)).locked_by).not.toBeNull();
        await v.waitFor('message:status', (s) => s.id === second.message.id && s.status === 'delivered', 10_000);
      });
      // The drain took it next: no claim, and its send started only once the first was answered (300 ms later).
      expect(statements.filter(isClaim)).toEqual([]);
      const at = sendsAt();
      expect(at('chain 2') - at('chain 1')).toBeGreaterThanOrEqual(250);
      expect(inTelegram().slice(-2)).toEqual(['chain 1', 'chain 2']);
    } finally {
      emu.setLatency(0);
    }
    v.close();
  });

  it('a joined row handed over after the drain it followed has ended is given back, and claimed in order', async () => {
    const v = await connectVisitor(td.url);
    const warm = await v.send('late warm');
    await v.waitFor('message:status', (s) => s.id === warm.message.id && s.status === 'delivered');
    const visitorId = (await storedVisitorId(td.app, v))!;
    const worker = td.app.worker!;
    emu.setLatency(300);
    let late;
    try {
      const first = await v.send('late 1');
      // Stored straight through the store, behind the first (on its way): leased to this worker, not yet handed over.
      const appended = (await td.app.store.appendToOpenThread({
        visitorId,
        text: 'late 2',
        clientId: 'late-2',
        now: new Date(),
        lease: worker.handOffLease(false, visitorId),
      }))!;
      late = appended.handedOff!;
      expect(late).toMatchObject({ id: Number((await rowOf(appended.message.id)).id), joins: true });
      // The drain of the first ends without it (nothing it knew of waited behind).
      await v.waitFor('message:status', (s) => s.id === first.message.id && s.status === 'delivered', 10_000);
    } finally {
      emu.setLatency(0);
    }
    await worker.idlePass();
    expect(inTelegram().at(-1)).toBe('late 1');
    // Handed over now: not started on its own (what it followed may not have been sent), but given back to the claims.
    const { statements } = await statementsOf(td.app.db, async () => {
      worker.handOff(late);
      await v.waitFor('message:status', (s) => s.id === late.messageId && s.status === 'delivered', 10_000);
    });
    expect(statements.filter(isClaim).length).toBeGreaterThan(0);
    expect(inTelegram().slice(-2)).toEqual(['late 1', 'late 2']);
    expect(await td.app.db('outbox').where({ status: 'pending' })).toEqual([]);
    v.close();
  });

  it('a cached thread record without its topic (refilled before the topic was set) sends the row through a claim, not into a second topic', async () => {
    const v = await connectVisitor(td.url);
    const first = await v.send('stale warm');
    await v.waitFor('message:status', (s) => s.id === first.message.id && s.status === 'delivered');
    const thread = (await td.app.store.threads.findById(first.message.threadId))!;
    expect(thread.topicId).not.toBeNull();
    const topicsBefore = emu.calls.filter((c) => c.method === 'createForumTopic').length;
    // The cache says what a reader saw before the topic was stored.
    td.app.store.threads.remember({ ...thread, topicId: null, topicChatId: null });
    const { statements } = await statementsOf(td.app.db, async () => {
      const sent = await v.send('after a stale read');
      await v.waitFor('message:status', (s) => s.id === sent.message.id && s.status === 'delivered');
    });
    expect(statements.filter(isClaim).length).toBeGreaterThan(0);
    expect(emu.calls.filter((c) => c.method === 'createForumTopic')).toHaveLength(topicsBefore);
    const post = emu.calls.filter((c) => c.ok && c.method === 'sendMessage').at(-1);
    expect(post?.params).toMatchObject({ text: 'after a stale read', message_thread_id: thread.topicId });
    v.close();
  });

  it('when the send it followed fails and waits to be tried again, a joined row is given back and goes after it, in order', async () => {
    const v = await connectVisitor(td.url);
    const warm = await v.send('retried warm');
    await v.waitFor('message:status', (s) => s.id === warm.message.id && s.status === 'delivered');
    const worker = td.app.worker!;
    emu.setLatency(300);
    emu.failNext('sendMessage', { error_code: 500, description: 'Internal Server Error' });
    let ids: number[];
    try {
      const first = await v.send('retried 1');
      const second = await v.send('retried 2');
      expect((await rowOf(second.message.id)).locked_by).not.toBeNull();
      ids = [first.message.id, second.message.id];
      // The first failed (500) and waits for its backoff; the second was given back, not sent ahead of it.
      await eventually(async () => (await rowOf(ids[1])).locked_by === null, { what: 'the joined row given back' });
      await worker.idlePass();
    } finally {
      emu.setLatency(0);
    }
    expect(inTelegram().at(-1)).toBe('retried warm');
    const rows = (await td.app.db('outbox').whereIn('message_id', ids).orderBy('id')) as Array<{
      status: string;
      available_at: number | string;
    }>;
    expect(rows.map((r) => r.status)).toEqual(['pending', 'pending']);
    // Once the backoff has passed, a pass (the poll; here a wake, repeated until it finds the row due) sends both in the
    // thread's order.
    await eventually(
      async () => {
        worker.wake();
        return (await rowOf(ids[1])).status === 'sent';
      },
      { timeoutMs: 10_000, what: 'both sent after the backoff' },
    );
    await v.waitFor('message:status', (s) => s.id === ids[1] && s.status === 'delivered', 10_000);
    expect(inTelegram().slice(-2)).toEqual(['retried 1', 'retried 2']);
    expect(await td.app.db('outbox').where({ status: 'pending' })).toEqual([]);
    v.close();
  });
});

describeEachDatabase('the hand-off within the worker’s places (OUTBOX_CONCURRENCY), on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, { env: { OUTBOX_POLL_MS: '60000', OUTBOX_CONCURRENCY: '2' } });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  it('a burst of new conversations is handed over only as far as the places go; the rest are claimed as places free up', async () => {
    const visitors = await Promise.all(Array.from({ length: 6 }, () => connectVisitor(td.url)));
    emu.setLatency(300);
    try {
      // Six first messages at once: each asks for a lease before any of them reaches the worker.
      const sent = await Promise.all(visitors.map((v, i) => v.send(`burst ${i}`)));
      // Every one is stored (acknowledged); no more rows are leased than the worker has places, handed over or claimed.
      const leased = await td.app.db('outbox').where({ status: 'pending' }).whereNotNull('locked_by');
      expect(leased.length).toBeLessThanOrEqual(2);
      for (const [i, v] of visitors.entries())
        await v.waitFor('message:status', (s) => s.id === sent[i].message.id && s.status === 'delivered', 20_000);
    } finally {
      emu.setLatency(0);
    }
    expect(postedIn(emu).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `burst ${i}`));
    for (const v of visitors) v.close();
  });
});
