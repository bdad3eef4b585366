import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { isUploadedFileParam, TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { fixture, makePng } from '../support/media-samples';

// Browser globals used inside page.evaluate (this program has no DOM lib).
declare const document: any, window: any, MutationObserver: any, DataTransfer: any, DragEvent: any, ClipboardEvent: any, File: any;

/**
 * The visitor page's media in Chromium (a fake microphone for voice notes),
 * against the whole app and the real bot talking to the Telegram emulator.
 */
jest.setTimeout(90_000);

describeWith([services.chromium], 'media on the visitor page in Chromium', () => {
  // A fake microphone that the page may use without asking.
  const web = useBrowser(() =>
    chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
    }),
  );
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  const deniz = { id: 5001, first_name: 'Deniz', is_bot: false as const };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    td = await startTopicdesk({ db, emulator: emu, env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000', RATE_MESSAGE_BURST: '200' } });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  async function openChat(locale = 'en-US'): Promise<Page> {
    const context = await web.newContext({ locale });
    await context.grantPermissions(['microphone'], { origin: td.url });
    const page = await context.newPage();
    web.watch(page);
    await page.goto(td.url);
    await page.waitForSelector('html[data-connection="online"]');
    return page;
  }

  /** The visitor's thread topic, after a first text message. */
  async function startThread(page: Page): Promise<number> {
    await page.fill('#text', 'hello');
    await page.press('#text', 'Enter');
    await page.waitForSelector('.msg--visitor[data-state="delivered"]');
    const thread = await eventually(async () => (await td.app.db('threads').orderBy('id', 'desc').first()) as { id: number } | undefined);
    return eventually(async () => Number((await td.app.db('threads').where({ id: thread!.id }).first()).topic_id) || null, {
      what: 'topic',
    }) as Promise<number>;
  }

  it('attach an image: preview, caption, upload with progress, shown inline, larger view, in the topic with its bytes', async () => {
    const page = await openChat();
    const topicId = await startThread(page);
    const png = makePng(300, 200);
    await page.setInputFiles('#file-input', { name: 'holiday.png', mimeType: 'image/png', buffer: png });
    await page.waitForSelector('#attachments:not([hidden]) .tray__thumb[src^="blob:"]');
    await page.evaluate(() => {
      window.sawProgress = false;
      new MutationObserver(() => {
        if (document.querySelector('.msg__progress')) window.sawProgress = true;
      }).observe(document.body, { subtree: true, childList: true });
    });
    await page.fill('#text', 'this arrived broken');
    await page.press('#text', 'Enter');
    const img = await page.waitForSelector('.msg--visitor[data-id] img.msg__image[src*="/media/"]');
    expect(await page.evaluate(() => window.sawProgress)).toBe(true);
    expect(await page.isHidden('#attachments')).toBe(true);
    await page.waitForFunction(() => document.querySelector('.msg--visitor[data-id] img.msg__image').naturalWidth === 300);

    // Larger view, closed with Escape.
    await img.click();
    await page.waitForSelector('#lightbox[open] #lightbox-image[src*="/media/"]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#lightbox:not([open])', { state: 'attached' });

    const call = await emu.waitFor((c) => c.method === 'sendPhoto' && c.params.message_thread_id === topicId, { timeoutMs: 10_000 });
    expect(call.params.caption).toBe('this arrived broken');
    expect(isUploadedFileParam(call.params.photo) && call.params.photo.file.bytes.equals(png)).toBe(true);
  });

  it('drop and paste put files in the tray; a staff voice note plays in an audio player', async () => {
    const page = await openChat();
    const topicId = await startThread(page);
    const jpg = [...fixture('photo.jpg')];
    await page.evaluate((bytes) => {
      const file = new File([new Uint8Array(bytes)], 'dropped.jpg', { type: 'image/jpeg' });
      const drop = new DataTransfer();
      drop.items.add(file);
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
      const paste = new DataTransfer();
      paste.items.add(new File([new Uint8Array(bytes)], 'pasted.jpg', { type: 'image/jpeg' }));
      document
        .getElementById('text')!
        .dispatchEvent(new ClipboardEvent('paste', { clipboardData: paste, bubbles: true, cancelable: true }));
    }, jpg);
    expect(await page.locator('#attachments .tray__item').count()).toBe(2);
    // One removed again with its × button.
    await page.click('#attachments .tray__item:nth-child(2) .tray__remove');
    expect(await page.locator('#attachments .tray__item').count()).toBe(1);
    await page.click('.composer__send');
    await page.waitForSelector('.msg--visitor[data-id] img.msg__image[src*="/media/"]');

    emu.userSendsVoice({ chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId, bytes: fixture('voice.ogg') });
    const audio = await page.waitForSelector('.msg--staff audio[src*="/media/"]');
    expect(await audio.getAttribute('controls')).not.toBeNull();
    // The page's audio player can load and read the stored voice note (served by topicdesk, seekable).
    await page.evaluate(() => {
      const a = document.querySelector('.msg--staff audio');
      a.preload = 'metadata';
      a.load();
    });
    await page.waitForFunction(() => {
      const a = document.querySelector('.msg--staff audio');
      return a.readyState >= 1 && a.duration > 0.5;
    });

    // A small document from staff is a download link with its size as people read it.
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
    emu.userSendsDocument({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      bytes: pdf,
      fileName: 'terms.pdf',
      mimeType: 'application/pdf',
    });
    const link = await page.waitForSelector('.msg--staff a[href*="/media/"]');
    expect(await link.textContent()).toMatch(new RegExp(`\\(${pdf.length} B\\)$`));
  });

  it('records a voice note with the microphone (tap, see the duration, send); cancel sends nothing', async () => {
    const page = await openChat();
    const topicId = await startThread(page);
    await page.waitForSelector('#record:not([hidden])');
    await page.click('#record');
    await page.waitForSelector('#recorder:not([hidden])');
    await page.waitForFunction(() => /0:0[1-9]/.test(document.getElementById('recorder-time')!.textContent ?? ''), undefined, {
      timeout: 5000,
    });
    await page.click('#recorder-send');
    await page.waitForSelector('#recorder[hidden]', { state: 'attached' });
    const audio = await page.waitForSelector('.msg--visitor[data-id] audio[src*="/media/"]');
    // Chromium records WebM/Opus (unknown sizes, as a live recording); the server moves it into Ogg: a voice note.
    expect(await audio.getAttribute('src')).toMatch(/\.ogg$/);
    const call = await emu.waitFor((c) => c.method === 'sendVoice' && c.params.message_thread_id === topicId, { timeoutMs: 10_000 });
    const sent = call.params.voice;
    expect(isUploadedFileParam(sent) && sent.file.bytes.toString('latin1', 0, 4)).toBe('OggS');
    // The browser, an independent Opus decoder, plays the remuxed file: it decodes to about the recorded length.
    const seconds = await page.evaluate(
      async (src) => {
        const bytes = await (await fetch(src)).arrayBuffer();
        type Decoder = new (
          channels: number,
          length: number,
          rate: number,
        ) => { decodeAudioData(b: ArrayBuffer): Promise<{ duration: number }> };
        const Offline = (globalThis as unknown as { OfflineAudioContext: Decoder }).OfflineAudioContext;
        const decoded = await new Offline(1, 48_000, 48_000).decodeAudioData(bytes);
        return decoded.duration;
      },
      (await audio.getAttribute('src'))!,
    );
    expect(seconds).toBeGreaterThan(0.9);
    expect(seconds).toBeLessThan(30);

    const uploadsBefore = await td.app.db('messages').whereNot({ content_type: 'text' }).count({ n: '*' }).first();
    await page.click('#record');
    await page.waitForSelector('#recorder:not([hidden])');
    await page.click('#recorder-cancel');
    await page.waitForSelector('#recorder[hidden]', { state: 'attached' });
    await page.waitForTimeout(500);
    expect(await td.app.db('messages').whereNot({ content_type: 'text' }).count({ n: '*' }).first()).toEqual(uploadsBefore);
  });

  it('says what is wrong in the visitor’s language: too big, wrong type (by the page, and by the server from the bytes)', async () => {
    const page = await openChat('tr-TR');
    await startThread(page);
    await page.setInputFiles('#file-input', { name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(11 * 1024 * 1024) });
    await page.waitForSelector('#notice:not([hidden])');
    expect(await page.textContent('#notice')).toBe('Dosya çok büyük: en fazla 10 MB olabilir.');
    expect(await page.isHidden('#attachments')).toBe(true);

    await page.setInputFiles('#file-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    expect(await page.textContent('#notice')).toBe('Bu dosya türü gönderilemez. Bir görsel (JPEG, PNG, GIF, WebP) ya da ses gönderin.');

    // Claims to be a PNG; the server decides from the bytes (415) and the page says so.
    await page.evaluate(() => (document.getElementById('notice')!.textContent = ''));
    await page.setInputFiles('#file-input', {
      name: 'fake.png',
      mimeType: 'image/png',
      buffer: Buffer.from('not really a picture at all\n'.repeat(10)),
    });
    await page.click('.composer__send');
    await page.waitForSelector('.msg--visitor[data-state="failed"]');
    expect(await page.textContent('#notice')).toBe('Bu dosya türü gönderilemez. Bir görsel (JPEG, PNG, GIF, WebP) ya da ses gönderin.');
  });
});
