import type { BrowserContextOptions, Page } from 'playwright-core';
import { useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { CONTRAST_REPORT, STATUS_DOT_CONTRAST } from '../support/contrast';

/**
 * The visitor page never claims "online" while nobody can answer (docs/protocol.md
 * `support:status` offline): without a bot, and live while Telegram fails and comes back.
 * Real Chromium, the whole of topicdesk, the real bot against the Bot API emulator.
 */
jest.setTimeout(60_000);

const OFFLINE_EN = 'Nobody can answer right now. Your messages are kept, and we’ll reply here as soon as someone is back.';
const OFFLINE_TR = 'Şu an yanıt verebilecek kimse yok. Mesajlarınız saklanıyor; biri döner dönmez buradan yanıtlayacağız.';
const ONLINE_EN = 'We’re online and reply here';

describeWith([services.chromium], 'the visitor page when nobody can answer', () => {
  const web = useBrowser();

  async function openChat(url: string, options: BrowserContextOptions = {}): Promise<Page> {
    const context = await web.newContext(options);
    const page = await context.newPage();
    web.watch(page);
    await page.goto(url);
    await page.waitForSelector('html[data-connection="online"]');
    return page;
  }

  /** Whether the menu offers "Verify with Telegram" (opened, looked at, closed again). */
  async function offersVerification(page: Page): Promise<boolean> {
    await page.locator('#menu-button').click();
    await page.locator('#menu-name').waitFor();
    const visible = await page.locator('#menu-verify').isVisible();
    await page.keyboard.press('Escape');
    return visible;
  }

  /** Types and sends; resolves with the stored message's id once the server acknowledged it. */
  async function sendFromPage(page: Page, text: string): Promise<number> {
    await page.locator('#text').fill(text);
    await page.locator('#text').press('Enter');
    const item = page.locator('#messages .msg--visitor[data-id]', { hasText: text });
    await item.waitFor();
    return Number(await item.getAttribute('data-id'));
  }

  describe('without a bot token', () => {
    let db: TestDatabase;
    let td: RunningTopicdesk;
    beforeAll(async () => {
      db = await createTestDatabase('sqlite');
      td = await startTopicdesk({ db, env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' } });
    });
    afterAll(async () => {
      await td?.stop();
      await db?.drop();
    });

    it('says messages are kept and answered later, claims no one is online, offers no verification, and stores what is sent', async () => {
      const page = await openChat(td.url);
      const status = page.locator('#support-status[data-status="offline"]');
      await status.waitFor();
      expect(await status.textContent()).toBe(OFFLINE_EN);
      expect(await page.locator('body').innerText()).not.toMatch(/online/i);
      // A screen reader hears it without looking for it.
      expect(await page.locator('#announcer').textContent()).toBe(OFFLINE_EN);
      expect(await page.locator('#announcer').getAttribute('aria-live')).toBe('polite');
      // The dot is a grey ring, not the green light.
      expect(await page.evaluate(STATUS_DOT_CONTRAST)).toEqual({ color: 'rgb(107, 114, 128)', ratio: expect.any(Number) as number });
      expect(await offersVerification(page)).toBe(false);
      expect(await page.locator('#menu-name').isVisible()).toBe(false); // the menu closed again

      const id = await sendFromPage(page, 'Anyone there? I will wait.');
      const row = (await td.app.store.messages.findById(id))!;
      expect(row).toMatchObject({ text: 'Anyone there? I will wait.', sender: 'visitor', status: 'stored' });
      expect((await td.app.health()).outbox).toBe(1);
    });

    it('says so in Turkish to a Turkish browser', async () => {
      const page = await openChat(td.url, { locale: 'tr-TR' });
      const status = page.locator('#support-status[data-status="offline"]');
      await status.waitFor();
      expect(await status.textContent()).toBe(OFFLINE_TR);
      expect(await page.locator('body').innerText()).not.toContain('Çevrimiçiyiz');
      expect(await offersVerification(page)).toBe(false);
    });

    it.each(['light', 'dark'] as const)('keeps text and dot contrast of at least 4.5:1 in %s mode', async (colorScheme) => {
      const page = await openChat(td.url, { colorScheme });
      await page.locator('#support-status[data-status="offline"]').waitFor();
      const report: Array<{ what: string; ratio: number }> = await page.evaluate(CONTRAST_REPORT);
      expect(report.find((r) => r.what === '#support-status')!.ratio).toBeGreaterThanOrEqual(4.5);
      expect(report.filter((r) => r.ratio < 4.5)).toEqual([]);
      const dot: { color: string; ratio: number } = await page.evaluate(STATUS_DOT_CONTRAST);
      expect(dot.color).toBe(colorScheme === 'dark' ? 'rgb(154, 163, 178)' : 'rgb(107, 114, 128)');
      expect(dot.ratio).toBeGreaterThanOrEqual(4.5);
    });
  });

  describe('while Telegram fails and comes back', () => {
    let db: TestDatabase;
    let emu: TelegramEmulator;
    let td: RunningTopicdesk;
    beforeAll(async () => {
      db = await createTestDatabase('sqlite');
      emu = await TelegramEmulator.start();
      emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
      // Three failed calls in a row are enough here (no time bound); the probe asks every second.
      td = await startTopicdesk({
        db,
        emulator: emu,
        env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000', TELEGRAM_OFFLINE_AFTER_SECONDS: '0', TELEGRAM_PROBE_SECONDS: '1' },
      });
      await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    });
    afterAll(async () => {
      await td?.stop();
      await emu?.stop();
      await db?.drop();
    });

    it('changes live, tells screen readers, hides verification meanwhile, and delivers what was written', async () => {
      const page = await openChat(td.url);
      const status = page.locator('#support-status');
      await page.locator('#support-status[data-status="online"]').waitFor();
      expect(await status.textContent()).toBe(ONLINE_EN);
      expect(await offersVerification(page)).toBe(true);

      // Telegram answers 502 to everything; three visitors' first messages fail to go out.
      emu.failNext('*', { error_code: 502, description: 'Bad Gateway' }, 100_000);
      const others = await Promise.all([1, 2, 3].map(() => connectVisitor(td.url)));
      await Promise.all(others.map((v, i) => v.send(`Outage ${i + 1}`)));
      await page.locator('#support-status[data-status="offline"]').waitFor({ timeout: 10_000 });
      expect(await status.textContent()).toBe(OFFLINE_EN);
      expect(await page.locator('#announcer').textContent()).toBe(OFFLINE_EN);
      expect(await offersVerification(page)).toBe(false);
      const kept = await sendFromPage(page, 'Written while nobody could answer');
      expect((await td.app.store.messages.findById(kept))!.status).toBe('stored');

      emu.reset();
      await page.locator('#support-status[data-status="online"]').waitFor({ timeout: 10_000 });
      expect(await status.textContent()).toBe(ONLINE_EN);
      expect(await page.locator('#announcer').textContent()).toBe(ONLINE_EN);
      expect(await offersVerification(page)).toBe(true);
      await page.locator(`#messages .msg--visitor[data-id="${kept}"][data-state="delivered"]`).waitFor({ timeout: 15_000 });
      for (const v of others) v.close();
    });
  });
});
