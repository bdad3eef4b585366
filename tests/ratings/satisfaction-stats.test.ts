import type { User } from 'grammy/types';
import { STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import type { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { movableClock, staffSays, visitorWithThread, type Staff } from '../staff/staff-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { api, staffCookie } from '../admin/admin-helpers';

const DAY = 24 * 60 * 60 * 1000;
const todayAt10 = () => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 10));
};
const isoDay = (d: Date) => d.toISOString().slice(0, 10);
/** The Monday of a UTC day's week. */
const mondayOf = (d: Date) => isoDay(new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY));

/**
 * Satisfaction in /stats and on the staff page (GET /api/admin/stats): ratings given through
 * thread:rate by real Socket.IO clients after a real /close, nine days apart (the app's clock is
 * moved), counted the same way in both places.
 */
describeEachDatabase('satisfaction figures, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  let ayse: Staff;
  const start = new Date(todayAt10().getTime() - 9 * DAY);
  const clock = movableClock(start);
  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      clock,
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5002, first_name: 'Ayşe', language_code: 'tr', is_bot: false }) as Staff;
      },
    });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  const stats = async (from: User) => (await staffSays(emu, { chatId: STAFF_CHAT_ID, from, text: '/stats' })).answer.text.split('\n');
  const satisfactionLines = async (from: User) => (await stats(from)).slice(-2);

  /** A visitor whose thread staff closed with /close, and who rates it. */
  async function closeAndRate(score: number, comment?: string) {
    const { v, threadId, topicId } = await visitorWithThread(td, `question before a ${score}`);
    await staffSays(emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: topicId! });
    await v.waitFor('thread:status', (s) => s.rateable);
    expect(await v.emit('thread:rate', { threadId, score, ...(comment ? { comment } : {}) })).toEqual({ ok: true });
    v.close();
    return threadId;
  }

  it('shows average, count and distribution for today and 30 days in /stats, and per day and week on the staff page', async () => {
    expect(await satisfactionLines(deniz)).toEqual(['Satisfaction (30 days): no ratings yet', 'Satisfaction today: no ratings yet']);

    await closeAndRate(5);
    await closeAndRate(2, 'slow');
    clock.advance(9 * DAY); // today, 10:00 UTC
    await closeAndRate(4);
    const sales = await closeAndRate(4, 'fine');

    expect(await satisfactionLines(deniz)).toEqual([
      'Satisfaction (30 days): 3.8/5 from 4 ratings (5★ 1 · 4★ 2 · 3★ 0 · 2★ 1 · 1★ 0)',
      'Satisfaction today: 4.0/5 from 2 ratings (5★ 0 · 4★ 2 · 3★ 0 · 2★ 0 · 1★ 0)',
    ]);
    expect(await satisfactionLines(ayse)).toEqual([
      'Memnuniyet (30 gün): 3,8/5, 4 değerlendirme (5★ 1 · 4★ 2 · 3★ 0 · 2★ 1 · 1★ 0)',
      'Bugünkü memnuniyet: 4,0/5, 2 değerlendirme (5★ 0 · 4★ 2 · 3★ 0 · 2★ 0 · 1★ 0)',
    ]);

    // The staff page: the same ratings, overall and per day and per week (UTC here).
    const page = await api(td, '/api/admin/stats?utcOffset=0', await staffCookie(td, emu, deniz));
    expect(page.status).toBe(200);
    const s = page.body.satisfaction;
    expect(s.overall).toEqual({ count: 4, average: 3.75, distribution: [0, 1, 0, 2, 1] });
    expect(s.days).toHaveLength(30);
    expect(s.days.at(-1)).toEqual({ date: isoDay(clock.now()), count: 2, average: 4, distribution: [0, 0, 0, 2, 0] });
    expect(s.days.at(-10)).toEqual({ date: isoDay(start), count: 2, average: 3.5, distribution: [0, 1, 0, 0, 1] });
    expect(s.days.filter((d) => d.count > 0)).toHaveLength(2);
    expect(s.days.filter((d) => d.count === 0).every((d) => d.average === null)).toBe(true);
    // Weeks start on Monday; the period's first week may start before it.
    expect(s.weeks[0].date <= s.days[0].date).toBe(true);
    expect(s.weeks.at(-1)!.date).toBe(mondayOf(clock.now()));
    const byWeek = Object.fromEntries(s.weeks.filter((w) => w.count > 0).map((w) => [w.date, w.distribution]));
    expect(byWeek).toEqual({ [mondayOf(start)]: [0, 1, 0, 0, 1], [mondayOf(clock.now())]: [0, 0, 0, 2, 0] });
    expect(s.weeks.reduce((n, w) => n + w.count, 0)).toBe(4);

    // 14 hours ahead of UTC, today's ratings (just after 10:00 UTC) fall on the next local day.
    const ahead = await api(td, '/api/admin/stats?utcOffset=840', await staffCookie(td, emu, deniz));
    expect(ahead.body.satisfaction.days.at(-1)).toMatchObject({ date: isoDay(new Date(clock.now().getTime() + DAY)), count: 2 });

    // Per department (docs/departments.md): a department's figures count only the ratings given while the thread was
    // that department's (kept with the rating: a thread erased or moved later leaves its ratings where they were).
    const [row] = await td.app
      .db('departments')
      .insert({ key: 'sales', name: 'Sales', created_by: 5001, created_at: Date.now() })
      .returning('id');
    const departmentId = Number(typeof row === 'object' ? (row as { id: number }).id : row);
    await td.app.db('threads').where({ id: sales }).update({ department_id: departmentId });
    await td.app.db('thread_ratings').where({ thread_id: sales }).update({ department_id: departmentId });
    const ofSales = await td.app.store.stats.stats(clock.now(), departmentId);
    expect(ofSales.satisfaction30Days).toEqual({ count: 1, average: 4, distribution: [0, 0, 0, 1, 0] });
    const ofDefault = await td.app.store.stats.stats(clock.now(), null);
    expect(ofDefault.satisfaction30Days).toEqual({ count: 3, average: 11 / 3, distribution: [0, 1, 0, 1, 1] });
    expect(ofDefault.satisfactionToday).toEqual({ count: 1, average: 4, distribution: [0, 0, 0, 1, 0] });
    expect((await td.app.store.stats.stats(clock.now())).satisfaction30Days.count).toBe(4);
  });
});
