import net from 'node:net';
import { io as connectClient, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { acquireConnection, releaseConnection } from '../../src/db/database';
import { connectVisitor, eventually, startTopicdesk, type RunningTopicdesk } from '../support/harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { getFrom, pause } from './transport-support';

/**
 * The transport under the visitor protocol: connections counted per address below Socket.IO
 * (src/web/connection-guard.ts), slow clients cut off by the server's timeouts, /health answered
 * from memory and a cached database reading, /metrics behind METRICS_TOKEN.
 */
jest.setTimeout(60_000);

let db: TestDatabase;
let td: RunningTopicdesk | undefined;
beforeEach(async () => {
  db = await createTestDatabase('sqlite');
});
afterEach(async () => {
  await td?.stop();
  td = undefined;
  await db.drop();
});

/** A raw TCP connection from `localAddress` that starts a request and then trickles its headers. */
function slowClient(port: number, localAddress: string, opened: { count: number }, closed: { count: number }) {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    opened.count++;
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
    let n = 0;
    timer = setInterval(() => socket.write(`X-Slow-${n++}: a\r\n`), 300);
  });
  socket.on('error', () => undefined);
  // Drop the server's 408: a client that never reads would see 'close' only through its next write's error.
  socket.resume();
  socket.on('close', () => {
    clearInterval(timer);
    closed.count++;
  });
  return socket;
}

describe('connections per address and slow clients', () => {
  it('3,000 connections trickling headers from one address: all but MAX_HTTP_CONNECTIONS_PER_IP closed at once, the rest at the headers timeout', async () => {
    td = await startTopicdesk({ db, env: { HTTP_HEADERS_TIMEOUT_SECONDS: '2' } });
    const cap = td.app.config.transport.httpConnectionsPerIp;
    expect(cap).toBe(120); // 2 × MAX_CONNECTIONS_PER_IP (50) + 20
    const opened = { count: 0 };
    const closed = { count: 0 };
    const sockets = Array.from({ length: 3000 }, () => slowClient(td!.port, '127.0.0.2', opened, closed));
    try {
      // The server never holds more than the cap for that address …
      await eventually(() => closed.count >= 3000 - cap, { timeoutMs: 20_000, what: 'the connections over the cap closed' });
      expect(td.app.connections.counts('127.0.0.2').http).toBeLessThanOrEqual(cap);
      // … while someone else is served: /health, the page, a visitor.
      expect((await getFrom(`${td.url}/health`, '127.0.0.3')).status).toBe(200);
      expect((await getFrom(`${td.url}/`, '127.0.0.3')).status).toBe(200);
      const v = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.3' });
      expect((await v.send('hello during the trickle')).ok).toBe(true);
      v.close();
      // The trickling ones never finish their headers: the server closes them all, however long they keep trickling.
      await eventually(() => closed.count === 3000, { timeoutMs: 20_000, what: 'every trickling connection closed by the server' });
      expect(td.app.connections.counts('127.0.0.2').http).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('closes a connection that never says anything, and an idle keep-alive', async () => {
    td = await startTopicdesk({ db, env: { HTTP_HEADERS_TIMEOUT_SECONDS: '2', HTTP_IDLE_TIMEOUT_SECONDS: '1' } });
    const silent = net.connect({ host: '127.0.0.1', port: td.port, localAddress: '127.0.0.2' });
    silent.on('error', () => undefined);
    // Read what the server says (a 408 when Node's headers check comes before ours): unread bytes would hold back 'end' and 'close'.
    let told = '';
    silent.on('data', (c: Buffer) => (told += c.toString('latin1')));
    const keepAlive = net.connect({ host: '127.0.0.1', port: td.port, localAddress: '127.0.0.2' });
    keepAlive.on('error', () => undefined);
    let answered = '';
    keepAlive.on('data', (c: Buffer) => (answered += c.toString('latin1')));
    keepAlive.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const open = new Map([
      ['the silent connection', silent],
      ['the idle keep-alive', keepAlive],
    ]);
    for (const [what, s] of open) s.once('close', () => open.delete(what));
    // Closed by the server within its timeouts (2 s, 1 s); a bound that names what stayed open instead of the test's timeout.
    await eventually(() => open.size === 0, { timeoutMs: 20_000, what: 'the server closing both' }).catch(() => {
      throw new Error(`still open: ${[...open].map(([what, s]) => `${what} (${s.readyState}, ${s.bytesRead} bytes read)`).join(', ')}`);
    });
    expect(answered).toMatch(/^HTTP\/1\.1 200/);
    expect(told === '' || told.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('keeps WebSocket and long-polling visitors connected well past the header and request timeouts', async () => {
    td = await startTopicdesk({
      db,
      env: { HTTP_HEADERS_TIMEOUT_SECONDS: '1', HTTP_REQUEST_TIMEOUT_SECONDS: '1', HTTP_IDLE_TIMEOUT_SECONDS: '1' },
    });
    const ws = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.2' });
    const polling = connectClient(td.url, { transports: ['polling'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      polling.once('session', () => resolve());
      polling.once('connect_error', reject);
    });
    const drops: string[] = [];
    ws.socket.on('disconnect', (r) => drops.push(`websocket: ${r}`));
    polling.on('disconnect', (r) => drops.push(`polling: ${r}`));
    // Time itself is what is tested: several checking rounds of the server's timeouts.
    await pause(3500);
    expect(drops).toEqual([]);
    expect((await ws.send('still here')).ok).toBe(true);
    const res = (await polling.timeout(5000).emitWithAck('history', {})) as { ok: boolean };
    expect(res.ok).toBe(true);
    ws.close();
    polling.close();
  });

  it('counts Socket.IO transports that never join against MAX_CONNECTIONS_PER_IP', async () => {
    td = await startTopicdesk({ db, env: { MAX_CONNECTIONS_PER_IP: '5' } });
    const handshake = (from: string) => getFrom(`${td!.url}/socket.io/?EIO=4&transport=polling`, from);
    // Five engine.io sessions that never send a namespace CONNECT.
    for (let i = 0; i < 5; i++) expect((await handshake('127.0.0.2')).status).toBe(200);
    expect(td.app.connections.counts('127.0.0.2').sockets).toBe(5);
    const sixth = await handshake('127.0.0.2');
    expect(sixth.status).toBe(403);
    expect(JSON.parse(sixth.body)).toMatchObject({ message: 'Too many connections from your address.' });
    // A real visitor from that address is refused too; one from another address is not.
    const options: Partial<ManagerOptions & SocketOptions> & { localAddress: string } = {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      localAddress: '127.0.0.2',
    };
    const refused = connectClient(td.url, options);
    await new Promise<void>((resolve) => refused.once('connect_error', () => resolve()));
    refused.close();
    expect(await td.app.db('visitors').count({ n: '*' })).toEqual([{ n: 0 }]);
    const other = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.3' });
    expect((await other.send('served')).ok).toBe(true);
    other.close();
  });
});

describe('/health', () => {
  it('is not counted against the per-address HTTP limit', async () => {
    td = await startTopicdesk({ db, env: { HTTP_RATE_LIMIT_PER_MINUTE: '3' } });
    for (let i = 0; i < 3; i++) expect((await getFrom(`${td.url}/`, '127.0.0.2')).status).toBe(200);
    expect((await getFrom(`${td.url}/`, '127.0.0.2')).status).toBe(429);
    for (let i = 0; i < 10; i++) expect((await getFrom(`${td.url}/health`, '127.0.0.2')).status).toBe(200);
  });

  it('answers from its last reading while the database is busy, and 503 once the database stops answering', async () => {
    td = await startTopicdesk({ db });
    expect((await getFrom(`${td.url}/health`, '127.0.0.2')).status).toBe(200);
    // SQLite has one connection: holding it queues every query behind it, like a flood of database work would.
    const held = await acquireConnection(td.app.db);
    try {
      // The request's own reading waits behind the held connection: after a second, the last good one answers.
      const busy = await getFrom(`${td.url}/health`, '127.0.0.2');
      expect(busy.status).toBe(200);
      expect(JSON.parse(busy.body)).toMatchObject({ status: 'ok', db: 'ok' });
      // The database does not answer for seconds: that is an outage.
      await eventually(async () => (await getFrom(`${td!.url}/health`, '127.0.0.2')).status === 503, {
        timeoutMs: 15_000,
        intervalMs: 500,
        what: '/health 503',
      });
    } finally {
      await releaseConnection(td.app.db, held);
    }
    await eventually(async () => (await getFrom(`${td!.url}/health`, '127.0.0.2')).status === 200, { timeoutMs: 10_000, what: 'back' });
  });
});

describe('/metrics', () => {
  it('is open on a loopback-bound server without METRICS_TOKEN, but not to requests a proxy forwarded', async () => {
    td = await startTopicdesk({ db });
    const direct = await getFrom(`${td.url}/metrics`, '127.0.0.1');
    expect(direct.status).toBe(200);
    expect(direct.body).toContain('# HELP');
    const forwarded = await getFrom(`${td.url}/metrics`, '127.0.0.1', { 'x-forwarded-for': '203.0.113.7' });
    expect(forwarded.status).toBe(401);
  });

  it('is closed on a server reachable from elsewhere until METRICS_TOKEN is set', async () => {
    td = await startTopicdesk({ db, env: { HOST: '0.0.0.0' } });
    const res = await getFrom(`${td.url}/metrics`, '127.0.0.2');
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('METRICS_TOKEN') } });
    expect(res.body).not.toContain('# HELP');
  });

  it('wants METRICS_TOKEN as a bearer token once it is set', async () => {
    const token = 'scrape-0123456789abcdef';
    td = await startTopicdesk({ db, env: { HOST: '0.0.0.0', METRICS_TOKEN: token } });
    const without = await getFrom(`${td.url}/metrics`, '127.0.0.2');
    expect(without.status).toBe(401);
    expect(without.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect((await getFrom(`${td.url}/metrics`, '127.0.0.2', { authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await getFrom(`${td.url}/metrics`, '127.0.0.2', { authorization: token })).status).toBe(401);
    const withToken = await getFrom(`${td.url}/metrics`, '127.0.0.2', { authorization: `Bearer ${token}` });
    expect(withToken.status).toBe(200);
    expect(withToken.body).toContain('# HELP');
  });
});
