import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createClient } from 'redis';
import { createLogger } from '../../src/logger';
import { connectRedis } from '../../src/scale/redis';
import { burstWindow, createBudgets, spendAll, type Budgets } from '../../src/limits/budgets';
import { createConnectionCounter, createSharedConnectionCounter } from '../../src/limits/connections';
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

describe('budgets in this process (rate-limiter-flexible, in memory)', () => {
  const { logger } = capturingLogger();
  let budgets: Budgets;
  beforeEach(() => {
    budgets = createBudgets({ logger });
  });

  it('accepts up to the points of a window, then refuses with when to retry', async () => {
    const budget = budgets.budget('message', [{ points: 3, seconds: 60 }]);
    expect(await budget.spend('v1')).toEqual({ ok: true, used: 1 });
    expect(await budget.spend('v1')).toEqual({ ok: true, used: 2 });
    expect(await budget.spend('v1')).toEqual({ ok: true, used: 3 });
    const refused = await budget.spend('v1');
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.retryAfterMs).toBeGreaterThan(55_000);
    expect(!refused.ok && refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    // Another key is another budget.
    expect(await budget.spend('v2')).toEqual({ ok: true, used: 1 });
  });

  it('every window must have room; a refusal spends nothing in any of them', async () => {
    const budget = budgets.budget('threads', [
      { points: 2, seconds: 1 },
      { points: 3, seconds: 3600 },
    ]);
    expect((await budget.spend('ip1')).ok).toBe(true);
    expect((await budget.spend('ip1')).ok).toBe(true);
    // The short window is spent; the hour still has room, and keeps it through the refusals.
    for (let i = 0; i < 3; i++) {
      const refused = await budget.spend('ip1');
      expect(!refused.ok && refused.retryAfterMs).toBeLessThanOrEqual(1000);
    }
    await eventually(async () => (await budget.spend('ip1')).ok, { timeoutMs: 3000, what: 'the short window to end' });
    // Three accepted spends: now the hour refuses, with the hour's wait.
    const refused = await budget.spend('ip1');
    expect(!refused.ok && refused.retryAfterMs).toBeGreaterThan(3_500_000);
    // A refund gives a point back to every window.
    await budget.refund('ip1');
    expect(await budget.spend('ip1')).toEqual({ ok: true, used: 1 });
  });

  it('spends points by weight (bytes), refusing what would not fit', async () => {
    const bytes = budgets.budget('upload-bytes', [{ points: 1000, seconds: 3600 }]);
    expect(await bytes.spend('ip1', 600)).toEqual({ ok: true, used: 600 });
    expect((await bytes.spend('ip1', 500)).ok).toBe(false);
    expect(await bytes.spend('ip1', 400)).toEqual({ ok: true, used: 1000 });
  });

  it('spendAll takes from several budgets or from none', async () => {
    const visitor = budgets.budget('message', [{ points: 5, seconds: 60 }]);
    const address = budgets.budget('address-messages', [{ points: 2, seconds: 60 }]);
    const first = await spendAll([
      [visitor, 'v1'],
      [address, 'ip1'],
    ]);
    expect(first).toMatchObject({ ok: true, used: [1, 1] });
    await spendAll([
      [visitor, 'v2'],
      [address, 'ip1'],
    ]);
    const refused = await spendAll([
      [visitor, 'v1'],
      [address, 'ip1'],
    ]);
    expect(refused.ok).toBe(false);
    // v1's own budget got its point back: 1 spent so far, so 4 more fit.
    for (let i = 0; i < 4; i++) expect((await visitor.spend('v1')).ok).toBe(true);
    expect((await visitor.spend('v1')).ok).toBe(false);
    // A receipt gives back what was taken.
    if (first.ok) await first.refund();
    expect((await address.spend('ip1')).ok).toBe(true);
  });

  it('burstWindow keeps "burst at once, then a steady rate"', () => {
    expect(burstWindow({ burst: 20, perMinute: 30 })).toEqual({ points: 20, seconds: 40 });
    expect(burstWindow({ burst: 3, perMinute: 1 })).toEqual({ points: 3, seconds: 180 });
    expect(burstWindow({ burst: 100000, perMinute: 1000000 })).toEqual({ points: 100000, seconds: 6 });
  });
});

// Needs a Redis server: TEST_REDIS_URL (.ci/run sets it); skipped with that reason otherwise.
describeWith([services.redis], 'budgets and connection counts kept in Redis', () => {
  // Redis outlives test runs: every key of this run sits under its own prefix.
  const prefix = `topicdesk-test-${randomBytes(6).toString('hex')}`;
  const { logger, lines } = capturingLogger();
  let a: Awaited<ReturnType<typeof connectRedis>>;
  let b: Awaited<ReturnType<typeof connectRedis>>;

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

  it('two instances spend from one budget, and refusals say when to retry', async () => {
    const onA = createBudgets({ redis: { client: a.pub, prefix }, logger }).budget('message', [{ points: 3, seconds: 60 }]);
    const onB = createBudgets({ redis: { client: b.pub, prefix }, logger }).budget('message', [{ points: 3, seconds: 60 }]);
    expect(await onA.spend('v1')).toEqual({ ok: true, used: 1 });
    expect(await onA.spend('v1')).toEqual({ ok: true, used: 2 });
    expect(await onB.spend('v1')).toEqual({ ok: true, used: 3 });
    const refused = await onB.spend('v1');
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.retryAfterMs).toBeGreaterThan(55_000);
    expect(!refused.ok && refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect((await onA.spend('v1')).ok).toBe(false);
    // The refusals gave their points back: the shared count is the three accepted spends.
    expect(await a.pub.get(`${prefix}:rl:message:60s:v1`)).toBe('3');
    // Other keys and other budget names are other budgets.
    expect(await onB.spend('v2')).toEqual({ ok: true, used: 1 });
    const read = createBudgets({ redis: { client: b.pub, prefix }, logger }).budget('read', [{ points: 3, seconds: 60 }]);
    expect(await read.spend('v1')).toEqual({ ok: true, used: 1 });
  });

  it('a window starts with its first spend and its key expires with it', async () => {
    const budget = createBudgets({ redis: { client: a.pub, prefix }, logger }).budget('short', [{ points: 1, seconds: 1 }]);
    expect((await budget.spend('k')).ok).toBe(true);
    const refused = await budget.spend('k');
    expect(!refused.ok && refused.retryAfterMs).toBeLessThanOrEqual(1000);
    const ttl = await a.pub.pTTL(`${prefix}:rl:short:1s:k`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
    await eventually(async () => (await a.pub.exists(`${prefix}:rl:short:1s:k`)) === 0, { timeoutMs: 2000, what: 'the window to end' });
    expect((await budget.spend('k')).ok).toBe(true);
  });

  it('answers from this instance alone while Redis is unreachable, and says so once', async () => {
    const down = createClient({ url: 'redis://127.0.0.1:1' }); // never connected
    const warnings = () => lines.filter((l) => l.level === 'warn' && String(l.message).startsWith('Redis is unavailable'));
    const before = warnings().length;
    const budget = createBudgets({ redis: { client: down, prefix }, logger }).budget('message', [{ points: 2, seconds: 60 }]);
    expect((await budget.spend('v1')).ok).toBe(true);
    expect((await budget.spend('v1')).ok).toBe(true);
    const refused = await budget.spend('v1');
    expect(!refused.ok && refused.retryAfterMs).toBeGreaterThan(0);
    expect(warnings().length).toBe(before + 1);

    const connections = createSharedConnectionCounter('connections', 1, { client: down, prefix, instanceId: 'down', logger });
    expect(await connections.tryOpen('10.0.0.5', 's1')).toBe(true);
    expect(await connections.tryOpen('10.0.0.5', 's2')).toBe(false);
    connections.release('10.0.0.5', 's1');
    expect(await connections.tryOpen('10.0.0.5', 's2')).toBe(true);
    connections.close();
  });

  it('caps open connections per address across instances', async () => {
    const onA = createSharedConnectionCounter('connections', 2, { client: a.pub, prefix, instanceId: 'a', logger });
    const onB = createSharedConnectionCounter('connections', 2, { client: b.pub, prefix, instanceId: 'b', logger });
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
    const crashed = createSharedConnectionCounter('crash', 2, { client: a.pub, prefix, instanceId: 'crashed', logger, ...timing });
    const live = createSharedConnectionCounter('crash', 2, { client: a.pub, prefix, instanceId: 'live', logger, ...timing });
    const other = createSharedConnectionCounter('crash', 2, { client: b.pub, prefix, instanceId: 'other', logger, ...timing });
    expect(await crashed.tryOpen('10.0.0.3', 's1')).toBe(true);
    expect(await crashed.tryOpen('10.0.0.3', 's2')).toBe(true);
    expect(await live.tryOpen('10.0.0.4', 's1')).toBe(true);
    expect(await live.tryOpen('10.0.0.4', 's2')).toBe(true);
    // The crashed instance stops its heartbeat without releasing anything, as a killed process would.
    crashed.close();
    expect(await other.tryOpen('10.0.0.3', 'x')).toBe(false);
    await eventually(() => other.tryOpen('10.0.0.3', 'x'), { what: "the crashed instance's connections forgotten" });
    // The live instance's connections were refreshed all along.
    expect(await other.tryOpen('10.0.0.4', 'x')).toBe(false);
    for (const c of [live, other]) c.close();
  });
});

describe('connection count in this process', () => {
  it('refuses beyond max and frees a slot on release (twice is harmless)', async () => {
    const counter = createConnectionCounter(1);
    expect(await counter.tryOpen('ip', 'a')).toBe(true);
    expect(await counter.tryOpen('ip', 'a')).toBe(true); // the same connection again
    expect(await counter.tryOpen('ip', 'b')).toBe(false);
    counter.release('ip', 'a');
    counter.release('ip', 'a');
    expect(counter.count('ip')).toBe(0);
    expect(await counter.tryOpen('ip', 'b')).toBe(true);
  });
});
