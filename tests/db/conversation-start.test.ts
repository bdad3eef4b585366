import type { Database } from '../../src/db/database';
import { setLockdown } from '../../src/domain/lockdown';
import type { ConversationStart, Store } from '../../src/domain/ports';
import { describeEachDatabase } from '../support/services';
import { statementsOf, useStore } from '../support/store';

describeEachDatabase("a new visitor's first message on %s", (kind) => {
  const opened = useStore(kind);
  let db: Database;
  let store: Store;
  beforeAll(() => {
    ({ db, store } = opened());
  });

  const start = (tag: string, more: Partial<ConversationStart> = {}): ConversationStart => ({
    ...{ tokenHash: `hash-${tag}`, page: 'https://shop.example/cart', text: `hello ${tag}`, clientId: `c-${tag}` },
    ...{ ref: `ref-${tag}`, openingRank: 2, departmentId: null, now: new Date(1_800_000_000_000), ...more },
  });
  const rowsOf = async (tokenHash: string) => {
    const visitors = await db('visitors').where({ token_hash: tokenHash });
    const threads = visitors.length
      ? await db('threads').whereIn(
          'visitor_id',
          visitors.map((v: { id: number }) => v.id),
        )
      : [];
    return { visitors, threads };
  };

  it('stores the visitor, its thread, the message and the outbox row (leased when asked) with no read, and answers them as stored', async () => {
    const until = Date.now() + 30_000;
    const { result, statements } = await statementsOf(db, () => store.startConversation(start('a', { lease: { workerId: 'w1', until } })));
    // PostgreSQL: one statement; SQLite: begin, the four inserts, commit.
    expect(statements).toHaveLength(kind === 'postgres' ? 1 : 6);
    expect(statements.filter((sql) => /^\s*select/i.test(sql))).toEqual([]);
    const { visitor, thread, message, outboxId } = result!;
    expect(visitor).toEqual(await store.visitors.findById(visitor.id));
    expect(visitor).toMatchObject({ verified: false, blocked: false, name: null });
    expect(thread).toEqual(await store.threads.findById(thread.id));
    expect(thread).toMatchObject({
      visitorId: visitor.id,
      ref: 'ref-a',
      status: 'open',
      topicId: null,
      openingRank: 2,
      departmentId: null,
    });
    expect(thread.createdAt.getTime()).toBe(1_800_000_000_000);
    expect(message).toEqual(await store.messages.findById(message.id));
    expect(message).toMatchObject({ threadId: thread.id, sender: 'visitor', text: 'hello a', clientId: 'c-a', status: 'stored' });
    const outbox = (await db('outbox').where({ id: outboxId }).first()) as Record<string, unknown>;
    expect(outbox).toMatchObject({ thread_id: thread.id, message_id: message.id, kind: 'message', status: 'pending', locked_by: 'w1' });
    expect(Number(outbox.locked_until)).toBe(until);
    expect(await db('visitors').where({ id: visitor.id }).first('last_page')).toEqual({ last_page: 'https://shop.example/cart' });
    // Found by the admin search like any other visitor message.
    expect(await db('messages').where({ id: message.id }).first('search_text')).toEqual({ search_text: 'hello a' });
  });

  it('without a lease its outbox row waits for a claim; a department is the thread’s', async () => {
    const now = new Date();
    await store.departments.add({ key: 'sales', name: 'Sales', codeHash: 'code-hash', claimExpiresAt: now, createdBy: 1, now });
    const departmentId = (await store.departments.list()).find((d) => d.key === 'sales')!.id;
    const started = await store.startConversation(start('b', { departmentId }));
    expect(started!.thread.departmentId).toBe(departmentId);
    expect(await db('outbox').where({ id: started!.outboxId }).first()).toMatchObject({ status: 'pending', locked_by: null });
  });

  it('stores nothing when the token was revoked, when /lockdown is on, or when the visitor is stored already', async () => {
    await db('revoked_visitor_tokens').insert({ token_hash: 'hash-erased', revoked_at: Date.now() });
    expect(await store.startConversation(start('erased'))).toBeNull();
    expect(await rowsOf('hash-erased')).toEqual({ visitors: [], threads: [] });

    await setLockdown(store.settings, true);
    try {
      expect(await store.startConversation(start('locked'))).toBeNull();
      expect(await rowsOf('hash-locked')).toEqual({ visitors: [], threads: [] });
    } finally {
      await setLockdown(store.settings, false);
    }
    expect(await store.startConversation(start('unlocked'))).not.toBeNull();

    // Another tab stored the visitor a moment ago: nothing here (the full path finds that visitor).
    const { visitor } = await store.visitors.create({ tokenHash: 'hash-tab', now: new Date() });
    expect(await store.startConversation(start('tab'))).toBeNull();
    const rows = await rowsOf('hash-tab');
    expect(rows.visitors.map((v: { id: number }) => Number(v.id))).toEqual([visitor.id]);
    expect(rows.threads).toEqual([]);
  });

  it('stores new visitors arriving together in one write each where the database allows it, every one answered with its own rows', async () => {
    await db('revoked_visitor_tokens').insert({ token_hash: 'hash-w-erased', revoked_at: Date.now() });
    const starts = [
      ...['w1', 'w2', 'w3', 'w4', 'w5'].map((tag) => start(tag, { lease: { workerId: 'w1', until: Date.now() + 30_000 } })),
      start('w-erased'),
      // A second tab of w2's new visitor, in the same moment: stored once (the other message takes the full path).
      start('w2', { clientId: 'c-w2-other-tab', text: 'hello from the other tab' }),
    ];
    const { result, statements } = await statementsOf(db, () => Promise.all(starts.map((s) => store.startConversation(s))));
    const begins = statements.filter((sql) => /^BEGIN/i.test(sql)).length;
    // PostgreSQL: one statement each. SQLite: the first start alone, then the six that came meanwhile in one transaction.
    if (kind === 'postgres') expect(statements).toHaveLength(starts.length);
    else expect(begins).toBeLessThan(starts.length - 2);
    const [w1, w2, w3, w4, w5, erased, otherTab] = result;
    expect(erased).toBeNull();
    expect(otherTab).toBeNull();
    for (const [i, started] of [w1, w2, w3, w4, w5].entries()) {
      const tag = `w${i + 1}`;
      expect(started!.visitor).toEqual(await store.visitors.findById(started!.visitor.id));
      expect(started!.thread).toEqual(await store.threads.findById(started!.thread.id));
      expect(started!.thread).toMatchObject({ visitorId: started!.visitor.id, ref: `ref-${tag}` });
      expect(started!.message).toEqual(await store.messages.findById(started!.message.id));
      expect(started!.message).toMatchObject({ threadId: started!.thread.id, text: `hello ${tag}`, clientId: `c-${tag}` });
      expect(await db('outbox').where({ id: started!.outboxId }).first()).toMatchObject({
        thread_id: started!.thread.id,
        message_id: started!.message.id,
        locked_by: 'w1',
      });
      expect(await rowsOf(`hash-${tag}`)).toMatchObject({ visitors: [{ id: started!.visitor.id }], threads: [{ id: started!.thread.id }] });
    }
    expect(await rowsOf('hash-w-erased')).toEqual({ visitors: [], threads: [] });
    expect(await db('messages').where({ client_id: 'c-w2-other-tab' })).toEqual([]);
  });
});
