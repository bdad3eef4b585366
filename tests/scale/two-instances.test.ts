import { createLogger } from '../../src/logger';
import { createDatabase } from '../../src/db/database';
import { createPollingLock } from '../../src/db/polling-lock';
import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { testInstallation, type TestInstallation } from '../support/installation';
import type { ServerProcess } from '../support/server-process';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeWith, services } from '../support/services';

const quietLogger = createLogger({ log: { level: 'error', format: 'json' } });

describe('the polling lock on SQLite', () => {
  it('is always held: one process owns a SQLite file', async () => {
    const testDb = await createTestDatabase('sqlite');
    const db = createDatabase(testDb.config);
    try {
      const lock = createPollingLock(db, quietLogger);
      expect(await lock.acquire(() => false)).toBe(true);
      await lock.release();
    } finally {
      await db.destroy();
      await testDb.drop();
    }
  });
});

describeWith([services.postgres, services.redis], 'two instances on one PostgreSQL database and one Redis', () => {
  let testDb: TestDatabase;
  let emu: TelegramEmulator;
  let installation: TestInstallation;
  const staff = { id: 5001, first_name: 'Deniz', is_bot: false as const };

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    emu.addUser(staff);
    installation = testInstallation(testDb, { emulator: emu, env: { OUTBOX_LEASE_SECONDS: '3', TELEGRAM_CHAT_SENDS_PER_MINUTE: '0' } });
  });
  afterAll(async () => {
    await installation.stop();
    await emu.stop();
    await testDb.drop();
  });

  const start = () => installation.start();
  const role = async (s: ServerProcess) => ((await fetch(`${s.url}/health`).then((r) => r.json())) as { polling?: string }).polling;

  it('a reply handled by one instance reaches a visitor on the other, and the other takes over polling when the leader dies', async () => {
    const b = await start();
    await eventually(async () => (await role(b)) === 'leader', { timeoutMs: 10000, what: 'B leads' });
    const a = await start();
    await eventually(async () => (await role(a)) === 'standby', { timeoutMs: 10000, what: 'A stands by' });

    // The visitor is connected to A only.
    const v = await connectVisitor(a.url);
    const first = await v.send('hello from instance A');
    await v.waitFor('message:status', (s) => s.id === first.message.id, 10000);
    await v.emit('history', {}); // fills A's recent-messages cache for the thread
    const topicId = (await eventually(async () => emu.sentMessages(STAFF_CHAT_ID).find((m) => m.text === 'hello from instance A')))!
      .message_thread_id!;

    // B polls, so B handles the staff update; the Redis adapter carries the event to A's socket.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'answered by B', threadId: topicId });
    await v.waitFor('message', (m) => m.text === 'answered by B', 10000);
    expect(await role(a)).toBe('standby');
    // A's cache was invalidated across instances: its history has B's write.
    const afterB = await v.emit('history', { after: first.message.id });
    expect(afterB.messages.map((m) => m.text)).toEqual(['answered by B']);

    // The leader dies; A takes over polling within seconds, and nothing is lost.
    await b.kill();
    const during = await v.send('written while the leader is gone');
    await eventually(async () => (await role(a)) === 'leader', { timeoutMs: 15000, what: 'A takes over' });
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'answered after fail-over', threadId: topicId });
    await v.waitFor('message', (m) => m.text === 'answered after fail-over', 15000);
    await v.waitFor('message:status', (s) => s.id === during.message.id, 15000);
    expect(emu.sentMessages(STAFF_CHAT_ID).filter((m) => m.text === 'written while the leader is gone')).toHaveLength(1);
    v.close();
    await a.stop();
  }, 120_000);
});
