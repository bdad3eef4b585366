import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { expectLikeCommitted, launchChromium, useBrowser } from '../support/browser';
import { startDemoProcess, type DemoProcess } from '../support/demo-process';
import { connectVisitor, type VisitorClient } from '../support/harness';
import { makePng } from '../support/media-samples';
import { describeWith, services } from '../support/services';

/**
 * `npm run demo` for real (the compiled demo in its own process) with one person
 * playing both sides in Chromium: the visitor page in one tab, the staff view in
 * another. `npm run screenshots` (UPDATE_SCREENSHOTS=1) writes docs/screenshots/demo.png.
 */
jest.setTimeout(90_000);

const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';

describeWith([services.chromium], 'npm run demo in Chromium: one person plays both sides', () => {
  let demo: DemoProcess;
  const sockets: VisitorClient[] = [];
  let counter = 0;
  // Neither page logs anything on purpose: a console error fails the test too.
  const web = useBrowser(launchChromium, { failOnConsoleErrors: true });

  beforeAll(async () => {
    demo = await startDemoProcess();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    expect(await demo?.stop()).toBe(0);
  });

  /** One browser profile, two tabs: the visitor page and the staff view, both connected. */
  async function bothSides(): Promise<{ context: BrowserContext; visitor: Page; staff: Page }> {
    const context = await web.newContext({ viewport: { width: 1100, height: 760 } });
    const visitor = web.watch(await context.newPage());
    const staff = web.watch(await context.newPage());
    await staff.goto(demo.staffViewUrl);
    await staff.waitForSelector('#app[data-connection="live"]');
    await visitor.goto(demo.visitorUrl);
    await visitor.waitForSelector('html[data-connection="online"]');
    return { context, visitor, staff };
  }

  /** A text no other test uses. */
  const unique = (text: string) => `${text} (${++counter})`;

  async function visitorSays(visitor: Page, text: string): Promise<void> {
    await visitor.fill('#text', text);
    await visitor.press('#text', 'Enter');
    await visitor.locator('#messages .msg--visitor[data-state="delivered"]', { hasText: text }).waitFor();
  }

  /** The topic whose last message is `text`, in the staff view's list. */
  const topicItem = (staff: Page, text: string): Locator => staff.locator('.chat-item[data-conversation^="topic:"]', { hasText: text });

  async function openTopicOf(staff: Page, text: string): Promise<void> {
    await topicItem(staff, text).click();
    await staff.locator('#messages li.msg--in', { hasText: text }).waitFor();
  }

  async function staffSays(staff: Page, text: string): Promise<void> {
    await staff.fill('#text', text);
    await staff.press('#text', 'Enter');
    await staff.locator('#messages li.msg--out', { hasText: text }).waitFor();
  }

  /** The staff view's context menu on a message, then one of its items. */
  async function messageAction(staff: Page, message: Locator, action: 'reply' | 'edit'): Promise<void> {
    await message.locator('.msg__text').click();
    await staff.click(`#context-menu [data-action="${action}"]`);
  }

  it('/health says telegram "ok"', async () => {
    const health = (await fetch(`${demo.origin}/health`).then((r) => r.json())) as { telegram: string; status: string };
    expect(health).toMatchObject({ status: 'ok', telegram: 'ok' });
  });

  it('a visitor message appears in the topic list with an unread count and in the topic; a staff reply appears on the visitor page', async () => {
    const { visitor, staff } = await bothSides();
    const hello = unique('Hello, is anyone there?');
    await visitorSays(visitor, hello);

    // Found by its last message, then followed by its key (the preview changes).
    const key = await topicItem(staff, hello).getAttribute('data-conversation');
    const item = staff.locator(`.chat-item[data-conversation="${key}"]`);
    expect(await item.locator('.chat-item__name').textContent()).toMatch(/^Visitor #\d+ · [a-z0-9]+$/);
    expect(await item.locator('.chat-item__preview').textContent()).toBe(`topicdesk: ${hello}`);
    expect(await item.locator('.chat-item__badge').textContent()).toBe('1');

    await openTopicOf(staff, hello);
    expect(await staff.locator('#pane-title').textContent()).toBe(await item.locator('.chat-item__name').textContent());
    expect(await staff.locator('#messages .msg--service').first().textContent()).toMatch(/^Topic “Visitor #\d+ · [a-z0-9]+” created$/);
    // Read once seen: the badge goes.
    await item.locator('.chat-item__badge').waitFor({ state: 'detached' });

    const reply = unique('Yes! How can I help?');
    await staffSays(staff, reply);
    await visitor.locator('#messages .msg--staff', { hasText: reply }).waitFor();
    expect(await item.locator('.chat-item__preview').textContent()).toBe(`You: ${reply}`);
  });

  it('a photo both ways', async () => {
    const { visitor, staff } = await bothSides();
    const first = unique('My parcel arrived like this');
    await visitorSays(visitor, first);
    await openTopicOf(staff, first);

    await visitor.setInputFiles('#file-input', { name: 'box.png', mimeType: 'image/png', buffer: makePng(300, 200) });
    await visitor.waitForSelector('#attachments:not([hidden]) .tray__thumb');
    await visitor.click('.composer__send');
    const inTopic = staff.locator('#messages li.msg--in img.msg__photo');
    await inTopic.waitFor();
    await staff.waitForFunction("document.querySelector('#messages li.msg--in img.msg__photo').naturalWidth === 300");

    await staff.setInputFiles('#file-input', { name: 'label.png', mimeType: 'image/png', buffer: makePng(120, 80) });
    await staff.waitForSelector('#attach-dialog[open] #attach-preview img');
    expect(await staff.isChecked('#attach-kinds input[value="photo"]')).toBe(true);
    await staff.fill('#attach-caption', 'This is the label we need');
    await staff.click('#attach-send');
    await staff.waitForSelector('#attach-dialog:not([open])', { state: 'attached' });
    await staff.locator('#messages li.msg--out img.msg__photo').waitFor();
    const shown = visitor.locator('#messages .msg--staff', { hasText: 'This is the label we need' });
    await shown.locator('img.msg__image').waitFor();
    await visitor.waitForFunction(
      "Array.from(document.querySelectorAll('#messages .msg--staff img.msg__image')).some((i) => i.naturalWidth === 120)",
    );
  });

  it('replying to a message and editing one: the edit reaches the visitor', async () => {
    const { visitor, staff } = await bothSides();
    const question = unique('When will it arrive?');
    await visitorSays(visitor, question);
    await openTopicOf(staff, question);

    await messageAction(staff, staff.locator('#messages li.msg--in', { hasText: question }), 'reply');
    await staff.locator('#mode-bar:not([hidden])', { hasText: question }).waitFor();
    await staffSays(staff, 'It arrives on Friday.');
    const sent = staff.locator('#messages li.msg--out', { hasText: 'It arrives on Friday.' });
    expect(await sent.locator('.msg__reply').textContent()).toBe(`topicdesk${question}`);
    expect(await staff.isHidden('#mode-bar')).toBe(true);
    const onPage = visitor.locator('#messages .msg--staff', { hasText: 'It arrives on Friday.' });
    await onPage.waitFor();

    await messageAction(staff, sent, 'edit');
    expect(await staff.inputValue('#text')).toBe('It arrives on Friday.');
    await staff.fill('#text', 'It arrives on Thursday.');
    await staff.press('#text', 'Enter');
    await staff.locator('#messages li.msg--out', { hasText: 'It arrives on Thursday.' }).locator('.msg__edited').waitFor();
    expect(await staff.locator('#messages li.msg--out', { hasText: 'Friday' }).count()).toBe(0);
    await visitor.locator('#messages .msg--staff', { hasText: 'It arrives on Thursday.' }).waitFor();
    expect(await visitor.locator('#messages .msg--staff', { hasText: 'Friday' }).count()).toBe(0);
  });

  it('the command menu sends /info, which the bot answers in the topic; /close reaches the visitor as the closed notice', async () => {
    const { visitor, staff } = await bothSides();
    const text = unique('Thanks, that is all');
    await visitorSays(visitor, text);
    await openTopicOf(staff, text);

    // The menu the bot registered with setMyCommands, filtered as one types.
    await staff.fill('#text', '/');
    await staff.locator('#command-menu:not([hidden]) [data-command="close"]', { hasText: 'Close this conversation' }).waitFor();
    await staff.fill('#text', '/inf');
    expect(await staff.locator('#command-menu [data-command]').allTextContents()).toEqual(['/infoWho the visitor is']);
    await staff.click('#command-menu [data-command="info"]');
    await staff.locator('#messages li.msg--out', { hasText: '/info' }).waitFor();
    const info = staff.locator('#messages li.msg--in', { hasText: 'Verified: no' });
    await info.waitFor();
    expect(await info.locator('.ent-bold').first().textContent()).toMatch(/^Visitor #\d+$/);

    await staff.fill('#text', '/close');
    await staff.press('#text', 'Enter');
    await visitor.locator('#notice:not([hidden])', { hasText: 'This conversation was closed.' }).waitFor();
    await staff.locator('#messages .msg--service', { hasText: 'topicdesk closed the topic' }).waitFor();
    await staff.locator('.chat-item[aria-current="true"] .chat-item__closed').waitFor();
    expect(await staff.locator('#pane-subtitle').textContent()).toBe('topic in Support team · closed');
    expect(await staff.isVisible('#closed-note')).toBe(true);
  });

  it('/web: the bot sends a one-time link privately, and clicking it signs into /admin', async () => {
    const { context, staff } = await bothSides();
    await staff.click('.chat-item[data-conversation="general"]');
    await staffSays(staff, '/web');
    await staff.locator('#messages li.msg--in', { hasText: 'I sent you a one-time login link in our private chat.' }).waitFor();
    const privateChat = staff.locator('.chat-item[data-conversation="private"]');
    expect(await privateChat.locator('.chat-item__badge').textContent()).toBe('1');

    await privateChat.click();
    const link = staff.locator('#messages li.msg--in a[href*="/admin/login?token="]');
    await link.waitFor();
    expect(await link.getAttribute('href')).toMatch(new RegExp(`^${demo.origin}/admin/login\\?token=[A-Za-z0-9_-]{20,}$`));
    const [admin] = await Promise.all([context.waitForEvent('page'), link.click()]);
    web.watch(admin);
    await admin.waitForSelector('.app[data-list-ready="true"]');
    expect(new URL(admin.url()).pathname).toBe('/admin');
    await admin.locator('#staff-name', { hasText: 'Alex' }).waitFor();
  });

  it('inline buttons send callback queries: /threads pages with Older and Newer', async () => {
    // More open threads than one page of /threads holds (10).
    for (let i = 0; i < 11; i++) {
      const v = await connectVisitor(demo.origin);
      sockets.push(v);
      await v.send(unique('A question from the queue'));
    }
    const { staff } = await bothSides();
    await staff.click('.chat-item[data-conversation="general"]');
    await staff.locator('.chat-item', { hasText: `A question from the queue (${counter})` }).waitFor();
    await staffSays(staff, '/threads');
    const list = staff.locator('#messages li.msg--in', { hasText: 'Open conversations:' }).last();
    await list.locator('.msg__keyboard button', { hasText: 'Older ›' }).waitFor();
    expect(await list.locator('.msg__text').textContent()).toMatch(/Page 1 of 2$/);
    await list.locator('.msg__keyboard button', { hasText: 'Older ›' }).click();
    await list.locator('.msg__text', { hasText: 'Page 2 of 2' }).waitFor();
    expect(await list.locator('.msg__keyboard button').allTextContents()).toEqual(['‹ Newer']);
    expect(await list.locator('.msg__edited').count()).toBe(1);
    // A topic link in the list opens that topic here, as Telegram does.
    await list.locator('.msg__text a').first().click();
    await staff.waitForFunction('/^#topic:\\d+$/.test(location.hash)');
    await staff.locator('#messages li.msg--in', { hasText: 'A question from the queue' }).waitFor();
  });

  it('works on a phone in the dark: the list, then a topic with a back button', async () => {
    const context = await web.newContext({ viewport: { width: 360, height: 720 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    const staff = web.watch(await context.newPage());
    await staff.goto(demo.staffViewUrl);
    await staff.waitForSelector('#app[data-connection="live"][data-view="list"]');
    expect(await staff.isVisible('#chat-list')).toBe(true);
    expect(await staff.isVisible('#pane')).toBe(false);
    await staff.click('.chat-item[data-conversation="general"]');
    await staff.waitForSelector('#app[data-view="chat"]');
    expect(await staff.isVisible('#chat-list')).toBe(false);
    expect(await staff.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    const background = await staff.evaluate("getComputedStyle(document.getElementById('pane')).backgroundColor");
    expect(background).toBe('rgb(14, 22, 33)');
    await staff.click('#back');
    await staff.waitForSelector('#app[data-view="list"]');
  });
});

describeWith([services.chromium], 'the README picture of the demo', () => {
  const web = useBrowser(launchChromium, { failOnConsoleErrors: true });

  it('both sides side by side, like the committed picture', async () => {
    const out = UPDATE
      ? path.resolve(__dirname, '..', '..', 'docs', 'screenshots')
      : fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-demo-shot-'));
    const demo = await startDemoProcess();
    try {
      const context = await web.newContext({ colorScheme: 'light', deviceScaleFactor: 1 });
      const visitor = await context.newPage();
      await visitor.setViewportSize({ width: 400, height: 680 });
      const staff = await context.newPage();
      await staff.setViewportSize({ width: 980, height: 680 });
      await staff.goto(demo.staffViewUrl);
      await staff.waitForSelector('#app[data-connection="live"]');
      await visitor.goto(demo.visitorUrl);
      await visitor.waitForSelector('html[data-connection="online"]');

      const visitorSays = async (text: string) => {
        await visitor.fill('#text', text);
        await visitor.press('#text', 'Enter');
        await visitor.locator('#messages .msg--visitor[data-state="delivered"]', { hasText: text.split('\n')[0] }).waitFor();
      };
      const staffSays = async (text: string, shown: string) => {
        await staff.fill('#text', text);
        await staff.press('#text', 'Enter');
        await visitor.locator('#messages .msg--staff', { hasText: shown }).waitFor();
      };
      await visitorSays('Hi! My order #1042 has not arrived yet.');
      await visitor.fill('#name-input', 'Ayşe');
      await visitor.press('#name-input', 'Enter');
      await visitor.locator('#name-form').waitFor({ state: 'hidden' });
      await staff.locator('.chat-item', { hasText: 'Ayşe' }).click();
      await staff.locator('#messages li.msg--in', { hasText: '#1042' }).waitFor();
      await staffSays('Hi Ayşe, sorry about that! Let me check.', 'Let me check.');
      await staffSays('It left our warehouse yesterday. Tracking: https://track.example.com/1042', 'It left our warehouse');
      await visitorSays('Great, thank you! Will it come before Friday?');
      await staff.fill('#text', '/info');
      await staff.press('#text', 'Enter');
      await staff.locator('#messages li.msg--in', { hasText: 'Verified: no' }).waitFor();
      await staffSays('Yes — it is due on Thursday.', 'due on Thursday');
      await staff.fill('#text', '/');
      await staff.locator('#command-menu:not([hidden])').waitFor();
      await staff.fill('#text', '');
      await staff.locator('#command-menu').waitFor({ state: 'hidden' });
      await visitor.locator('#text').blur();

      const [left, right] = await Promise.all([visitor.screenshot(), staff.screenshot()]);
      const gap = 16;
      const file = path.join(out, 'demo.png');
      await sharp({ create: { width: 400 + 980 + gap * 3, height: 680 + gap * 2, channels: 3, background: '#8a94a3' } })
        .composite([
          { input: left, left: gap, top: gap },
          { input: right, left: 400 + gap * 2, top: gap },
        ])
        .png({ compressionLevel: 9 })
        .toFile(file);
      const meta = await sharp(file).metadata();
      expect([meta.width, meta.height]).toEqual([1428, 712]);
      if (!UPDATE) await expectLikeCommitted(web.browser, file);
    } finally {
      await demo.stop();
      if (!UPDATE) fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
