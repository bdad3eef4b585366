import { useBrowser } from '../support/browser';
import { hashToken } from '../../src/domain/tokens';
import { describeWith, services } from '../support/services';
import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { onServer, webLoginLink } from '../admin/admin-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { staffSays, type Staff } from '../staff/staff-helpers';

/**
 * Staff erase the visitor (/forget) while the visitor's page is open: the page gets
 * `session:reset`, drops its token and everything shown, says why, and goes on as a new visitor
 * (docs/protocol.md); in Chromium, in English and Turkish. Erasing another device of the same verified person takes
 * that device's messages out of the open pages (the visitor's and the staff page) showing the thread that stays.
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
  it("another device's erased messages leave the open visitor page and the staff page of the thread that stays", async () => {
    const td = h.td;
    // The laptop's own thread, then the phone's (the newer one).
    const laptop = await connectVisitor(td.url);
    const first = await laptop.send('Question from the laptop');
    await laptop.waitFor('message:status', (st) => st.id === first.message.id && st.status === 'delivered');
    const laptopThread = (await td.app.store.threads.findById(first.message.threadId))!;
    const phone = await web.newPage({ locale: 'en-US', viewport: { width: 390, height: 800 } });
    await phone.goto(td.url);
    await phone.waitForSelector('html[data-connection="online"]');
    await phone.locator('#text').fill('Question from the phone');
    await phone.locator('#text').press('Enter');
    await phone.locator('#messages .msg--visitor[data-id]', { hasText: 'from the phone' }).waitFor();
    const phoneToken = await phone.evaluate<string | null>("localStorage.getItem('topicdesk.token')");
    const phoneVisitor = (await eventually(() => td.app.store.visitors.findByTokenHash(hashToken(phoneToken!))))!;
    const phoneThread = (await eventually(async () => {
      const t = await td.app.store.threads.findLatestForVisitor(phoneVisitor.id);
      return t?.topicId ? t : null;
    }))!;
    // Then both devices verified as one person.
    const user = await td.app.store.users.upsert({
      telegramId: 777003,
      username: 'ece',
      phone: '+905550000003',
      displayName: 'Ece',
      now: new Date(),
    });
    await td.app.store.users.linkVisitor(laptopThread.visitorId, user.id, 'Ece');
    await td.app.store.users.linkVisitor(phoneVisitor.id, user.id, 'Ece');
    // The laptop writes into the person's latest thread, the phone's: the phone's page shows it.
    const secret = await laptop.send('My card ends 4242');
    expect(secret.message.threadId).toBe(phoneThread.id);
    await phone.locator('#messages .msg', { hasText: '4242' }).waitFor();
    // A staff page reading the phone's thread shows it too.
    const staff = await web.newPage({ viewport: { width: 1280, height: 800 } });
    await staff.goto(onServer(td, await webLoginLink(h.emu, deniz)));
    await staff.waitForSelector('.app[data-list-ready="true"]');
    await staff.goto(`${td.url}/admin#/threads/${phoneThread.id}`);
    await staff.locator('#conv-messages .msg', { hasText: '4242' }).waitFor();
    await staff.locator('#thread-list .thread', { hasText: '4242' }).waitFor();

    // The laptop's visitor is erased (from its own thread's topic).
    const asked = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: laptopThread.topicId!, text: '/forget' });
    const [erase] = (asked.answer.params.reply_markup?.inline_keyboard ?? [])[0] as Array<{ callback_data: string }>;
    h.emu.userPressesButton({ chatId: STAFF_CHAT_ID, from: deniz, messageId: asked.answer.message.message_id, data: erase.callback_data });

    // Both pages drop the laptop's message and keep the phone's conversation.
    await phone.locator('#messages .msg', { hasText: '4242' }).waitFor({ state: 'detached' });
    await staff.locator('#conv-messages .msg', { hasText: '4242' }).waitFor({ state: 'detached' });
    expect(await phone.locator('#messages .msg', { hasText: 'from the phone' }).count()).toBe(1);
    expect(await staff.locator('#conv-messages .msg', { hasText: 'from the phone' }).count()).toBe(1);
    expect(await staff.locator('#thread-list .thread', { hasText: '4242' }).count()).toBe(0);
    expect(new URL(staff.url()).hash).toBe(`#/threads/${phoneThread.id}`);
    // Reloaded, neither shows it.
    await phone.reload();
    await phone.locator('#messages .msg--visitor[data-id]', { hasText: 'from the phone' }).waitFor();
    expect(await phone.locator('#messages .msg', { hasText: '4242' }).count()).toBe(0);
    laptop.close();
    await phone.close();
    await staff.close();
  });
});
