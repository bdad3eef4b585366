import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { testInstallation, type TestInstallation } from '../support/installation';
import { formatCall, TelegramEmulator } from '../../src/emulator';
import { createDatabase } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeWith, services } from '../support/services';
import type { Knex } from 'knex';

/**
 * Two instances on one PostgreSQL database: the one holding rows is killed with
 * SIGKILL in the middle of a hung send; the other delivers them within 15 s.
 * While the holder lives, its heartbeat keeps the leases: the other never takes them.
 */
describeWith([services.postgres, services.redis], 'two instances on PostgreSQL, the one holding rows killed', () => {
  let testDb: TestDatabase;
  let emu: TelegramEmulator;
  let installation: TestInstallation;
  let db: Knex;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    // The default lease and send timeout: the bound must hold with what operators run.
    installation = testInstallation(testDb, { emulator: emu, env: { TELEGRAM_CHAT_SENDS_PER_MINUTE: '0', OUTBOX_CONCURRENCY: '1' } });
    db = createDatabase(testDb.config);
  });
  afterAll(async () => {
    await db?.destroy();
    await installation.stop();
    await emu.stop();
    await testDb.drop();
  });

  const leases = () => db('outbox').where({ status: 'pending' }).whereNotNull('locked_by').select('id', 'locked_by', 'locked_until');

  it('the survivor delivers the dead instance’s rows within 15 s, and takes nothing while it lives', async () => {
    const a = await installation.start();
    const v = await connectVisitor(a.url);
    const warm = await v.send('warm-up');
    await v.waitFor('message:status', (s) => s.id === warm.message.id, 10000);

    // A claims the next send, which reaches Telegram but never answers.
    emu.acceptThenHangNext('sendMessage');
    const first = await v.send('held by A');
    const held = await emu.waitFor((c) => c.method === 'sendMessage' && c.heldAnswer === true, { includeFailed: true });
    expect(held.params.text).toBe('held by A');
    const rest: number[] = [];
    for (const t of ['queued 1', 'queued 2']) rest.push((await v.send(t)).message.id);
    const [lease] = await leases();
    expect(lease).toBeDefined();

    const b = await installation.start();
    // The heartbeat renews A's lease past its first expiry; B, polling all along, never takes the row.
    const firstUntil = Number(lease.locked_until);
    await eventually(async () => Date.now() > firstUntil + 1000, { timeoutMs: 20000, what: 'the first lease term passed' });
    // A's rows: the held one, and the next message, which joined its delivery (docs/delivery.md).
    const now = await leases();
    expect(now.length).toBeGreaterThan(0);
    for (const row of now) {
      expect(row.locked_by).toBe(lease.locked_by);
      expect(Number(row.locked_until)).toBeGreaterThan(Date.now());
    }
    expect(emu.calls.filter((c) => c.method === 'sendMessage' && c.params.text === 'held by A')).toHaveLength(1);

    const killedAt = Date.now();
    await a.kill();
    v.close();
    // A send may carry one message or several merged ones ("[hh:mm:ss] text" lines).
    const texts = () =>
      emu.sentMessages(STAFF_CHAT_ID).flatMap((m) => {
        const lines = (m.text ?? '').split('\n');
        return lines.length > 1 ? lines.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, '')) : lines;
      });
    await eventually(() => ['queued 1', 'queued 2'].every((t) => texts().includes(t)), {
      timeoutMs: 30000,
      what: 'B delivers A’s rows',
    }).catch((error) => {
      throw new Error(`${String(error)}\nTelegram calls:\n${emu.calls.map(formatCall).join('\n')}\nB:\n${b.output().slice(-4000)}`);
    });
    expect(Date.now() - killedAt).toBeLessThan(15_000);

    // Only the send in flight at the kill repeats; the rest arrive once, in order.
    const sent = texts();
    expect(sent.filter((t) => t === 'held by A')).toHaveLength(2);
    expect(sent.filter((t) => t.startsWith('queued '))).toEqual(['queued 1', 'queued 2']);
    await eventually(async () => (await db('messages').whereIn('id', [first.message.id, ...rest])).every((m) => m.status === 'delivered'), {
      what: 'all three delivered',
    });
  }, 120_000);
});
