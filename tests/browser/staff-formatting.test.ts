import type { MessageEntity } from 'grammy/types';
import type { Page } from 'playwright-core';
import { useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { eventually, STAFF_CHAT_ID } from '../support/harness';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import type { Staff } from '../staff/staff-helpers';

/**
 * Staff formatting on the visitor page, in Chromium (docs/protocol.md "Formatting from staff"):
 * real Telegram entities through the real bot and the emulator, shown formatted; hostile input
 * stays harmless text, visitor text stays text, and the page itself keeps only the allowlist
 * even if the server sent more.
 */
jest.setTimeout(60_000);

const e = (type: string, offset: number, length: number, extra: Record<string, unknown> = {}) =>
  ({ type, offset, length, ...extra }) as MessageEntity;

describeWith([services.chromium], 'formatting from staff on the visitor page, in Chromium', () => {
  const web = useBrowser();
  let h: TopicdeskWithTelegram;
  let deniz: Staff;

  beforeAll(async () => {
    h = await startWithTelegram('sqlite', {
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** A page whose visitor wrote `first`; the topic of its thread. */
  async function chatWithTopic(first: string): Promise<{ page: Page; topicId: number; threadId: number }> {
    const page = await web.newPage();
    await page.goto(h.td.url);
    await page.waitForSelector('html[data-connection="online"]');
    // Hostile code on the page would set this.
    await page.evaluate('window.__pwned = 0; window.alert = () => { window.__pwned++; }');
    await page.locator('#text').fill(first);
    await page.locator('#text').press('Enter');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: first }).waitFor();
    const thread = await eventually(async () => {
      const t = await h.td.app.db('threads').orderBy('id', 'desc').first();
      return t?.topic_id ? t : null;
    });
    return { page, topicId: Number(thread.topic_id), threadId: Number(thread.id) };
  }

  const staffMessage = (page: Page, text: string) => page.locator('#messages .msg--staff', { hasText: text }).locator('.msg__text');

  it('every kind of formatting, emoji before it, shows formatted; a spoiler opens when pressed; an edit reformats', async () => {
    const { page, topicId } = await chatWithTopic('<b>not bold</b> & <i>mine</i>');
    // Visitor text stays text, markup and all.
    const mine = page.locator('#messages .msg--visitor .msg__text');
    expect(await mine.textContent()).toBe('<b>not bold</b> & <i>mine</i>');
    expect(await mine.locator('b, i').count()).toBe(0);

    const text = '👩‍💻 Bold italic under strike secret code\nblock\nquoted docs';
    const at = (w: string) => text.indexOf(w);
    const { message } = h.emu.userSends({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      text,
      entities: [
        e('bold', at('Bold'), 4),
        e('italic', at('italic'), 6),
        e('underline', at('under'), 5),
        e('strikethrough', at('strike'), 6),
        e('spoiler', at('secret'), 6),
        e('code', at('code'), 4),
        e('pre', at('block'), 5),
        e('blockquote', at('quoted'), 11),
        e('text_link', at('docs'), 4, { url: 'https://docs.example/help' }),
        e('bold', at('Bold'), 11), // overlaps italic's start: nested
      ],
    });
    const shown = staffMessage(page, 'Bold');
    await shown.waitFor();
    const read = (selector: string) => shown.locator(selector).allTextContents();
    expect(await read('b')).toEqual(['Bold italic', 'Bold']);
    expect(await read('i')).toEqual(['italic']);
    expect(await read('u')).toEqual(['under']);
    expect(await read('s')).toEqual(['strike']);
    expect(await read('code')).toEqual(['code']);
    expect(await read('pre')).toEqual(['block']);
    expect(await read('blockquote')).toEqual(['quoted docs']);
    expect(await shown.textContent()).toBe(text);
    const link = shown.locator('a');
    expect(await link.evaluate((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel'), a.textContent])).toEqual([
      'https://docs.example/help',
      '_blank',
      'noopener noreferrer',
      'docs',
    ]);
    expect(
      await shown
        .locator('b')
        .first()
        .evaluate((b) => Number(b.ownerDocument.defaultView!.getComputedStyle(b).fontWeight)),
    ).toBeGreaterThanOrEqual(600);

    // The spoiler is covered and a button until pressed (keyboard too).
    const spoiler = shown.locator('tg-spoiler');
    expect(await spoiler.getAttribute('role')).toBe('button');
    expect(await spoiler.getAttribute('aria-label')).toBe('Hidden text: press to show');
    await spoiler.focus();
    await page.keyboard.press('Enter');
    expect(await spoiler.getAttribute('data-revealed')).toBe('1');
    expect(await spoiler.getAttribute('role')).toBeNull();

    h.emu.userEdits({ chatId: STAFF_CHAT_ID, messageId: message.message_id, text: 'Now underlined', entities: [e('underline', 4, 10)] });
    const edited = staffMessage(page, 'Now underlined');
    await edited.locator('u', { hasText: 'underlined' }).waitFor();
    expect(await page.locator('#messages .msg--staff', { hasText: 'Bold' }).count()).toBe(0);
  });

  it('hostile input stays harmless: a javascript: text link is text, HTML inside code is shown as text, nothing runs', async () => {
    const { page, topicId } = await chatWithTopic('Hello');
    const text = 'Click me <img src=x onerror=alert(1)><script>alert(2)</script> and "><svg onload=alert(3)>';
    h.emu.userSends({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      text,
      entities: [
        e('text_link', 0, 8, { url: 'javascript:alert(4)' }),
        e('code', 9, 53),
        e('bold', 9, 53),
        e('italic', text.indexOf('">'), text.length - text.indexOf('">')),
      ],
    });
    const shown = staffMessage(page, 'Click me');
    await shown.waitFor();
    expect(await shown.textContent()).toBe(text);
    expect(await shown.locator('a, img, script, svg').count()).toBe(0);
    expect(await shown.locator('i').textContent()).toBe('"><svg onload=alert(3)>');
    expect(await shown.locator('code').textContent()).toBe('<img src=x onerror=alert(1)><script>alert(2)</script>');
    await shown.click();
    expect(await page.evaluate('window.__pwned')).toBe(0);
    expect(page.url()).toBe(`${h.td.url}/`);
  });

  it('the page keeps only the allowlist even from HTML the server did not clean', async () => {
    const { page, threadId } = await chatWithTopic('Check this');
    const { message } = h.emu.userSends({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: await topicOf(threadId),
      text: 'Fine',
      entities: [e('bold', 0, 4)],
    });
    const link = await eventually(() => h.td.app.store.telegramLinks.findByTelegramMessage(STAFF_CHAT_ID, message.message_id));
    await staffMessage(page, 'Fine').locator('b').waitFor();
    // Written past the cleaner, straight into the store: the page must still not obey it.
    const dirty =
      '<b onclick="alert(1)">Fine</b><img src=x onerror="alert(2)"><a href="javascript:alert(3)">js</a>' +
      '<a href="https://ok.example/" target="_self">ok</a><iframe src="about:blank"></iframe><style>*{display:none}</style>';
    await h.td.app.store.messages.updateText(link!.messageId!, 'Fine', dirty);
    await page.reload();
    await page.evaluate('window.__pwned = 0; window.alert = () => { window.__pwned++; }');
    const shown = staffMessage(page, 'Fine');
    await shown.locator('b').waitFor();
    expect(await shown.evaluate((el) => el.innerHTML)).toBe(
      '<b>Fine</b>js<a href="https://ok.example/" target="_blank" rel="noopener noreferrer">ok</a>',
    );
    await shown.locator('b').click();
    expect(await page.evaluate('window.__pwned')).toBe(0);
  });

  async function topicOf(threadId: number): Promise<number> {
    return Number((await h.td.app.db('threads').where({ id: threadId }).first()).topic_id);
  }
});
