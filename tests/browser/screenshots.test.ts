import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expectLikeCommitted, useBrowser, startHostSite } from '../support/browser';
import { describeWith, services } from '../support/services';
import { eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * Renders a real conversation as the README shows it: mobile 360 px light,
 * desktop dark, and the widget on a host page. `npm run screenshots` writes them
 * to docs/screenshots/; a plain test run writes them to a temporary folder.
 */
jest.setTimeout(60_000);

const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
const OUT = UPDATE
  ? path.resolve(__dirname, '..', '..', 'docs', 'screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-shots-'));

describeWith([services.chromium], 'screenshots', () => {
  const web = useBrowser();
  /** Unless they are being written (npm run screenshots), each screenshot must look like the committed one. */
  const matchesCommitted = async (name: string) => (UPDATE ? undefined : expectLikeCommitted(web.browser, path.join(OUT, name)));

  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let staff: { id: number; first_name: string; is_bot: false };

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    db = await createTestDatabase('sqlite');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    staff = emu.addUser({ id: 5001, first_name: 'Deniz', is_bot: false }) as typeof staff;
    td = await startTopicdesk({ db, emulator: emu });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
    if (!UPDATE) fs.rmSync(OUT, { recursive: true, force: true });
  });

  /** A short, realistic conversation, ending with a staff reply. */
  async function converse(page: Page, frame: { locator: Page['locator'] } = page) {
    const say = async (text: string) => {
      await frame.locator('#text').fill(text);
      await frame.locator('#text').press('Enter');
      await frame.locator('#messages .msg--visitor[data-state="delivered"]', { hasText: text }).waitFor({ timeout: 10_000 });
    };
    await say('Hi! My order #1042 has not arrived yet.');
    await frame.locator('#name-input').fill('Ayşe');
    await frame.locator('#name-input').press('Enter');
    await frame.locator('#name-form').waitFor({ state: 'hidden' });
    const row = await td.app
      .db('messages')
      .where({ content_text: 'Hi! My order #1042 has not arrived yet.' })
      .orderBy('id', 'desc')
      .first();
    const topicId = await eventually(async () => (await td.app.store.threads.findById(Number(row.thread_id)))?.topicId ?? 0, {
      what: 'topic',
    });
    const staffSays = async (text: string) => {
      emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text, threadId: topicId });
      await frame.locator('#messages .msg--staff', { hasText: text.slice(0, 30) }).waitFor();
    };
    await staffSays('Hi Ayşe, sorry about that! Let me check.');
    await staffSays('It left our warehouse yesterday. Tracking: https://track.example.com/1042');
    await say('Great, thank you!\nWill it come before Friday?');
    await staffSays('Yes — it is due on Thursday.');
    await page.waitForTimeout(300);
  }

  it('mobile, 360 px, light', async () => {
    const context = await web.browser.newContext({
      viewport: { width: 360, height: 720 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: 'light',
      locale: 'en-US',
    });
    const page = await context.newPage();
    await page.goto(td.url);
    await page.waitForSelector('html[data-connection="online"]');
    await converse(page);
    await page.locator('#text').blur();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await page.screenshot({ path: path.join(OUT, 'mobile-light.png') });
    await context.close();
    await matchesCommitted('mobile-light.png');
  });

  it('desktop, dark', async () => {
    const context = await web.browser.newContext({ viewport: { width: 1280, height: 760 }, colorScheme: 'dark', locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(td.url);
    await page.waitForSelector('html[data-connection="online"]');
    await converse(page);
    await page.locator('#text').blur();
    await page.screenshot({ path: path.join(OUT, 'desktop-dark.png') });
    await context.close();
    await matchesCommitted('desktop-dark.png');
  });

  it('the widget on a host page', async () => {
    const pages: Record<string, string> = {};
    const host = await startHostSite('127.0.0.2', pages);
    pages['/'] = `<!doctype html><html><head><meta charset="utf-8"><title>Acme Shop</title><style>
      body { margin: 0; font: 16px/1.5 Georgia, serif; color: #222; background: #faf7f2; }
      header { padding: 20px 40px; background: #2d2a26; color: #fff; font-size: 22px; }
      main { padding: 40px; max-width: 640px; } h1 { font-weight: normal; }
    </style></head><body><header>Acme Shop</header><main><h1>Hand-made ceramics</h1>
    <p>Mugs, bowls and plates, fired in small batches. Free shipping over 50 €.</p></main>
    <script src="${td.url}/widget.js" async></script></body></html>`;
    const context = await web.browser.newContext({ viewport: { width: 1100, height: 760 }, colorScheme: 'light', locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${host.origin}/`);
    await page.locator('topicdesk-widget .bubble').click();
    const frame = page.frameLocator('topicdesk-widget iframe');
    await frame.locator('html[data-connection="online"]').waitFor();
    await converse(page, frame);
    await frame.locator('#text').blur();
    await page.screenshot({ path: path.join(OUT, 'widget.png') });
    await context.close();
    await host.close();
    await matchesCommitted('widget.png');
  });
});
