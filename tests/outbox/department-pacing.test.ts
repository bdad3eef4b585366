import { connectVisitor, STAFF_CHAT_ID, eventually, outboxIdle } from '../support/harness';
import { describeEachDatabase, describeWith, services } from '../support/services';
import type { DatabaseKind } from '../support/test-database';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { botMessages, sendParams, staffSays, type Staff } from '../staff/staff-helpers';

const SALES = -1002100000001;

/**
 * Each department's staff chat has its own share of Telegram's group limit (docs/departments.md):
 * while the default chat's budget is spent and its burst waits, a thread of another department
 * is delivered at once. Through the real outbox, pacer and emulator, on both databases, and with
 * the pacer's budgets kept in Redis (where several instances share them).
 */
describeEachDatabase('pacing per department, on %s', (kind) => pacingPerDepartment(kind, {}));

describeWith([services.postgres, services.redis], 'pacing per department, budgets in Redis', () =>
  pacingPerDepartment('postgres', { REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_KEY_PREFIX: `dept-pacing-${process.pid}-${Date.now()}` }),
);

function pacingPerDepartment(kind: DatabaseKind, env: Record<string, string>) {
  let h: TopicdeskWithTelegram;
  let deniz: Staff;

  beforeAll(async () => {
    h = await startWithTelegram(kind, {
      // Six sends a minute per chat: five new threads (a topic and a message each) are more than the default chat may take now.
      env: { TELEGRAM_CHAT_SENDS_PER_MINUTE: '6', ...env },
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5201, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
        emu.addChat({ id: SALES, type: 'supergroup', title: 'Sales', is_forum: true });
        emu.setChatMember(SALES, emu.bot.id, { status: 'administrator', can_manage_topics: true });
      },
    });
    const added = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/department add Sales' });
    const code = /\/claim ([A-Z0-9]{10})/.exec(added.answer.text)![1];
    await staffSays(h.emu, { chatId: SALES, from: deniz, text: `/claim ${code}` });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a burst that spends the default chat’s budget does not hold back another department’s thread', async () => {
    const burst = await Promise.all([1, 2, 3, 4, 5].map(() => connectVisitor(h.td.url)));
    await Promise.all(burst.map((v, i) => v.send(`Question ${i + 1} for support`)));
    // The outbox has done what the default chat's budget allows now: the rest of the burst waits.
    await outboxIdle(h.td);
    const waiting = async () =>
      Number(
        (
          await h.td.app
            .db('outbox as o')
            .join('threads as t', 't.id', 'o.thread_id')
            .whereNull('t.department_id')
            .andWhere('o.status', 'pending')
            .count({ n: '*' })
        )[0].n,
      );
    expect(await waiting()).toBeGreaterThan(0);
    const delivered = botMessages(h.emu, STAFF_CHAT_ID).filter((c) => /^Question \d for support$/.test(String(sendParams(c).text)));
    expect(delivered.length).toBeLessThan(5);

    // Sales has its own budget: its visitor's first message goes out now, topic and all.
    const buyer = await connectVisitor(h.td.url);
    const sent = await buyer.emit('message:send', { text: 'A quote for 200 pieces, please', clientId: 'quote-1', department: 'sales' });
    expect(sent.ok).toBe(true);
    await buyer.waitFor('message:status', (s) => s.status === 'delivered', 15_000);
    await eventually(() => botMessages(h.emu, SALES).find((c) => sendParams(c).text === 'A quote for 200 pieces, please'));
    // …while the default chat's burst is still waiting for its budget.
    expect(await waiting()).toBeGreaterThan(0);
    expect(h.emu.calls.filter((c) => c.error?.error_code === 429)).toEqual([]);
    for (const v of [...burst, buyer]) v.close();
  });
}
