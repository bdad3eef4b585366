import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { expectLikeCommitted, useBrowser, startHostSite } from '../support/browser';
import { describeWith, services } from '../support/services';
import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk, type VisitorClient } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { seedThread, webLoginLink, type Staff } from '../admin/admin-helpers';
import { staffSays } from '../staff/staff-helpers';

/**
 * The read-only staff page in a real browser (Debian's chromium through
 * playwright-core) against the whole of topicdesk, the real bot and the
 * Telegram emulator: sign in with the link /web sends, search, read a thread,
 * watch a message arrive, see the stats. `npm run screenshots` (UPDATE_SCREENSHOTS=1)
 * writes the stats view to docs/screenshots/.
 */
jest.setTimeout(90_000);

const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
const OUT = UPDATE
  ? path.resolve(__dirname, '..', '..', 'docs', 'screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-admin-shots-'));
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Thirty days of plausible traffic, so the charts have something to show. */
async function seedHistory(td: RunningTopicdesk) {
  const now = Date.now();
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const names = ['Ayşe', 'Mehmet', 'Lena', 'Tom', null, 'Zeynep', 'Carlos', null];
  for (let d = 29; d >= 1; d--) {
    const threadsToday = 1 + Math.floor(random() * 4) + (d % 7 < 2 ? 0 : 2);
    for (let i = 0; i < threadsToday; i++) {
      // Times are whole milliseconds, as the app stores them.
      const start = Math.floor((now - d * DAY) / DAY) * DAY + Math.round((8 + random() * 10) * 60 * MINUTE);
      const wait = Math.round((2 + random() * 25 + (d % 5) * 4) * MINUTE);
      const messages: Array<{ sender: 'visitor' | 'staff'; text: string; at: number }> = [
        { sender: 'visitor', text: 'Hello, I have a question about my order', at: start },
      ];
      const turns = 1 + Math.floor(random() * 4);
      for (let k = 0; k < turns; k++) {
        messages.push({ sender: 'staff', text: 'Thanks for waiting, let me check that for you.', at: start + wait + k * 6 * MINUTE });
        messages.push({ sender: 'visitor', text: 'Thank you!', at: start + wait + k * 6 * MINUTE + 2 * MINUTE });
      }
      const closed = random() < 0.8;
      const { threadId } = await seedThread(td.app.db, {
        name: names[(d + i) % names.length],
        status: closed ? 'closed' : 'open',
        messages,
      });
      // Most closed conversations get a rating from their visitor, mostly good ones (not drawn from `random`,
      // so the traffic, and the committed screenshot, stay as they were).
      if (closed && (d + i) % 3 !== 0) {
        const at = messages[messages.length - 1].at + 5 * MINUTE;
        const score = [5, 5, 4, 4, 3, 5, 2, 4, 1, 5][(d * 7 + i) % 10];
        await td.app.db('thread_ratings').insert({ thread_id: threadId, closed_at: at, score, comment: null, created_at: at + MINUTE });
      }
    }
  }
}

describeWith([services.chromium], 'the staff page in Chromium', () => {
  const web = useBrowser();
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  const visitors: VisitorClient[] = [];
  let parcelThread: number;
  let parcelTopic: number;

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    db = await createTestDatabase('sqlite');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    deniz = emu.addUser({ id: 5001, first_name: 'Deniz', is_bot: false }) as Staff;
    // A fixed port, so the link the bot sends (PUBLIC_URL) is the one the browser opens.
    const port = await freePort();
    td = await startTopicdesk({
      db,
      emulator: emu,
      env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, HTTP_RATE_LIMIT_PER_MINUTE: '100000' },
    });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    await seedHistory(td);

    // Today's real conversations, over sockets and through the bot.
    const say = async (text: string, name?: string) => {
      const v = await connectVisitor(td.url);
      visitors.push(v);
      const sent = await v.send(text);
      if (name) await v.emit('profile:update', { name });
      await v.waitFor('message:status', (s) => s.id === sent.message.id);
      return { v, threadId: sent.message.threadId };
    };
    const parcel = await say('Hi! My parcel #1042 has not arrived yet.', 'Ayşe');
    parcelThread = parcel.threadId;
    parcelTopic = (await td.app.store.threads.findById(parcelThread))!.topicId!;
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'Hi Ayşe, sorry about that! Let me check.', threadId: parcelTopic });
    await parcel.v.waitFor('message', (m) => m.sender === 'staff');
    await say('Can I change my delivery address?', 'Tom');
    await say('Şifremi unuttum, yardım eder misiniz?');
  });
  afterAll(async () => {
    for (const v of visitors) v.close();
    await td?.stop();
    await emu?.stop();
    await db?.drop();
    if (!UPDATE) fs.rmSync(OUT, { recursive: true, force: true });
  });

  async function newPage(options: BrowserContextOptions = {}): Promise<Page> {
    const context = await web.newContext(options);
    const page = await context.newPage();
    web.watch(page);
    return page;
  }

  /** Signs in the way staff do: /web in the staff chat, then the link from the bot's private message. */
  async function signIn(page: Page) {
    const link = await webLoginLink(emu, deniz);
    expect(link.startsWith(`${td.url}/admin/login?token=`)).toBe(true);
    await page.goto(link);
    await page.waitForSelector('.app[data-list-ready="true"]');
  }

  it('signs in through the /web link opened from another site (as from Telegram Web), searches, opens a thread and sees messages arrive live', async () => {
    const page = await newPage({ viewport: { width: 1280, height: 800 } });
    // The link clicked on another site's page: a cross-site navigation, after which the browser withholds
    // the new SameSite=Strict cookie on the redirect. The sign-in page's one same-site refresh gets it through.
    const link = await webLoginLink(emu, deniz);
    const host = await startHostSite('127.0.0.2', {
      '/': `<!doctype html><title>Telegram Web</title><a id="go" href="${link}">Open the staff page</a>`,
    });
    try {
      await page.goto(`${host.origin}/`);
      await page.click('#go');
      await page.waitForSelector('.app[data-list-ready="true"]');
    } finally {
      await host.close();
    }
    expect(new URL(page.url()).pathname).toBe('/admin');
    expect(new URL(page.url()).search).toBe(''); // ?login=1 tidied away
    await page.locator('#live[data-state="live"]').waitFor();
    await expect(page.locator('#staff-name').textContent()).resolves.toBe('Deniz');
    // The session cookie is invisible to scripts.
    expect(await page.evaluate('document.cookie')).toBe('');

    // Search: one thread left, with the matching word marked.
    await page.locator('#q').fill('parcel');
    await page.locator('#thread-list .thread').first().waitFor();
    await eventually(async () => (await page.locator('#thread-list .thread').count()) === 1, { what: 'one result' });
    await expect(page.locator('#thread-list .thread mark').first().textContent()).resolves.toBe('parcel');
    expect(new URL(page.url()).searchParams.get('q')).toBe('parcel');

    // Open it: the whole conversation, with a link to its Telegram topic.
    await page.locator('#thread-list .thread').first().click();
    await page.locator('#conv-messages .msg--staff', { hasText: 'Let me check' }).waitFor();
    expect(await page.locator('#conv-messages .msg__text').allTextContents()).toEqual([
      'Hi! My parcel #1042 has not arrived yet.',
      'Hi Ayşe, sorry about that! Let me check.',
    ]);
    await expect(page.locator('#conv-title').textContent()).resolves.toContain('Ayşe');
    expect(await page.locator('#conv-telegram').getAttribute('href')).toBe(
      `https://t.me/c/${String(STAFF_CHAT_ID).slice(4)}/${parcelTopic}`,
    );

    // Live: the visitor writes, staff answer in Telegram; both appear without a reload.
    await visitors[0].send('It was supposed to come on Monday.');
    await page.locator('#conv-messages .msg--visitor', { hasText: 'supposed to come on Monday' }).waitFor();
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'It is out for delivery today.', threadId: parcelTopic });
    await page.locator('#conv-messages .msg--staff', { hasText: 'out for delivery today' }).waitFor();
    await page.screenshot({ path: path.join(OUT, 'admin-threads.png') });
    if (!UPDATE) await expectLikeCommitted(web.browser, path.join(OUT, 'admin-threads.png'));

    // A message with markup stays text.
    await visitors[0].send('<img src=x onerror=alert(1)> <b>bold?</b>');
    await page.locator('#conv-messages .msg__text', { hasText: '<img src=x onerror=alert(1)>' }).waitFor();
    expect(await page.locator('#conv-messages img').count()).toBe(0);

    // A brand-new thread shows up on the unsearched list by itself.
    await page.locator('#q').fill('');
    await page.locator('#q').press('Enter');
    await eventually(async () => (await page.locator('#thread-list .thread').count()) > 1, { what: 'the full list' });
    const fresh = await connectVisitor(td.url);
    visitors.push(fresh);
    await fresh.send('Brand new question arriving live');
    await page.locator('#thread-list .thread', { hasText: 'Brand new question arriving live' }).waitFor();
    expect(await page.locator('#thread-list .thread').first().textContent()).toContain('Brand new question arriving live');
  });

  it('shows the stats as inline SVG charts (screenshot: docs/screenshots/admin-stats.png)', async () => {
    const page = await newPage({ viewport: { width: 1100, height: 980 }, colorScheme: 'light' });
    await signIn(page);
    await page.click('#tab-stats');
    await page.locator('#stats-view[data-ready="true"]').waitFor();
    expect(Number(await page.locator('#stat-open').textContent())).toBeGreaterThan(0);
    expect(await page.locator('#chart-messages svg rect.chart__bar--staff').count()).toBeGreaterThan(20);
    expect(await page.locator('#chart-response svg rect.chart__bar--response').count()).toBeGreaterThan(20);
    expect(await page.locator('#chart-messages svg').getAttribute('role')).toBe('img');
    expect(await page.locator('#chart-messages table tbody tr').count()).toBe(30);
    // Satisfaction: the seeded ratings, their average and distribution, per day and per week.
    const rated: Array<{ score: number | string }> = await td.app.db('thread_ratings').select('score');
    const scores = rated.map((r) => Number(r.score));
    expect(await page.locator('#stat-ratings').textContent()).toBe(String(scores.length));
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    expect(await page.locator('#stat-rating').textContent()).toBe(mean.toFixed(1));
    const spread = [5, 4, 3, 2, 1].map((s) => `${s}★ ${scores.filter((x) => x === s).length}`).join(' · ');
    expect(await page.locator('#stat-distribution').textContent()).toBe(spread);
    expect(await page.locator('#chart-satisfaction-days svg rect.chart__bar--s5').count()).toBeGreaterThan(5);
    expect(await page.locator('#chart-satisfaction-days table tbody tr').count()).toBe(30);
    const weeks = await page.locator('#chart-satisfaction-weeks table tbody tr').count();
    expect(weeks === 5 || weeks === 6).toBe(true); // 30 days touch five or six Monday-to-Sunday weeks
    const weekCells = await page.locator('#chart-satisfaction-weeks table tbody tr td:nth-child(n+2)').allTextContents();
    expect(weekCells.reduce((n, c) => n + Number(c), 0)).toBe(scores.length);
    await page.screenshot({ path: path.join(OUT, 'admin-stats.png') });
    if (!UPDATE) await expectLikeCommitted(web.browser, path.join(OUT, 'admin-stats.png'));
  });

  it('works on a phone, in dark mode and in Turkish', async () => {
    const page = await newPage({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: 'dark',
      locale: 'tr-TR',
    });
    await signIn(page);
    await expect(page.locator('#tab-threads').textContent()).resolves.toBe('Görüşmeler');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    // List first; a thread replaces it; back returns.
    await page.locator('#thread-list .thread', { hasText: 'Ayşe' }).first().click();
    await page.locator('#conv-messages .msg').first().waitFor();
    expect(await page.locator('.list-pane').isVisible()).toBe(false);
    await page.screenshot({ path: path.join(OUT, 'admin-mobile-dark.png') });
    if (!UPDATE) await expectLikeCommitted(web.browser, path.join(OUT, 'admin-mobile-dark.png'));
    await page.locator('.back').click();
    await page.locator('.list-pane').waitFor({ state: 'visible' });
    await page.click('#tab-stats');
    await page.locator('#stats-view[data-ready="true"]').waitFor();
    await expect(page.locator('#stats-view figcaption').first().textContent()).resolves.toContain('Günlük mesajlar');
    await expect(page.locator('#stats-view figcaption').nth(2).textContent()).resolves.toContain('Günlük memnuniyet');
    expect(await page.locator('#stat-rating').textContent()).toMatch(/^\d,\d$/); // a decimal comma in Turkish
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
  });

  it('an erased thread leaves the list, and the page reading it goes back to the list saying so', async () => {
    const page = await newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page);
    const v = await connectVisitor(td.url);
    visitors.push(v);
    const sent = await v.send('Please forget everything about me');
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    const row = page.locator('#thread-list .thread', { hasText: 'Please forget everything about me' });
    await row.click();
    await page.locator('#conv-messages .msg--visitor', { hasText: 'Please forget everything' }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/threads/${sent.message.threadId}`);

    const { topicId } = (await td.app.store.threads.findById(sent.message.threadId))!;
    const asked = await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId!, text: '/forget' });
    const [erase] = (asked.answer.params.reply_markup?.inline_keyboard ?? [])[0] as Array<{ callback_data: string }>;
    emu.userPressesButton({ chatId: STAFF_CHAT_ID, from: deniz, messageId: asked.answer.message.message_id, data: erase.callback_data });

    await page.locator('#list-status', { hasText: 'That conversation was erased' }).waitFor();
    await row.waitFor({ state: 'detached' });
    expect(new URL(page.url()).hash).toBe('#/');
    expect(await page.locator('#conv-messages .msg').count()).toBe(0);
    expect(await page.locator('#thread-list .thread').count()).toBeGreaterThan(0);
  });

  it('signs out with the button: the page is gone, the session too', async () => {
    const page = await newPage();
    await signIn(page);
    await page.click('#logout');
    await page.locator('.signin__card').waitFor();
    await expect(page.locator('.signin__card').textContent()).resolves.toContain('send /web in the staff chat');
    await page.goto(`${td.url}/admin`);
    await page.locator('.signin__card').waitFor();
    expect((await page.request.get(`${td.url}/api/admin/threads`)).status()).toBe(401);
  });
});
