import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk, type VisitorClient } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import { fixture, makePng } from '../support/media-samples';
import sharp from 'sharp';
import { fetchBytes } from './media-helpers';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');

/**
 * Staff media from a thread's topic to the visitor: the real bot receives the
 * update from the emulator, downloads the file through getFile and the
 * emulator's /file/bot<token>/… URL, stores it, and the visitor gets a message
 * with an attachment served by topicdesk — never a URL with the bot token.
 */
describeEachDatabase('staff media reaches the visitor, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let v: VisitorClient;
  let topicId: number;
  const deniz = { id: 5001, first_name: 'Deniz', is_bot: false as const, language_code: 'en' };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    emu.addUser(deniz);
    td = await startTopicdesk({ db, emulator: emu });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    v = await connectVisitor(td.url);
    const hello = await v.send('Can you send me the invoice?');
    await v.waitFor('message:status', (s) => s.id === hello.message.id);
    topicId = (await td.app.store.threads.findById(hello.message.threadId))!.topicId!;
  });
  afterAll(async () => {
    v.close();
    await td.stop();
    await emu.stop();
    await db.drop();
  });

  /** The visitor's message made from a Telegram message (found through telegram_links), as the visitor received it. */
  async function arrived(telegramMessageId: number) {
    const link = await eventually(() => td.app.store.telegramLinks.findByTelegramMessage(STAFF_CHAT_ID, telegramMessageId), {
      timeoutMs: 10_000,
      what: 'the staff message stored',
    });
    return v.waitFor('message', (m) => m.id === link!.messageId, 10_000);
  }

  it('a photo: its largest size, with the caption as the text', async () => {
    const bytes = makePng(64, 48, { noise: true });
    const { message } = emu.userSendsPhoto({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      bytes,
      caption: 'Here is the label',
      width: 1280,
      height: 960,
    });
    const got = await arrived(message.message_id);
    expect(got).toMatchObject({
      sender: 'staff',
      text: 'Here is the label',
      attachment: { kind: 'image', mime: 'image/png', size: bytes.length },
    });
    // The largest PhotoSize is the one fetched.
    const largest = message.photo!.at(-1)!;
    expect(emu.callsTo('getFile').some((c) => c.params.file_id === largest.file_id)).toBe(true);
    const served = await fetchBytes(td.url, got.attachment!.url);
    expect(served.status).toBe(200);
    expect(served.bytes.equals(bytes)).toBe(true);
    expect(served.headers.get('content-type')).toBe('image/png');
  });

  it('a voice note', async () => {
    const bytes = fixture('voice.ogg');
    const { message } = emu.userSendsVoice({ chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId, bytes });
    const got = await arrived(message.message_id);
    expect(got).toMatchObject({ sender: 'staff', text: null, attachment: { kind: 'voice', mime: 'audio/ogg', size: bytes.length } });
    expect((await fetchBytes(td.url, got.attachment!.url)).bytes.equals(bytes)).toBe(true);
  });

  it('an audio file, with its caption', async () => {
    const bytes = fixture('sound.mp3');
    const { message } = emu.userSendsAudio({ chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId, bytes, caption: 'the recording' });
    const got = await arrived(message.message_id);
    expect(got).toMatchObject({ text: 'the recording', attachment: { kind: 'audio', mime: 'audio/mpeg', size: bytes.length } });
    const served = await fetchBytes(td.url, got.attachment!.url);
    expect(served.bytes.equals(bytes)).toBe(true);
    expect(served.headers.get('content-disposition')).toMatch(/^attachment/);
  });

  it('a video note, as a file served for download', async () => {
    const bytes = fixture('video.mp4');
    const { message } = emu.userSendsVideoNote({ chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId, bytes });
    const got = await arrived(message.message_id);
    expect(got).toMatchObject({ attachment: { kind: 'file', mime: 'video/mp4', size: bytes.length } });
    const served = await fetchBytes(td.url, got.attachment!.url);
    expect(served.bytes.equals(bytes)).toBe(true);
    expect(served.headers.get('content-type')).toBe('video/mp4');
    expect(served.headers.get('content-disposition')).toBe('attachment; filename="file.mp4"');
  });

  it('a document: its type comes from its bytes, not from what Telegram or the name says', async () => {
    const { message } = emu.userSendsDocument({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      bytes: PDF,
      fileName: 'invoice.html',
      mimeType: 'text/html',
      caption: 'Invoice attached',
    });
    const got = await arrived(message.message_id);
    expect(got).toMatchObject({ text: 'Invoice attached', attachment: { kind: 'file', mime: 'application/pdf', size: PDF.length } });
    expect(got.attachment!.url).toMatch(/\.pdf$/);
    const served = await fetchBytes(td.url, got.attachment!.url);
    expect(served.headers.get('content-type')).toBe('application/pdf');

    // An HTML "document" is stored as an opaque download, never served as a page.
    const html = Buffer.from('<!doctype html><script>alert(1)</script>');
    const page = emu.userSendsDocument({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      bytes: html,
      fileName: 'page.html',
      mimeType: 'text/html',
    });
    const asFile = await arrived(page.message.message_id);
    expect(asFile.attachment).toMatchObject({ kind: 'file', mime: 'application/octet-stream' });
    const servedHtml = await fetchBytes(td.url, asFile.attachment!.url);
    expect(servedHtml.headers.get('content-type')).toBe('application/octet-stream');
    expect(servedHtml.headers.get('content-disposition')).toMatch(/^attachment/);
  });

  it('a photo sent as a file reaches the visitor without where it was taken', async () => {
    const place = 'Bagdat Caddesi 7';
    const photo = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#468' } })
      .jpeg()
      .withExif({ IFD0: { ImageDescription: place, Artist: 'Deniz' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '40/1 58/1 0/1' } })
      .toBuffer();
    const { message } = emu.userSendsDocument({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      bytes: photo,
      fileName: 'IMG_2001.jpg',
      mimeType: 'image/jpeg',
    });
    const got = await arrived(message.message_id);
    expect(got.attachment).toMatchObject({ kind: 'image', mime: 'image/jpeg' });
    const served = await fetchBytes(td.url, got.attachment!.url);
    expect(got.attachment!.size).toBe(served.bytes.length);
    expect(served.bytes.includes(place)).toBe(false);
    expect(await sharp(served.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 24, height: 16 });
    expect((await sharp(served.bytes).metadata()).exif).toBeUndefined();
  });

  it('a sticker: a static one as the image it is, an animated one by its thumbnail', async () => {
    const webp = fixture('pic.webp');
    const still = emu.userSendsSticker({ chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId, bytes: webp, emoji: '👍' });
    expect(await arrived(still.message.message_id)).toMatchObject({ attachment: { kind: 'image', mime: 'image/webp', size: webp.length } });

    const animated = emu.userSendsSticker({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      bytes: Buffer.from('{"tgs":1}'),
      animated: true,
      thumbnailBytes: webp,
      emoji: '🎉',
    });
    const got = await arrived(animated.message.message_id);
    expect(got).toMatchObject({ attachment: { kind: 'image', mime: 'image/webp' } });
    expect((await fetchBytes(td.url, got.attachment!.url)).bytes.equals(webp)).toBe(true);
  });

  it('a file over the Bot API’s 20 MB download limit becomes a system message, and staff are told', async () => {
    const { message } = emu.userSendsDocument({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      bytes: Buffer.from('big'),
      fileName: 'video.mov',
      fileSize: 25 * 1024 * 1024,
      caption: 'the full video',
    });
    const got = await arrived(message.message_id);
    expect(got).toMatchObject({ sender: 'system', attachment: null });
    expect(got.text).toContain('too large');
    expect(got.text).toContain('25.0 MB');
    expect(got.text).toContain('the full video');
    const told = await emu.waitFor(
      (c) => c.method === 'sendMessage' && c.params.message_thread_id === topicId && String(c.params.text).includes('20 MB'),
    );
    expect((told.params.reply_parameters as { message_id: number }).message_id).toBe(message.message_id);
  });

  it('an edited caption reaches the visitor as message:update', async () => {
    const { message } = emu.userSendsPhoto({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      bytes: makePng(8, 8),
      caption: 'frist',
    });
    const got = await arrived(message.message_id);
    emu.injectUpdate({ edited_message: { ...message, caption: 'first', edit_date: Math.floor(Date.now() / 1000) } });
    const updated = await v.waitFor('message:update', (m) => m.id === got.id);
    expect(updated).toMatchObject({ text: 'first', attachment: got.attachment });
  });

  it('no stored URL, event or log line contains the bot token', async () => {
    const rows: Array<{ file_url: string | null; file_path: string | null }> = await td.app.db('messages').select('file_url', 'file_path');
    expect(rows.filter((r) => r.file_url).length).toBeGreaterThanOrEqual(7);
    const secret = emu.token.split(':')[1];
    for (const r of rows) {
      expect(String(r.file_url)).not.toContain(secret);
      expect(String(r.file_path)).not.toContain(secret);
      if (r.file_url) expect(r.file_url).toMatch(/^\/media\/[0-9a-f]{32}\.[a-z0-9]+$/);
    }
    expect(JSON.stringify(v.received)).not.toContain(secret);
    expect(JSON.stringify(td.logs)).not.toContain(secret);
    // Telegram's download URL was used: the files really came through /file/bot<token>/….
    expect(emu.callsTo('getFile').length).toBeGreaterThanOrEqual(7);
  });
});
