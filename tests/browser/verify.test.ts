import { hashToken } from '../../src/domain/tokens';
import type { User } from 'grammy/types';
import jsQR from 'jsqr';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { useBrowser } from '../support/browser';
import { contrastOf } from '../support/contrast';
import { describeWith, services } from '../support/services';
import { eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { botAnswers, hasContactButton, movableClock } from '../otp/otp-helpers';

/**
 * "Verify with Telegram" on the visitor page (docs/identity.md), in Chromium against
 * the whole of topicdesk: the page asks for the link, the emulator's Telegram user
 * opens it in the bot's private chat and shares their contact, the bot sends a code,
 * and the visitor types it into the page.
 */
jest.setTimeout(90_000);

describeWith([services.chromium], 'verifying with Telegram on the visitor page', () => {
  const web = useBrowser();
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  const clock = movableClock();
  let nextUserId = 8000;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    td = await startTopicdesk({ db, emulator: emu, clock, env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000', RATE_MESSAGE_BURST: '200' } });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  const newUser = (extra: Partial<User> = {}) =>
    emu.addUser({
      id: ++nextUserId,
      first_name: 'Ayşe',
      last_name: 'Yılmaz',
      username: `ayse${nextUserId}`,
      language_code: 'en',
      is_bot: false,
      ...extra,
    });

  async function openChat(options: BrowserContextOptions = {}): Promise<{ page: Page; sessions: any[] }> {
    const context = await web.newContext(options);
    const page = await context.newPage();
    web.watch(page);
    // Every `session` event the page receives, as the server sent it.
    const sessions: any[] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        const m = /^42(\[.*\])$/s.exec(String(payload));
        if (!m) return;
        const [event, data] = JSON.parse(m[1]);
        if (event === 'session') sessions.push(data);
      }),
    );
    await page.goto(td.url);
    await page.waitForSelector('html[data-connection="online"]');
    return { page, sessions };
  }

  async function chooseVerify(page: Page, label = 'Verify with Telegram') {
    await page.getByRole('button', { name: /Chat options|Sohbet seçenekleri/ }).click();
    await page.getByRole('button', { name: label }).click();
  }

  /** The link the page shows, once it is there. */
  async function shownLink(page: Page): Promise<string> {
    await page.locator('#verify[data-state="waiting"]').waitFor();
    return (await page.locator('#verify-link').getAttribute('href'))!;
  }

  /** The private-chat side: /start <payload>, the contact; returns the code the bot sent. */
  async function telegramSide(user: User, link: string): Promise<string> {
    const payload = new URL(link).searchParams.get('start')!;
    const ask = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: `/start ${payload}` }));
    expect(hasContactButton(ask)).toBe(true);
    const before = emu.sentMessages(user.id).length;
    emu.userSendsContact({
      chatId: user.id,
      from: user,
      contact: { phone_number: '905551234567', first_name: user.first_name, user_id: user.id },
    });
    return (await eventually(
      () =>
        /code: (\d{6})/.exec(
          emu
            .sentMessages(user.id)
            .slice(before)
            .find((m) => m.text)?.text ?? '',
        )?.[1],
      { what: 'the code' },
    ))!;
  }

  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  async function enterCode(page: Page, code: string) {
    await page.locator('#verify-code').fill(code);
    await page.locator('#verify-code').press('Enter');
  }

  const status = (page: Page) => page.locator('#verify-status');

  it('verifies the visitor: link and QR code, a wrong code with the tries left, the right code; stays verified after a reload', async () => {
    const { page, sessions } = await openChat();
    // A conversation first, so the verification is also noted in it.
    await page.locator('#text').fill('Where is my order?');
    await page.locator('#text').press('Enter');
    await page.locator('#messages .msg--visitor[data-state="delivered"]').waitFor({ timeout: 10_000 });
    expect(sessions.at(-1).visitor.verified).toBe(false);
    expect(await page.locator('#identity').isHidden()).toBe(true);

    await chooseVerify(page);
    const card = page.getByRole('region', { name: 'Verify with Telegram' });
    await card.waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('verify-title');
    const link = await shownLink(page);
    expect(link).toMatch(/^https:\/\/t\.me\/topicdesk_test_bot\?start=[A-Za-z0-9_-]{43}$/);
    expect(await page.getByRole('link', { name: 'Open Telegram' }).getAttribute('target')).toBe('_blank');
    expect(await page.locator('#verify-link').getAttribute('rel')).toBe('noopener noreferrer');
    expect(await status(page).textContent()).toMatch(/^Waiting for your code\. The link works until \d{1,2}:\d{2}( [AP]M)?\.$/);
    expect(await status(page).getAttribute('role')).toBe('status');

    // The QR code (a desktop browser shows it) holds exactly the link.
    const qr = page.getByRole('img', { name: 'QR code of the Telegram link' });
    expect(await qr.isVisible()).toBe(true);
    expect(decodeQrSvg(await qr.locator('path').getAttribute('d'), await qr.getAttribute('viewBox'))).toBe(link);
    const box = (await qr.boundingBox())!;
    expect(box.width).toBeGreaterThanOrEqual(120);

    const user = newUser();
    const code = await telegramSide(user, link);

    // A wrong code: the page says how many tries are left, and the field is marked invalid.
    const field = page.getByRole('textbox', { name: 'Enter the 6-digit code the bot sends you' });
    await enterCode(page, wrong(code));
    await page.locator('#verify[data-state="wrong"]').waitFor();
    expect(await status(page).textContent()).toBe('That code is not right. 4 tries left.');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate('document.activeElement.id')).toBe('verify-code');
    await enterCode(page, wrong(wrong(code)));
    await status(page).getByText('3 tries left').waitFor();

    // The right one (spaces are fine).
    await enterCode(page, `${code.slice(0, 3)} ${code.slice(3)}`);
    await page.locator('#verify[data-state="verified"]').waitFor();
    expect(await status(page).textContent()).toBe('You’re verified as Ayşe Yılmaz.');
    expect(await page.locator('#verify-steps').isHidden()).toBe(true);
    expect(await page.locator('#identity').textContent()).toBe('Verified as Ayşe Yılmaz');
    expect(await page.locator('#identity').isVisible()).toBe(true);
    const visitorId = sessions.at(-1).visitor.id;
    expect((await td.app.store.visitors.findByTokenHash(hashToken(sessions.at(-1).token)))!.verified).toBe(true);

    // The page keeps working: the note for staff arrives as a system message, and messages still go out.
    await page.locator('#messages .msg--system', { hasText: `Verified via Telegram as @${user.username}` }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Close' }).click();
    expect(await card.isHidden()).toBe(true);
    expect(await page.evaluate('document.activeElement.id')).toBe('text');
    await page.locator('#text').fill('Thanks, verified now');
    await page.locator('#text').press('Enter');
    await page.locator('#messages .msg--visitor[data-state="delivered"]', { hasText: 'Thanks, verified now' }).waitFor({ timeout: 10_000 });
    // The menu no longer offers to verify.
    await page.getByRole('button', { name: 'Chat options' }).click();
    expect(await page.locator('#menu-verify').isHidden()).toBe(true);
    await page.keyboard.press('Escape');

    // A reload: the session says verified, and the page shows it.
    await page.reload();
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator('#identity').waitFor();
    expect(sessions.at(-1).visitor).toEqual({ id: visitorId, name: 'Ayşe Yılmaz', verified: true, phone: '+905551234567' });
    expect(await page.locator('#identity').textContent()).toBe('Verified as Ayşe Yılmaz');
    expect(await page.locator('#name-form').isHidden()).toBe(true);
    await page.locator('#messages .msg--visitor', { hasText: 'Thanks, verified now' }).waitFor();
  });

  it('a second device verified as the same person shows the first device’s messages at once and writes to the same thread', async () => {
    const user = newUser({ first_name: 'Mehmet', last_name: 'Kaya' });
    const say = async (page: Page, text: string) => {
      await page.locator('#text').fill(text);
      await page.locator('#text').press('Enter');
      await page.locator('#messages .msg--visitor[data-id]', { hasText: text }).waitFor({ timeout: 10_000 });
    };
    const phone = (await openChat({ viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true })).page;
    await say(phone, 'Sent from my phone');
    await chooseVerify(phone);
    await enterCode(phone, await telegramSide(user, await shownLink(phone)));
    await phone.locator('#verify[data-state="verified"]').waitFor();

    const laptop = (await openChat()).page;
    await say(laptop, 'Sent from my laptop');
    await chooseVerify(laptop);
    await enterCode(laptop, await telegramSide(user, await shownLink(laptop)));
    await laptop.locator('#verify[data-state="verified"]').waitFor();
    expect(await laptop.locator('#identity').textContent()).toBe('Verified as Mehmet Kaya');
    await laptop.locator('#messages .msg--visitor', { hasText: 'Sent from my phone' }).waitFor();
    expect((await laptop.locator('#messages .msg--visitor .msg__text').allTextContents()).slice(0, 2)).toEqual([
      'Sent from my phone',
      'Sent from my laptop',
    ]);

    // New messages go to the person's newest thread, and the phone sees them live.
    await say(laptop, 'Still me, on the laptop');
    await phone.locator('#messages .msg--visitor', { hasText: 'Still me, on the laptop' }).waitFor({ timeout: 10_000 });
  });

  it('says when a code has expired or had too many wrong tries, and offers a new link', async () => {
    const { page } = await openChat();
    await chooseVerify(page);
    const user = newUser();
    const code = await telegramSide(user, await shownLink(page));

    clock.advance(5 * 60_000 + 1000);
    await enterCode(page, code);
    await page.locator('#verify[data-state="retry"]').waitFor();
    expect(await status(page).textContent()).toBe('This code has expired. Send /code to the bot for a new one, or get a new link.');
    expect(await page.getByRole('button', { name: 'Get a new link' }).isVisible()).toBe(true);

    // /code in Telegram: a new code; five wrong tries use it up.
    const before = emu.sentMessages(user.id).length;
    emu.userSends({ chatId: user.id, from: user, text: '/code' });
    const newCode = (await eventually(
      () =>
        /code: (\d{6})/.exec(
          emu
            .sentMessages(user.id)
            .slice(before)
            .find((m) => m.text)?.text ?? '',
        )?.[1],
      { what: 'a new code' },
    ))!;
    const bad = wrong(newCode);
    for (const left of ['4 tries left.', '3 tries left.', '2 tries left.', '1 try left.']) {
      await enterCode(page, bad);
      await status(page).getByText(left).waitFor();
    }
    await enterCode(page, bad);
    await status(page).getByText('Too many wrong tries').waitFor();
    expect(await status(page).textContent()).toBe(
      'Too many wrong tries: this code no longer works. Send /code to the bot for a new one, or get a new link.',
    );
    expect(await page.locator('#verify-code').inputValue()).toBe('');

    // A new link replaces the old one.
    const oldLink = await page.locator('#verify-link').getAttribute('href');
    await page.getByRole('button', { name: 'Get a new link' }).click();
    const newLink = await shownLink(page);
    expect(newLink).not.toBe(oldLink);
    expect(await page.getByRole('button', { name: 'Get a new link' }).isHidden()).toBe(true);
  });

  it('speaks Turkish, checks the code’s format itself, says when no code is waiting, and closes with Escape', async () => {
    const { page } = await openChat({ locale: 'tr-TR' });
    await chooseVerify(page, 'Telegram ile doğrula');
    await page.getByRole('region', { name: 'Telegram ile doğrulama' }).waitFor();
    await shownLink(page);
    expect(await status(page).textContent()).toMatch(/^Kodunuz bekleniyor\. Bağlantı şu saate kadar geçerli: \d{1,2}:\d{2}\.$/);
    expect(await page.getByRole('link', { name: 'Telegram’ı aç' }).count()).toBe(1);
    expect(await page.getByRole('img', { name: 'Telegram bağlantısının QR kodu' }).count()).toBe(1);
    const field = page.getByRole('textbox', { name: 'Botun gönderdiği 6 haneli kodu girin' });
    expect(await field.getAttribute('inputmode')).toBe('numeric');
    expect(await field.getAttribute('autocomplete')).toBe('one-time-code');

    await enterCode(page, '12ab');
    expect(await status(page).textContent()).toBe('Botun gönderdiği 6 haneyi girin.');
    await enterCode(page, '123456');
    await status(page).getByText('Henüz bekleyen bir kod yok').waitFor();

    // Keyboard: Tab moves through the card; Escape closes it and focus returns to the message field.
    await page.getByRole('button', { name: 'Doğrula' }).focus();
    await page.keyboard.press('Escape');
    expect(await page.locator('#verify').isHidden()).toBe(true);
    expect(await page.evaluate('document.activeElement.id')).toBe('text');
    // Opened again while the link is valid, the same link shows (no new otp:start).
    const links = (await td.app.db('otp_requests').count({ n: '*' }))[0].n;
    await chooseVerify(page, 'Telegram ile doğrula');
    await shownLink(page);
    expect((await td.app.db('otp_requests').count({ n: '*' }))[0].n).toBe(links);
  });

  it('on a phone: no QR code, the Telegram button instead, and everything fits 320 px', async () => {
    const { page } = await openChat({ viewport: { width: 320, height: 568 }, isMobile: true, hasTouch: true });
    await chooseVerify(page);
    await shownLink(page);
    expect(await page.getByRole('link', { name: 'Open Telegram' }).isVisible()).toBe(true);
    expect(await page.locator('#verify-qr').isVisible()).toBe(false);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(320);
    for (const selector of ['#verify-link', '#verify-code', '#verify-form .button', '.composer__send']) {
      const box = (await page.locator(selector).boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(320);
      expect(box.y + box.height).toBeLessThanOrEqual(568);
    }
  });

  it.each(['light', 'dark'] as const)('has text contrast of at least 4.5:1 in %s mode, in every state', async (colorScheme) => {
    const { page } = await openChat({ colorScheme });
    await chooseVerify(page);
    await shownLink(page);
    const low: string[] = [];
    for (const state of ['waiting', 'wrong', 'retry', 'verified']) {
      await page.evaluate(`(() => {
        document.getElementById('verify').dataset.state = ${JSON.stringify(state)};
        document.getElementById('verify-new').hidden = false;
        document.getElementById('identity').hidden = false;
        document.getElementById('identity-text').textContent = 'Verified as Ayşe';
      })()`);
      const report: Array<{ what: string; ratio: number }> = await page.evaluate(CONTRAST);
      low.push(...report.filter((r) => r.ratio < 4.5).map((r) => `${state}: ${r.what} ${r.ratio}`));
      expect(report.length).toBeGreaterThan(8);
    }
    expect(low).toEqual([]);
  });
});

/** Reads the QR code back from the page's SVG path ("M<x> <y>h<n>v1h-<n>z" runs), with jsQR. */
function decodeQrSvg(d: string | null, viewBox: string | null): string | undefined {
  const size = Number(viewBox!.split(' ')[2]);
  const scale = 4;
  const width = size * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  for (const [, x, y, n] of d!.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    for (let dx = 0; dx < Number(n) * scale; dx++) {
      for (let dy = 0; dy < scale; dy++) {
        const i = ((Number(y) * scale + dy) * width + Number(x) * scale + dx) * 4;
        data[i] = data[i + 1] = data[i + 2] = 0;
      }
    }
  }
  return jsQR(data, width, width)?.data;
}

/** WCAG 2 contrast of each text in the card and the header's verified line against its background. */
const CONTRAST = contrastOf(
  '#verify h2, #verify p, #verify label, #verify a, #verify input, #verify button, #verify figcaption, #identity',
);
