import { connectVisitor, startTopicdesk, storedVisitorId, type RunningTopicdesk, type VisitorClient } from '../support/harness';
import { makePng } from '../support/media-samples';
import { createDatabase } from '../../src/db/database';
import { testInstallation, type TestInstallation } from '../support/installation';
import type { ServerProcess } from '../support/server-process';
import { describeEachDatabase, describeWith, services } from '../support/services';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { upload } from '../support/uploads';

/** Other loopback addresses stand for other people: the server sees each as its own client address. */
const SPAMMER = '127.0.0.2';
const NEIGHBOUR = '127.0.0.3';
const NEWCOMER = '127.0.0.4';

const count = async (td: RunningTopicdesk, table: string) => Number((await td.app.db(table).count({ n: '*' }))[0].n);
const from = (td: RunningTopicdesk, address: string, token?: string) => connectVisitor(td.url, token, {}, { localAddress: address });

describeEachDatabase('per-address budgets with their defaults, on %s', (kind) => {
  let db: TestDatabase;
  let td: RunningTopicdesk;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    td = await startTopicdesk({ db });
  });
  afterAll(async () => {
    await td.stop();
    await db.drop();
  });

  it('a script opening visitor after visitor from one address gets 30 threads, then clear refusals; other addresses stay served', async () => {
    // Someone else is already talking to support from another address.
    const neighbour = await from(td, NEIGHBOUR);
    expect((await neighbour.send('my order is late')).ok).toBe(true);
    // One visitor of the spamming address opened its conversation before the script started.
    const early = await from(td, SPAMMER);
    expect((await early.send('a real question from that network')).ok).toBe(true);
    const visitorsBefore = await count(td, 'visitors');
    const threadsBefore = await count(td, 'threads');
    const messagesBefore = await count(td, 'messages');

    // The probe: fresh visitors (no token) from one address, each opening a thread — 80 of them, 8 at a time.
    const acks: Array<Awaited<ReturnType<VisitorClient['send']>>> = [];
    const neighbourAcks: boolean[] = [];
    const spam = async () => {
      for (let i = 0; i < 10; i++) {
        const v = await from(td, SPAMMER);
        acks.push(await v.send('BUY NOW'));
        v.close();
      }
    };
    const quiet = async () => {
      // Meanwhile the neighbour keeps writing (well within its own budget) and is answered every time.
      for (let i = 0; i < 5; i++) neighbourAcks.push((await neighbour.send(`still there? ${i}`)).ok);
    };
    await Promise.all([...Array.from({ length: 8 }, spam), quiet()]);

    const accepted = acks.filter((a) => a.ok);
    const refused = acks.filter((a) => !a.ok);
    expect(accepted).toHaveLength(29); // ADDRESS_NEW_THREADS_PER_HOUR is 30, the early visitor's included
    expect(refused).toHaveLength(51);
    for (const r of refused) {
      expect(r.error.code).toBe('rate_limited');
      expect(r.error.message).toMatch(/^Too many new conversations from your network\. Try again in \d+ s\.$/);
      expect(r.error.retryAfterMs).toBeGreaterThan(0);
      expect(r.error.retryAfterMs).toBeLessThanOrEqual(3_600_000);
    }
    expect(neighbourAcks).toEqual([true, true, true, true, true]);
    // A refusal stores nothing: not the message, not the thread, not even the visitor.
    expect(await count(td, 'threads')).toBe(threadsBefore + 29);
    expect(await count(td, 'visitors')).toBe(visitorsBefore + 29);
    expect(await count(td, 'messages')).toBe(messagesBefore + 29 + 5);

    // A newcomer from another address opens a conversation as usual.
    const newcomer = await from(td, NEWCOMER);
    expect((await newcomer.send('hello, first time here')).ok).toBe(true);
    // And the visitor of that address who already has a conversation goes on writing in it.
    expect((await early.send('still here')).ok).toBe(true);
    for (const c of [neighbour, newcomer, early]) c.close();
  });

  it('a connection that never writes stores nothing: 300 token-less connect/close cycles leave no rows', async () => {
    const tables = ['visitors', 'threads', 'messages', 'outbox', 'otp_requests'];
    const before = await Promise.all(tables.map((t) => count(td, t)));
    const ids = new Set<number>();
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      const v = await from(td, SPAMMER);
      ids.add(v.session.visitor.id);
      v.close();
    }
    expect(ids.size).toBe(300);
    expect(await Promise.all(tables.map((t) => count(td, t)))).toEqual(before);
    // The ids the visitors were shown are not a counter: not consecutive, spread over a wide range.
    const sorted = [...ids].sort((a, b) => a - b);
    expect(sorted.at(-1)! - sorted[0]).toBeGreaterThan(1_000_000 * sorted.length);
  });

  it('the token a connection got stays good: the visitor is stored on its first write and keeps its id', async () => {
    const v = await from(td, NEWCOMER);
    const { token } = v.session;
    v.close();
    const back = await from(td, NEWCOMER, token);
    expect(back.session.visitor.id).toBe(v.session.visitor.id);
    expect(await storedVisitorId(td.app, back)).toBeNull();
    const named = await back.emit('profile:update', { name: 'Deniz' });
    expect(named).toEqual({ ok: true, visitor: { id: v.session.visitor.id, name: 'Deniz', verified: false } });
    expect(await storedVisitorId(td.app, back)).not.toBeNull();
    back.close();
  });
});

describeEachDatabase('per-address budgets shared by every visitor of the address, on %s', (kind) => {
  let db: TestDatabase;
  let td: RunningTopicdesk;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    td = await startTopicdesk({
      db,
      env: {
        HTTP_RATE_LIMIT_PER_MINUTE: '100000',
        ADDRESS_NEW_VISITORS_PER_HOUR: '4',
        ADDRESS_MESSAGES_PER_HOUR: '12',
        ADDRESS_UPLOADS_PER_HOUR: '3',
        ADDRESS_UPLOAD_MB_PER_HOUR: '1',
      },
    });
  });
  afterAll(async () => {
    await td.stop();
    await db.drop();
  });

  it('new visitors: the fifth visitor an address stores is refused, whatever it writes first', async () => {
    const address = '127.0.0.5';
    const writes = [
      (v: VisitorClient) => v.send('hi'),
      (v: VisitorClient) => v.emit('profile:update', { name: 'Ayla' }),
      (v: VisitorClient) => v.send('hello'),
      (v: VisitorClient) => v.emit('profile:update', { name: 'Bora' }),
    ];
    for (const write of writes) {
      const v = await from(td, address);
      expect((await write(v)).ok).toBe(true);
      v.close();
    }
    const visitorsBefore = await count(td, 'visitors');
    const fifth = await from(td, address);
    for (const refused of [await fifth.send('one more'), await fifth.emit('profile:update', { name: 'Cem' })]) {
      expect(refused.error).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
      expect(refused.error.message).toMatch(/^Too many new visitors from your network\. Try again in \d+ s\.$/);
    }
    expect(await count(td, 'visitors')).toBe(visitorsBefore);
    // Another address is not affected.
    const elsewhere = await from(td, '127.0.0.6');
    expect((await elsewhere.send('hi')).ok).toBe(true);
    for (const c of [fifth, elsewhere]) c.close();
  });

  it('messages: two visitors of one address share its 12 an hour; the refused ones store nothing', async () => {
    const address = '127.0.0.7';
    const [a, b] = [await from(td, address), await from(td, address)];
    const before = await count(td, 'messages');
    const results: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      results.push((await a.send(`a${i}`)).ok);
      results.push((await b.send(`b${i}`)).ok);
    }
    expect(results.filter(Boolean)).toHaveLength(12);
    expect(results.slice(12)).toEqual([false, false, false, false]);
    const refused = await a.send('again');
    expect(refused.error).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
    expect(refused.error.retryAfterMs).toBeGreaterThan(3_500_000); // the hour's window
    expect(await count(td, 'messages')).toBe(before + 12);
    // The refusals did not spend the visitors' own budgets: reads are untouched, and another address writes.
    expect((await a.emit('history', {})).messages).toHaveLength(6);
    const other = await from(td, '127.0.0.8');
    expect((await other.send('hi')).ok).toBe(true);
    for (const c of [a, b, other]) c.close();
  });

  it('uploads: the count and the bytes of one address are shared by its visitors; a refused file is never stored', async () => {
    const address = '127.0.0.9';
    const visitors = [await from(td, address), await from(td, address)];
    for (const v of visitors) expect((await v.send('a photo follows')).ok).toBe(true);
    const small = makePng(8, 8);
    const big = makePng(450, 450, { noise: true }); // about 0.6 MB: two of them do not fit into 1 MB
    expect(big.length).toBeGreaterThan(512 * 1024);
    expect(big.length).toBeLessThan(700 * 1024);
    const send = (i: number, bytes: Buffer) =>
      upload(td.url, { token: visitors[i].session.token, localAddress: address, parts: [{ name: 'file', filename: 'p.png', bytes }] });

    expect((await send(0, big)).status).toBe(201);
    const messagesBefore = await count(td, 'messages');
    const tooMuch = await send(1, big);
    expect(tooMuch.status).toBe(429);
    expect(tooMuch.body.error).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
    expect(Number(tooMuch.headers['retry-after'])).toBeGreaterThan(0);
    expect(await count(td, 'messages')).toBe(messagesBefore);
    // The refused upload spent nothing: a small one still fits, and the count allows it.
    expect((await send(1, small)).status).toBe(201);
    expect((await send(0, small)).status).toBe(201);
    // Three uploads an hour for the address, whichever visitor sends them.
    const fourth = await send(1, small);
    expect(fourth.status).toBe(429);
    expect(fourth.body.error.code).toBe('rate_limited');
    // Another address uploads as usual.
    const other = await from(td, '127.0.0.10');
    expect((await other.send('hi')).ok).toBe(true);
    const elsewhere = await upload(td.url, {
      token: other.session.token,
      localAddress: '127.0.0.10',
      parts: [{ name: 'file', filename: 'p.png', bytes: big }],
    });
    expect(elsewhere.status).toBe(201);
    for (const c of [...visitors, other]) c.close();
  });
});

describeWith([services.postgres, services.redis], 'per-address budgets shared by two instances through Redis', () => {
  let testDb: TestDatabase;
  let installation: TestInstallation;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    installation = testInstallation(testDb, { env: { ADDRESS_NEW_THREADS_PER_HOUR: '4', ADDRESS_MESSAGES_PER_HOUR: '10' } });
    a = await installation.start();
    b = await installation.start();
  }, 60_000);
  afterAll(async () => {
    await installation.stop();
    await testDb.drop();
  });

  const on = (s: ServerProcess, address: string, token?: string) => connectVisitor(s.url, token, {}, { localAddress: address });

  it('new threads from one address, spread over both instances, spend one budget', async () => {
    const acks = [];
    for (let i = 0; i < 8; i++) {
      const v = await on(i % 2 ? b : a, SPAMMER);
      acks.push(await v.send(`spam ${i}`));
      v.close();
    }
    expect(acks.map((r) => r.ok)).toEqual([true, true, true, true, false, false, false, false]);
    for (const r of acks.slice(4)) expect(r.error).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
    const sql = createDatabase(testDb.config);
    try {
      expect(Number((await sql('threads').count({ n: '*' }))[0].n)).toBe(4);
      expect(Number((await sql('visitors').count({ n: '*' }))[0].n)).toBe(4);
    } finally {
      await sql.destroy();
    }
    // The other address opens its conversation on either instance.
    for (const s of [a, b]) {
      const v = await on(s, NEWCOMER);
      expect((await v.send('hello')).ok).toBe(true);
      v.close();
    }
  });

  it('messages of one address count on both instances together', async () => {
    const address = '127.0.0.11';
    const first = await on(a, address);
    expect((await first.send('m0')).ok).toBe(true);
    // The same visitor on the other instance, and a second visitor of the address there.
    const again = await on(b, address, first.session.token);
    const second = await on(b, address);
    const results = [];
    for (let i = 1; i < 12; i++) results.push((await [first, again, second][i % 3].send(`m${i}`)).ok);
    expect(results.filter(Boolean)).toHaveLength(9); // 10 an hour, m0 included
    expect(results.slice(9)).toEqual([false, false]);
    for (const c of [first, again, second]) c.close();
  });
});
