import { useBrowser } from '../support/browser';
import { describeWith, services } from '../support/services';
import { eventually } from '../support/harness';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * The visitor page says the visitor is typing (docs/protocol.md `typing`) while something is
 * being written, and staff see "typing…" in the topic: the emulator records the call. The
 * throttling itself is tests/staff/typing.test.ts.
 */
jest.setTimeout(60_000);

describeWith([services.chromium], 'the visitor page while the visitor types, in Chromium', () => {
  const web = useBrowser();
  let h: TopicdeskWithTelegram;

  beforeAll(async () => {
    h = await startWithTelegram('sqlite');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('typing in the message box shows "typing…" in the thread’s topic', async () => {
    const page = await web.newPage();
    const typingFrames: string[] = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => String(f.payload).includes('"typing"') && typingFrames.push(String(f.payload))));
    await page.goto(h.td.url);
    await page.waitForSelector('html[data-connection="online"]');
    await page.locator('#text').fill('Hello there');
    await page.locator('#text').press('Enter');
    await page.locator('#messages .msg--visitor[data-id]', { hasText: 'Hello there' }).waitFor();
    const thread = await eventually(async () => {
      const t = await h.td.app.db('threads').orderBy('id', 'desc').first();
      return t?.topic_id ? t : null;
    });

    const before = h.emu.callsTo('sendChatAction').length;
    await page.locator('#text').pressSequentially('Is my order');
    const call = await eventually(() => h.emu.callsTo('sendChatAction').slice(before)[0], { what: 'sendChatAction' });
    expect(call.params).toMatchObject({ action: 'typing', message_thread_id: Number(thread.topic_id) });
    // No ack asked, nothing but the event: the page paces itself (one every 2 s at most).
    expect(typingFrames.length).toBeGreaterThan(0);
    for (const frame of typingFrames) expect(frame).toBe('42["typing",{}]');
  });
});
