import { createDatabase, migrateToLatest, rollbackAll, type Database } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';

const ALL = [
  '20261126000000_initial_schema',
  '20261126010000_links_per_message',
  '20261126020000_staff_tools',
  '20261126030000_otp',
  '20261126050000_staff_sessions',
  '20261126051000_message_search',
  '20261202100000_thread_closed_at',
  '20261206000000_message_search_text',
  '20261206010000_message_notices',
  '20261206100000_thread_opening_rank',
  '20261207000000_message_html',
  '20261207010000_snippets',
  '20261208020000_departments',
  '20261208000000_thread_ratings',
  '20261208010000_erasures',
  '20261208030000_rating_department',
  '20261209000000_update_inbox',
  '20261210000000_sent_row_delivers_message',
  '20261211000000_message_moves_thread_activity',
  '20261212000000_links_one_lookup_index',
];
const TABLES = [
  'otp_requests',
  'conversation_state',
  'staff_login_tokens',
  'users',
  'visitors',
  'threads',
  'messages',
  'telegram_links',
  'outbox',
  'processed_updates',
  'settings',
  'staff_sessions',
  'snippets',
  'departments',
  'moved_topics',
  'thread_ratings',
  'erasures',
  'erased_threads',
  'erased_messages',
  'revoked_visitor_tokens',
  'update_inbox',
];

describeEachDatabase('migrations on %s', (kind) => {
  let testDb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    db = createDatabase(testDb.config);
  });
  afterAll(async () => {
    await db.destroy();
    await testDb.drop();
  });

  it('go up, down and up again, creating and removing every table', async () => {
    expect(await migrateToLatest(db)).toEqual(ALL);
    for (const t of TABLES) expect(await db.schema.hasTable(t)).toBe(true);
    // Running again applies nothing.
    expect(await migrateToLatest(db)).toEqual([]);

    await rollbackAll(db);
    for (const t of TABLES) expect(await db.schema.hasTable(t)).toBe(false);

    expect(await migrateToLatest(db)).toEqual(ALL);
    for (const t of TABLES) expect(await db.schema.hasTable(t)).toBe(true);
  });

  it('keeps the seed columns and the uniqueness rules the delivery relies on', async () => {
    expect(await db.schema.hasColumn('users', 'phone_number')).toBe(true);
    expect(await db.schema.hasColumn('threads', 'last_activity')).toBe(true);
    expect(await db.schema.hasColumn('messages', 'content_text')).toBe(true);
    expect(await db.schema.hasColumn('messages', 'file_url')).toBe(true);
    expect(await db.schema.hasColumn('telegram_links', 'telegram_message_id')).toBe(true);

    const now = Date.now();
    const [{ id: visitorId }] = await db('visitors')
      .insert({ token_hash: 'h'.repeat(64), created_at: now, last_seen_at: now })
      .returning('id');
    const [{ id: threadId }] = await db('threads')
      .insert({ visitor_id: visitorId, ref: 'abc123', last_activity: now, created_at: now })
      .returning('id');
    await db('messages').insert({
      thread_id: threadId,
      sender_type: 'visitor',
      content_text: 'hi',
      visitor_id: visitorId,
      client_id: 'x1',
      created_at: now,
    });
    await expect(
      db('messages').insert({
        thread_id: threadId,
        sender_type: 'visitor',
        content_text: 'hi again',
        visitor_id: visitorId,
        client_id: 'x1',
        created_at: now,
      }),
    ).rejects.toThrow();
    const [{ id: messageId }] = await db('messages').select('id').where({ client_id: 'x1' });
    const [{ id: otherId }] = await db('messages')
      .insert({
        thread_id: threadId,
        sender_type: 'visitor',
        content_text: 'merged',
        visitor_id: visitorId,
        client_id: 'x2',
        created_at: now,
      })
      .returning('id');
    const link = { thread_id: threadId, chat_id: -100, telegram_message_id: 5, direction: 'to_telegram', created_at: now };
    // One Telegram message may carry several stored messages (coalescing)...
    await db('telegram_links').insert({ ...link, message_id: messageId });
    await db('telegram_links').insert({ ...link, message_id: otherId });
    // ...but each pair is recorded once.
    await expect(db('telegram_links').insert({ ...link, message_id: messageId })).rejects.toThrow();
  });

  it('looks a Telegram message up through the unique index of its links, the only index on those columns', async () => {
    // The look-up of src/db/telegram-link-repository.ts (findByTelegramMessage).
    const lookup = db('telegram_links').where({ chat_id: -100, telegram_message_id: 5 }).orderBy('id').first().toSQL();
    let plan: string;
    if (kind === 'sqlite') {
      const rows: Array<{ detail: string }> = await db.raw(`explain query plan ${lookup.sql}`, lookup.bindings as never);
      plan = rows.map((r) => r.detail).join('\n');
    } else {
      // A table this small is read whole by choice; with that ruled out, the planner shows which index it can use.
      plan = await db.transaction(async (trx) => {
        await trx.raw('set local enable_seqscan = off');
        const r = await trx.raw<{ rows: Array<{ 'QUERY PLAN': string }> }>(`explain ${lookup.sql}`, lookup.bindings as never);
        return r.rows.map((x) => x['QUERY PLAN']).join('\n');
      });
    }
    expect(plan).toContain('uq_telegram_links_chat_message_stored');
    const indexes: string[] =
      kind === 'sqlite'
        ? (
            await db.raw<Array<{ name: string }>>(`select name from sqlite_master where type = 'index' and tbl_name = 'telegram_links'`)
          ).map((r) => r.name)
        : (
            await db.raw<{ rows: Array<{ indexname: string }> }>(`select indexname from pg_indexes where tablename = 'telegram_links'`)
          ).rows.map((r) => r.indexname);
    expect(indexes.filter((n) => n.includes('chat_message'))).toEqual(['uq_telegram_links_chat_message_stored']);
  });
});
