import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { CONTRAST_REPORT } from '../support/contrast';

/**
 * The visitor page in a real browser (Debian's chromium through playwright-core),
 * against the whole of topicdesk and the real bot talking to the Telegram emulator.
 * The server path under the page is the same on every database, and the protocol
 * tests cover both; the page runs on SQLite.
 */
jest.setTimeout(60_000);

describeWith([services.chromium], 'the visitor page in Chromium', () => {
  const web = useBrowser();
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let staffMember: { id: number; first_name: string; is_bot: false };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    staffMember = emu.addUser({ id: 5001, first_name: 'Deniz', is_bot: false }) as typeof staffMember;
    td = await startTopicdesk({ db, emulator: emu, env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000', RATE_MESSAGE_BURST: '200' } });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  async function newContext(options: BrowserContextOptions = {}): Promise<BrowserContext> {
    const context = await web.newContext(options);
    return context;
  }

  async function openChat(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    web.watch(page);
    await page.goto(td.url);
    await page.waitForSelector('html[data-connection="online"]');
    return page;
  }

  async function type(page: Page, text: string) {
    await page.locator('#text').fill(text);
    await page.locator('#text').press('Enter');
  }

  const texts = (page: Page) => page.locator('#messages .msg__text').allTextContents();

  /** Sends `text` and waits for the server's ack to put it on screen with its id. */
  async function sendAndWait(page: Page, text: string): Promise<{ id: number; threadId: number }> {
    await type(page, text);
    const item = page.locator('#messages .msg--visitor[data-id]', { hasText: text }).last();
    await item.waitFor();
    const id = Number(await item.getAttribute('data-id'));
    const row = await td.app.db('messages').where({ id }).first();
    return { id, threadId: Number(row.thread_id) };
  }

  async function topicOf(threadId: number): Promise<number> {
    return eventually(async () => (await td.app.store.threads.findById(threadId))?.topicId ?? 0, { what: 'thread topic' });
  }

  async function staffSays(threadId: number, text: string) {
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staffMember, text, threadId: await topicOf(threadId) });
  }

  const staffStored = (threadId: number, text: string) =>
    eventually(
      async () => (await td.app.db('messages').where({ thread_id: threadId, sender_type: 'staff', content_text: text })).length === 1,
      {
        what: `staff message "${text}" stored`,
      },
    );

  it('sends with Enter, keeps Shift+Enter for new lines, grows the input, and shows one tick (stored) then two (delivered)', async () => {
    const page = await openChat(await newContext());
    expect(await page.locator('#empty').isVisible()).toBe(true);
    const input = page.locator('#text');
    const oneLine = await input.evaluate((el) => (el as unknown as { offsetHeight: number }).offsetHeight);
    await input.fill('line one');
    await input.press('Shift+Enter');
    await input.pressSequentially('line two');
    await input.press('Shift+Enter');
    await input.pressSequentially('line three');
    expect(await input.inputValue()).toBe('line one\nline two\nline three');
    expect(await input.evaluate((el) => (el as unknown as { offsetHeight: number }).offsetHeight)).toBeGreaterThan(oneLine);

    // Telegram answers the first send with 429: the message is stored (one tick) until the retry delivers it.
    emu.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 2', retry_after: 2 });
    await input.press('Enter');
    expect(await input.inputValue()).toBe('');
    const mine = page.locator('#messages .msg--visitor').last();
    await page.locator('#messages .msg--visitor[data-state="stored"]').waitFor();
    expect(await mine.locator('.msg__state').getAttribute('aria-label')).toBe('Sent');
    expect(await mine.locator('.msg__state svg path').getAttribute('d')).toMatch(/^M1\.5/); // one tick
    await page.locator('#messages .msg--visitor[data-state="delivered"]').waitFor({ timeout: 10_000 });
    expect(await mine.locator('.msg__state').getAttribute('aria-label')).toBe('Delivered');
    expect(await texts(page)).toEqual(['line one\nline two\nline three']);
    expect(await page.locator('#empty').isHidden()).toBe(true);
    expect(emu.sentMessages(STAFF_CHAT_ID).filter((m) => m.text === 'line one\nline two\nline three')).toHaveLength(1);
  });

  it('marks a message Telegram refused as not delivered, after a reload too, and shows it delivered after /retry', async () => {
    const page = await openChat(await newContext());
    const first = await sendAndWait(page, 'a first message');
    await page.locator(`#messages .msg--visitor[data-id="${first.id}"][data-state="delivered"]`).waitFor({ timeout: 10_000 });
    emu.failNext('sendMessage', { error_code: 400, description: 'Bad Request: refused for the test' });
    const refused = await sendAndWait(page, 'this one is refused');
    const item = () => page.locator(`#messages .msg--visitor[data-id="${refused.id}"]`);
    await page.locator(`#messages .msg--visitor[data-id="${refused.id}"][data-state="failed"]`).waitFor({ timeout: 10_000 });
    const failedMark = async () => ({
      role: await item().locator('.msg__state').getAttribute('role'),
      label: await item().locator('.msg__state').getAttribute('aria-label'),
      mark: await item().locator('.msg__state').textContent(),
    });
    expect(await failedMark()).toEqual({ role: 'img', label: 'Not delivered. Support has been told.', mark: '⚠' });

    await page.reload();
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator(`#messages .msg--visitor[data-id="${refused.id}"][data-state="failed"]`).waitFor();
    expect(await failedMark()).toEqual({ role: 'img', label: 'Not delivered. Support has been told.', mark: '⚠' });

    // The staff notice is out before /retry, so nothing else is in flight.
    await eventually(
      () => emu.sentMessages(STAFF_CHAT_ID).some((m) => (m.text ?? '').includes('Reason: 400: Bad Request: refused for the test')),
      {
        what: 'the staff notice',
      },
    );
    await staffSays(refused.threadId, '/retry');
    await page.locator(`#messages .msg--visitor[data-id="${refused.id}"][data-state="delivered"]`).waitFor({ timeout: 10_000 });
    expect(await item().locator('.msg__state').getAttribute('aria-label')).toBe('Delivered');
  });

  it('shows a staff reply live, announces it to screen readers, and shows the whole history again after a reload', async () => {
    const page = await openChat(await newContext());
    const { threadId } = await sendAndWait(page, 'Where is my order?');
    await staffSays(threadId, 'It ships today.');
    const reply = page.locator('#messages .msg--staff', { hasText: 'It ships today.' });
    await reply.waitFor();
    expect(await reply.locator('.msg__sender').textContent()).toBe('Support: ');
    expect(await page.locator('#announcer').textContent()).toBe('Support: It ships today.');
    expect(await page.locator('#announcer').getAttribute('aria-live')).toBe('polite');
    await page.locator('#messages .msg--visitor[data-state="delivered"]').waitFor();

    await page.reload();
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator('#messages .msg--staff').waitFor();
    expect(await texts(page)).toEqual(['Where is my order?', 'It ships today.']);
    expect(await page.locator('#messages .msg--visitor').getAttribute('data-state')).toBe('delivered');
  });

  it('goes offline and back: typed messages wait and are sent once, the reply sent meanwhile arrives once', async () => {
    const context = await newContext();
    const page = await openChat(context);
    const { threadId } = await sendAndWait(page, 'Before the tunnel');
    await topicOf(threadId);

    await context.setOffline(true);
    await page.waitForSelector('html[data-connection="offline"]');
    expect(await page.locator('#connection').textContent()).toContain('offline');
    expect(await page.locator('#support-status').textContent()).toBe('Connecting…'); // support's status is unknown meanwhile
    await type(page, 'Typed offline, first');
    await type(page, 'Typed offline, second');
    const queued = page.locator('#messages .msg--visitor[data-state="queued"]');
    expect(await queued.count()).toBe(2);
    expect(await queued.first().locator('.msg__state').textContent()).toBe('Waiting for connection');

    // The server let go of the page's connection: the answer below can reach the page only by its catching up.
    // Chromium may drop the connection without a word: then the server notices at its ping timeout (20 s + 20 s).
    await eventually(async () => (await td.app.io.in(`thread:${threadId}`).fetchSockets()).length === 0, {
      timeoutMs: 45_000,
      intervalMs: 100,
      what: 'the server to see the page go',
    });
    await staffSays(threadId, 'Answer while you were offline');
    await staffStored(threadId, 'Answer while you were offline');
    expect(await page.locator('#messages .msg--staff').count()).toBe(0); // really offline: nothing arrived live

    await context.setOffline(false);
    await page.waitForSelector('html[data-connection="online"]', { timeout: 15_000 });
    expect(await page.locator('#connection').textContent()).toBe('Back online');
    expect(await page.locator('#support-status').textContent()).toBe('We’re online and reply here');
    await page
      .locator('#messages .msg--visitor[data-state="delivered"]', { hasText: 'Typed offline, second' })
      .waitFor({ timeout: 10_000 });

    expect(await texts(page)).toEqual([
      'Before the tunnel',
      'Answer while you were offline',
      'Typed offline, first',
      'Typed offline, second',
    ]);
    const stored = await td.app.db('messages').where({ thread_id: threadId }).orderBy('id').select('content_text');
    expect(stored.map((r) => r.content_text)).toEqual([
      'Before the tunnel',
      'Answer while you were offline',
      'Typed offline, first',
      'Typed offline, second',
    ]);
    expect(await page.evaluate('localStorage.getItem("topicdesk.queue")')).toBeNull();
  }, 120_000);

  it('a send whose ack is lost with the connection is retried with its clientId and shown once', async () => {
    const context = await newContext();
    const page = await context.newPage();
    // A pass-through WebSocket proxy that can drop the next message:send ack and cut the connection.
    let dropNextAck = false;
    let cuts = 0;
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        if (dropNextAck && typeof m === 'string' && /^43\d+\[\{"ok":true,"message":/.test(m)) {
          dropNextAck = false;
          cuts++;
          // Both closes are fire-and-forget here: the test waits for the page to notice the cut instead.
          void ws.close({ code: 4000, reason: 'cut' });
          void server.close();
          return;
        }
        ws.send(m);
      });
    });
    web.watch(page);
    await page.goto(td.url);
    await page.waitForSelector('html[data-connection="online"]');
    const { threadId } = await sendAndWait(page, 'Ack arrives');

    dropNextAck = true;
    await type(page, 'Ack is lost');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: 'Ack is lost' }).waitFor({ timeout: 15_000 });
    expect(cuts).toBe(1);
    await page.waitForSelector('html[data-connection="online"]');
    // The page's outgoing queue (client/lib/outgoing-queue.ts) is empty: the message sent again after the cut was acknowledged.
    // Polled with page.evaluate (the DevTools protocol's evaluation), not waitForFunction: that one runs the predicate
    // through the page's eval, which the page's CSP (no 'unsafe-eval') refuses and reports as a page error.
    await eventually(async () => (await page.evaluate("localStorage.getItem('topicdesk.queue')")) === null, {
      what: 'the outgoing queue emptied',
    });
    expect(await texts(page)).toEqual(['Ack arrives', 'Ack is lost']);
    expect(await td.app.db('messages').where({ thread_id: threadId, content_text: 'Ack is lost' })).toHaveLength(1);
  });

  it('renders markup from the visitor and from staff as text and runs none of it; links open safely', async () => {
    const page = await openChat(await newContext());
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    const visitorPayloads = [
      `<img src=x onerror="window.__xss='visitor img'">`,
      `<script>window.__xss='visitor script'</script>`,
      `<a href="javascript:window.__xss='visitor link'">click</a> javascript:alert(1)`,
    ];
    let threadId = 0;
    for (const p of visitorPayloads) threadId = (await sendAndWait(page, p)).threadId;
    const staffPayloads = [
      `<img src=x onerror="window.__xss='staff img'">`,
      `<svg onload="window.__xss='staff svg'"></svg><iframe src="javascript:alert(2)"></iframe>`,
      `Docs: https://example.com/help?a=1&b=2. Thanks!`,
    ];
    for (const p of staffPayloads) {
      await staffSays(threadId, p);
      await page.locator('#messages .msg--staff .msg__text', { hasText: p.slice(0, 20) }).waitFor();
    }

    expect(await texts(page)).toEqual([...visitorPayloads, ...staffPayloads]);
    // No element that could run anything was made (so nothing can run later either), and nothing ran.
    expect(
      await page
        .locator('#messages .msg__body img, #messages .msg__body script, #messages .msg__body svg, #messages .msg__body iframe')
        .count(),
    ).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(dialogs).toBe(0);
    // Only real http(s) URLs become links, opened in a new tab without opener or referrer.
    const links = page.locator('#messages a');
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute('href')).toBe('https://example.com/help?a=1&b=2');
    expect(await links.textContent()).toBe('https://example.com/help?a=1&b=2');
    expect(await links.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await links.getAttribute('target')).toBe('_blank');
    // Telegram got the visitor's text literally, too (possibly several messages coalesced into one).
    await eventually(() => emu.sentMessages(STAFF_CHAT_ID).some((m) => typeof m.text === 'string' && m.text.includes(visitorPayloads[0])), {
      what: 'the payload in Telegram',
    });
  });

  it('shows the away message, the closed-thread notice (gone once the visitor writes), and the blocked notice', async () => {
    const page = await openChat(await newContext());
    expect(await page.locator('#support-status').textContent()).toBe('We’re online and reply here');
    td.app.io.emit('support:status', { status: 'away', message: 'Back at 9:00 <b>tomorrow</b>' });
    await page.locator('#support-status', { hasText: 'Back at 9:00 <b>tomorrow</b>' }).waitFor();
    td.app.io.emit('support:status', { status: 'away', message: null });
    await page.locator('#support-status', { hasText: 'We’re away right now' }).waitFor();
    td.app.io.emit('support:status', { status: 'online', message: null });
    await page.locator('#support-status', { hasText: 'We’re online' }).waitFor();

    const { threadId } = await sendAndWait(page, 'Hello?');
    await td.app.store.threads.setStatus(threadId, 'closed');
    td.app.io.to(`thread:${threadId}`).emit('thread:status', { id: threadId, status: 'closed', rateable: false });
    await page.locator('#notice', { hasText: 'This conversation was closed.' }).waitFor();
    await page.reload(); // the session says so, too
    await page.waitForSelector('html[data-connection="online"]');
    expect(await page.locator('#notice').textContent()).toBe('This conversation was closed. Write a message to open it again.');
    await sendAndWait(page, 'One more question');
    await page.locator('#notice').waitFor({ state: 'hidden' });
    expect((await td.app.store.threads.findById(threadId))!.status).toBe('open');

    const thread = await td.app.db('threads').where({ id: threadId }).first();
    await td.app.db('visitors').where({ id: thread.visitor_id }).update({ blocked: true });
    await type(page, 'Am I blocked?');
    await page.locator('#notice', { hasText: 'Support is not accepting messages from this chat.' }).waitFor();
    const refused = page.locator('#messages .msg--visitor', { hasText: 'Am I blocked?' });
    expect(await refused.getAttribute('data-state')).toBe('failed');
    expect(await refused.locator('.msg__state').textContent()).toBe('Not sent');
    expect(await td.app.db('messages').where({ content_text: 'Am I blocked?' })).toHaveLength(0);
  });

  it('asks for a name after the first message (optional), saves it with profile:update, and does not ask again', async () => {
    const context = await newContext();
    const page = await openChat(context);
    expect(await page.locator('#name-form').isHidden()).toBe(true);
    const { threadId } = await sendAndWait(page, 'Hi there');
    await page.locator('#name-form').waitFor();
    await page.getByRole('textbox', { name: 'What should we call you?' }).fill('  Ayşe   Yılmaz ');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#name-form').waitFor({ state: 'hidden' });
    const thread = await td.app.db('threads').where({ id: threadId }).first();
    expect((await td.app.db('visitors').where({ id: thread.visitor_id }).first()).name).toBe('Ayşe Yılmaz');
    expect(await page.locator('#announcer').textContent()).toBe('Thanks, Ayşe Yılmaz!');

    await page.reload();
    await page.waitForSelector('html[data-connection="online"]');
    await sendAndWait(page, 'Second message');
    expect(await page.locator('#name-form').isHidden()).toBe(true);
    // The menu can change it.
    await page.getByRole('button', { name: 'Chat options' }).click();
    await page.getByRole('button', { name: 'Your name' }).click();
    expect(await page.locator('#name-input').inputValue()).toBe('Ayşe Yılmaz');

    // "Not now" is remembered as well.
    const other = await openChat(await newContext());
    await sendAndWait(other, 'Anonymous, please');
    await other.getByRole('button', { name: 'Not now' }).click();
    await other.reload();
    await other.waitForSelector('html[data-connection="online"]');
    await sendAndWait(other, 'Still anonymous');
    expect(await other.locator('#name-form').isHidden()).toBe(true);
  });

  it('"End chat on this device" forgets the token and the conversation on this device', async () => {
    const page = await openChat(await newContext());
    await sendAndWait(page, 'Private matter');
    const token = await page.evaluate('localStorage.getItem("topicdesk.token")');
    expect(token).toEqual(expect.any(String));

    page.once('dialog', (d) => void d.dismiss());
    await page.getByRole('button', { name: 'Chat options' }).click();
    await page.getByRole('button', { name: 'End chat on this device' }).click();
    expect(await texts(page)).toEqual(['Private matter']); // cancelled: nothing changes

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Chat options' }).click();
    await page.getByRole('button', { name: 'End chat on this device' }).click();
    expect(await texts(page)).toEqual([]);
    await eventually(
      async () => {
        const now = await page.evaluate('localStorage.getItem("topicdesk.token")');
        return now !== null && now !== token;
      },
      { what: 'a new token' },
    );
    await page.reload();
    await page.waitForSelector('html[data-connection="online"]'); // set once the history is loaded and shown
    expect(await texts(page)).toEqual([]);
    expect(await page.locator('#empty').isVisible()).toBe(true);
  });

  it('follows new messages unless the visitor scrolled up, then offers a "new messages" pill; loads earlier messages on request', async () => {
    const page = await openChat(await newContext({ viewport: { width: 360, height: 560 } }));
    const { threadId } = await sendAndWait(page, 'Tell me everything');
    for (let i = 1; i <= 55; i++)
      emu.userSends({ chatId: STAFF_CHAT_ID, from: staffMember, text: `Detail ${i}`, threadId: await topicOf(threadId) });
    await page.locator('#messages .msg--staff .msg__text', { hasText: /^Detail 55$/ }).waitFor();
    const scroller = page.locator('#scroller');
    const distanceFromBottom = () => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    expect(await distanceFromBottom()).toBeLessThan(48);

    await scroller.evaluate((el) => (el.scrollTop = 0));
    await staffSays(threadId, 'Detail 56');
    await page.locator('#messages .msg--staff .msg__text', { hasText: /^Detail 56$/ }).waitFor();
    await page.locator('#new-messages').waitFor();
    expect(await scroller.evaluate((el) => el.scrollTop)).toBe(0);
    await page.locator('#new-messages').click();
    await page.locator('#new-messages').waitFor({ state: 'hidden' });
    expect(await distanceFromBottom()).toBeLessThan(48);

    await staffSays(threadId, 'Detail 57');
    await page.locator('#messages .msg--staff .msg__text', { hasText: /^Detail 57$/ }).waitFor();
    expect(await distanceFromBottom()).toBeLessThan(48);
    expect(await page.locator('#new-messages').isHidden()).toBe(true);

    // A reload shows the newest 50; the rest comes on request, each message once.
    await page.reload();
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator('#messages .msg--staff .msg__text', { hasText: /^Detail 57$/ }).waitFor();
    expect(await page.locator('#messages > li').count()).toBe(50);
    await page.getByRole('button', { name: 'Load earlier messages' }).click();
    await page.locator('#messages .msg--visitor', { hasText: 'Tell me everything' }).waitFor();
    expect(await texts(page)).toEqual(['Tell me everything', ...Array.from({ length: 57 }, (_, i) => `Detail ${i + 1}`)]);
    expect(await page.locator('#load-earlier').isHidden()).toBe(true);
  });

  it('is usable with the keyboard alone, with labelled controls', async () => {
    const page = await openChat(await newContext());
    expect(await page.getByRole('textbox', { name: 'Your message' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Send' }).count()).toBe(1);
    expect(await page.getByRole('list', { name: 'Messages' }).count()).toBe(1);
    expect(await page.getByRole('heading', { name: 'Support' }).count()).toBe(1);

    const focusOrder: string[] = [];
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      focusOrder.push(
        await page.evaluate(
          'document.activeElement.id || document.activeElement.getAttribute("aria-label") || document.activeElement.tagName',
        ),
      );
    }
    // The attach and voice-note buttons sit on either side of the message box (docs/media.md).
    expect(focusOrder).toEqual(['menu-button', 'attach', 'text', 'record', 'Send']);

    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.type('Typed with the keyboard only');
    await page.keyboard.press('Enter');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: 'Typed with the keyboard only' }).waitFor();

    // The name card that appears sits between the menu and the composer in the focus order; Enter saves it.
    await page.locator('#name-form').waitFor();
    const backwards: string[] = [];
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Shift+Tab');
      backwards.push(await page.evaluate('document.activeElement.id || document.activeElement.textContent.trim()'));
    }
    expect(backwards).toEqual(['attach', 'Save', 'name-input', 'name-skip', 'menu-button']);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Kim');
    await page.keyboard.press('Enter');
    await page.locator('#name-form').waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement.id')).toBe('text');

    // The menu opens with Enter on its button, focus moves into it, Escape closes it and returns focus.
    for (let i = 0; i < 10 && (await page.evaluate('document.activeElement.id')) !== 'menu-button'; i++)
      await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('menu-button');
    await page.keyboard.press('Enter');
    expect(await page.locator('#menu-button').getAttribute('aria-expanded')).toBe('true');
    expect(await page.evaluate('document.activeElement.id')).toBe('menu-name');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('menu-verify');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('menu-transcript-txt');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('menu-transcript-html');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('menu-end');
    await page.keyboard.press('Escape');
    expect(await page.locator('#menu').isHidden()).toBe(true);
    expect(await page.locator('#menu-button').getAttribute('aria-expanded')).toBe('false');
    expect(await page.evaluate('document.activeElement.id')).toBe('menu-button');
  });

  it('speaks Turkish to a Turkish browser', async () => {
    const page = await openChat(await newContext({ locale: 'tr-TR' }));
    expect(await page.evaluate('document.documentElement.lang')).toBe('tr');
    expect(await page.title()).toBe('Destek sohbeti');
    expect(await page.getByRole('heading').textContent()).toBe('Destek');
    expect(await page.getByRole('textbox', { name: 'Mesajınız' }).getAttribute('placeholder')).toBe('Bir mesaj yazın…');
    expect(await page.getByRole('button', { name: 'Gönder' }).count()).toBe(1);
    expect(await page.locator('#support-status').textContent()).toBe('Çevrimiçiyiz, buradan yanıtlıyoruz');
    const { threadId } = await sendAndWait(page, 'Merhaba');
    expect(await page.locator('#name-form label').textContent()).toContain('Size nasıl hitap edelim?');
    // Staff close the conversation: the system message is stored with its notice code and shown in Turkish.
    await td.app.staff.closeThread(threadId);
    await page
      .locator('#messages .msg--system', { hasText: 'Destek bu görüşmeyi kapattı. Yeniden açmak için istediğiniz zaman yazabilirsiniz.' })
      .waitFor();
    await page.reload();
    await page.locator('#messages .msg--system', { hasText: 'Destek bu görüşmeyi kapattı.' }).waitFor();
  });

  it('fits a 320 px wide screen, long words included', async () => {
    const page = await openChat(await newContext({ viewport: { width: 320, height: 568 }, isMobile: true, hasTouch: true }));
    await sendAndWait(page, 'x'.repeat(300));
    await sendAndWait(page, 'https://example.com/' + 'very-long-path/'.repeat(20));
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(320);
    const send = (await page.getByRole('button', { name: 'Send' }).boundingBox())!;
    expect(send.x + send.width).toBeLessThanOrEqual(320);
    expect(send.y + send.height).toBeLessThanOrEqual(568);
    const bubble = (await page.locator('#messages .msg--visitor').first().boundingBox())!;
    expect(bubble.x + bubble.width).toBeLessThanOrEqual(320);
  });

  it.each(['light', 'dark'] as const)('has text contrast of at least 4.5:1 in %s mode', async (colorScheme) => {
    const page = await openChat(await newContext({ colorScheme }));
    const { threadId } = await sendAndWait(page, 'Contrast check https://example.com');
    await staffSays(threadId, 'Staff reply https://example.com');
    await page.locator('#messages .msg--staff').waitFor();
    td.app.io.emit('support:status', { status: 'online', message: null });
    // Show every transient element once so it can be measured.
    await page.evaluate(`(() => {
      for (const id of ['notice', 'connection', 'new-messages', 'load-earlier', 'name-form']) document.getElementById(id).hidden = false;
      document.getElementById('notice').textContent = 'Notice';
      document.getElementById('connection').textContent = 'Offline';
      document.getElementById('connection').className = 'banner banner--offline';
    })()`);
    const report: Array<{ what: string; ratio: number }> = await page.evaluate(CONTRAST_REPORT);
    const low = report.filter((r) => r.ratio < 4.5);
    expect(low).toEqual([]);
    expect(report.length).toBeGreaterThan(15);
    // The scheme really switched.
    const bg = await page.evaluate('getComputedStyle(document.querySelector(".chat")).backgroundColor');
    expect(bg).toBe(colorScheme === 'dark' ? 'rgb(22, 25, 31)' : 'rgb(255, 255, 255)');
  });
});
