import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectVisitor, type VisitorClient } from '../tests/support/harness';
import { startServerProcess } from '../tests/support/server-process';
import { TelegramEmulator } from '../src/emulator';
import { createBenchDatabase } from './bench-database';
import { ADDRESS_BUDGETS_RAISED } from './baseline';

const STAFF_CHAT_ID = -1001234567890;
/** The supergroups of the departments beside the default one (docs/departments.md). */
const DEPARTMENT_CHATS = [-1001234567891, -1001234567892];

export interface GroupLimitResult {
  database: string;
  departments: number;
  messages: number;
  lastInTelegramSeconds: number;
  telegramSends: number;
  refused429: number;
  lost: number;
  duplicates: number;
}

/** A staff member sends `text` into `chatId` and gets the bot's next message there. */
async function staffCommand(emu: TelegramEmulator, chatId: number, text: string): Promise<string> {
  const before = emu.sentMessages(chatId).length;
  emu.userSends({ chatId, from: { id: 7001, is_bot: false, first_name: 'Bench' }, text });
  const deadline = Date.now() + 10_000;
  while (emu.sentMessages(chatId).length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return emu.sentMessages(chatId)[before]?.text ?? '';
}

/**
 * Telegram's group limit, enforced by the emulator (20 sends per 60 s into each
 * staff chat): 30 visitors whose threads already have topics each send 10
 * messages within 10 s. topicdesk runs with its production defaults. With
 * `departments: 3`, two departments are added and claimed and the visitors are
 * spread over the three chats, ten each: each chat has its own budget.
 */
export async function runGroupLimit(o: {
  database: 'sqlite' | 'postgres';
  databaseUrl?: string;
  departments?: 1 | 3;
}): Promise<GroupLimitResult> {
  const departments = o.departments ?? 1;
  const chats = [STAFF_CHAT_ID, ...DEPARTMENT_CHATS.slice(0, departments - 1)];
  const emu = await TelegramEmulator.start();
  emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
  emu.addUser({ id: 7001, is_bot: false, first_name: 'Bench' });
  for (const chatId of chats.slice(1)) {
    emu.addChat({ id: chatId, type: 'supergroup', title: `Department ${chatId}`, is_forum: true });
    emu.setChatMember(chatId, emu.bot.id, { status: 'administrator', can_manage_topics: true });
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-bench-'));
  const database = await createBenchDatabase(o.database, o.databaseUrl);
  const env = {
    DATA_DIR: dataDir,
    ...database.env,
    BOT_TOKEN: emu.token,
    TELEGRAM_API_ROOT: emu.apiRoot,
    STAFF_CHAT_ID: String(STAFF_CHAT_ID),
    MAX_CONNECTIONS_PER_IP: '1000',
    ...ADDRESS_BUDGETS_RAISED,
  };
  const visitors: VisitorClient[] = [];
  try {
    // Set-up, unthrottled: 30 threads with their topics.
    const setup = await startServerProcess({ ...env, TELEGRAM_CHAT_SENDS_PER_MINUTE: '0' });
    const keys: Array<string | undefined> = [undefined];
    for (const [i, chatId] of chats.slice(1).entries()) {
      const added = await staffCommand(emu, STAFF_CHAT_ID, `/department add Team ${i + 1}`);
      const code = /\/claim ([A-Z0-9]{10})/.exec(added)?.[1];
      if (!code || !(await staffCommand(emu, chatId, `/claim ${code}`)).startsWith('✅'))
        throw new Error(`claiming a department failed: ${added}`);
      keys.push(`team-${i + 1}`);
    }
    const tokens: string[] = [];
    for (let v = 0; v < 30; v++) {
      const c = await connectVisitor(setup.url);
      const department = keys[v % keys.length];
      const first = await c.emit('message:send', {
        text: `visitor ${v} says hello`,
        clientId: `hello-${v}`,
        ...(department ? { department } : {}),
      });
      if (!first.ok) throw new Error(`send refused: ${JSON.stringify(first)}`);
      await c.waitFor('message:status', (s) => s.id === first.message.id, 30000);
      tokens.push(c.session.token);
      c.close();
    }
    await setup.stop();

    emu.reset();
    for (const chatId of chats) emu.setChatRateLimit(chatId, { limit: 20, windowMs: 60_000 });
    const server = await startServerProcess(env); // production defaults
    for (const token of tokens) visitors.push(await connectVisitor(server.url, token));

    const expected: string[] = [];
    const start = Date.now();
    await Promise.all(
      visitors.map(async (c, v) => {
        for (let n = 0; n < 10; n++) {
          const text = `v${v} message ${n}`;
          expected.push(text);
          const res = await c.send(text);
          if (!res.ok) throw new Error(`send refused: ${JSON.stringify(res)}`);
          await new Promise((r) => setTimeout(r, 900 + Math.random() * 200));
        }
      }),
    );
    const lines = () =>
      chats
        .flatMap((chatId) => emu.sentMessages(chatId))
        .flatMap((m) => {
          const parts = (m.text ?? '').split('\n');
          return parts.length > 1 ? parts.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, '')) : parts;
        });
    const deadline = Date.now() + 600_000;
    while (!expected.every((t) => lines().includes(t)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const lastAt = Math.max(...emu.calls.filter((c) => c.ok && c.method === 'sendMessage').map((c) => c.at));
    const seen = lines();
    const counts = new Map<string, number>();
    for (const l of seen) counts.set(l, (counts.get(l) ?? 0) + 1);
    await server.stop();
    if (process.env.BENCH_TRACE) {
      for (const c of emu.calls.filter((x) => x.method === 'sendMessage' || x.method === 'createForumTopic')) {
        process.stderr.write(
          `${((c.at - start) / 1000).toFixed(1)}s ${c.method} ${c.ok ? 'ok' : c.error?.error_code} lines=${typeof c.params.text === 'string' ? c.params.text.split('\n').length : 0} topic=${JSON.stringify(c.params.message_thread_id)}\n`,
        );
      }
    }
    return {
      database: o.database,
      departments,
      messages: expected.length,
      lastInTelegramSeconds: (lastAt - start) / 1000,
      telegramSends: emu.calls.filter((c) => c.ok && c.method === 'sendMessage').length,
      refused429: emu.calls.filter((c) => c.error?.error_code === 429).length,
      lost: expected.filter((t) => !counts.has(t)).length,
      duplicates: expected.reduce((n, t) => n + Math.max(0, (counts.get(t) ?? 0) - 1), 0),
    };
  } finally {
    for (const v of visitors) v.close();
    await emu.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  }
}
