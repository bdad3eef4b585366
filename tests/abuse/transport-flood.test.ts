import { io as connectClient, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from 'socket.io-client';
import { connectVisitor, startTopicdesk, type RunningTopicdesk, type TestAck } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { getFrom } from './transport-support';

/**
 * An event flood on a socket is shed before any work (src/web/event-budget.ts): beyond
 * SOCKET_EVENT_BUDGET events in 10 s a socket's events are answered `rate_limited` without
 * reaching a handler, and a socket that sends twice its budget is disconnected. Other people
 * (other loopback addresses) stay served meanwhile.
 */
jest.setTimeout(60_000);

type Ack = TestAck<'history'>;

describeEachDatabase('a flooding socket is shed before any database work, on %s', (kind) => {
  let db: TestDatabase;
  let td: RunningTopicdesk | undefined;
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await td?.stop();
    await server?.stop();
    td = server = undefined;
    await db?.drop();
  });

  it('answers events beyond the budget rate_limited at once, with no query, and drops the socket at twice the budget', async () => {
    db = await createTestDatabase(kind);
    td = await startTopicdesk({ db, env: { SOCKET_EVENT_BUDGET: '5' } });
    const v = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.2' });
    for (let i = 0; i < 5; i++) expect((await v.emit('history', {})).ok).toBe(true);
    // The pruner's round at start (pruning, then retrying erased files) must be over: only the flood's queries count.
    await td.app.pruner.runOnce();

    let queries = 0;
    const counted = () => queries++;
    td.app.db.on('query', counted);
    // Pipelined, not waiting for each other: five more events, malformed ones included.
    const refused = await Promise.all([
      v.send('one more'),
      v.emit('history', { limit: 5 }),
      v.emit('history', 'not even an object'),
      v.emit('profile:update', { name: 'Mallory' }),
      v.send('x'.repeat(50_000)),
    ]);
    td.app.db.off('query', counted);
    for (const res of refused) {
      expect(res).toEqual({ ok: false, error: { code: 'rate_limited', message: expect.any(String), retryAfterMs: expect.any(Number) } });
      expect(JSON.stringify(res).length).toBeLessThan(200);
    }
    expect(queries).toBe(0);
    expect(await td.app.db('messages').count({ n: '*' })).toEqual([{ n: kind === 'postgres' ? '0' : 0 }]);
    expect(v.socket.connected).toBe(true);

    // The eleventh event in the window is more than twice the budget: the server lets the socket go.
    const gone = new Promise<string>((resolve) => v.socket.once('disconnect', resolve));
    v.socket.emit('history', {}, () => undefined);
    expect(await gone).toBe('io server disconnect');

    // A new socket of the same visitor starts with a fresh budget.
    const back = await connectVisitor(td.url, v.session.token, {}, { localAddress: '127.0.0.2' });
    expect((await back.send('hello again')).ok).toBe(true);
    back.close();
  });

  it('eight sockets pipelining message:send and history from 127.0.0.2 leave a quiet visitor on 127.0.0.3, a newcomer and /health served', async () => {
    db = await createTestDatabase(kind);
    // Its own process, as an operator runs it: the flood and the server do not share an event loop.
    server = await startServerProcess({ ...db.env });
    const url = server.url;
    const quiet = await connectVisitor(url, undefined, {}, { localAddress: '127.0.0.3', ackTimeoutMs: 20_000 });

    // The flood lasts while the quiet visitor goes about its business, and 30 s at most.
    let flooding = true;
    const bound = setTimeout(() => (flooding = false), 30_000);
    const seen = { rateLimited: 0, dropped: 0, connections: 0 };

    /** Connects as a new visitor, fires 500 events (ten times its budget) without waiting for any ack, waits to be dropped; again. */
    async function flooder(n: number): Promise<void> {
      while (flooding) {
        const options: Partial<ManagerOptions & SocketOptions> & { localAddress: string } = {
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          localAddress: '127.0.0.2',
        };
        const s: ClientSocket = connectClient(url, options);
        const connected = await new Promise<boolean>((resolve) => {
          s.once('connect', () => resolve(true));
          s.once('connect_error', () => resolve(false));
        });
        if (!connected) {
          s.close();
          continue;
        }
        seen.connections++;
        let timer: NodeJS.Timeout | undefined;
        const dropped = new Promise<string>((resolve) => {
          s.once('disconnect', resolve);
          timer = setTimeout(() => resolve('still connected'), 5000);
        });
        const onAck = (res: Ack) => {
          if (!res.ok && res.error.code === 'rate_limited') seen.rateLimited++;
        };
        for (let i = 0; i < 500; i++) {
          if (i % 2) s.emit('history', { limit: 200 }, onAck);
          else s.emit('message:send', { text: `spam ${n}-${i}`, clientId: `f${n}-${seen.connections}-${i}` }, onAck);
        }
        if ((await dropped) === 'io server disconnect') seen.dropped++;
        clearTimeout(timer);
        s.close();
      }
    }

    /** Someone else: messages and history reads, a health check each round, a newcomer on 127.0.0.4. */
    async function quietLife() {
      const acks: Array<TestAck<'message:send'> | TestAck<'history'>> = [];
      const health: number[] = [];
      // Let the flood start first.
      while (seen.connections < 8) await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 3; i++) {
        acks.push(await quiet.send(`quiet ${i}`));
        acks.push(await quiet.emit('history', { limit: 5 }));
        health.push((await getFrom(`${url}/health`, '127.0.0.3')).status);
      }
      const newcomer = await connectVisitor(url, undefined, {}, { localAddress: '127.0.0.4', ackTimeoutMs: 20_000 });
      const welcome = await newcomer.send('first message');
      newcomer.close();
      flooding = false;
      return { acks, health, welcome };
    }

    const [life] = await Promise.all([quietLife(), ...Array.from({ length: 8 }, (_, n) => flooder(n))]);
    clearTimeout(bound);

    expect(life.acks.filter((a) => !a.ok)).toEqual([]);
    expect(life.health).toEqual([200, 200, 200]);
    expect(life.welcome.ok).toBe(true);
    const quietTexts = (await quiet.emit('history', { limit: 200 })).messages.map((m) => m.text);
    expect(quietTexts).toEqual(['quiet 0', 'quiet 1', 'quiet 2']);
    // The flood was refused, and every flooding socket was dropped.
    expect(seen.connections).toBeGreaterThanOrEqual(8);
    expect(seen.dropped).toBe(seen.connections);
    expect(seen.rateLimited).toBeGreaterThan(0);
    quiet.close();
  });
});
