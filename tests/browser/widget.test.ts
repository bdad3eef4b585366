import type { Page } from 'playwright-core';
import { useBrowser, startHostSite } from '../support/browser';
import { describeWith, services } from '../support/services';
import { eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The embeddable widget on host pages served from other origins (other loopback
 * addresses, so other sites too), in Chromium. topicdesk listens on 127.0.0.1.
 */
jest.setTimeout(60_000);

/** A shop page with aggressive CSS of its own, recording its globals before the widget loads. */
function shopPage(widgetSrc: string | null, extra = ''): string {
  return `<!doctype html><html><head><title>Shop</title>
<style>
  body { font-family: serif; color: rgb(10, 20, 30); margin: 13px; }
  button { background: rgb(255, 0, 0) !important; border-radius: 0 !important; width: 10px !important; }
  iframe { border: 9px solid red !important; }
  div, p { padding: 3px; }
</style>
<script>window.__globalsBefore = Object.getOwnPropertyNames(window); window.__got = [];
  addEventListener('message', (e) => window.__got.push({ origin: e.origin, data: e.data }));</script>
</head><body><h1>Welcome to the shop</h1><p id="probe">Products</p><button id="buy">Buy</button>${extra}
${widgetSrc ? `<script src="${widgetSrc}" async></script>` : ''}
</body></html>`;
}

const hostStyles = `(() => {
  const pick = (el) => { const s = getComputedStyle(el); return [s.fontFamily, s.color, s.margin, s.padding, s.backgroundColor, s.width, s.borderRadius].join('|'); };
  return ['body', '#probe', '#buy', 'h1'].map((sel) => pick(document.querySelector(sel)));
})()`;

describeWith([services.chromium], 'the widget on another site (WIDGET_ORIGINS unset)', () => {
  const web = useBrowser();
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let staffMember: { id: number; first_name: string; is_bot: false };
  let shop: Awaited<ReturnType<typeof startHostSite>>;
  let other: Awaited<ReturnType<typeof startHostSite>>;
  const shopPages: Record<string, string> = {};
  const otherPages: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    staffMember = emu.addUser({ id: 5001, first_name: 'Deniz', is_bot: false }) as typeof staffMember;
    td = await startTopicdesk({ db, emulator: emu, env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' } });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    shop = await startHostSite('127.0.0.2', shopPages);
    other = await startHostSite('127.0.0.3', otherPages);
    shopPages['/'] = shopPage(`${td.url}/widget.js`);
    shopPages['/plain'] = shopPage(null);
    // A frame of another site inside the shop, forging widget messages to its parent.
    otherPages['/forger'] =
      `<script>setInterval(() => parent.postMessage({ source: 'topicdesk', type: 'unread', count: 9 }, '*'), 20);</script>`;
    shopPages['/with-forger'] = shopPage(`${td.url}/widget.js`, `<iframe src="${other.origin}/forger" title="ad"></iframe>`);
  });
  afterAll(async () => {
    await shop?.close();
    await other?.close();
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  async function newPage(): Promise<Page> {
    const context = await web.newContext();
    const page = await context.newPage();
    web.watch(page);
    return page;
  }

  const bubble = (page: Page) => page.locator('topicdesk-widget .bubble');
  const chat = (page: Page) => page.frameLocator('topicdesk-widget iframe');

  async function openWidget(page: Page) {
    await bubble(page).click();
    await chat(page).locator('html[data-connection="online"]').waitFor();
  }

  async function chatSend(page: Page, text: string): Promise<number> {
    await chat(page).locator('#text').fill(text);
    await chat(page).locator('#text').press('Enter');
    const item = chat(page).locator('#messages .msg--visitor[data-id]', { hasText: text });
    await item.waitFor();
    const row = await td.app
      .db('messages')
      .where({ id: Number(await item.getAttribute('data-id')) })
      .first();
    return Number(row.thread_id);
  }

  async function staffSays(threadId: number, text: string) {
    const topicId = await eventually(async () => (await td.app.store.threads.findById(threadId))?.topicId ?? 0, { what: 'topic' });
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staffMember, text, threadId: topicId });
  }

  it('adds a bubble that opens the chat in an iframe panel and chats both ways', async () => {
    const page = await newPage();
    await page.goto(`${shop.origin}/`);
    await bubble(page).waitFor();
    expect(await bubble(page).getAttribute('aria-label')).toBe('Open support chat');
    expect(await bubble(page).getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator('topicdesk-widget iframe').count()).toBe(0); // nothing loads before the visitor asks

    await openWidget(page);
    expect(await bubble(page).getAttribute('aria-expanded')).toBe('true');
    expect(await bubble(page).getAttribute('aria-label')).toBe('Close support chat');
    expect(await page.locator('topicdesk-widget iframe').getAttribute('title')).toBe('Support chat');
    expect(await chat(page).locator('#close-embed').isVisible()).toBe(true);

    const threadId = await chatSend(page, 'Hello from the shop');
    await eventually(() => emu.sentMessages(STAFF_CHAT_ID).some((m) => m.text === 'Hello from the shop'), {
      what: 'message in Telegram',
    });
    await staffSays(threadId, 'Hi! How can we help?');
    await chat(page).locator('#messages .msg--staff', { hasText: 'Hi! How can we help?' }).waitFor();
    // Staff's /info learns the page the visitor chats from: the host page, without query or fragment.
    const thread = (await td.app.store.threads.findById(threadId))!;
    expect(await td.app.store.visitors.lastPage(thread.visitorId)).toBe(`${shop.origin}/`);

    // The chat's close button (and Escape) close the panel and give focus back to the bubble.
    await chat(page).locator('#close-embed').click();
    await page.locator('topicdesk-widget .panel').waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement.tagName')).toBe('TOPICDESK-WIDGET');
    await bubble(page).click();
    await page.locator('topicdesk-widget .panel').waitFor();
    await chat(page).locator('#text').press('Escape');
    await page.locator('topicdesk-widget .panel').waitFor({ state: 'hidden' });
  });

  it('leaves the host page alone: no new globals, no style changes either way', async () => {
    const page = await newPage();
    await page.goto(`${shop.origin}/plain`);
    const before = await page.evaluate(hostStyles);
    await page.goto(`${shop.origin}/`);
    await openWidget(page);
    await chatSend(page, 'Style check');

    expect(await page.evaluate(hostStyles)).toEqual(before);
    const newGlobals = await page.evaluate(
      'Object.getOwnPropertyNames(window).filter((n) => !window.__globalsBefore.includes(n) && !["__globalsBefore", "__got"].includes(n))',
    );
    expect(newGlobals).toEqual([]);
    expect(await page.evaluate('document.querySelectorAll("style, link[rel=stylesheet]").length')).toBe(1);
    expect(await page.evaluate('[...document.body.children].map((e) => e.tagName.toLowerCase()).filter((t) => t !== "script")')).toEqual([
      'h1',
      'p',
      'button',
      'topicdesk-widget',
    ]);
    // And the host's `button` and `iframe` rules do not reach the widget.
    const look = await bubble(page).evaluate((el) => {
      const s = el.ownerDocument.defaultView.getComputedStyle(el);
      return [s.backgroundColor, s.width, s.borderRadius];
    });
    expect(look).toEqual(['rgb(21, 88, 199)', '56px', '50%']);
    expect(
      await page.locator('topicdesk-widget iframe').evaluate((el) => el.ownerDocument.defaultView.getComputedStyle(el).borderTopWidth),
    ).toBe('0px');
  });

  it('shows an unread badge for replies while closed, also on the next page view, and believes no other frame', async () => {
    const page = await newPage();
    await page.goto(`${shop.origin}/with-forger`);
    await openWidget(page);
    const threadId = await chatSend(page, 'Ping me when you reply');
    await bubble(page).click(); // close
    const badge = page.locator('topicdesk-widget .badge');
    expect(await badge.isHidden()).toBe(true);

    await staffSays(threadId, 'Reply one');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('1');
    expect(await bubble(page).getAttribute('aria-label')).toBe('Open support chat (1 unread)');
    await staffSays(threadId, 'Reply two');
    await eventually(async () => (await badge.textContent()) === '2', { what: 'badge 2' });

    // The forging frame and the host page itself post "9 unread" all along: ignored.
    await page.evaluate(`window.postMessage({ source: 'topicdesk', type: 'unread', count: 9 }, '*')`);
    // Messages posted to one window are handled in order: once a later one arrives, the widget has seen the forged one.
    await page.evaluate(`new Promise((resolve) => {
      addEventListener('message', function done(e) {
        if (e.data === 'test: after the forgery') removeEventListener('message', done), resolve();
      });
      postMessage('test: after the forgery', '*');
    })`);
    expect(await badge.textContent()).toBe('2');

    await bubble(page).click(); // open: read
    await badge.waitFor({ state: 'hidden' });
    await chat(page).locator('#messages .msg--staff', { hasText: 'Reply two' }).waitFor();
    expect(await chat(page).locator('#messages .msg__text').allTextContents()).toEqual([
      'Ping me when you reply',
      'Reply one',
      'Reply two',
    ]);

    // Next page view: the conversation loads hidden, so a reply shows on the badge without opening. This
    // Chromium denies third-party iframes their localStorage, so this also proves the widget keeps the
    // token in the host site's storage and hands it over in the fragment, which the page then drops.
    await page.goto(`${shop.origin}/`);
    await chat(page).locator('html[data-connection="online"]').waitFor({ state: 'attached' });
    expect(await page.locator('topicdesk-widget .panel').isHidden()).toBe(true);
    await chat(page).locator('#messages .msg--staff', { hasText: 'Reply two' }).waitFor({ state: 'attached' });
    await staffSays(threadId, 'Reply three');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('1');
    const chatFrame = page.frames().find((f) => f.url().includes('embed=1'))!;
    expect(chatFrame.url()).not.toContain('#');
    const kept = JSON.parse(await page.evaluate<string>('localStorage.getItem("topicdesk.widget")'));
    expect(kept['topicdesk.token']).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // "End chat on this device" inside the widget forgets the host site's copy too.
    await bubble(page).click();
    page.once('dialog', (d) => void d.accept());
    await chat(page).getByRole('button', { name: 'Chat options' }).click();
    await chat(page).getByRole('button', { name: 'End chat on this device' }).click();
    await eventually(
      async () => {
        const now = JSON.parse((await page.evaluate<string | null>('localStorage.getItem("topicdesk.widget")')) ?? '{}');
        return now['topicdesk.token'] && now['topicdesk.token'] !== kept['topicdesk.token'];
      },
      { what: 'a new visitor token kept by the widget' },
    );
    expect(await chat(page).locator('#messages .msg__text').count()).toBe(0);
  });

  it('the chat page talks (and hands its token) only to the parent origin its URL names, and only if that is really its parent', async () => {
    const page = await newPage();
    const src = (host: string) => `${td.url}/?embed=1&host=${encodeURIComponent(host)}`;
    // The other site frames the chat claiming to be the shop: the page keeps quiet and ignores it.
    otherPages['/liar'] = `<script>window.__got = []; addEventListener('message', (e) => window.__got.push(e.data));</script>
      <iframe id="chat" src="${src(shop.origin)}" title="chat" style="width:400px;height:500px"></iframe>`;
    otherPages['/honest'] = otherPages['/liar'].replace(encodeURIComponent(shop.origin), encodeURIComponent(other.origin));

    await page.goto(`${other.origin}/liar`);
    const liar = page.frameLocator('#chat');
    await liar.locator('html[data-connection="online"]').waitFor();
    await page.evaluate(
      `document.getElementById('chat').contentWindow.postMessage({ source: 'topicdesk', type: 'visibility', open: false }, '*')`,
    );
    // A message there and back, each after the one above in its direction: the chat page has handled the
    // claim, and anything it posted to this page in answer has arrived.
    const chatFrame = page.frames().find((f) => f !== page.mainFrame())!;
    await chatFrame.evaluate(`addEventListener('message', (e) => e.data === 'test: there' && parent.postMessage('test: back', '*'))`);
    await page.evaluate(`new Promise((resolve) => {
      addEventListener('message', (e) => e.data === 'test: back' && resolve());
      document.getElementById('chat').contentWindow.postMessage('test: there', '*');
    })`);
    expect(await page.evaluate(`window.__got.filter((d) => d !== 'test: back')`)).toEqual([]);
    expect(await liar.locator('#close-embed').isHidden()).toBe(true);

    await page.goto(`${other.origin}/honest`);
    const honest = page.frameLocator('#chat');
    await honest.locator('html[data-connection="online"]').waitFor();
    await eventually(async () => (await page.evaluate<unknown[]>('window.__got')).length > 0, { what: 'ready message' });
    expect((await page.evaluate<unknown[]>('window.__got'))[0]).toEqual({ source: 'topicdesk', type: 'ready' });
    expect(await honest.locator('#close-embed').isVisible()).toBe(true);
  });
});

describeWith([services.chromium], 'WIDGET_ORIGINS restricts embedding and sockets', () => {
  // Pages here are not watched: a refused frame is what the tests expect.
  const web = useBrowser();
  let db: TestDatabase;
  let td: RunningTopicdesk;
  let allowed: Awaited<ReturnType<typeof startHostSite>>;
  let foreign: Awaited<ReturnType<typeof startHostSite>>;
  const allowedPages: Record<string, string> = {};
  const foreignPages: Record<string, string> = {};

  beforeAll(async () => {
    allowed = await startHostSite('127.0.0.2', allowedPages);
    foreign = await startHostSite('127.0.0.3', foreignPages);
    db = await createTestDatabase('sqlite');
    td = await startTopicdesk({
      db,
      env: { WIDGET_ORIGINS: `https://shop.example,${allowed.origin}`, HTTP_RATE_LIMIT_PER_MINUTE: '100000' },
    });
    const extra = `<script src="${td.url}/socket.io/socket.io.min.js"></script>`;
    allowedPages['/'] = shopPage(`${td.url}/widget.js`, extra);
    foreignPages['/'] = shopPage(`${td.url}/widget.js`, extra);
  });
  afterAll(async () => {
    await allowed?.close();
    await foreign?.close();
    await td?.stop();
    await db?.drop();
  });

  async function newPage(): Promise<Page> {
    const context = await web.newContext();
    return context.newPage();
  }

  /** Opens a socket straight from the host page (a custom client on that site). */
  const directSocket = (transport: 'websocket' | 'polling') => `new Promise((resolve) => {
    const s = io(${JSON.stringify('URL')}, { transports: [${JSON.stringify(transport)}], reconnection: false, forceNew: true });
    s.on('session', () => { s.close(); resolve('session'); });
    s.on('connect_error', () => { s.close(); resolve('refused'); });
  })`;

  it('an allowed site embeds the chat, which connects and sends', async () => {
    const page = await newPage();
    await page.goto(`${allowed.origin}/`);
    await page.locator('topicdesk-widget .bubble').click();
    const chat = page.frameLocator('topicdesk-widget iframe');
    await chat.locator('html[data-connection="online"]').waitFor();
    await chat.locator('#text').fill('Hello from an allowed site');
    await chat.locator('#text').press('Enter');
    await chat.locator('#messages .msg--visitor[data-id]', { hasText: 'Hello from an allowed site' }).waitFor();
    expect(await td.app.db('messages').where({ content_text: 'Hello from an allowed site' })).toHaveLength(1);
    expect(await page.evaluate(directSocket('websocket').replace('URL', td.url))).toBe('session');
    expect(await page.evaluate(directSocket('polling').replace('URL', td.url))).toBe('session');
  });

  it('a foreign site gets the bubble but the browser refuses to frame the chat, and its sockets are refused', async () => {
    const page = await newPage();
    const refusals: string[] = [];
    page.on('console', (m) => {
      if (m.text().includes('frame-ancestors')) refusals.push(m.text());
    });
    const visitorsBefore = Number((await td.app.db('visitors').count({ n: '*' }))[0].n);
    await page.goto(`${foreign.origin}/`);
    await page.locator('topicdesk-widget .bubble').click();
    await eventually(() => refusals.length > 0, { what: 'a frame-ancestors refusal', timeoutMs: 10_000 });
    expect(refusals[0]).toContain(`frame-ancestors 'self' https://shop.example ${allowed.origin}`);
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    expect(frame.url()).not.toContain('embed=1'); // Chromium shows its error page instead
    expect(await frame.locator('#composer').count()).toBe(0);

    expect(await page.evaluate(directSocket('websocket').replace('URL', td.url))).toBe('refused');
    expect(await page.evaluate(directSocket('polling').replace('URL', td.url))).toBe('refused');
    expect(Number((await td.app.db('visitors').count({ n: '*' }))[0].n)).toBe(visitorsBefore);
  });

  it('the chat page still works on its own origin', async () => {
    const page = await newPage();
    await page.goto(td.url);
    await page.waitForSelector('html[data-connection="online"]');
  });
});
