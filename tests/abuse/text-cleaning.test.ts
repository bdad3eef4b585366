import { cleanName, cleanText, pageAddress } from '../../src/domain/text';
import { connectVisitor, eventually, STAFF_CHAT_ID, storedVisitorId } from '../support/harness';
import { makePng } from '../support/media-samples';
import { describeEachDatabase } from '../support/services';
import { upload } from '../support/uploads';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * Names, texts, captions and topic titles are cleaned of direction controls and invisible
 * characters at every door (src/domain/text.ts), keeping the ones that draw something: emoji
 * sequences, joiners in scripts that join, subdivision flags.
 */
describe('cleanText', () => {
  const RLO = '\u202E';
  it.each([
    ['a right-to-left override', `order ${RLO}gnp.exe`, 'order gnp.exe'],
    ['embeddings, isolates and marks', '\u202Aa\u202Bb\u202Cc\u202Dd \u2066e\u2067f\u2068g\u2069 \u200Eh\u200Fi\u061Cj', 'abcd efg hij'],
    ['zero-width spaces, word joiners and byte-order marks', '\uFEFFhe\u200Bl\u2060lo\u200B', 'hello'],
    ['a joiner or non-joiner between Latin letters (look-alike names)', 'Al\u200Dic\u200Ce', 'Alice'],
    ['soft hyphens and Hangul fillers', 'a\u00ADb\u3164\u115F', 'ab'],
    ['a selector or joiner with nothing to attach to', '\uFE0F\u200D👍 \u200D', '👍 '],
    ['tag characters outside a flag', 'x\u{E0067}\u{E007F}', 'x'],
  ])('removes %s', (_what, input, output) => {
    expect(cleanText(input)).toBe(output);
  });

  it.each([
    ['a ZWJ emoji sequence', '👩\u200D💻 and 👨\u200D👩\u200D👧'],
    ['a sequence with a presentation selector', '🏳\uFE0F\u200D🌈 🧔\u200D♂\uFE0F ❤\uFE0F\u200D🔥'],
    ['a sequence with a skin tone', '👨🏽\u200D🦰'],
    ['a subdivision flag', '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}'],
    ['a Persian word with its non-joiner', 'می\u200Cخواهم'],
    ['a Devanagari conjunct with its joiner', 'क्\u200Dष'],
    ['newlines, tabs and spaces', ' line one\n\tline two '],
  ])('keeps %s', (_what, text) => {
    expect(cleanText(text)).toBe(text);
  });

  it('collapses and trims names', () => {
    expect(cleanName(`  ${RLO}Ada \u200B  Lovelace\u2069 `)).toBe('Ada Lovelace');
    expect(cleanName('\u200B\u200D\u2060')).toBe('');
  });
});

describe('pageAddress', () => {
  it.each([
    ['a direction override in the path', 'https://shop.example/\u202Eorder', 'https://shop.example/%E2%80%AEorder'],
    ['zero-width characters in the query', 'https://shop.example/?q=a\u200Bb', 'https://shop.example/?q=a%E2%80%8Bb'],
    ['a plain address', 'http://127.0.0.1:3000/help?x=1', 'http://127.0.0.1:3000/help?x=1'],
  ])('keeps %s only in the URL spelling', (_what, given, shown) => {
    expect(pageAddress(given)).toBe(shown);
  });

  it.each([
    ['a direction override in the host', 'https://\u202Eelpmaxe.shop/'],
    ['another scheme', 'javascript:alert(1)'],
    ['credentials', 'https://user:pass@shop.example/'],
    ['not a string', 42],
    ['too long', `https://shop.example/${'a'.repeat(600)}`],
    ['not an address', 'shop page'],
  ])('refuses %s', (_what, given) => {
    expect(pageAddress(given)).toBeNull();
  });
});

describeEachDatabase('every door cleans what visitors write, on %s', (kind) => {
  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, { env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(() => setup?.stop());

  it('refuses a message, caption-only upload text or name made only of invisible characters, storing nothing', async () => {
    const { td } = setup;
    const v = await connectVisitor(td.url);
    const before = Number((await td.app.db('messages').count({ n: '*' }))[0].n);
    for (const text of ['\u200B\u200B\u200B', ' \u202E \u2066\u2069 ', '\uFEFF\u2060\u200D']) {
      const res = await v.send(text);
      expect(res).toEqual({ ok: false, error: { code: 'bad_request', message: expect.stringContaining('empty') } });
    }
    const name = await v.emit('profile:update', { name: '\u200B \u202E' });
    expect(name).toEqual({ ok: false, error: { code: 'bad_request', message: expect.stringContaining('empty') } });
    expect(Number((await td.app.db('messages').count({ n: '*' }))[0].n)).toBe(before);
    // Refused writes store nothing, not even the visitor (it is stored on its first write).
    expect(await storedVisitorId(td.app, v)).toBeNull();
    v.close();
  });

  it('stores and delivers texts, captions and names cleaned, with emoji sequences intact', async () => {
    const { td, emu } = setup;
    const v = await connectVisitor(td.url);
    const named = await v.emit('profile:update', { name: '\u202Eeilrahc\u202C \u200BSupport\u2066' });
    expect(named.ok).toBe(true);
    expect(named.visitor.name).toBe('eilrahc Support');

    const sent = await v.send('Refund for \u202Efdp.exe\u202C please 👩\u200D💻\u200B');
    expect(sent.ok).toBe(true);
    expect(sent.message.text).toBe('Refund for fdp.exe please 👩\u200D💻');
    const row = await td.app.db<{ id: number; content_text: string }>('messages').where({ id: sent.message.id }).first();
    expect(row?.content_text).toBe('Refund for fdp.exe please 👩\u200D💻');

    // The topic is titled from the cleaned name, and the text reaches the staff chat cleaned.
    await v.waitFor('message:status', (s) => s.id === sent.message.id && s.status === 'delivered', 10_000);
    const thread = await td.app.store.threads.findById(sent.message.threadId);
    const title = emu.callsTo('createForumTopic').find((c) => String(c.params.name).endsWith(thread!.ref))!.params.name;
    expect(title).toBe(`eilrahc Support · ${thread!.ref}`);
    expect(emu.sentMessages(STAFF_CHAT_ID).some((m) => m.text === 'Refund for fdp.exe please 👩\u200D💻')).toBe(true);

    // An upload's caption goes through the same cleaning; a caption of only invisible characters is no caption.
    const png = { name: 'file', filename: 'a.png', contentType: 'image/png', bytes: makePng(4, 4) };
    const captioned = await upload(td.url, {
      token: v.session.token,
      parts: [{ name: 'caption', value: '\u2067see\u2069 this\u200B' }, png],
    });
    expect(captioned.status).toBe(201);
    expect(captioned.body).toMatchObject({ message: { text: 'see this' } });
    const blank = await upload(td.url, { token: v.session.token, parts: [{ name: 'caption', value: '\u200B\u2060' }, png] });
    expect(blank.status).toBe(201);
    expect(blank.body).toMatchObject({ message: { text: null } });
    v.close();
  });

  it('cleans a name that reached the database before (or around) the doors when titling a topic', async () => {
    const { td, emu } = setup;
    const v = await connectVisitor(td.url);
    expect((await v.emit('profile:update', { name: 'Mallory' })).ok).toBe(true); // stores the visitor
    await td.app
      .db('visitors')
      .where({ id: (await storedVisitorId(td.app, v))! })
      .update({ name: '\u202EMallory\u200B' });
    const sent = await v.send('hello');
    const thread = await td.app.store.threads.findById(sent.message.threadId);
    await eventually(() => emu.callsTo('createForumTopic').some((c) => String(c.params.name).endsWith(thread!.ref)), {
      timeoutMs: 10_000,
      what: 'the topic',
    });
    expect(emu.callsTo('createForumTopic').find((c) => String(c.params.name).endsWith(thread!.ref))!.params.name).toBe(
      `Mallory · ${thread!.ref}`,
    );
    v.close();
  });

  it('remembers the page a visitor chats from without direction controls, as staff read it', async () => {
    const { td } = setup;
    const v = await connectVisitor(td.url, undefined, { page: 'https://shop.example/\u202Egnp.exe' });
    const sent = await v.send('from the shop');
    expect(sent.ok).toBe(true);
    const thread = await td.app.store.threads.findById(sent.message.threadId);
    expect(await td.app.store.visitors.lastPage(thread!.visitorId)).toBe('https://shop.example/%E2%80%AEgnp.exe');
    v.close();
  });
});
