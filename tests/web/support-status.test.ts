import { randomBytes } from 'node:crypto';
import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk, type VisitorClient } from '../support/harness';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase, describeWith, services } from '../support/services';
import { TEST_REDIS_URL } from '../support/installation';
import { connectRedis } from '../../src/scale/redis';
import { createLogger } from '../../src/logger';
import { staffSays, type Staff } from '../staff/staff-helpers';

/**
 * `support:status` never claims "online" while nobody can answer (docs/protocol.md):
 * offline without a bot, without a staff chat, and while Telegram is unreachable —
 * through real sockets, the real bot and the Bot API emulator.
 */

/** The thresholds of the tests: three failed calls in a row are enough (no time bound), and a probe every second. */
const FAST = { TELEGRAM_OFFLINE_AFTER_SECONDS: '0', TELEGRAM_PROBE_SECONDS: '1' };
const BAD_GATEWAY = { error_code: 502, description: 'Bad Gateway' };
const ONLINE = { status: 'online', message: null };
const OFFLINE = { status: 'offline', message: null };

/** Every support:status a visitor received, in order. */
const statusesOf = (v: VisitorClient) => v.received.filter((r) => r.event === 'support:status').map((r) => r.payload);

/** What the tests read of acks and events (harness.ts leaves them untyped). */
type Sent = { ok: true; message: { id: number; text: string; status: string } };
type Refused = { ok: false; error: { code: string; message: string } };
type StatusEvent = { id: number; status: string };
const send = async (v: VisitorClient, text: string) => (await v.send(text)) as Sent;
const otpStart = async (v: VisitorClient) => (await v.emit('otp:start', {})) as Refused | { ok: true; link: string };
const refusalOf = async (v: VisitorClient) => ((await otpStart(v)) as Refused).error.code;

/** Waits until each visitor's latest support:status is `expected`. */
async function allSee(visitors: VisitorClient[], expected: { status: string; message: string | null }, timeoutMs = 10_000) {
  for (const v of visitors)
    await eventually(() => JSON.stringify(statusesOf(v).at(-1)) === JSON.stringify(expected), {
      timeoutMs,
      what: `support:status ${JSON.stringify(expected)} (got ${JSON.stringify(statusesOf(v))})`,
    });
}

/** A new visitor hears `expected` right after its session, and nothing before. */
async function newcomerSees(url: string, expected: { status: string; message: string | null }) {
  const v = await connectVisitor(url);
  await v.waitFor('support:status');
  expect(v.received.map((r) => r.event).slice(0, 2)).toEqual(['session', 'support:status']);
  expect(v.received[1].payload).toEqual(expected);
  v.close();
}

const count = async (td: RunningTopicdesk, table: string) => Number((await td.app.db(table).count({ n: '*' }))[0].n);

describeEachDatabase('support status without a bot token, on %s', (kind) => {
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

  it('says offline right after the session; verification is refused and changes nothing; messages are still stored', async () => {
    await newcomerSees(td.url, OFFLINE);
    expect((await td.app.health()).telegram).toBe('disabled');

    const v = await connectVisitor(td.url);
    // Refused every time with `unavailable` — never `rate_limited`: a refusal spends none of the visitor's budget (3 at once).
    for (let i = 0; i < 5; i++)
      expect(await otpStart(v)).toEqual({
        ok: false,
        error: { code: 'unavailable', message: 'Verification through Telegram is not available right now.' },
      });
    expect(await count(td, 'otp_requests')).toBe(0);

    const sent = await send(v, 'Is anyone there?');
    expect(sent).toMatchObject({ ok: true, message: { text: 'Is anyone there?', status: 'stored' } });
    expect((await td.app.store.messages.findById(sent.message.id))?.text).toBe('Is anyone there?');
    expect((await td.app.health()).outbox).toBe(1);
    expect(statusesOf(v)).toEqual([OFFLINE]);
    v.close();
  });
});

describeEachDatabase('support status before a staff chat is claimed, on %s', (kind) => {
  const SUPPORT = -1001111111111;
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let owner: Staff;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: SUPPORT, type: 'supergroup', title: 'Support', is_forum: true });
    owner = emu.addUser({ id: 6001, first_name: 'Owner', language_code: 'en', is_bot: false }) as Staff;
    td = await startTopicdesk({ db, emulator: emu, env: { STAFF_CHAT_ID: '', ...FAST } });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  it('is offline while no staff chat is connected; a real /claim brings every connected visitor online', async () => {
    const code = await eventually(() => /\/claim ([A-Z2-9]{10})\b/.exec(td.logs.map((l) => String(l.message)).join('\n'))?.[1], {
      what: 'the claim code in the log',
    });
    // Telegram itself is fine: /health says so, yet nobody is there to answer.
    expect((await td.app.health()).telegram).toBe('ok');
    const a = await connectVisitor(td.url);
    const b = await connectVisitor(td.url);
    await allSee([a, b], OFFLINE);
    expect(await refusalOf(a)).toBe('unavailable');

    expect((await staffSays(emu, { chatId: SUPPORT, from: owner, text: `/claim ${code}` })).answer.text).toBe(
      '✅ This group is now the staff chat. Every visitor conversation will appear as its own topic.',
    );
    await allSee([a, b], ONLINE);
    for (const v of [a, b]) expect(statusesOf(v)).toEqual([OFFLINE, ONLINE]);
    await newcomerSees(td.url, ONLINE);
    const started = await otpStart(a);
    expect(started.ok && started.link).toMatch(/^https:\/\/t\.me\/topicdesk_test_bot\?start=[A-Za-z0-9_-]{43}$/);
    a.close();
    b.close();
  });
});

describeEachDatabase('support status while Telegram fails, on %s', (kind) => {
  let setup: TopicdeskWithTelegram;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;

  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      env: { ...FAST, OUTBOX_SEND_TIMEOUT_SECONDS: '1' },
      prepare: (e) => {
        deniz = e.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
      },
    });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());
  afterEach(() => emu.reset());

  /** New visitors whose first messages the outbox tries to post at the same time. */
  async function visitorsWriting(n: number, text: string) {
    const visitors = await Promise.all(Array.from({ length: n }, () => connectVisitor(td.url)));
    const sent = await Promise.all(visitors.map((v, i) => send(v, `${text} ${i + 1}`)));
    for (const s of sent) expect(s).toMatchObject({ ok: true, message: { status: 'stored' } });
    return { visitors, sent };
  }

  const delivered = (v: VisitorClient, id: number) =>
    v.waitFor('message:status', (s: StatusEvent) => s.id === id && s.status === 'delivered', 15_000);

  it('one failed send does not tell anyone that support is offline', async () => {
    const watcher = await connectVisitor(td.url);
    await allSee([watcher], ONLINE);
    emu.failNext('createForumTopic', BAD_GATEWAY, 1);
    const { visitors, sent } = await visitorsWriting(1, 'Hello');
    await delivered(visitors[0], sent[0].message.id);
    expect(emu.callsTo('createForumTopic').filter((c) => !c.ok)).toHaveLength(1);
    for (const v of [watcher, ...visitors]) expect(statusesOf(v)).toEqual([ONLINE]);
    for (const v of [watcher, ...visitors]) v.close();
  });

  it('Telegram answering 5xx: every visitor hears offline, verification is refused, messages are kept; back: online, and they go out', async () => {
    const a = await connectVisitor(td.url);
    const b = await connectVisitor(td.url);
    await allSee([a, b], ONLINE);

    emu.failNext('*', BAD_GATEWAY, 100_000);
    const writers = await visitorsWriting(3, 'During the outage');
    await allSee([a, b, ...writers.visitors], OFFLINE);
    expect((await td.app.health()).telegram).toBe('error');
    await newcomerSees(td.url, OFFLINE);
    expect(await refusalOf(a)).toBe('unavailable');
    expect(await count(td, 'otp_requests')).toBe(0);
    const kept = await send(a, 'Written while nobody can answer');
    expect(kept).toMatchObject({ ok: true, message: { status: 'stored' } });

    emu.reset(); // Telegram is back: the probe (getMe every second) notices without waiting for traffic.
    await allSee([a, b, ...writers.visitors], ONLINE);
    for (const v of [a, b]) expect(statusesOf(v)).toEqual([ONLINE, OFFLINE, ONLINE]);
    expect((await td.app.health()).telegram).toBe('ok');
    await delivered(a, kept.message.id);
    for (const [i, v] of writers.visitors.entries()) await delivered(v, writers.sent[i].message.id);
    for (const v of [a, b, ...writers.visitors]) v.close();
  });

  it('Telegram not answering at all (timeouts) is offline too', async () => {
    const a = await connectVisitor(td.url);
    await allSee([a], ONLINE);
    emu.hangNext('*', 100_000);
    const writers = await visitorsWriting(3, 'Into the void');
    await allSee([a], OFFLINE);
    emu.reset();
    await allSee([a], ONLINE);
    for (const [i, v] of writers.visitors.entries()) await delivered(v, writers.sent[i].message.id);
    expect(statusesOf(a)).toEqual([ONLINE, OFFLINE, ONLINE]);
    for (const v of [a, ...writers.visitors]) v.close();
  });

  it('offline wins over away and keeps the away message; back, it is away again until /back', async () => {
    const a = await connectVisitor(td.url);
    await allSee([a], ONLINE);
    const inGeneral = (text: string) => staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text });
    await inGeneral('/away Back at 9:00');
    const away = { status: 'away', message: 'Back at 9:00' };
    await allSee([a], away);

    emu.failNext('*', BAD_GATEWAY, 100_000);
    const writers = await visitorsWriting(3, 'While away');
    const offlineAway = { status: 'offline', message: 'Back at 9:00' };
    await allSee([a], offlineAway);
    await newcomerSees(td.url, offlineAway);

    emu.reset();
    await allSee([a], away);
    // The kept messages go out first: the bot's next message in the group is then the answer to /back.
    for (const [i, v] of writers.visitors.entries()) await delivered(v, writers.sent[i].message.id);
    expect((await inGeneral('/back')).answer.text).toBe('☀️ Support is online again.');
    await allSee([a], ONLINE);
    expect(statusesOf(a)).toEqual([ONLINE, away, offlineAway, away, ONLINE]);
    for (const v of [a, ...writers.visitors]) v.close();
  });
});

describeWith([services.postgres, services.redis], 'support status across two instances (PostgreSQL, Redis)', () => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  const instances: RunningTopicdesk[] = [];
  const prefix = `topicdesk-test-${randomBytes(6).toString('hex')}`;
  const SUPPORT = -1001111111111;
  let owner: Staff;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: SUPPORT, type: 'supergroup', title: 'Support', is_forum: true });
    owner = emu.addUser({ id: 6001, first_name: 'Owner', language_code: 'en', is_bot: false }) as Staff;
  });
  afterAll(async () => {
    for (const td of instances) await td.stop();
    await emu?.stop();
    await db?.drop();
    const redis = await connectRedis(TEST_REDIS_URL, createLogger({ log: { level: 'error', format: 'json' } }));
    const keys = await redis.pub.keys(`${prefix}:*`);
    if (keys.length) await redis.pub.del(keys);
    await redis.close();
  });

  const claimCode = (td: RunningTopicdesk) =>
    eventually(() => /\/claim ([A-Z2-9]{10})\b/.exec(td.logs.map((l) => String(l.message)).join('\n'))?.[1], { what: 'a claim code' });

  it('a claim, /away and Telegram lost and back on one instance reach the visitors of both, once each', async () => {
    const env = { STAFF_CHAT_ID: '', REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, ...FAST };
    // The first instance polls and judges Telegram lost after one failed call; the second never judges by itself,
    // so what its visitors hear of Telegram can only come from the first.
    const first = await startTopicdesk({ db, emulator: emu, env: { ...env, TELEGRAM_OFFLINE_AFTER_FAILURES: '1' } });
    instances.push(first);
    await claimCode(first);
    expect((await first.app.health()).polling).toBe('leader');
    const second = await startTopicdesk({ db, emulator: emu, env: { ...env, TELEGRAM_OFFLINE_AFTER_FAILURES: '1000' } });
    instances.push(second);
    // Every start issues a new code; the last one is the one that works.
    const code = await claimCode(second);

    const a = await connectVisitor(first.url);
    const b = await connectVisitor(second.url);
    await allSee([a, b], OFFLINE);

    await staffSays(emu, { chatId: SUPPORT, from: owner, text: `/claim ${code}` });
    await allSee([a, b], ONLINE);
    await newcomerSees(first.url, ONLINE);
    await newcomerSees(second.url, ONLINE);

    await staffSays(emu, { chatId: SUPPORT, from: owner, text: '/away Lunch' });
    const away = { status: 'away', message: 'Lunch' };
    await allSee([a, b], away);
    await newcomerSees(first.url, away);
    await newcomerSees(second.url, away);

    // The leader's long poll ends with a staff message; its next getUpdates fails, and it tells the other instance.
    emu.failNext('*', BAD_GATEWAY, 100_000);
    emu.userSends({ chatId: SUPPORT, from: owner, text: 'brb' });
    const offlineAway = { status: 'offline', message: 'Lunch' };
    await allSee([a, b], offlineAway);
    expect((await second.app.health()).telegram).toBe('error');
    const kept = await send(b, 'Written on the second instance meanwhile');
    expect(kept).toMatchObject({ ok: true, message: { status: 'stored' } });
    emu.reset();
    await allSee([a, b], away);
    await b.waitFor('message:status', (s: StatusEvent) => s.id === kept.message.id && s.status === 'delivered', 15_000);

    await staffSays(emu, { chatId: SUPPORT, from: owner, text: '/back' });
    await allSee([a, b], ONLINE);
    // Once each: an instance tells only its own sockets, the other instance tells the rest.
    for (const v of [a, b]) expect(statusesOf(v)).toEqual([OFFLINE, ONLINE, away, offlineAway, away, ONLINE]);
    for (const v of [a, b]) v.close();
  });
});
