import { connectVisitor, eventually, type VisitorClient } from '../support/harness';
import { testInstallation, type TestInstallation } from '../support/installation';
import type { ServerProcess } from '../support/server-process';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeWith, services } from '../support/services';

describeWith([services.postgres, services.redis], 'abuse limits shared by two instances (one PostgreSQL database, one Redis)', () => {
  // Visitor ids restart in every fresh database: the installation's own REDIS_KEY_PREFIX keeps runs apart.
  let installation: TestInstallation;
  let testDb: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  const visitors: VisitorClient[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    installation = testInstallation(testDb, {
      env: { RATE_MESSAGE_BURST: '3', RATE_MESSAGE_PER_MINUTE: '1', MAX_CONNECTIONS_PER_IP: '3', HTTP_RATE_LIMIT_PER_MINUTE: '8' },
    });
    a = await installation.start();
    b = await installation.start();
  }, 60_000);
  afterAll(async () => {
    for (const v of visitors) v.close();
    await installation.stop();
    await testDb.drop();
  });

  const connect = async (url: string, token?: string) => {
    const v = await connectVisitor(url, token);
    visitors.push(v);
    return v;
  };

  it("a visitor's message budget is one across instances: the burst spent on A, B refuses the next", async () => {
    const onA = await connect(a.url);
    for (const text of ['one', 'two', 'three']) expect((await onA.send(text)).ok).toBe(true);
    // The same visitor (same token) on the other instance.
    const onB = await connect(b.url, onA.session.token);
    expect(onB.session.visitor.id).toBe(onA.session.visitor.id);
    const refused = await onB.send('four');
    expect(refused).toMatchObject({ ok: false, error: { code: 'rate_limited', message: expect.stringMatching(/Try again in \d+ s/) } });
    expect(refused.error.retryAfterMs).toBeGreaterThan(0);
    expect((await onA.send('four, again')).error.code).toBe('rate_limited');
    // Profile updates spend from the same bucket; reads have their own.
    expect((await onB.emit('profile:update', { name: 'Ada' })).error.code).toBe('rate_limited');
    const history = await onB.emit('history', {});
    expect(history.messages.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    // Another visitor is not affected.
    const other = await connect(b.url);
    expect((await other.send('hello')).ok).toBe(true);
    other.close();
  });

  it('caps open sockets per address across instances, and frees a slot when one closes', async () => {
    for (const v of visitors.splice(0)) v.close();
    // Disconnects reach Redis asynchronously; wait until all three slots are free.
    const first = await eventually(() => connect(a.url), { timeoutMs: 5000, what: 'a first socket' });
    await connect(b.url);
    const third = await eventually(() => connect(a.url), { timeoutMs: 5000, what: 'a third socket' });
    const refused = await connectVisitor(b.url).then(
      () => null,
      (error: Error & { data?: { code?: string } }) => error,
    );
    expect(refused?.data?.code).toBe('rate_limited');
    third.close();
    await eventually(() => connect(b.url), { timeoutMs: 5000, what: 'the freed slot, on the other instance' });
    first.close();
  });

  it('HTTP_RATE_LIMIT_PER_MINUTE counts requests to every instance together', async () => {
    const page = (s: ServerProcess) => fetch(`${s.url}/widget.js`);
    for (let i = 0; i < 4; i++) {
      expect((await page(a)).status).toBe(200);
      expect((await page(b)).status).toBe(200);
    }
    for (const s of [a, b]) {
      const res = await page(s);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.json()).toMatchObject({ error: { code: 'rate_limited', retryAfterMs: expect.any(Number) } });
    }
  });
});
