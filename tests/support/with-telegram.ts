import type { Clock } from '../../src/domain/ports';
import { eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from './harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './test-database';

export interface TopicdeskWithTelegram {
  db: TestDatabase;
  emu: TelegramEmulator;
  /** A test that restarts topicdesk puts the new one here, so that stop() stops it. */
  td: RunningTopicdesk;
  /** Stops topicdesk, then the emulator, then drops the database. */
  stop(): Promise<void>;
}

/**
 * The set-up most tests share: a fresh database of `kind`, the Bot API emulator
 * with a forum supergroup as the staff chat, and topicdesk started against both,
 * connected to Telegram. `prepare` adds users, chats or faults before the start.
 */
export async function startWithTelegram(
  kind: DatabaseKind,
  options: { env?: Record<string, string>; clock?: Clock; prepare?: (emu: TelegramEmulator) => void; waitForTelegram?: boolean } = {},
): Promise<TopicdeskWithTelegram> {
  const db = await createTestDatabase(kind);
  const emu = await TelegramEmulator.start();
  emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
  options.prepare?.(emu);
  const td = await startTopicdesk({ db, emulator: emu, env: options.env, clock: options.clock });
  if (options.waitForTelegram !== false) await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
  const handle: TopicdeskWithTelegram = {
    db,
    emu,
    td,
    async stop() {
      await handle.td.stop();
      await emu.stop();
      await db.drop();
    },
  };
  return handle;
}
