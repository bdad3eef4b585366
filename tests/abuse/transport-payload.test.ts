import { connectVisitor, startTopicdesk, type RunningTopicdesk } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * Oversize payloads: a `message:send` over the text limit is answered `too_large` and the
 * connection stays (frames up to SOCKET_MAX_FRAME_BYTES are read); a bigger frame closes the
 * connection, and only that one. Error acks are short whatever was sent.
 */
describeEachDatabase('oversize payloads, on %s', (kind) => {
  let db: TestDatabase;
  let td: RunningTopicdesk;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    td = await startTopicdesk({ db });
  });
  afterAll(async () => {
    await td?.stop();
    await db?.drop();
  });

  const messageCount = async () => Number((await td.app.db('messages').count({ n: '*' }))[0].n);

  it('answers a 100 KB message too_large with a short ack, keeps the connection, and stores nothing', async () => {
    const v = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.2' });
    const before = await messageCount();
    // Up to 200 KB of UTF-8: under the 256 KB frame bound.
    for (const text of ['x'.repeat(4001), 'x'.repeat(10_000), 'x'.repeat(100_000), 'é'.repeat(100_000)]) {
      const res = await v.send(text, `big-${text.length}`);
      expect(res).toEqual({ ok: false, error: { code: 'too_large', message: 'text: text must be at most 4000 characters' } });
      expect(v.socket.connected).toBe(true);
    }
    expect(await messageCount()).toBe(before);
    const fine = await v.send('a normal message after all that');
    expect(fine.ok).toBe(true);
    // The same clientId as a refused one is free: nothing was kept of it.
    expect((await v.send('short now', 'big-100000')).ok).toBe(true);
    v.close();
  });

  it('keeps error acks short whatever the payload (no echo of keys or values)', async () => {
    const v = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.2' });
    const manyKeys: Record<string, string> = {};
    for (let i = 0; i < 5000; i++) manyKeys[`key-${i}-${'k'.repeat(5)}`] = 'v';
    const longKey = { text: 'hi', clientId: 'ok-1', ['x'.repeat(60_000)]: 1 };
    const payloads: Array<[string, unknown]> = [
      ['message:send', { text: 'hi', clientId: 'ok-2', ...manyKeys }],
      ['message:send', longKey],
      ['message:send', { text: 'hi', clientId: 'c'.repeat(60_000) }],
      ['history', { after: 'a'.repeat(60_000) }],
      ['profile:update', { name: 'n'.repeat(60_000) }],
      ['message:send', Array.from({ length: 20_000 }, () => 'x')],
    ];
    for (const [event, payload] of payloads) {
      const res = await v.emit(event, payload);
      expect(res.ok).toBe(false);
      expect(['bad_request', 'too_large']).toContain(res.error.code);
      expect(JSON.stringify(res).length).toBeLessThan(300);
    }
    expect(v.socket.connected).toBe(true);
    v.close();
  });

  it('closes only the connection that sends a frame over SOCKET_MAX_FRAME_BYTES; everyone else goes on', async () => {
    const other = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.3' });
    const v = await connectVisitor(td.url, undefined, {}, { localAddress: '127.0.0.2' });
    const before = await messageCount();
    const gone = new Promise<string>((resolve) => v.socket.once('disconnect', resolve));
    v.socket.emit('message:send', { text: 'x'.repeat(300 * 1024), clientId: 'huge' }, () => undefined);
    expect(await gone).toMatch(/^transport (close|error)$/);
    expect(await messageCount()).toBe(before);
    expect((await other.send('still here')).ok).toBe(true);
    const again = await connectVisitor(td.url, v.session.token, {}, { localAddress: '127.0.0.2' });
    expect((await again.send('and back')).ok).toBe(true);
    again.close();
    other.close();
  });
});
