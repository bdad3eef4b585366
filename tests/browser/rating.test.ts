import { useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { eventually, STAFF_CHAT_ID } from '../support/harness';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { sendParams, staffSays, type Staff } from '../staff/staff-helpers';

/**
 * The rating card on the visitor page (docs/protocol.md `thread:rate`), in Chromium at a phone's
 * width: staff /close the thread in its topic (the bot over HTTP to the Bot API emulator), the
 * visitor rates with the keyboard only, is thanked, and a reload does not ask again; English and Turkish.
 */
jest.setTimeout(60_000);

const LANGUAGES = [
  {
    locale: 'en-US',
    title: 'How did we do? Rate this conversation',
    four: '4 of 5: good',
    comment: 'Quick & <b>kind</b>',
    thanks: 'Thank you for your rating!',
  },
  {
    locale: 'tr-TR',
    title: 'Nasıldık? Bu görüşmeyi değerlendirin',
    four: '5 üzerinden 4: iyi',
    comment: 'Hızlı ve nazik',
    thanks: 'Değerlendirmeniz için teşekkürler!',
  },
];

describeWith([services.chromium], 'rating a closed conversation on the page, in Chromium', () => {
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

  it.each(LANGUAGES)('offers the card after /close, rates with the keyboard, thanks, and is not asked again ($locale)', async (l) => {
    const page = await web.newPage({ locale: l.locale, viewport: { width: 360, height: 740 } });
    await page.goto(h.td.url);
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator('#text').fill(`Hello from ${l.locale}`);
    await page.locator('#text').press('Enter');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: l.locale }).waitFor();
    const thread = (await eventually(async () => {
      const t = await h.td.app.db('threads').orderBy('id', 'desc').first();
      return t?.topic_id ? (t as { id: number; topic_id: number }) : null;
    }))!;
    const card = page.locator('#rating');
    expect(await card.isHidden()).toBe(true);

    await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: Number(thread.topic_id) });
    await card.waitFor();
    // Loading the page while the closing is not rated offers it too.
    await page.reload();
    await page.waitForSelector('html[data-connection="online"]');
    await card.waitFor();
    expect(await page.getByRole('group', { name: l.title }).isVisible()).toBe(true);
    expect(await page.getByRole('radio').count()).toBe(5);
    // At 360 px the card fits: nothing wider than the screen, each star a 44 px target.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    const box = (await card.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(360);
    expect((await page.locator('label[for="rating-5"]').boundingBox())!.width).toBeGreaterThanOrEqual(44);

    // Keyboard only: into the group, arrows to the fourth star, Tab to the comment, Tab to Send, Enter.
    await page.locator('#rating-1').focus();
    await page.keyboard.press('Space');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('radio', { name: l.four }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe('rating-comment');
    await page.keyboard.type(l.comment);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('#rating-status', { hasText: l.thanks }).waitFor();
    expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe('rating-status');
    expect(await page.getByRole('radio').count()).toBe(0); // the card shows only its thanks now

    const rows: Array<{ score: number | string; comment: string | null }> = await h.td.app
      .db('thread_ratings')
      .where({ thread_id: thread.id });
    expect(rows.map((r) => [Number(r.score), r.comment])).toEqual([[4, l.comment]]);
    await h.emu.waitFor((c) => c.method === 'sendMessage' && c.ok && sendParams(c).text === `Rating: ★★★★☆ 4/5 — “${l.comment}”`);

    // A reload does not ask again for this closing.
    await page.reload();
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator('#messages [data-id]').first().waitFor();
    expect(await card.isHidden()).toBe(true);
    await page.close();
  });
});
