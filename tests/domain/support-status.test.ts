import type { Knex } from 'knex';
import { createDatabase, migrateToLatest } from '../../src/db/database';
import { createCache } from '../../src/db/cache';
import { createStore } from '../../src/db/store';
import type { SupportStatus } from '../../src/domain/ports';
import { loadSupportStatus, type SupportPeerEvent } from '../../src/domain/support-status';
import { loadStaffChat } from '../../src/staff-chat';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';

/**
 * The single answer to "can anyone answer now?" (src/domain/support-status.ts), driven
 * the way the adapters drive it, with the settings stored in a real database and time
 * moved by hand. The sockets, the bot and several instances are in tests/web/support-status.test.ts.
 */
describeEachDatabase('support status, on %s', (kind) => {
  let testDb: TestDatabase;
  let db: Knex;
  let store: ReturnType<typeof createStore>;
  let now = 0;
  const clock = { now: () => new Date(now) };

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    db = createDatabase(testDb.config);
    await migrateToLatest(db);
    store = createStore({ db, cache: createCache(0) });
  });
  afterAll(async () => {
    await db.destroy();
    await testDb.drop();
  });
  beforeEach(async () => {
    now = Date.parse('2026-12-01T09:00:00Z');
    await db('settings').whereIn('key', ['support_status', 'staff_chat_id']).delete();
  });

  async function start(options: { telegram?: boolean; staffChatId?: number | null; rule?: { failures: number; seconds: number } } = {}) {
    const pushed: SupportStatus[] = [];
    const published: SupportPeerEvent[] = [];
    const staffChat = await loadStaffChat(options.staffChatId === undefined ? -100123 : options.staffChatId, store.settings);
    const support = await loadSupportStatus({
      settings: store.settings,
      clock,
      notifier: { supportStatus: (s) => pushed.push(s) },
      telegramEnabled: options.telegram ?? true,
      staffChat,
      rule: options.rule ?? { failures: 3, seconds: 10 },
      peers: { publish: (e) => published.push(e) },
    });
    return { support, pushed, published, staffChat };
  }

  it('is offline for good without Telegram, whatever staff chose; /health says disabled; no verification', async () => {
    const { support, pushed } = await start({ telegram: false });
    expect(support.current()).toEqual({ status: 'offline', message: null });
    expect(support.reason()).toBe('telegram_disabled');
    expect(support.telegramHealth()).toBe('disabled');
    expect(support.canVerify()).toBe(false);
    support.telegramStarted();
    support.telegramSucceeded();
    expect(support.current().status).toBe('offline');
    await support.setStaffChoice({ status: 'away', message: 'Back on Monday' });
    expect(support.current()).toEqual({ status: 'offline', message: 'Back on Monday' });
    expect(pushed).toEqual([{ status: 'offline', message: 'Back on Monday' }]);
  });

  it('is offline until the bot has started, then online; the staff chat missing keeps it offline until a claim', async () => {
    const { support, pushed, published, staffChat } = await start({ staffChatId: null });
    expect(support.current().status).toBe('offline');
    expect(support.reason()).toBe('telegram_connecting');
    expect(support.telegramHealth()).toBe('error');
    // Answers before the start (getMe succeeding, the webhook set-up failing) prove nothing yet.
    support.telegramSucceeded();
    expect(support.reason()).toBe('telegram_connecting');
    support.telegramStarted();
    expect(support.telegramHealth()).toBe('ok');
    expect(support.reason()).toBe('no_staff_chat');
    expect(pushed).toEqual([]);

    await staffChat.set(-100777);
    support.staffChatClaimed(-100777);
    expect(support.current()).toEqual({ status: 'online', message: null });
    expect(support.canVerify()).toBe(true);
    expect(pushed).toEqual([{ status: 'online', message: null }]);
    expect(published).toEqual([{ kind: 'staff-chat', chatId: -100777 }]);
  });

  it('goes offline only after N failures in a row spanning T seconds; one answer from Telegram ends it', async () => {
    const { support, pushed, published } = await start();
    support.telegramStarted();
    expect(support.current().status).toBe('online');
    expect(pushed).toEqual([{ status: 'online', message: null }]);
    pushed.length = 0;

    // Three failures at the same instant (parallel sends): not yet, T has not passed.
    for (let i = 0; i < 3; i++) support.telegramFailed();
    now += 9_999;
    support.telegramFailed();
    expect(support.telegramState()).toBe('reachable');
    // A success in between starts the count again.
    support.telegramSucceeded();
    now += 60_000;
    support.telegramFailed();
    support.telegramFailed();
    expect(support.telegramState()).toBe('reachable');
    now += 10_000;
    support.telegramFailed();
    expect(support.telegramState()).toBe('unreachable');
    expect(support.reason()).toBe('telegram_unreachable');
    expect(support.telegramHealth()).toBe('error');
    expect(support.canVerify()).toBe(false);
    expect(pushed).toEqual([{ status: 'offline', message: null }]);
    expect(published).toEqual([{ kind: 'telegram', reachable: false }]);

    // More failures change nothing and push nothing.
    support.telegramFailed();
    expect(pushed).toHaveLength(1);
    support.telegramSucceeded();
    expect(support.current()).toEqual({ status: 'online', message: null });
    expect(pushed).toEqual([
      { status: 'offline', message: null },
      { status: 'online', message: null },
    ]);
    expect(published).toEqual([
      { kind: 'telegram', reachable: false },
      { kind: 'telegram', reachable: true },
    ]);
  });

  it('offline wins over away and keeps the away message; /back while offline shows once Telegram is back', async () => {
    const { support, pushed } = await start({ rule: { failures: 1, seconds: 0 } });
    support.telegramStarted();
    pushed.length = 0;
    await support.setStaffChoice({ status: 'away', message: 'Back at 9:00' });
    expect(support.current()).toEqual({ status: 'away', message: 'Back at 9:00' });
    support.telegramFailed();
    expect(support.current()).toEqual({ status: 'offline', message: 'Back at 9:00' });
    // The away auto-reply follows staff's choice, not Telegram.
    expect(support.staffChoice()).toEqual({ status: 'away', message: 'Back at 9:00' });

    await support.setStaffChoice({ status: 'online', message: 'ignored when online' });
    expect(support.current()).toEqual({ status: 'offline', message: null });
    expect(JSON.parse((await store.settings.get('support_status'))!)).toEqual({ status: 'online', message: null });
    support.telegramSucceeded();
    expect(pushed).toEqual([
      { status: 'away', message: 'Back at 9:00' },
      { status: 'offline', message: 'Back at 9:00' },
      { status: 'offline', message: null },
      { status: 'online', message: null },
    ]);
  });

  it('keeps staff’s choice across a restart; a corrupt stored value means online', async () => {
    const first = await start();
    await first.support.setStaffChoice({ status: 'away', message: null });
    const again = await start();
    again.support.telegramStarted();
    expect(again.support.current()).toEqual({ status: 'away', message: null });

    await store.settings.set('support_status', '{not json');
    const corrupt = await start();
    corrupt.support.telegramStarted();
    expect(corrupt.support.current()).toEqual({ status: 'online', message: null });
  });

  it('adopts what another instance publishes, and pushes each change to its own visitors once', async () => {
    const { support, pushed, published, staffChat } = await start({ staffChatId: null });
    // Still connecting: a peer's Telegram verdict waits for this instance's own start.
    support.fromPeer({ kind: 'telegram', reachable: false });
    expect(support.telegramState()).toBe('connecting');
    support.telegramStarted();

    support.fromPeer({ kind: 'staff-chat', chatId: -100555 });
    expect(staffChat.id()).toBe(-100555);
    expect(support.current()).toEqual({ status: 'online', message: null });
    support.fromPeer({ kind: 'staff-choice', choice: { status: 'away', message: 'Lunch' } });
    expect(support.current()).toEqual({ status: 'away', message: 'Lunch' });
    support.fromPeer({ kind: 'staff-choice', choice: { status: 'away', message: 'Lunch' } });
    support.fromPeer({ kind: 'telegram', reachable: false });
    expect(support.current()).toEqual({ status: 'offline', message: 'Lunch' });
    // This instance's own call succeeding proves Telegram is back: it says so to the others.
    support.telegramSucceeded();
    expect(support.current()).toEqual({ status: 'away', message: 'Lunch' });
    expect(pushed).toEqual([
      { status: 'online', message: null },
      { status: 'away', message: 'Lunch' },
      { status: 'offline', message: 'Lunch' },
      { status: 'away', message: 'Lunch' },
    ]);
    // Adopted changes are not published again (no echo between instances).
    expect(published).toEqual([{ kind: 'telegram', reachable: true }]);
  });
});
