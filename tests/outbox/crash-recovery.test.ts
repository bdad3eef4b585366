import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { formatCall, TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';

/** Each visitor message in a Telegram text: alone, or merged with others as "[hh:mm:ss] text" lines. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  return lines.length > 1 ? lines.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, '')) : lines;
}

describeEachDatabase('kill -9 in the middle of a send, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
  });
  afterAll(async () => {
    for (const s of servers) await s.kill();
    await emu.stop();
    await db.drop();
  });

  const start = async () => {
    const s = await startServerProcess({
      ...db.env,
      BOT_TOKEN: emu.token,
      TELEGRAM_API_ROOT: emu.apiRoot,
      STAFF_CHAT_ID: String(STAFF_CHAT_ID),
      // The default lease (OUTBOX_LEASE_SECONDS): recovery within 15 s must hold with what operators run.
      OUTBOX_POLL_MS: '100',
      TELEGRAM_CHAT_SENDS_PER_MINUTE: '0',
      // One send in flight at a time, so the send interrupted by the kill is exactly the held one.
      OUTBOX_CONCURRENCY: '1',
    });
    servers.push(s);
    return s;
  };

  it('delivers every acknowledged message after a restart, with at most the one in-flight send repeated', async () => {
    const first = await start();
    const alice = await connectVisitor(first.url);
    const bob = await connectVisitor(first.url);
    const warm = await alice.send('alice 0');
    await alice.waitFor('message:status', (s) => s.id === warm.message.id);

    // The next send reaches Telegram, but its answer never comes back: the process dies first.
    emu.acceptThenHangNext('sendMessage');
    const acked: string[] = [];
    for (let i = 1; i <= 5; i++) {
      expect((await alice.send(`alice ${i}`)).ok).toBe(true);
      acked.push(`alice ${i}`);
    }
    for (let i = 1; i <= 3; i++) {
      expect((await bob.send(`bob ${i}`)).ok).toBe(true);
      acked.push(`bob ${i}`);
    }
    const held = await emu.waitFor((c) => c.method === 'sendMessage' && c.heldAnswer === true, { includeFailed: true });
    // The send in flight may carry one message or several merged ones.
    const inFlight = splitLines(String(held.params.text));
    const killedAt = Date.now();
    await first.kill();
    alice.close();
    bob.close();

    const second = await start();
    const texts = () => emu.sentMessages(STAFF_CHAT_ID).flatMap((m) => splitLines(m.text ?? ''));
    await eventually(() => acked.every((t) => texts().includes(t)), { timeoutMs: 45000, what: 'every acked message in Telegram' }).catch(
      (error) => {
        throw new Error(
          `${String(error)}\nTelegram calls:\n${emu.calls.map(formatCall).join('\n')}\nserver:\n${second.output().slice(-4000)}`,
        );
      },
    );
    // A restarted single instance takes the dead process's leases back (SQLite: at once; PostgreSQL: one short lease).
    expect(Date.now() - killedAt).toBeLessThan(15_000);

    const counts = new Map<string, number>();
    for (const t of texts()) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const t of ['alice 0', ...acked]) expect({ t, n: counts.get(t) }).toEqual({ t, n: inFlight.includes(t) ? 2 : 1 });

    // Order per thread holds (first appearance).
    const order = (prefix: string) => [...new Set(texts().filter((t) => t.startsWith(prefix)))];
    expect(order('alice ')).toEqual(['alice 0', 'alice 1', 'alice 2', 'alice 3', 'alice 4', 'alice 5']);
    expect(order('bob ')).toEqual(['bob 1', 'bob 2', 'bob 3']);

    // The bookkeeping knows every message as delivered, and the visitor sees it.
    const back = await connectVisitor(second.url, alice.session.token);
    // (The bookkeeping follows Telegram's answer by a moment.)
    await eventually(
      async () => {
        const history = await back.emit('history', {});
        return history.messages.length === 6 && history.messages.every((m: { status: string }) => m.status === 'delivered');
      },
      { timeoutMs: 10000, what: 'all six delivered in history' },
    );
    back.close();
    await second.stop();
  }, 120_000); // two server starts: slow on a loaded CI machine, so a generous limit
});
