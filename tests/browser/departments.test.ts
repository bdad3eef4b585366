import type { FrameLocator, Page } from 'playwright-core';
import { startHostSite, useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { eventually, STAFF_CHAT_ID } from '../support/harness';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { staffSays, type Staff } from '../staff/staff-helpers';

const SALES = -1002300000001;

/**
 * Routing a visitor's conversation to a department from the page (docs/departments.md): with
 * several departments and none named, the page asks before the first message (a keyboard-usable
 * radio group, English and Turkish) and sends nothing until the visitor picks; `/?department=<key>`
 * and the widget's `data-department` route without asking; an unknown key is ignored. In Chromium.
 */
jest.setTimeout(90_000);

describeWith([services.chromium], 'departments on the visitor page, in Chromium', () => {
  const web = useBrowser();
  let h: TopicdeskWithTelegram;
  let shop: Awaited<ReturnType<typeof startHostSite>>;
  const shopPages: Record<string, string> = {};

  beforeAll(async () => {
    let deniz!: Staff;
    h = await startWithTelegram('sqlite', {
      env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' },
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5301, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
        emu.addChat({ id: SALES, type: 'supergroup', title: 'Sales', is_forum: true });
        emu.setChatMember(SALES, emu.bot.id, { status: 'administrator', can_manage_topics: true });
      },
    });
    const added = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/department add Sales' });
    await staffSays(h.emu, { chatId: SALES, from: deniz, text: `/claim ${/\/claim ([A-Z0-9]{10})/.exec(added.answer.text)![1]}` });
    shop = await startHostSite('127.0.0.2', shopPages);
    shopPages['/'] = `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<script src="${h.td.url}/widget.js" data-department="sales" async></script></body></html>`;
  });
  afterAll(async () => {
    await shop?.close();
    await h?.stop();
  });

  async function open(path: string, locale = 'en-US'): Promise<Page> {
    const context = await web.newContext({ locale, viewport: { width: 360, height: 740 } });
    const page = await context.newPage();
    web.watch(page);
    await page.goto(`${h.td.url}${path}`);
    await page.waitForSelector('html[data-connection="online"]');
    return page;
  }

  /** The department of the thread the message shown with `text` belongs to (null: the default one). */
  async function departmentOf(page: Page | FrameLocator, text: string): Promise<string | null> {
    const item = page.locator('#messages .msg--visitor[data-id]', { hasText: text });
    await item.waitFor();
    const row = await h.td.app
      .db('messages as m')
      .join('threads as t', 't.id', 'm.thread_id')
      .leftJoin('departments as d', 'd.id', 't.department_id')
      .where('m.id', Number(await item.getAttribute('data-id')))
      .first('d.key');
    return (row?.key as string | null) ?? null;
  }

  it('asks who to talk to before the first message, by keyboard, and routes the conversation there', async () => {
    const page = await open('/');
    const card = page.locator('#department-choice');
    await card.waitFor();
    expect(await card.locator('legend').textContent()).toBe('Who would you like to talk to?');
    expect(await card.locator('.department-choice__option').allTextContents()).toEqual(['General', 'Sales']);

    // Sending without a choice sends nothing: the choice gets focus and the reason is announced.
    await page.locator('#text').fill('I want a quote');
    await page.locator('#text').press('Enter');
    await eventually(async () => (await page.locator('#announcer').textContent()) === 'Choose who you would like to talk to first.');
    expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("name")')).toBe('department');
    expect(await h.td.app.db('messages').where({ content_text: 'I want a quote' })).toEqual([]);

    // Arrow keys move within the radio group; then back to the message box.
    await page.keyboard.press('ArrowDown');
    expect(await card.getByRole('radio', { name: 'Sales' }).isChecked()).toBe(true);
    await page.locator('#text').press('Enter');
    expect(await departmentOf(page, 'I want a quote')).toBe('sales');
    await card.waitFor({ state: 'hidden' });
    await eventually(() => h.emu.sentMessages(SALES).some((m) => m.text === 'I want a quote'), { what: 'in the sales chat' });

    // The conversation exists: after a reload the page does not ask again.
    await page.reload();
    await page.waitForSelector('html[data-connection="online"]');
    expect(await card.isHidden()).toBe(true);
  });

  it('in Turkish too; ?department= routes without asking; an unknown key is ignored', async () => {
    const tr = await open('/', 'tr-TR');
    await tr.locator('#department-choice').waitFor();
    expect(await tr.locator('#department-choice legend').textContent()).toBe('Kiminle görüşmek istersiniz?');

    const direct = await open('/?department=sales');
    expect(await direct.locator('#department-choice').isHidden()).toBe(true);
    await direct.locator('#text').fill('Straight to sales');
    await direct.locator('#text').press('Enter');
    expect(await departmentOf(direct, 'Straight to sales')).toBe('sales');

    const unknown = await open('/?department=nowhere');
    await unknown.locator('#department-choice').waitFor();
  });

  it('the widget’s data-department routes the conversation opened in it', async () => {
    const context = await web.newContext();
    const page = await context.newPage();
    web.watch(page);
    await page.goto(`${shop.origin}/`);
    await page.locator('topicdesk-widget .bubble').click();
    const frame = page.frameLocator('topicdesk-widget iframe');
    await frame.locator('html[data-connection="online"]').waitFor();
    expect(await page.locator('topicdesk-widget iframe').getAttribute('src')).toContain('&department=sales');
    expect(await frame.locator('#department-choice').isHidden()).toBe(true);
    await frame.locator('#text').fill('From the shop page');
    await frame.locator('#text').press('Enter');
    expect(await departmentOf(frame, 'From the shop page')).toBe('sales');
  });
});
