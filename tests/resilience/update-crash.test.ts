import knexFactory, { type Knex } from 'knex';
import BetterSqlite3 from 'better-sqlite3';
import path from 'node:path';
import type { Update } from 'grammy/types';
import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { formatCall, TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';

/**
 * Telegram → visitor under kill -9: an update the process was still handling when it died is
 * handled after the restart — from Telegram again if it had not been confirmed, from the update
 * inbox if it had (src/app/update-runner.ts, docs/delivery.md "Telegram → visitor").
 */
describeEachDatabase('kill -9 while a Telegram update is being handled, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  const servers: ServerProcess[] = [];
  const staff = { id: 7001, first_name: 'Selin', is_bot: false };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    emu.addUser(staff);
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
      OUTBOX_POLL_MS: '100',
      TELEGRAM_CHAT_SENDS_PER_MINUTE: '0',
    });
    servers.push(s);
    return s;
  };

  const failWithCalls = (server: ServerProcess) => (error: unknown) => {
    throw new Error(`${String(error)}\nTelegram calls:\n${emu.calls.map(formatCall).join('\n')}\nserver:\n${server.output().slice(-4000)}`);
  };

  /** A visitor with a thread and its topic; its first message is in Telegram. */
  async function visitorWithTopic(url: string, text: string) {
    const visitor = await connectVisitor(url);
    expect((await visitor.send(text)).ok).toBe(true);
    const call = await emu.waitFor((c) => c.method === 'sendMessage' && c.params.text === text, { timeoutMs: 10_000 });
    return { visitor, token: visitor.session.token, topicId: Number(call.params.message_thread_id) };
  }

  /** Blocks the database's writes of messages until released: a lock on the table (PostgreSQL), the write lock of the file (SQLite). */
  async function stallMessageWrites(): Promise<() => Promise<void>> {
    if (kind === 'postgres') {
      const k: Knex = knexFactory({ client: 'pg', connection: db.env.DATABASE_URL, pool: { min: 1, max: 1 } });
      const trx = await k.transaction();
      await trx.raw('lock table messages in exclusive mode');
      return async () => {
        await trx.rollback();
        await k.destroy();
      };
    }
    const file = new BetterSqlite3(path.join(db.dataDir, 'topicdesk.sqlite3'));
    file.exec('begin immediate');
    return async () => {
      file.exec('rollback');
      file.close();
    };
  }

  /** Whether the server's write of the staff message waits for the stall (PostgreSQL shows it; SQLite's wait is inside the driver). */
  async function writeIsWaiting(): Promise<boolean> {
    if (kind !== 'postgres') return true;
    const k = knexFactory({ client: 'pg', connection: db.env.DATABASE_URL, pool: { min: 0, max: 1 } });
    try {
      const rows = await k.raw<{ rows: unknown[] }>(
        `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%insert into messages%'`,
      );
      return rows.rows.length > 0;
    } finally {
      await k.destroy();
    }
  }

  async function terminateWaitingWrites(): Promise<void> {
    const k = knexFactory({ client: 'pg', connection: db.env.DATABASE_URL, pool: { min: 0, max: 1 } });
    try {
      await k.raw(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%insert into messages%'`,
      );
    } finally {
      await k.destroy();
    }
  }

  it('a staff reply the process was storing when it died reaches the visitor after the restart, once', async () => {
    const first = await start();
    const { visitor, token, topicId } = await visitorWithTopic(first.url, 'is anyone there?');

    const release = await stallMessageWrites();
    let released = false;
    try {
      const sent = emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'yes, Selin here', threadId: topicId });
      const updateId = sent.update.update_id;
      // The server has fetched the update and its write of the reply is waiting for the database.
      const fetched = (result: unknown) => Array.isArray(result) && (result as Update[]).some((u) => u.update_id === updateId);
      await emu.waitFor((c) => c.method === 'getUpdates' && fetched(c.result), { timeoutMs: 10_000 });
      await eventually(writeIsWaiting, { timeoutMs: 10_000, what: 'the reply being written' });
      if (kind === 'postgres') {
        // The inbox is not stalled: the update is kept there and Telegram is told it arrived — it will not come again.
        await eventually(() => !emu.pendingUpdates().some((u) => u.update_id === updateId), {
          timeoutMs: 10_000,
          what: 'the update confirmed',
        });
      } else {
        // The whole file is locked, the inbox too: the update stays unconfirmed at Telegram however long the stall lasts.
        await new Promise((r) => setTimeout(r, 500));
        expect(emu.pendingUpdates().some((u) => u.update_id === updateId)).toBe(true);
      }
      await first.kill();
      visitor.close();
      // PostgreSQL would finish a dead client's waiting statement once the lock goes; a lost machine takes its connections with it.
      if (kind === 'postgres') await terminateWaitingWrites();
      await release();
      released = true;
    } finally {
      if (!released) await release();
    }

    const second = await start();
    const back = await connectVisitor(second.url, token);
    await eventually(
      async () => {
        const res = (await back.emit('history', { limit: 50 })) as unknown as { ok: boolean; messages: Array<{ text: string }> };
        return res.messages.filter((m) => m.text === 'yes, Selin here').length === 1;
      },
      { timeoutMs: 20_000, what: 'the reply in the visitor’s history' },
    ).catch(failWithCalls(second));
    // Once: the restart handled it one time, whatever path it came back by.
    await new Promise((r) => setTimeout(r, 500));
    const res = (await back.emit('history', { limit: 50 })) as unknown as { messages: Array<{ text: string }> };
    expect(res.messages.filter((m) => m.text === 'yes, Selin here')).toHaveLength(1);
    back.close();
    await second.stop();
  }, 60_000);

  it('an update stuck in its handler holds up no other; killed, it is handled again after the restart from the inbox', async () => {
    const first = await start();
    const a = await visitorWithTopic(first.url, 'question A');
    const b = await visitorWithTopic(first.url, 'question B');

    // /info in A's topic: its answer reaches Telegram but the reply never comes back, so the handler stays busy.
    emu.acceptThenHangNext('sendMessage');
    const info = emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: '/info', threadId: a.topicId });
    await emu.waitFor((c) => c.method === 'sendMessage' && c.heldAnswer === true, { includeFailed: true, timeoutMs: 10_000 });

    // Meanwhile a reply in B's topic is fetched, stored and delivered.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text: 'answer B', threadId: b.topicId });
    await b.visitor.waitFor('message', (m) => m.text === 'answer B', 10_000).catch(failWithCalls(first));
    // Fetching B's reply told Telegram that /info arrived: it is in the inbox, not at Telegram.
    expect(emu.pendingUpdates().some((u) => u.update_id === info.update.update_id)).toBe(false);

    await first.kill();
    a.visitor.close();
    b.visitor.close();
    // /info's answers in A's topic: the one whose reply never came, then the one after the restart.
    const infoAnswers = () =>
      emu.calls.filter(
        (c) => c.method === 'sendMessage' && c.params.message_thread_id === a.topicId && String(c.params.text).includes('\nVerified: '),
      );
    expect(infoAnswers()).toHaveLength(1);

    const second = await start();
    await eventually(() => infoAnswers().length === 2, { timeoutMs: 20_000, what: '/info answered after the restart' }).catch(
      failWithCalls(second),
    );
    expect(String(infoAnswers()[1].params.text)).toContain('Messages: 1 from the visitor');
    // Handled once after the restart, and the inbox is empty again: a second restart handles nothing more.
    await second.stop();
    const third = await start();
    await emu.longPollHeld();
    await new Promise((r) => setTimeout(r, 300));
    expect(infoAnswers()).toHaveLength(2);
    await third.stop();
  }, 60_000);
});
