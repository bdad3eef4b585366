import fs from 'node:fs';
import { useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import type { Staff } from '../staff/staff-helpers';

/**
 * The visitor downloads their conversation from the page's menu (GET /api/transcript): a text
 * file and a clean HTML page, their own thread only, in the page's language; in Chromium.
 */
jest.setTimeout(60_000);

describeWith([services.chromium], 'downloading the conversation, in Chromium', () => {
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

  const get = (token: string | null, query = 'format=txt') =>
    fetch(`${h.td.url}/api/transcript?${query}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

  it('the menu downloads the conversation as text and as a web page; others get nothing of it', async () => {
    const page = await web.newPage({ locale: 'tr-TR' });
    await page.goto(h.td.url);
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator('#text').fill('Merhaba <b>destek</b>');
    await page.locator('#text').press('Enter');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: 'Merhaba' }).waitFor();
    const thread = await eventually(async () => {
      const t = await h.td.app.db('threads').orderBy('id', 'desc').first();
      return t?.topic_id ? t : null;
    });
    h.emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, threadId: Number(thread.topic_id), text: 'Size nasıl yardımcı olabilirim?' });
    await page.locator('#messages .msg--staff', { hasText: 'yardımcı' }).waitFor();

    const download = async (item: string) => {
      await page.locator('#menu-button').click();
      const [file] = await Promise.all([page.waitForEvent('download'), page.locator(item).click()]);
      return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), 'utf8') };
    };
    expect(await page.locator('#menu-transcript-txt').textContent()).toBe('Görüşmeyi indir (metin)');
    const txt = await download('#menu-transcript-txt');
    expect(txt.name).toBe(`transcript-${thread.ref}.txt`);
    expect(txt.text.split('\n')[0]).toBe(`ziyaretçi ile ${thread.ref} görüşmesi`);
    expect(txt.text).toContain('Ziyaretçi:\n  Merhaba <b>destek</b>\n');
    expect(txt.text).toContain('Destek:\n  Size nasıl yardımcı olabilirim?\n');

    const html = await download('#menu-transcript-html');
    expect(html.name).toBe(`transcript-${thread.ref}.html`);
    expect(html.text).toContain('<p class="text">Merhaba &lt;b&gt;destek&lt;/b&gt;</p>');
    expect(html.text).not.toMatch(/<script|<b>/i);

    // The route: a token only ever gets its own visitor's thread.
    const token = await page.evaluate<string | null>("localStorage.getItem('topicdesk.token')");
    expect((await get(token)).status).toBe(200);
    expect((await get(null)).status).toBe(401);
    expect((await get('made-up-token')).status).toBe(401);
    expect((await get(token, 'format=pdf')).status).toBe(400);
    const other = await connectVisitor(h.td.url);
    const none = await get(other.session.token);
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ error: { code: 'not_found', message: 'There is no conversation yet.' } });
    await other.send('Someone else');
    const theirs = await (await get(other.session.token)).text();
    expect(theirs).toContain('Someone else');
    expect(theirs).not.toContain('Merhaba');
    other.close();
  });
});
