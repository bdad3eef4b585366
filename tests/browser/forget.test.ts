import { useBrowser } from '../support/browser';
import { hashToken } from '../../src/domain/tokens';
import { describeWith, services } from '../support/services';
import { eventually, STAFF_CHAT_ID } from '../support/harness';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { staffSays, type Staff } from '../staff/staff-helpers';

/**
 * Staff erase the visitor (/forget) while the visitor's page is open: the page gets
 * `session:reset`, drops its token and everything shown, says why, and goes on as a new visitor
 * (docs/protocol.md); in Chromium, in English and Turkish.
 */
jest.setTimeout(60_000);

describeWith([services.chromium], 'an erased visitor’s open page, in Chromium', () => {
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

  it.each([
    ['en-US', 'Support erased this conversation and what they knew about you. You can start a new one.'],
    ['tr-TR', 'Destek bu görüşmeyi ve sizinle ilgili bildiklerini sildi. Yeni bir görüşme başlatabilirsiniz.'],
  ])('starts afresh with an empty chat and a new session (%s)', async (locale, said) => {
    const page = await web.newPage({ locale });
    await page.goto(h.td.url);
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator('#text').fill('My order 4711 is late');
    await page.locator('#text').press('Enter');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: '4711' }).waitFor();
    const oldToken = await page.evaluate<string | null>("localStorage.getItem('topicdesk.token')");
    const thread = (await eventually(async () => {
      const visitor = await h.td.app.store.visitors.findByTokenHash(hashToken(oldToken!));
      const t = visitor ? await h.td.app.store.threads.findLatestForVisitor(visitor.id) : null;
      return t?.topicId ? t : null;
    }))!;
    h.emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, threadId: thread.topicId!, text: 'Checking it now.' });
    await page.locator('#messages .msg--staff', { hasText: 'Checking' }).waitFor();

    const asked = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: thread.topicId!, text: '/forget' });
    const [erase] = (asked.answer.params.reply_markup?.inline_keyboard ?? [])[0] as Array<{ callback_data: string }>;
    h.emu.userPressesButton({ chatId: STAFF_CHAT_ID, from: deniz, messageId: asked.answer.message.message_id, data: erase.callback_data });

    // The page says why, shows an empty chat, and holds a new token of a new session.
    await page.locator('#notice', { hasText: said }).waitFor();
    await page.locator('#empty').waitFor({ state: 'visible' });
    expect(await page.locator('#messages .msg').count()).toBe(0);
    await page.waitForSelector('html[data-connection="online"]');
    const newToken = await eventually(async () => {
      const t = await page.evaluate<string | null>("localStorage.getItem('topicdesk.token')");
      return t && t !== oldToken ? t : null;
    });
    expect(newToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // Going on writes as a new visitor in a new thread; nothing of the old one comes back.
    await page.locator('#text').fill('Hello again');
    await page.locator('#text').press('Enter');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: 'Hello again' }).waitFor();
    await page.locator('#notice').waitFor({ state: 'hidden' });
    const fresh = await eventually(async () => {
      const visitor = await h.td.app.store.visitors.findByTokenHash(hashToken(newToken!));
      return visitor ? h.td.app.store.threads.findLatestForVisitor(visitor.id) : null;
    });
    expect(fresh!.id).not.toBe(thread.id);
    await page.reload();
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: 'Hello again' }).waitFor();
    expect(await page.locator('#messages .msg', { hasText: '4711' }).count()).toBe(0);
    expect(await page.locator('#messages .msg', { hasText: 'Checking' }).count()).toBe(0);
    await page.close();
  });
});
