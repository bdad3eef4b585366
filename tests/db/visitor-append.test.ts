import type { Database } from '../../src/db/database';
import { createGroupCommit } from '../../src/db/group-commit';
import type { HandOffLease, Store } from '../../src/domain/ports';
import type { Message, Thread } from '../../src/domain/types';
import { describeEachDatabase } from '../support/services';
import { statementsOf, useStore } from '../support/store';

describe('group commit', () => {
  it('writes what arrives in one turn together, then what arrives meanwhile together; one failing item fails only its caller', async () => {
    const batches: string[][] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const group = createGroupCommit(async (items: string[]) => {
      batches.push(items);
      if (batches.length === 1) await gate;
      if (items.includes('bad')) throw new Error('bad item');
      return items.map((i) => i.toUpperCase());
    });
    // Two writers in one turn of the event loop (the sockets read together): one batch.
    const first = [group.submit('a'), group.submit('a2')];
    while (batches.length === 0) await new Promise((r) => setImmediate(r));
    // Three more while that batch is in flight: the next batch, together.
    const rest = ['b', 'bad', 'c'].map((i) => group.submit(i).catch((e: Error) => e.message));
    open();
    expect(await Promise.all(first)).toEqual(['A', 'A2']);
    expect(await Promise.all(rest)).toEqual(['B', 'bad item', 'C']);
    // The second batch failed, and each of its items went on its own.
    expect(batches).toEqual([['a', 'a2'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']]);
  });
});

describeEachDatabase('appending to an open thread on %s', (kind) => {
  const opened = useStore(kind);
  let db: Database;
  let store: Store;
  beforeAll(() => {
    ({ db, store } = opened());
  });

  async function visitorWithThread(tag: string) {
    const now = new Date();
    const { visitor } = await store.visitors.create({ tokenHash: `hash-${tag}`, now });
    const thread = await store.threads.create({ visitorId: visitor.id, ref: `ref-${tag}`, now });
    return { visitor, thread };
  }

  it('stores concurrent messages in order with their outbox rows; a repeated clientId, a block or a closed thread store nothing', async () => {
    const { visitor, thread } = await visitorWithThread('one');
    const append = async (text: string, clientId: string) =>
      (await store.appendToOpenThread({ visitorId: visitor.id, text, clientId, now: new Date() }))?.message ?? null;
    const results = await Promise.all([append('m1', 'c1'), append('m2', 'c2'), append('m2 again', 'c2'), append('m3', 'c3')]);
    expect(results.map((m) => m?.text ?? null)).toEqual(['m1', 'm2', null, 'm3']);
    const stored = results.filter((m) => m !== null);
    expect(stored.every((m) => m.threadId === thread.id && m.status === 'stored')).toBe(true);
    expect(stored.map((m) => m.id)).toEqual([...stored.map((m) => m.id)].sort((a, b) => a - b));
    const outbox = await db('outbox').where({ thread_id: thread.id }).orderBy('id');
    expect(outbox.map((r: { message_id: number | string }) => Number(r.message_id))).toEqual(stored.map((m) => m.id));
    expect(await append('m1 again', 'c1')).toBeNull();

    await store.visitors.setBlocked(visitor.id, true);
    expect(await append('blocked', 'c4')).toBeNull();
    await store.visitors.setBlocked(visitor.id, false);
    await store.threads.setStatus(thread.id, 'closed', new Date());
    expect(await append('closed', 'c5')).toBeNull();
    const texts = (await store.messages.history([thread.id], { limit: 50 })).map((m) => m.text);
    expect(texts).toEqual(['m1', 'm2', 'm3']);
  });

  it('stores nothing for a visitor without a thread', async () => {
    const now = new Date();
    const { visitor } = await store.visitors.create({ tokenHash: 'hash-none', now });
    expect(await store.appendToOpenThread({ visitorId: visitor.id, text: 'hello', clientId: 'x1', now })).toBeNull();
  });
});

describeEachDatabase('settling a delivered group on %s', (kind) => {
  const opened = useStore(kind);
  let db: Database;
  let store: Store;
  beforeAll(() => {
    ({ db, store } = opened());
  });

  it('records the links, marks only the rows this worker holds sent and their messages delivered, all at once', async () => {
    const now = new Date();
    const { visitor } = await store.visitors.create({ tokenHash: 'hash-settle', now });
    const thread = await store.threads.create({ visitorId: visitor.id, ref: 'ref-settle', now });
    const append = async (text: string) =>
      (await store.appendToOpenThread({ visitorId: visitor.id, text, clientId: text, now: new Date() }))?.message;
    const [a, b, c] = [(await append('a'))!, (await append('b'))!, (await append('c'))!];
    const rows: Array<{ id: number | string; message_id: number | string }> = await db('outbox')
      .where({ thread_id: thread.id })
      .orderBy('id');
    const rowIds = rows.map((r) => Number(r.id));
    // This worker holds a and c; another one took b meanwhile.
    await db('outbox')
      .whereIn('id', [rowIds[0], rowIds[2]])
      .update({ locked_by: 'w1', locked_until: Date.now() + 60_000 });
    await db('outbox')
      .where({ id: rowIds[1] })
      .update({ locked_by: 'w2', locked_until: Date.now() + 60_000 });

    const { result: delivered, statements } = await statementsOf(db, () =>
      store.settleDelivered({
        threadId: thread.id,
        rowIds,
        messageIds: [a.id, b.id, c.id],
        links: [{ threadId: thread.id, messageId: c.id, chatId: -100777, topicId: 5, telegramMessageId: 42, direction: 'to_telegram' }],
        workerId: 'w1',
        now: new Date(),
      }),
    );

    expect(delivered).toEqual([a.id, c.id]);
    expect((await db('outbox').whereIn('id', rowIds).orderBy('id')).map((r: { status: string }) => r.status)).toEqual([
      'sent',
      'pending',
      'sent',
    ]);
    const statuses = await db('messages').whereIn('id', [a.id, b.id, c.id]).orderBy('id');
    expect(statuses.map((m: { status: string }) => m.status)).toEqual(['delivered', 'stored', 'delivered']);
    expect(await db('telegram_links').where({ message_id: c.id })).toMatchObject([{ telegram_message_id: expect.anything(), topic_id: 5 }]);
    // PostgreSQL: one statement (WITH … insert, update); SQLite: the links' insert, then the rows' update, in one
    // transaction (one commit). Either way the rows' update marks their messages delivered (the outbox's trigger).
    expect(statements).toHaveLength(kind === 'postgres' ? 1 : 4);
    if (kind === 'sqlite')
      expect(statements.map((sql) => sql.split(' ').slice(0, 3).join(' '))).toEqual([
        'BEGIN IMMEDIATE;',
        'insert into telegram_links',
        'update outbox set',
        'COMMIT;',
      ]);
    // The history read afterwards sees the new statuses (the recent-messages cache was dropped).
    expect((await store.messages.history([thread.id], { limit: 10 })).map((m) => m.status)).toEqual(['delivered', 'stored', 'delivered']);
  });
  it('a group without rows (none left to mark) records its links and marks nothing', async () => {
    const now = new Date();
    const { visitor } = await store.visitors.create({ tokenHash: 'hash-rowless', now });
    const thread = await store.threads.create({ visitorId: visitor.id, ref: 'ref-rowless', now });
    const { message } = (await store.appendToOpenThread({ visitorId: visitor.id, text: 'rowless', clientId: 'rowless', now }))!;
    const delivered = await store.settleDelivered({
      threadId: thread.id,
      rowIds: [],
      messageIds: [],
      links: [
        { threadId: thread.id, messageId: message.id, chatId: -100777, topicId: 9, telegramMessageId: 990, direction: 'to_telegram' },
      ],
      workerId: 'w1',
      now: new Date(),
    });
    expect(delivered).toEqual([]);
    expect(await db('telegram_links').where({ message_id: message.id })).toMatchObject([{ topic_id: 9 }]);
    expect(await db('outbox').where({ message_id: message.id }).first()).toMatchObject({ status: 'pending' });
  });

  it('settles groups of several threads that finish together, each only with its own rows and messages', async () => {
    const now = new Date();
    const groups: Array<{ thread: Thread; message: Message; rowId: number }> = [];
    for (const tag of ['g1', 'g2', 'g3']) {
      const { visitor } = await store.visitors.create({ tokenHash: `hash-${tag}`, now });
      const thread = await store.threads.create({ visitorId: visitor.id, ref: `ref-${tag}`, now });
      const { message } = (await store.appendToOpenThread({ visitorId: visitor.id, text: tag, clientId: tag, now }))!;
      const [row] = (await db('outbox').where({ message_id: message.id })) as Array<{ id: number | string }>;
      await db('outbox')
        .where({ id: row.id })
        .update({ locked_by: 'w1', locked_until: Date.now() + 60_000 });
      groups.push({ thread, message, rowId: Number(row.id) });
    }
    const { result: delivered, statements } = await statementsOf(db, () =>
      Promise.all(
        groups.map((g, i) =>
          store.settleDelivered({
            threadId: g.thread.id,
            rowIds: [g.rowId],
            messageIds: [g.message.id],
            links: [
              {
                threadId: g.thread.id,
                messageId: g.message.id,
                chatId: -100777,
                topicId: 7,
                telegramMessageId: 700 + i,
                direction: 'to_telegram',
              },
            ],
            // The third group's rows are another worker's by now: it settles nothing.
            workerId: i === 2 ? 'w2' : 'w1',
            now: new Date(),
          }),
        ),
      ),
    );
    expect(delivered).toEqual([[groups[0].message.id], [groups[1].message.id], []]);
    const statuses = await db('messages')
      .whereIn(
        'id',
        groups.map((g) => g.message.id),
      )
      .orderBy('id');
    expect(statuses.map((m: { status: string }) => m.status)).toEqual(['delivered', 'delivered', 'stored']);
    // The three finished in one turn: one settle for all of them. On PostgreSQL one statement; on SQLite one
    // transaction of two: one links' insert for the three groups and one update of the rows each of the two workers holds.
    expect(statements).toHaveLength(kind === 'postgres' ? 1 : 4);
    expect(statements.filter((sql) => sql.startsWith('insert into telegram_links'))).toHaveLength(kind === 'postgres' ? 0 : 1);
    expect(statements.filter((sql) => /^(BEGIN|COMMIT)/.test(sql))).toEqual(kind === 'postgres' ? [] : ['BEGIN IMMEDIATE;', 'COMMIT;']);
  });
});

describeEachDatabase('what a lone message costs the outbox on %s', (kind) => {
  const opened = useStore(kind);
  let db: Database;
  let store: Store;
  beforeAll(() => {
    ({ db, store } = opened());
  });

  it('stores a new visitor and a new thread with one statement each, and answers with the rows as stored', async () => {
    const now = new Date();
    const { result: stored, statements } = await statementsOf(db, () => store.visitors.create({ tokenHash: 'hash-one-statement', now }));
    expect(statements).toHaveLength(1);
    expect(stored.created).toBe(true);
    expect(stored.visitor).toEqual(await store.visitors.findById(stored.visitor.id));
    // The same token again (another tab): nothing inserted, the stored visitor read.
    const again = await store.visitors.create({ tokenHash: 'hash-one-statement', now: new Date() });
    expect(again).toEqual({ visitor: stored.visitor, created: false });

    const { result: thread, statements: threadStatements } = await statementsOf(db, () =>
      store.threads.create({ visitorId: stored.visitor.id, ref: 'ref-one', now, openingRank: 3 }),
    );
    expect(threadStatements).toHaveLength(1);
    expect(thread).toMatchObject({ visitorId: stored.visitor.id, userId: null, status: 'open', openingRank: 3, departmentId: null });
    // As a later read gives it (create does not fill the cache).
    expect(thread).toEqual(await store.threads.findById(thread.id));
  });

  it("moves each thread's last activity to its latest message, never back; a system note is not activity", async () => {
    const t0 = Date.now() - 600_000;
    const threads = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const { visitor } = await store.visitors.create({ tokenHash: `hash-activity-${name}`, now: new Date(t0) });
        return { visitor, thread: await store.threads.create({ visitorId: visitor.id, ref: `ref-activity-${name}`, now: new Date(t0) }) };
      }),
    );
    const activity = async (id: number) =>
      Number(((await db('threads').where({ id }).first()) as { last_activity: number | string }).last_activity);
    // Three messages of two threads arriving together: one batch, one statement for their messages.
    await Promise.all([
      store.appendToOpenThread({ visitorId: threads[0].visitor.id, text: 'a1', clientId: 'a1', now: new Date(t0 + 1000) }),
      store.appendToOpenThread({ visitorId: threads[0].visitor.id, text: 'a2', clientId: 'a2', now: new Date(t0 + 3000) }),
      store.appendToOpenThread({ visitorId: threads[1].visitor.id, text: 'b1', clientId: 'b1', now: new Date(t0 + 2000) }),
    ]);
    expect([await activity(threads[0].thread.id), await activity(threads[1].thread.id)]).toEqual([t0 + 3000, t0 + 2000]);
    // A message stamped earlier (another instance's clock) does not move it back.
    await store.appendToOpenThread({ visitorId: threads[0].visitor.id, text: 'a0', clientId: 'a0', now: new Date(t0 + 500) });
    expect(await activity(threads[0].thread.id)).toBe(t0 + 3000);
    // A system note on its way to Telegram (a rating, a verification note) is not activity.
    await store.messages.insert({
      threadId: threads[1].thread.id,
      sender: 'system',
      text: 'note',
      clientId: null,
      visitorId: null,
      status: 'stored',
      createdAt: new Date(t0 + 9000),
    });
    expect(await activity(threads[1].thread.id)).toBe(t0 + 2000);
  });

  it("keeps a thread's cached record across an append, with its new last activity", async () => {
    const now = new Date(Date.now() - 60_000);
    const { visitor } = await store.visitors.create({ tokenHash: 'hash-cached', now });
    const thread = await store.threads.create({ visitorId: visitor.id, ref: 'ref-cached', now });
    await store.threads.findById(thread.id); // cached from here on
    const later = new Date();
    const appended = await store.appendToOpenThread({ visitorId: visitor.id, text: 'hi', clientId: 'k1', now: later });
    expect(appended?.message.threadId).toBe(thread.id);
    const { result: cached, statements } = await statementsOf(db, () => store.threads.findById(thread.id));
    expect(statements).toEqual([]);
    expect(cached?.lastActivityAt.getTime()).toBe(later.getTime());
    // The database agrees with the cached record.
    const [row] = await db('threads').where({ id: thread.id });
    expect(Number((row as { last_activity: number | string }).last_activity)).toBe(later.getTime());
  });

  it('claims a head with its thread and message: no look-up of either afterwards', async () => {
    const now = new Date();
    const { visitor } = await store.visitors.create({ tokenHash: 'hash-claim', now });
    const thread = await store.threads.create({ visitorId: visitor.id, ref: 'ref-claim', now });
    const { message } = (await store.appendToOpenThread({ visitorId: visitor.id, text: 'first', clientId: 'h1', now }))!;
    const queue = store.outbox.queue({ workerId: 'claimer', leaseMs: 30_000 });
    const { result: heads, statements } = await statementsOf(db, () => queue.claimHeads(Date.now(), 16, []));
    // The select, then the lease: two statements for any number of heads.
    expect(statements).toHaveLength(2);
    const head = heads.find((h) => h.threadId === thread.id)!;
    expect(head).toMatchObject({ messageId: message.id, fresh: true, behind: 0 });
    expect(head.thread).toEqual(await store.threads.findById(thread.id));
    expect(head.message).toEqual(await store.messages.findById(message.id));
    // The visitor's name too (a new topic is named after it), null until the visitor gives one.
    expect(head.visitorName).toBeNull();

    // The next head of the thread, claimed while draining it, comes with them too.
    const { message: second } = (await store.appendToOpenThread({
      visitorId: visitor.id,
      text: 'second',
      clientId: 'h2',
      now: new Date(),
    }))!;
    await db('outbox').where({ id: head.id }).update({ status: 'sent', locked_by: null, locked_until: null });
    const next = await queue.claimThreadHead(thread.id, Date.now());
    expect(next?.message).toEqual(await store.messages.findById(second.id));
    expect(next?.thread?.id).toBe(thread.id);
    await store.visitors.updateName(visitor.id, 'Ada');
    const { message: third } = (await store.appendToOpenThread({ visitorId: visitor.id, text: 'third', clientId: 'h3', now: new Date() }))!;
    await db('outbox').where({ id: next!.id }).update({ status: 'sent', locked_by: null, locked_until: null });
    expect(await queue.claimThreadHead(thread.id, Date.now())).toMatchObject({ messageId: third.id, visitorName: 'Ada' });
  });
});

describeEachDatabase('the hand-off: a message stored leased to the worker that will send it, on %s', (kind) => {
  const opened = useStore(kind);
  let db: Database;
  let store: Store;
  beforeAll(() => {
    ({ db, store } = opened());
  });

  const lease = (): HandOffLease => ({ workerId: 'here', until: Date.now() + 30_000 });
  /** A message of the visitor's (its text is its clientId), asking for `asked` (null: for no lease). */
  const send = (visitorId: number, text: string, asked: HandOffLease | null = lease()) =>
    store.appendToOpenThread({ visitorId, text, clientId: text, now: new Date(), lease: asked });
  async function threadWithTopic(tag: string, topic = true) {
    const now = new Date();
    const { visitor } = await store.visitors.create({ tokenHash: `hash-${tag}`, now });
    const thread = await store.threads.create({ visitorId: visitor.id, ref: `ref-${tag}`, now });
    if (topic) await store.threads.setTopic(thread.id, -100555, 77, thread);
    return { visitor, thread };
  }
  const outboxRow = async (messageId: number) =>
    (await db('outbox').where({ message_id: messageId }).first()) as {
      id: number | string;
      locked_by: string | null;
      locked_until: unknown;
    };

  it('stores the row leased and answers it as a claim would, in as many statements as without', async () => {
    const { visitor, thread } = await threadWithTopic('lone');
    const asked = lease();
    const { result, statements } = await statementsOf(db, () => send(visitor.id, 'lone', asked));
    // PostgreSQL: one statement; SQLite: one transaction of four (begin, the message, its outbox row, commit), the
    // thread's last activity moving with the message (a trigger).
    expect(statements).toHaveLength(kind === 'postgres' ? 1 : 4);
    const { message, handedOff } = result!;
    const row = await outboxRow(message.id);
    expect(row.locked_by).toBe('here');
    expect(Number(row.locked_until)).toBe(asked.until);
    expect(handedOff).toEqual({
      id: Number(row.id),
      kind: 'message',
      threadId: thread.id,
      messageId: message.id,
      attempts: 0,
      createdAt: message.createdAt.getTime(),
      fresh: true,
      behind: 0,
      joins: false,
      message,
    });
    // Another worker cannot claim it while the lease holds.
    const other = store.outbox.queue({ workerId: 'elsewhere', leaseMs: 30_000 });
    expect((await other.claimHeads(Date.now(), 16, [])).filter((h) => h.threadId === thread.id)).toEqual([]);
  });

  it('does not lease a row whose thread has no topic yet, has another row waiting, or whose writer asked for none', async () => {
    const noTopic = await threadWithTopic('no-topic', false);
    const first = await send(noTopic.visitor.id, 'a');
    expect(first?.handedOff).toBeNull();
    expect((await outboxRow(first!.message.id)).locked_by).toBeNull();

    const waiting = await threadWithTopic('waiting');
    const unasked = await send(waiting.visitor.id, 'b', null);
    expect(unasked?.handedOff).toBeNull();
    // That row still waits (pending, free): the next message is not the thread's head, so it is not handed over.
    const behind = await send(waiting.visitor.id, 'c');
    expect(behind?.handedOff).toBeNull();
    expect((await outboxRow(behind!.message.id)).locked_by).toBeNull();
    // Once both were sent, the thread's next message is handed over again.
    await db('outbox').where({ thread_id: waiting.thread.id }).update({ status: 'sent' });
    const next = await send(waiting.visitor.id, 'd');
    expect(next?.handedOff).toMatchObject({ messageId: next!.message.id, behind: 0 });
  });

  it("leases only the first of a thread's messages committed together, saying how many follow it", async () => {
    const one = await threadWithTopic('batch-one');
    const two = await threadWithTopic('batch-two');
    // Thread two's first message is committed on its own; the next four arrive in one turn and share one commit.
    await send(two.visitor.id, 'warm');
    const [a1, a2, b1, a3] = await Promise.all([
      send(one.visitor.id, 'a1'),
      send(one.visitor.id, 'a2'),
      send(two.visitor.id, 'b1'),
      send(one.visitor.id, 'a3'),
    ]);
    expect(a1?.handedOff).toMatchObject({ messageId: a1!.message.id, behind: 2 });
    expect(a2?.handedOff).toBeNull();
    expect(a3?.handedOff).toBeNull();
    // Thread two's first message ('warm') was still waiting, leased to the same worker: b1 joins its delivery.
    expect(b1?.handedOff).toMatchObject({ messageId: b1!.message.id, behind: 0, joins: true });
    const rows = (await db('outbox').where({ thread_id: one.thread.id }).orderBy('id')) as Array<{
      message_id: number | string;
      locked_by: string | null;
    }>;
    expect(rows.map((r) => [Number(r.message_id), r.locked_by])).toEqual([
      [a1!.message.id, 'here'],
      [a2!.message.id, null],
      [a3!.message.id, null],
    ]);
  });

  it("leases a message whose thread's only waiting row is this worker's (it joins that delivery), and no other", async () => {
    const { visitor } = await threadWithTopic('join');
    const first = await send(visitor.id, 'j1');
    expect(first?.handedOff).toMatchObject({ joins: false });
    // The first is on its way (leased here): the next one joins it, stored leased to the same worker.
    const second = await send(visitor.id, 'j2');
    expect(second?.handedOff).toMatchObject({ messageId: second!.message.id, behind: 0, joins: true });
    expect((await outboxRow(second!.message.id)).locked_by).toBe('here');
    // Two rows wait now: a third joins nothing (it is claimed after them, and may be merged with what follows).
    const third = await send(visitor.id, 'j3');
    expect(third?.handedOff).toBeNull();
    expect((await outboxRow(third!.message.id)).locked_by).toBeNull();

    // A thread whose only waiting row another worker holds, or whose lease here has run out: nothing joins.
    const other = await threadWithTopic('join-other');
    const held = await send(other.visitor.id, 'o1', { workerId: 'elsewhere', until: Date.now() + 30_000 });
    expect((await outboxRow(held!.message.id)).locked_by).toBe('elsewhere');
    expect((await send(other.visitor.id, 'o2'))?.handedOff).toBeNull();
    const expired = await threadWithTopic('j-expired');
    const old = await send(expired.visitor.id, 'e1');
    await db('outbox')
      .where({ message_id: old!.message.id })
      .update({ locked_until: Date.now() - 1000 });
    expect((await send(expired.visitor.id, 'e2'))?.handedOff).toBeNull();
    // A thread without its topic yet: the first row is not handed over, and the next one does not join it.
    const noTopic = await threadWithTopic('j-no-topic', false);
    expect((await send(noTopic.visitor.id, 'n1'))?.handedOff).toBeNull();
    expect((await send(noTopic.visitor.id, 'n2'))?.handedOff).toBeNull();
  });
});
