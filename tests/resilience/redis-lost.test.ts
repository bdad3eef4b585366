import { TelegramEmulator, formatCall } from '../../src/emulator';
import { connectVisitor, eventually, STAFF_CHAT_ID, type VisitorClient } from '../support/harness';
import { startRedisServer, type OwnRedis } from '../support/redis-server';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { describeWith, services } from '../support/services';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

interface Health {
  status: string;
  db: string;
  redis?: string;
  polling?: string;
}

/**
 * Two instances on one PostgreSQL database and a Redis this test owns: Redis is killed
 * mid-run and started again on the same port (docs/deploy.md, "Redis is lost while
 * running"). Meanwhile each instance serves its own visitors alone and /health says so;
 * once Redis is back the instances are whole again by themselves.
 */
describeWith([services.postgres, services.redis], 'Redis lost mid-run, then back', () => {
  let testDb: TestDatabase;
  let emu: TelegramEmulator;
  let redis: OwnRedis;
  const servers: ServerProcess[] = [];
  const visitors: VisitorClient[] = [];
  const staff = { id: 5001, first_name: 'Deniz', is_bot: false as const };

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    emu.addUser(staff);
    redis = await startRedisServer();
  });
  // A test that failed while Redis was away does not leave the next one without it.
  afterEach(async () => {
    if (!redis.running()) await redis.restart();
  });
  afterAll(async () => {
    for (const v of visitors) v.close();
    for (const s of servers) await s.kill();
    await redis.kill();
    await emu.stop();
    await testDb.drop();
  });

  const start = async () => {
    const s = await startServerProcess({
      ...testDb.env,
      REDIS_URL: redis.url,
      BOT_TOKEN: emu.token,
      TELEGRAM_API_ROOT: emu.apiRoot,
      STAFF_CHAT_ID: String(STAFF_CHAT_ID),
      OUTBOX_POLL_MS: '100',
      TELEGRAM_CHAT_SENDS_PER_MINUTE: '0',
    });
    servers.push(s);
    return s;
  };
  const health = async (s: ServerProcess) => {
    const res = await fetch(`${s.url}/health`);
    return { code: res.status, ...((await res.json()) as Health) };
  };
  const visitor = async (s: ServerProcess, token?: string) => {
    const v = await connectVisitor(s.url, token);
    visitors.push(v);
    return v;
  };
  /**
   * Sends and waits until Telegram has it and the visitor is told: live (`message:status`) while
   * Redis is there; while it is away the instance that delivered it may be another one, whose
   * event cannot cross, so the visitor's own instance is asked (`history`, from the database).
   * Returns the topic it landed in.
   */
  const deliver = async (v: VisitorClient, text: string, redisAway = false) => {
    const ack = await v.send(text);
    expect(ack.error).toBeUndefined();
    const told = redisAway
      ? eventually(
          async () =>
            (await v.emit('history', { after: ack.message.id - 1 })).messages.find((m) => m.id === ack.message.id)?.status === 'delivered',
          { timeoutMs: 15_000, intervalMs: 250, what: 'delivered in history' },
        )
      : v.waitFor('message:status', (s) => s.id === ack.message.id && s.status === 'delivered', 15_000);
    await told.catch((error: Error) => {
      throw new Error(`"${text}" not delivered: ${error.message}\nTelegram calls:\n${emu.calls.map(formatCall).join('\n')}`);
    });
    const sent = emu.sentMessages(STAFF_CHAT_ID).filter((m) => m.text === text);
    expect(sent).toHaveLength(1);
    return { id: ack.message.id, topicId: sent[0].message_thread_id! };
  };
  const texts = (list: Array<{ text: string | null }>) => list.map((m) => m.text);

  it('each instance serves its own visitors while Redis is away, /health says redis "error" with 200, and all is shared again once it is back', async () => {
    const leader = await start();
    await eventually(async () => (await health(leader)).polling === 'leader', { timeoutMs: 10_000, what: 'the first instance polls' });
    const standby = await start();
    await eventually(async () => (await health(standby)).polling === 'standby', { timeoutMs: 10_000, what: 'the second stands by' });
    for (const s of [leader, standby]) expect(await health(s)).toMatchObject({ code: 200, status: 'ok', db: 'ok', redis: 'ok' });

    // Alice chats through the instance that polls Telegram, Bob through the other one.
    const alice = await visitor(leader);
    const bob = await visitor(standby);
    const aliceTopic = (await deliver(alice, 'alice: before')).topicId;
    const bobFirst = await deliver(bob, 'bob: before');
    // Staff's answer is handled by the leader and crosses Redis to Bob's instance.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'to bob: before', threadId: bobFirst.topicId });
    await bob.waitFor('message', (m) => m.text === 'to bob: before', 10_000);
    // Bob's instance now holds his thread's recent messages in its cache.
    expect(texts((await bob.emit('history', {})).messages)).toEqual(['bob: before', 'to bob: before']);

    await redis.kill();

    // Both say so, and both stay in: 200, so a load balancer does not take every instance out at once.
    for (const s of [leader, standby]) {
      await eventually(async () => (await health(s)).redis === 'error', { timeoutMs: 10_000, what: 'redis "error" in /health' });
      expect(await health(s)).toMatchObject({ code: 200, status: 'ok', db: 'ok', redis: 'error' });
    }

    // Visitors on either instance keep writing, and their messages reach staff. (The delivery tick
    // comes live only from the visitor's own instance; one another instance delivered comes with the
    // catch-up once Redis is back.)
    await deliver(alice, 'alice: during', true);
    const bobDuring = await deliver(bob, 'bob: during', true);
    // A visitor arriving now is let in (the abuse limits fall back to each instance's own).
    const carol = await visitor(standby);
    await deliver(carol, 'carol: during', true);
    // A staff answer reaches a visitor on the instance that handled it, live.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'to alice: during', threadId: aliceTopic });
    await alice.waitFor('message', (m) => m.text === 'to alice: during', 10_000);
    // One for Bob cannot cross to his instance now; it is stored, and his instance reads it from the
    // database, not from a cache the other instance could not invalidate (Bob has just read his history there).
    expect(texts((await bob.emit('history', { after: bobDuring.id })).messages)).toEqual([]);
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'to bob: during', threadId: bobFirst.topicId });
    await eventually(async () => texts((await bob.emit('history', { after: bobDuring.id })).messages).includes('to bob: during'), {
      timeoutMs: 10_000,
      what: "the answer in Bob's history",
    });

    const bobAsked = new Promise<string>((resolve) => bob.socket.once('disconnect', (reason) => resolve(reason)));
    await redis.restart();

    for (const s of [leader, standby]) {
      await eventually(async () => (await health(s)).redis === 'ok', { timeoutMs: 15_000, what: 'redis "ok" in /health again' });
      // One line when it went, one when it came back.
      expect(s.output().match(/redis connection lost/g)).toHaveLength(1);
      expect(s.output().match(/redis connection is back/g)).toHaveLength(1);
    }
    // Pages are asked to reconnect (as the visitor page does at once), and catch up with what they could not hear.
    expect(await bobAsked).toBe('io server disconnect');
    const bobAgain = await visitor(standby, bob.session.token);
    expect(texts((await bobAgain.emit('history', { after: bobDuring.id })).messages)).toEqual(['to bob: during']);

    // Shared again: an answer handled by the leader reaches Bob on the other instance, live.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'to bob: after', threadId: bobFirst.topicId });
    await bobAgain.waitFor('message', (m) => m.text === 'to bob: after', 10_000);
    await deliver(bobAgain, 'bob: after');

    // Neither process restarted on the way.
    for (const s of [leader, standby]) expect(s.child.exitCode).toBeNull();
    expect(emu.sentMessages(STAFF_CHAT_ID).filter((m) => /: (before|during|after)$/.test(m.text ?? ''))).toHaveLength(6);
  }, 120_000);

  it('an instance stopped while Redis is away still shuts down cleanly', async () => {
    const s = await start();
    const v = await visitor(s);
    await deliver(v, 'dave: before');
    await redis.kill();
    await eventually(async () => (await health(s)).redis === 'error', { timeoutMs: 10_000, what: 'redis "error" in /health' });
    // Broadcasts that cannot reach Redis are dropped, not kept to crash the shutdown.
    await deliver(v, 'dave: during', true);
    await s.stop();
    expect({ exitCode: s.child.exitCode, output: s.child.exitCode === 0 ? '' : s.output().slice(-4000) }).toEqual({
      exitCode: 0,
      output: '',
    });
    expect(s.output()).toContain('"message":"stopped"');
  }, 60_000);
});
