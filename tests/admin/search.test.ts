import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import { MESSAGE_SEARCH_DOCUMENT_PG } from '../../migrations/20261206000000_message_search_text';
import type { PgRows } from '../../src/db/database';
import { searchTerms, searchText } from '../../src/domain/admin-search';
import { api, seedThread, staffCookie, type Staff } from './admin-helpers';

/**
 * Full-text search of the staff page (docs/admin.md "Search"): FTS5 on SQLite,
 * a GIN-indexed tsvector expression on PostgreSQL, the same matching rules on both,
 * asked through the real HTTP API.
 */
describe('search words', () => {
  it('are runs of letters and digits, lower-cased, without diacritics (Turkish ı and İ are i), at most 8', () => {
    expect(searchTerms('  Şifremi UNUTTUM, sipariş #1042!  ')).toEqual(['sifremi', 'unuttum', 'siparis', '1042']);
    expect(searchTerms('İSTANBUL ışık Ünlü façade naïve')).toEqual(['istanbul', 'isik', 'unlu', 'facade', 'naive']);
    expect(searchTerms('ȘTIINȚĂ știință Ğ ğ')).toEqual(['stiinta', 'g']);
    expect(searchTerms('a-b_c "d" \'e\' f:*g & h | !i')).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    expect(searchTerms('%_*()"\'')).toEqual([]);
    expect(searchTerms('order order ORDER')).toEqual(['order']);
  });

  it('fold stored text by the same rule, one space between words', () => {
    expect(searchText('Știință: ÇAĞRI, ışık & café — 1042.')).toBe('stiinta cagri isik cafe 1042');
    expect(searchText(null)).toBeNull();
  });
});

describeEachDatabase('search on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  let cookie: string;
  const threads: Record<string, number> = {};

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    deniz = emu.addUser({ id: 5001, first_name: 'Deniz', is_bot: false }) as Staff;
    td = await startTopicdesk({ db, emulator: emu, env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' } });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    cookie = await staffCookie(td, emu, deniz);

    // Real conversations: visitors over sockets, staff in their topics through the bot.
    for (const [key, text] of [
      ['parcel', 'My parcel never arrived'],
      ['password', 'Şifremi unuttum, sipariş numaram 1042'],
      ['refund', 'Refund please: https://shop.example.com/orders/77'],
    ]) {
      const v = await connectVisitor(td.url);
      const sent = await v.send(text);
      await v.waitFor('message:status', (s) => s.id === sent.message.id);
      threads[key] = sent.message.threadId;
      v.close();
    }
    const topic = (await td.app.store.threads.findById(threads.parcel))!.topicId!;
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'We are tracking the parcel now', threadId: topic });
    await eventually(async () => (await td.app.db('messages').where({ thread_id: threads.parcel, sender_type: 'staff' })).length === 1, {
      what: 'staff reply stored',
    });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  const search = async (q: string, extra = '') => {
    const res = await api(td, `/api/admin/threads?q=${encodeURIComponent(q)}${extra}`, cookie);
    expect(res.status).toBe(200);
    return res.body.threads as any[];
  };
  const ids = async (q: string, extra = '') => (await search(q, extra)).map((t) => t.id);

  it('finds the thread of a message by a word in it, and says which message matched', async () => {
    const found = await search('parcel');
    expect(found.map((t) => t.id)).toEqual([threads.parcel]);
    // The newest matching message: the staff reply.
    expect(found[0].match).toMatchObject({ sender: 'staff', text: 'We are tracking the parcel now' });
    expect(await ids('arrived')).toEqual([threads.parcel]);
    expect(await ids('tracking')).toEqual([threads.parcel]);
    expect(await ids('refund')).toEqual([threads.refund]);
  });

  it('matches case-insensitively, by word prefix, without diacritics, and every word of the search', async () => {
    expect(await ids('PARCEL')).toEqual([threads.parcel]);
    expect(await ids('parc')).toEqual([threads.parcel]);
    expect(await ids('siparis')).toEqual([threads.password]);
    expect(await ids('SİPARİŞ')).toEqual([threads.password]);
    expect(await ids('şifre')).toEqual([threads.password]);
    expect(await ids('numaram 1042')).toEqual([threads.password]);
    expect(await ids('1042 numaram')).toEqual([threads.password]);
    expect(await ids('parcel refund')).toEqual([]);
    expect(await ids('arc')).toEqual([]); // inside a word is not a match
    // Words inside URLs are words too.
    expect(await ids('shop example')).toEqual([threads.refund]);
    expect(await ids('orders 77')).toEqual([threads.refund]);
  });

  it('one folding rule on both databases: ș, ğ, ı and é match their plain letters both ways', async () => {
    const v = await connectVisitor(td.url);
    const sent = await v.send('Știință și ağaç, ışıklı café');
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    v.close();
    const accents = sent.message.threadId;
    for (const q of ['stiinta', 'ȘTIINȚĂ', 'si agac', 'AĞAÇ', 'isikli', 'IŞIKLI', 'ışık', 'cafe', 'CAFÉ', 'café'])
      expect([q, await ids(q)]).toEqual([q, [accents]]);
    // And the other way: an accented search finds plain stored text.
    expect(await ids('pàrçél')).toEqual([threads.parcel]);
  });

  it('treats search syntax as plain text and finds nothing for a search without words', async () => {
    for (const q of [
      'parcel OR refund',
      '"parcel"',
      'parcel*',
      'parcel:*',
      'parcel & refund',
      "parcel' | 'refund",
      'NEAR(parcel refund)',
    ]) {
      const found = await ids(q);
      expect([q, found.every((id) => id === threads.parcel || id === threads.refund)]).toEqual([q, true]);
    }
    expect(await ids('parcel | refund')).toEqual([]);
    expect(await ids('!!! ???')).toEqual([]);
    expect(await ids('%')).toEqual([]);
  });

  it('combines with the other filters', async () => {
    expect(await ids('parcel', '&status=closed')).toEqual([]);
    expect(await ids('parcel', '&status=open&verified=false')).toEqual([threads.parcel]);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect(await ids('parcel', `&from=${future}`)).toEqual([]);
  });

  it('follows edits made in Telegram', async () => {
    const staffRow = await td.app.db('messages').where({ thread_id: threads.parcel, sender_type: 'staff' }).first();
    const link = await td.app.db('telegram_links').where({ message_id: staffRow.id }).first();
    emu.userEdits({ chatId: STAFF_CHAT_ID, messageId: Number(link.telegram_message_id), text: 'We located the package today' });
    await eventually(
      async () => (await td.app.db('messages').where({ id: staffRow.id }).first()).content_text === 'We located the package today',
      { what: 'edit stored' },
    );
    expect(await ids('tracking')).toEqual([]);
    expect(await ids('package')).toEqual([threads.parcel]);
    // The visitor's message still matches "parcel".
    expect((await search('parcel'))[0].match.text).toBe('My parcel never arrived');
  });

  it('finds the one thread among many', async () => {
    const now = Date.now();
    const rows = Array.from({ length: 400 }, (_, i) => ({
      sender: 'visitor' as const,
      text: `filler text number ${i} about shipping and delivery`,
      at: now - i,
    }));
    for (let i = 0; i < 20; i++) await seedThread(td.app.db, { messages: rows.slice(i * 20, i * 20 + 20) });
    const needle = await seedThread(td.app.db, {
      messages: [{ sender: 'visitor', text: 'the word xylophone appears once', at: now - 5000 }],
    });
    expect(await ids('xylophone')).toEqual([needle.threadId]);
    expect((await search('shipping', '&limit=100')).length).toBe(20);
  });

  it('the index stays consistent with the messages table', async () => {
    const t = await seedThread(td.app.db, { messages: [{ sender: 'visitor', text: 'temporary zebra message', at: Date.now() }] });
    expect(await ids('zebra')).toEqual([t.threadId]);
    await td.app.db('threads').where({ id: t.threadId }).delete(); // messages go with it (ON DELETE CASCADE)
    expect(await ids('zebra')).toEqual([]);
    if (kind === 'sqlite') {
      // FTS5 checks its index against the content table.
      await td.app.db.raw(`insert into messages_fts(messages_fts, rank) values ('integrity-check', 1)`);
    } else {
      // The search uses the GIN index (the planner is told not to scan the table, so it must be able to).
      const plan = await td.app.db.transaction(async (trx) => {
        await trx.raw('set local enable_seqscan = off');
        const res = await trx.raw<PgRows<Record<'QUERY PLAN', string>>>(
          `explain select id from messages where ${MESSAGE_SEARCH_DOCUMENT_PG} @@ to_tsquery('simple', ?)`,
          ["'parcel':*"],
        );
        return res.rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).toContain('idx_messages_search_text');
    }
  });
});
