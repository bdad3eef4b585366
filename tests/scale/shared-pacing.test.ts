import { randomInt } from 'node:crypto';
import { createLogger } from '../../src/logger';
import { PACING_WINDOW_MS, type ChatPacer } from '../../src/outbox/chat-pacer';
import { sharePacing } from '../../src/outbox/shared-pacing';
import { connectRedis } from '../../src/scale/redis';
import { connectVisitor, eventually, STAFF_CHAT_ID, type VisitorClient } from '../support/harness';
import { testInstallation, TEST_REDIS_URL as REDIS_URL, type TestInstallation } from '../support/installation';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeWith, services } from '../support/services';

const quietLogger = createLogger({ log: { level: 'error', format: 'json' } });
const CHAT = -100777;

describeWith([services.redis], "one chat's Telegram budget shared through Redis", () => {
  const connections: Array<Awaited<ReturnType<typeof connectRedis>>> = [];
  // A bot of its own per test: budgets are kept per bot and chat, so runs never meet in Redis.
  let botId: string;

  async function instance(name: string, sendsPerMinute: number): Promise<ChatPacer> {
    const redis = await connectRedis(REDIS_URL, quietLogger);
    connections.push(redis);
    return sharePacing(sendsPerMinute, redis, { instanceId: name, botId, prefix: 'topicdesk-test', logger: quietLogger });
  }

  beforeEach(() => {
    botId = String(randomInt(1, 2 ** 40));
  });
  afterEach(async () => {
    for (const c of connections.splice(0)) await c.close();
  });

  it('lets two instances take only the budget of one, and each sees the other spend it', async () => {
    const a = await instance('a', 4);
    const b = await instance('b', 4);
    const t = Date.now();
    const taken = [];
    for (let i = 0; i < 6; i++) taken.push(await (i % 2 ? b : a).tryReserve(CHAT, t + i));
    expect(taken).toEqual([true, true, true, true, false, false]);
    // Neither instance believes there is room left; both know when the first slot frees.
    for (const p of [a, b]) {
      await eventually(async () => p.waitMs(CHAT, t + 10) > 0, { what: 'the full budget is seen' });
      expect(p.waitMs(CHAT, t + 10)).toBe(PACING_WINDOW_MS - 10);
      expect(p.freeSlots(CHAT, t + 10)).toBe(0);
      expect(p.underPressure(CHAT, t + 10)).toBe(true);
    }
    // Another chat of the same bot has its own budget.
    expect(await b.tryReserve(CHAT - 1, t)).toBe(true);
    // Once the window has passed, a slot frees for whoever asks first.
    expect(await b.tryReserve(CHAT, t + PACING_WINDOW_MS + 1)).toBe(true);
  });

  it('a 429 seen by one instance pauses the chat on every instance', async () => {
    const a = await instance('a', 20);
    const b = await instance('b', 20);
    const t = Date.now();
    expect(await b.tryReserve(CHAT, t)).toBe(true);
    expect(b.underPressure(CHAT, t)).toBe(false);
    await a.pause(CHAT, t + 7000, t);
    await eventually(async () => b.waitMs(CHAT, t + 1) === 6999, { what: "b learns of a's 429" });
    expect(b.underPressure(CHAT, t + 1)).toBe(true); // waiting messages are merged after a 429
    // The pause is enforced by Redis, not only by b's view: a third instance that heard nothing is refused too.
    const c = await instance('c', 20);
    expect(await c.tryReserve(CHAT, t + 1)).toBe(false);
    expect(c.waitMs(CHAT, t + 1)).toBe(6999);
    expect(await c.tryReserve(CHAT, t + 7001)).toBe(true);
  });

  it('an instance that loses Redis keeps delivering, pacing on its own view', async () => {
    const a = await instance('a', 2);
    const t = Date.now();
    expect(await a.tryReserve(CHAT, t)).toBe(true);
    await connections[0].close(); // Redis is gone for this instance
    expect(await a.tryReserve(CHAT, t + 1)).toBe(true);
    expect(await a.tryReserve(CHAT, t + 2)).toBe(false); // its own view still holds the limit
    await a.pause(CHAT, t + 5000, t + 3); // a 429 while Redis is away is still honoured here
    expect(a.waitMs(CHAT, t + 3)).toBeGreaterThanOrEqual(4997);
  });
});

describeWith([services.postgres, services.redis], 'two instances under the group limit, on one PostgreSQL database and one Redis', () => {
  let testDb: TestDatabase;
  let emu: TelegramEmulator;
  let installation: TestInstallation;
  const visitors: VisitorClient[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    installation = testInstallation(testDb, { emulator: emu, env: { TELEGRAM_CHAT_SENDS_PER_MINUTE: '20', OUTBOX_HOLD_MS: '1500' } });
  });
  afterAll(async () => {
    for (const v of visitors) v.close();
    await installation.stop();
    await emu.stop();
    await testDb.drop();
  });

  const start = () => installation.start();

  it('together they stay below the limit of one group: no 429, every message delivered once', async () => {
    const [a, b] = [await start(), await start()];
    // Both instances send, each at its own visitors' pace, into the same staff group.
    emu.setChatRateLimit(STAFF_CHAT_ID, { limit: 20, windowMs: 60_000 }); // Telegram's group limit
    // Four visitors on each instance write steadily (not in one burst, which would merely be merged):
    // each instance alone would spend a whole group budget, together they would overrun it twice.
    for (let v = 0; v < 8; v++) visitors.push(await connectVisitor((v % 2 ? b : a).url));
    const ids = new Map<string, number>();
    await Promise.all(
      visitors.map(async (c, v) => {
        for (let n = 0; n < 10; n++) {
          const text = `v${v} says ${n}`;
          ids.set(text, (await c.send(text)).message.id);
          // The visitors' pace is part of the scenario (a steady writer), not a wait for anything.
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }),
    );
    // The last ones may wait for the group's minute to pass.
    await Promise.all(visitors.map((c, v) => c.waitFor('message:status', (s) => s.id === ids.get(`v${v} says 9`), 90_000)));

    const sends = emu.calls.filter((c) => c.method === 'sendMessage' || c.method === 'createForumTopic');
    expect(sends.filter((c) => !c.ok)).toEqual([]); // never ran into a 429
    const delivered = emu.sentMessages(STAFF_CHAT_ID).filter((m) => m.text !== undefined);
    const lines = delivered.flatMap((m) => (m.text ?? '').split('\n').map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, '')));
    for (const text of ids.keys()) expect({ text, n: lines.filter((l) => l === text).length }).toEqual({ text, n: 1 });
    // Both instances delivered (the budget was shared, not won by one of them), and neither was throttled.
    for (const s of [a, b]) {
      const metrics = await fetch(`${s.url}/metrics`).then((r) => r.text());
      expect(Number(/^topicdesk_messages_total\{direction="to_telegram"\} (\d+)/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
      expect(metrics).toMatch(/^topicdesk_telegram_429_total 0$/m);
    }
  }, 150_000);
});
