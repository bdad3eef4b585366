import { connectVisitor, STAFF_CHAT_ID, type RunningTopicdesk, type VisitorClient } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

describeEachDatabase('under the group limit, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      env: { TELEGRAM_CHAT_SENDS_PER_MINUTE: '20', OUTBOX_HOLD_MS: '1500' },
      prepare: (emu) => {
        emu.setChatRateLimit(STAFF_CHAT_ID, { limit: 20, windowMs: 60_000 }); // Telegram's group limit
      },
      waitForTelegram: false,
    });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  it('paces itself below the limit and merges waiting messages, each still mapped to the Telegram message that carried it', async () => {
    const visitors: VisitorClient[] = [];
    for (let v = 0; v < 4; v++) {
      const c = await connectVisitor(td.url);
      const warm = await c.send(`v${v} hello`);
      await c.waitFor('message:status', (s) => s.id === warm.message.id);
      visitors.push(c);
    }

    const ids = new Map<string, number>();
    await Promise.all(
      visitors.map(async (c, v) => {
        for (let n = 0; n < 8; n++) {
          const text = `v${v} burst ${n}`;
          ids.set(text, (await c.send(text)).message.id);
        }
      }),
    );
    await Promise.all(visitors.map((c, v) => c.waitFor('message:status', (s) => s.id === ids.get(`v${v} burst 7`), 20000)));

    const sends = emu.calls.filter((c) => c.method === 'sendMessage');
    expect(sends.filter((c) => !c.ok)).toEqual([]); // never ran into a 429
    const delivered = emu.sentMessages(STAFF_CHAT_ID);
    // Everything arrived within 20 s, so within one of Telegram's minute windows: at most the
    // group's 20 messages carried the 4 greetings and 32 burst messages (the rest were merged).
    expect(delivered.length).toBeGreaterThanOrEqual(4 + 4);
    expect(delivered.length).toBeLessThanOrEqual(20);
    const lines = delivered.flatMap((m) => (m.text ?? '').split('\n').map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, '')));
    for (const text of ids.keys()) expect({ text, n: lines.filter((l) => l === text).length }).toEqual({ text, n: 1 });

    // Every merged message maps to the Telegram message that carried it, in its own thread's topic.
    for (const [text, id] of ids) {
      const links = await td.app.store.telegramLinks.listForMessage(id);
      expect(links).toHaveLength(1);
      const carrier = delivered.find((m) => m.message_id === links[0].telegramMessageId)!;
      expect(carrier.text).toContain(text);
      const thread = await td.app.store.threads.findById(links[0].threadId);
      expect(carrier.message_thread_id).toBe(thread!.topicId);
      const routed = await td.app.store.telegramLinks.findByTelegramMessage(STAFF_CHAT_ID, carrier.message_id);
      expect(routed!.threadId).toBe(links[0].threadId);
    }
    const merged = delivered.find((m) => (m.text ?? '').includes('\n'))!;
    expect(merged.text).toMatch(/^\[\d\d:\d\d:\d\d\] v\d burst \d\n\[\d\d:\d\d:\d\d\] v\d burst \d/);
    for (const c of visitors) c.close();
  });
});
