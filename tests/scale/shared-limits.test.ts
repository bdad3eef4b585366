import { randomBytes } from 'node:crypto';
import { createLogger } from '../../src/logger';
import { connectRedis } from '../../src/scale/redis';
import { connectVisitor, eventually, type VisitorClient } from '../support/harness';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/test-database';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

if (databaseKinds.includes('postgres')) {
  describe('abuse limits shared by two instances (one PostgreSQL database, one Redis)', () => {
    // Redis outlives test runs, and visitor ids restart in every fresh database: this run's keys get their own prefix.
    const prefix = `topicdesk-test-${randomBytes(6).toString('hex')}`;
    let testDb: TestDatabase;
    let a: ServerProcess;
    let b: ServerProcess;
    const visitors: VisitorClient[] = [];

    beforeAll(async () => {
      testDb = await createTestDatabase('postgres');
      const env = {
        ...testDb.env,
        REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        RATE_MESSAGE_BURST: '3',
        RATE_MESSAGE_PER_MINUTE: '1',
        MAX_CONNECTIONS_PER_IP: '3',
        HTTP_RATE_LIMIT_PER_MINUTE: '8',
      };
      // One after the other: the first applies the migrations.
      a = await startServerProcess(env);
      b = await startServerProcess(env);
    }, 60_000);
    afterAll(async () => {
      for (const v of visitors) v.close();
      await Promise.all([a?.stop(), b?.stop()]);
      await testDb.drop();
      const redis = await connectRedis(REDIS_URL, createLogger({ log: { level: 'error', format: 'json' } }));
      const keys = await redis.pub.keys(`${prefix}:*`);
      if (keys.length) await redis.pub.del(keys);
      await redis.close();
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
      expect(history.messages.map((m: { text: string }) => m.text)).toEqual(['one', 'two', 'three']);
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
      const health = (s: ServerProcess) => fetch(`${s.url}/health`);
      for (let i = 0; i < 4; i++) {
        expect((await health(a)).status).toBe(200);
        expect((await health(b)).status).toBe(200);
      }
      for (const s of [a, b]) {
        const res = await health(s);
        expect(res.status).toBe(429);
        expect(await res.json()).toMatchObject({ error: { code: 'rate_limited' } });
      }
    });
  });
}
