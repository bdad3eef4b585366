import type { Page } from 'playwright-core';
import { useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { staffSays, type Staff } from './staff-helpers';

/**
 * What staff commands look like on the visitor page, end to end: real commands
 * in Telegram (the emulator), the real bot, and the page in Chromium. The
 * server side of each command runs on every database in the other staff tests.
 */
jest.setTimeout(60_000);

describeWith([services.chromium], 'staff commands as the visitor sees them, in Chromium', () => {
  const web = useBrowser();
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
    td = await startTopicdesk({ db, emulator: emu });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  async function send(page: Page, text: string) {
    await page.locator('#text').fill(text);
    await page.locator('#text').press('Enter');
  }

  it('/away and /back, /close, and /block show on the page', async () => {
    const context = await web.browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(td.url);
    await page.waitForSelector('html[data-connection="online"]');

    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/away Back on Monday' });
    await page.locator('#support-status', { hasText: 'Back on Monday' }).waitFor();

    await send(page, 'Is anyone there?');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: 'Is anyone there?' }).waitFor();
    // A new thread's first message while away gets the away message as a reply.
    await page.locator('#messages .msg__text', { hasText: 'Back on Monday' }).waitFor();
    const thread = await eventually(async () => {
      const t = await td.app.db('threads').orderBy('id', 'desc').first();
      return t?.topic_id ? t : null;
    });
    const topicId = Number(thread.topic_id);

    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/back' });
    await page.locator('#support-status', { hasText: 'We’re online' }).waitFor();

    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: topicId });
    await page.locator('#notice', { hasText: 'This conversation was closed.' }).waitFor();

    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/block', threadId: topicId });
    await send(page, 'Let me in');
    await page.locator('#notice', { hasText: 'Support is not accepting messages from this chat.' }).waitFor();
    expect(await page.locator('#messages .msg--visitor', { hasText: 'Let me in' }).getAttribute('data-state')).toBe('failed');
    expect(await td.app.db('messages').where({ content_text: 'Let me in' })).toEqual([]);
    await context.close();
  });
});
