import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Options as RateLimitOptions } from 'express-rate-limit';
import { createClient } from 'redis';
import { createLogger } from '../../src/logger';
import { connectRedis, type RedisClient } from '../../src/scale/redis';
import { createRedisLimiters } from '../../src/scale/redis-limits';
import { eventually } from '../support/harness';
import { describeWith, services } from '../support/services';

const REDIS_URL = process.env.TEST_REDIS_URL ?? '';

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { logger: createLogger({ log: { level: 'info', format: 'json' } }, stream), lines };
}

// Needs a Redis server: TEST_REDIS_URL (.ci/run sets it); skipped with that reason otherwise.
describeWith([services.redis], 'limits kept in Redis', () => {
  // Redis outlives test runs: every key of this run sits under its own prefix.
  const prefix = `topicdesk-test-${randomBytes(6).toString('hex')}`;
  const { logger, lines } = capturingLogger();
  let a: Awaited<ReturnType<typeof connectRedis>>;
  let b: Awaited<ReturnType<typeof connectRedis>>;
  // Two instances: two connections, each with its own limiters.
  const instance = (client: RedisClient, instanceId: string, extra: { heartbeatMs?: number; staleMs?: number } = {}) =>
    createRedisLimiters({ client, prefix, instanceId, logger, ...extra });

  beforeAll(async () => {
    a = await connectRedis(REDIS_URL, logger);
    b = await connectRedis(REDIS_URL, logger);
  });
  afterAll(async () => {
    const keys = await a.pub.keys(`${prefix}:*`);
    if (keys.length) await a.pub.del(keys);
    await a.close();
    await b.close();
  });

  it('two instances spend from one bucket, and refusals say when to retry', async () => {
    const onA = instance(a.pub, 'a').bucket('message', { burst: 3, perMinute: 1 });
    const onB = instance(b.pub, 'b').bucket('message', { burst: 3, perMinute: 1 });
    expect(await onA.take('v1')).toEqual({ ok: true });
    expect(await onA.take('v1')).toEqual({ ok: true });
    expect(await onB.take('v1')).toEqual({ ok: true });
    const refused = await onB.take('v1');
    expect(refused.ok).toBe(false);
    // One token a minute: the next one is about a minute away.
    expect(!refused.ok && refused.retryAfterMs).toBeGreaterThan(55_000);
    expect(!refused.ok && refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect((await onA.take('v1')).ok).toBe(false);
    // Other keys and other limiter names are other buckets.
    expect(await onB.take('v2')).toEqual({ ok: true });
    expect(await instance(b.pub, 'b').bucket('read', { burst: 3, perMinute: 1 }).take('v1')).toEqual({ ok: true });
    expect(await a.pub.exists(`${prefix}:rl:message:v1`)).toBe(1);
  });

  it('refills with time, and a key expires once its bucket would be full again', async () => {
    const slow = instance(a.pub, 'a').bucket('slow', { burst: 2, perMinute: 60 }); // a token a second
    await slow.take('k');
    const ttl1 = await a.pub.pTTL(`${prefix}:rl:slow:k`);
    expect(ttl1).toBeGreaterThan(0);
    expect(ttl1).toBeLessThanOrEqual(1000);
    await slow.take('k');
    expect(await a.pub.pTTL(`${prefix}:rl:slow:k`)).toBeGreaterThan(1000);

    const fast = instance(b.pub, 'b').bucket('fast', { burst: 1, perMinute: 600 }); // a token every 100 ms
    expect(await fast.take('k')).toEqual({ ok: true });
    const refused = await fast.take('k');
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.retryAfterMs).toBeLessThanOrEqual(100);
    await eventually(async () => (await a.pub.exists(`${prefix}:rl:fast:k`)) === 0, { timeoutMs: 1000, what: 'the idle key to expire' });
    expect(await fast.take('k')).toEqual({ ok: true });
  });

  it('caps open connections per address across instances', async () => {
    const onA = instance(a.pub, 'a').connections('connections', 2);
    const onB = instance(b.pub, 'b').connections('connections', 2);
    expect(await onA.tryOpen('10.0.0.1', 's1')).toBe(true);
    expect(await onB.tryOpen('10.0.0.1', 's2')).toBe(true);
    expect(await onB.tryOpen('10.0.0.1', 's3')).toBe(false);
    expect(await onA.tryOpen('10.0.0.2', 's4')).toBe(true); // another address
    onA.release('10.0.0.1', 's1');
    await eventually(() => onB.tryOpen('10.0.0.1', 's3'), { what: 'the released slot' });
    expect(await a.pub.zRange(`${prefix}:rl:connections:10.0.0.1`, 0, -1)).toEqual(['b:s2', 'b:s3']);
    for (const c of [onA, onB]) c.close();
  });

  it("forgets a crashed instance's connections once its heartbeats stop, and keeps a live one's", async () => {
    const timing = { heartbeatMs: 50, staleMs: 400 };
    const crashed = instance(a.pub, 'crashed', timing).connections('crash', 2);
    const live = instance(a.pub, 'live', timing).connections('crash', 2);
    const other = instance(b.pub, 'other', timing).connections('crash', 2);
    expect(await crashed.tryOpen('10.0.0.3', 's1')).toBe(true);
    expect(await crashed.tryOpen('10.0.0.3', 's2')).toBe(true);
    expect(await live.tryOpen('10.0.0.4', 's1')).toBe(true);
    expect(await live.tryOpen('10.0.0.4', 's2')).toBe(true);
    // The crashed instance stops its heartbeat without releasing anything, as a killed process would.
    crashed.close();
    expect(await other.tryOpen('10.0.0.3', 'x')).toBe(false);
    await new Promise((r) => setTimeout(r, 600));
    expect(await other.tryOpen('10.0.0.3', 'x')).toBe(true);
    // The live instance's connections were refreshed all along.
    expect(await other.tryOpen('10.0.0.4', 'x')).toBe(false);
    for (const c of [live, other]) c.close();
  });

  it('falls back to this instance alone when Redis is unreachable, and says so once', async () => {
    const down = createClient({ url: 'redis://127.0.0.1:1' }); // never connected
    const warnings = () => lines.filter((l) => l.level === 'warn' && String(l.message).startsWith('Redis is unavailable'));
    const before = warnings().length;
    const limiters = createRedisLimiters({ client: down, prefix, instanceId: 'down', logger });
    const bucket = limiters.bucket('message', { burst: 2, perMinute: 1 });
    expect(await bucket.take('v1')).toEqual({ ok: true });
    expect(await bucket.take('v1')).toEqual({ ok: true });
    const refused = await bucket.take('v1');
    expect(!refused.ok && refused.retryAfterMs).toBeGreaterThan(0);

    const connections = limiters.connections('connections', 1);
    expect(await connections.tryOpen('10.0.0.5', 's1')).toBe(true);
    expect(await connections.tryOpen('10.0.0.5', 's2')).toBe(false);
    connections.release('10.0.0.5', 's1');
    expect(await connections.tryOpen('10.0.0.5', 's2')).toBe(true);
    connections.close();

    const store = limiters.httpStore('http');
    await store.init?.({ windowMs: 60_000 } as RateLimitOptions);
    expect((await store.increment('127.0.0.1')).totalHits).toBe(1);
    expect((await store.increment('127.0.0.1')).totalHits).toBe(2);
    await store.shutdown?.();
    bucket.close();

    expect(warnings().length).toBe(before + 1);
  });

  it('counts HTTP requests of all instances in one window (rate-limit-redis)', async () => {
    const options = { windowMs: 60_000 } as RateLimitOptions;
    const onA = instance(a.pub, 'a').httpStore('http');
    const onB = instance(b.pub, 'b').httpStore('http');
    await onA.init?.(options);
    await onB.init?.(options);
    expect((await onA.increment('127.0.0.9')).totalHits).toBe(1);
    expect((await onB.increment('127.0.0.9')).totalHits).toBe(2);
    expect((await onA.increment('127.0.0.9')).totalHits).toBe(3);
    expect(await a.pub.exists(`${prefix}:rl:http:127.0.0.9`)).toBe(1);
    for (const s of [onA, onB]) await s.shutdown?.();
  });
});
