import type { Page } from 'playwright-core';
import { useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { staffSays } from '../staff/staff-helpers';
import { onServer, webLoginLink, type Staff } from '../admin/admin-helpers';

const SALES = -1002400000001;

/**
 * The staff page's department filter in Chromium (docs/admin.md, docs/departments.md): someone in
 * two staff chats gets a department select above the list and the stats, each thread names its
 * department, and picking one narrows the list (kept in the address) and the stats; someone in
 * one chat gets no select, and only their department's threads.
 */
jest.setTimeout(90_000);

describeWith([services.chromium], 'the staff page by department, in Chromium', () => {
  const web = useBrowser();
  let h: TopicdeskWithTelegram;
  let bea: Staff; // both chats
  let sam: Staff; // sales only

  beforeAll(async () => {
    h = await startWithTelegram('sqlite', {
      env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' },
      prepare: (emu) => {
        bea = emu.addUser({ id: 5401, first_name: 'Bea', language_code: 'en', is_bot: false }) as Staff;
        sam = emu.addUser({ id: 5402, first_name: 'Sam', language_code: 'en', is_bot: false }) as Staff;
        emu.addChat({ id: SALES, type: 'supergroup', title: 'Sales', is_forum: true });
        emu.setChatMember(SALES, emu.bot.id, { status: 'administrator', can_manage_topics: true });
        emu.setChatMember(STAFF_CHAT_ID, sam.id, { status: 'left' });
      },
    });
    const added = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: bea, text: '/department add Sales' });
    await staffSays(h.emu, { chatId: SALES, from: bea, text: `/claim ${/\/claim ([A-Z0-9]{10})/.exec(added.answer.text)![1]}` });
    for (const [department, text] of [
      ['sales', 'Bulk order of 300 mugs'],
      [undefined, 'My parcel arrived broken'],
    ] as const) {
      const v = await connectVisitor(h.td.url);
      const sent = await v.emit('message:send', { text, clientId: `c-${text.length}`, ...(department ? { department } : {}) });
      if (!sent.ok) throw new Error(JSON.stringify(sent));
      await v.waitFor('message:status', (s) => s.id === sent.message.id);
      v.close();
    }
  });
  afterAll(() => h?.stop());

  async function signedIn(staff: Staff, chatId: number): Promise<Page> {
    const context = await web.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    web.watch(page);
    await page.goto(onServer(h.td, await webLoginLink(h.emu, staff, chatId)));
    await page.waitForSelector('.app[data-list-ready="true"]');
    return page;
  }

  /** The list as shown: each thread's preview and its department badge (when shown). */
  const listed = (page: Page) =>
    page.$$eval('#thread-list .thread', (items) =>
      items.map((a) => [
        a.querySelector('.thread__preview')?.textContent ?? '',
        a.querySelector('.badge--department')?.textContent ?? null,
      ]),
    );

  it('someone in both chats filters the list and the stats by department', async () => {
    const page = await signedIn(bea, STAFF_CHAT_ID);
    const select = page.locator('#department');
    await select.waitFor({ state: 'visible' });
    expect(await select.locator('option').allTextContents()).toEqual(['All departments', 'General', 'Sales']);
    await eventually(async () => (await page.locator('#thread-list .badge--department').count()) === 2);
    expect(await listed(page)).toEqual([
      ['Visitor: My parcel arrived broken', 'General'],
      ['Visitor: Bulk order of 300 mugs', 'Sales'],
    ]);

    await select.selectOption('sales');
    await eventually(async () => (await page.locator('#thread-list .thread').count()) === 1);
    expect(await listed(page)).toEqual([['Visitor: Bulk order of 300 mugs', 'Sales']]);
    expect(new URL(page.url()).searchParams.get('department')).toBe('sales');
    // The conversation names its department too.
    await page.click('#thread-list .thread');
    await eventually(async () => ((await page.locator('#conv-meta').textContent()) ?? '').startsWith('Department: Sales · #'));

    // The stats follow the same choice; their own select changes it back.
    await page.click('#tab-stats');
    await page.waitForSelector('#stats-view[data-ready="true"]');
    expect(await page.locator('#stats-department').inputValue()).toBe('sales');
    expect(await page.locator('#stat-open').textContent()).toBe('1');
    expect(await page.locator('#department-table').isHidden()).toBe(true);
    await page.locator('#stats-department').selectOption('');
    await eventually(async () => (await page.locator('#stat-open').textContent()) === '2');
    await page.locator('#department-table').waitFor({ state: 'visible' });
    expect(await page.$$eval('#department-table tbody tr', (rows) => rows.map((r) => r.textContent))).toEqual(['General10–', 'Sales10–']);
    expect(await select.inputValue()).toBe('');
    expect(new URL(page.url()).searchParams.get('department')).toBeNull();
    await page.context().close();
  });

  it('someone only in the sales chat gets no select and only sales threads, even when the address names another department', async () => {
    const page = await signedIn(sam, SALES);
    await page.goto(`${h.td.url}/admin?department=general`);
    await page.waitForSelector('.app[data-list-ready="true"]');
    await eventually(() => new URL(page.url()).searchParams.get('department') === null);
    await eventually(async () => (await page.locator('#thread-list .thread').count()) === 1);
    expect(await page.locator('#department-filter').isHidden()).toBe(true);
    expect(await listed(page)).toEqual([['Visitor: Bulk order of 300 mugs', null]]);
    await page.context().close();
  });
});
