import { connectVisitor, eventually, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { api, movableClock, seedThread, snapshot, staffCookie, type ApiBody, type Staff } from './admin-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * The staff API (docs/admin.md) over real HTTP against the whole app:
 * who may read, that nothing can be written, the list's filters and pagination,
 * one thread's messages with attachments, and the stats.
 */
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const ROUTES = [
  '/api/admin/session',
  '/api/admin/threads',
  '/api/admin/threads?q=parcel&status=open',
  '/api/admin/threads/1',
  '/api/admin/threads/1/messages',
  '/api/admin/stats',
  '/api/admin/nope',
];
const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

describeEachDatabase('the staff API on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  let cookie: string;
  const clock = movableClock();

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      clock,
      env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' },
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', is_bot: false }) as Staff;
      },
    });
    ({ emu, td } = setup);
    cookie = await staffCookie(td, emu, deniz);
  });
  afterAll(() => setup?.stop());

  it('without a session: 401 on every API route and method, the sign-in explanation on every page', async () => {
    for (const path of ROUTES) {
      for (const method of ['GET', ...WRITES]) {
        const res = await api(td, path, undefined, { method });
        expect([path, method, res.status]).toEqual([path, method, 401]);
        if (method !== 'OPTIONS') expect(res.body.error.code).toBe('unauthorized');
      }
    }
    expect((await api(td, '/api/admin/logout', undefined, { method: 'POST' })).status).toBe(401);
    for (const path of ['/admin', '/admin/', '/admin/threads/1']) {
      const res = await api(td, path);
      expect([path, res.status]).toEqual([path, 401]);
      expect(res.res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.body).toContain('send /web in the staff chat');
      expect(res.body).not.toContain('<script');
    }
    // The page's shell is not reachable around the session check.
    const shell = await api(td, '/admin.html');
    expect(shell.status).toBe(301);
    expect(shell.res.headers.get('location')).toBe('/admin');
  });

  it('right after a login opened from another site, the page refreshes once so the browser sends the new SameSite=Strict cookie', async () => {
    const res = await api(td, '/admin?login=1');
    expect(res.body).toContain('<meta http-equiv="refresh" content="0; url=/admin">');
    expect((await api(td, '/admin')).body).not.toContain('http-equiv="refresh"');
  });

  it('with a session: every non-GET under /api/admin is refused except logout, and no request changes any data', async () => {
    await seedThread(td.app.db, { messages: [{ sender: 'visitor', text: 'please do not change me', at: clock.now().getTime() }] });
    const v = await connectVisitor(td.url);
    const sent = await v.send('a real message through the socket');
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    v.close();
    await eventually(async () => (await td.app.store.outbox.pendingCount()) === 0, { what: 'outbox drained' });
    const threadId = sent.message.threadId;
    const { csrfToken } = (await api(td, '/api/admin/session', cookie)).body;

    const before = await snapshot(td.app.db);
    const paths = [
      ...ROUTES,
      `/api/admin/threads/${threadId}`,
      `/api/admin/threads/${threadId}/messages`,
      '/api/admin/messages',
      '/api/admin/threads/new',
    ];
    for (const path of paths) {
      for (const method of WRITES) {
        const res = await api(td, path, cookie, {
          method,
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken, origin: td.url },
          body: method === 'OPTIONS' ? undefined : JSON.stringify({ text: 'injected', status: 'closed', threadId }),
        });
        expect([path, method, res.status]).toEqual([path, method, 405]);
        expect(res.res.headers.get('allow')).toBe('GET, HEAD');
      }
      expect((await api(td, path, cookie)).status).toBeLessThan(500);
    }
    expect(await snapshot(td.app.db)).toBe(before);
    // The one write there is ends only the caller's own session (see login.test.ts).
    const other = await staffCookie(td, emu, deniz);
    const token = (await api(td, '/api/admin/session', other)).body.csrfToken;
    expect((await api(td, '/api/admin/logout', other, { method: 'POST', headers: { 'x-csrf-token': token, origin: td.url } })).status).toBe(
      204,
    );
  });

  it('lists threads newest activity first, with visitor, last message, count and the Telegram topic link', async () => {
    const v = await connectVisitor(td.url);
    const first = await v.send('Where is my order?');
    await v.waitFor('message:status', (s) => s.id === first.message.id);
    const thread = await td.app.store.threads.findById(first.message.threadId);
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'Checking it now', threadId: thread!.topicId! });
    await v.waitFor('message', (m) => m.sender === 'staff');
    v.close();

    const res = await api(td, '/api/admin/threads', cookie);
    expect(res.status).toBe(200);
    const item = res.body.threads[0];
    expect(item).toMatchObject({
      id: thread!.id,
      ref: thread!.ref,
      status: 'open',
      visitor: { id: thread!.visitorId, name: null, verified: false }, // staff see the database id (`Visitor #<n>`)
      telegramUrl: `https://t.me/c/${String(STAFF_CHAT_ID).slice(4)}/${thread!.topicId}`,
      messageCount: 2,
      lastMessage: { sender: 'staff', text: 'Checking it now', threadId: thread!.id },
      match: null,
    });
    const times = res.body.threads.map((t) => Date.parse(t.lastActivityAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('filters by status, verified and date range', async () => {
    const now = clock.now().getTime();
    const [user] = await td.app
      .db('users')
      .insert({ telegram_id: 777001, username: 'verified_one', phone_number: '+905551112233', display_name: 'Veli', created_at: now })
      .returning('id');
    const userId = Number(typeof user === 'object' ? user.id : user);
    const closed = await seedThread(td.app.db, {
      status: 'closed',
      messages: [{ sender: 'visitor', text: 'closed one', at: now - 2 * DAY }],
    });
    const verified = await seedThread(td.app.db, {
      userId,
      name: 'Veli',
      messages: [{ sender: 'visitor', text: 'verified one', at: now - 2 * DAY + MINUTE }],
    });
    const old = await seedThread(td.app.db, {
      messages: [
        { sender: 'visitor', text: 'ten days ago', at: now - 10 * DAY },
        { sender: 'staff', text: 'answered then', at: now - 10 * DAY + MINUTE },
      ],
    });
    const ids = async (query: string) => (await api(td, `/api/admin/threads?limit=100&${query}`, cookie)).body.threads.map((t) => t.id);

    expect(await ids('status=closed')).toEqual([closed.threadId]);
    expect(await ids('status=open')).not.toContain(closed.threadId);
    expect(await ids('verified=true')).toEqual([verified.threadId]);
    expect(await ids('verified=false')).toEqual(expect.arrayContaining([closed.threadId, old.threadId]));
    expect(await ids('verified=false')).not.toContain(verified.threadId);
    const day = (t: number) => new Date(t).toISOString().slice(0, 10);
    expect(await ids(`from=${day(now - 11 * DAY)}&to=${day(now - 9 * DAY)}`)).toEqual([old.threadId]);
    // A thread counts for a range when it has a message in it: days later, the old thread is not in.
    expect(await ids(`from=${day(now - 3 * DAY)}&to=${day(now - DAY)}`)).toEqual([verified.threadId, closed.threadId]);
    expect(
      await ids(`from=${new Date(now - 2 * DAY + 30_000).toISOString()}&to=${new Date(now - 2 * DAY + 2 * MINUTE).toISOString()}`),
    ).toEqual([verified.threadId]);
    expect(await ids(`status=closed&verified=true`)).toEqual([]);

    const detail = (await api(td, `/api/admin/threads/${verified.threadId}`, cookie)).body.thread;
    expect(detail.visitor).toMatchObject({
      name: 'Veli',
      verified: true,
      phone: '+905551112233',
      username: 'verified_one',
      blocked: false,
    });

    for (const bad of [
      'status=pending',
      'verified=maybe',
      'from=yesterday',
      'limit=0',
      'limit=101',
      'cursor=abc',
      'q=' + 'x'.repeat(201),
      'unknown=1',
    ]) {
      const res = await api(td, `/api/admin/threads?${bad}`, cookie);
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(res.body.error.code).toBe('bad_request');
    }
  });

  it('pages with a cursor that is stable while threads are created and bumped: no thread twice, none lost', async () => {
    const base = clock.now().getTime() - 5 * DAY;
    const seeded: number[] = [];
    for (let i = 0; i < 12; i++)
      seeded.push(
        (await seedThread(td.app.db, { messages: [{ sender: 'visitor', text: `paging ${i}`, at: base + i * MINUTE }] })).threadId,
      );
    const from = new Date(base - MINUTE).toISOString();
    const to = new Date(base + 12 * MINUTE).toISOString();
    const page = async (cursor?: string | null) =>
      (await api(td, `/api/admin/threads?limit=5&from=${from}&to=${to}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, cookie))
        .body;

    const p1 = await page();
    expect(p1.threads.map((t) => t.id)).toEqual(seeded.slice(7).reverse());
    // Meanwhile: threads with newer activity than the cursor (they go to the top, which the walk has passed),
    // threads with older activity (still ahead of the walk), and new activity on a thread of page 1.
    const top: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t = await seedThread(td.app.db, { messages: [{ sender: 'visitor', text: `new ${i}`, at: base + 11 * MINUTE + i }] });
      await td.app
        .db('threads')
        .where({ id: t.threadId })
        .update({ last_activity: clock.now().getTime() + i });
      top.push(t.threadId);
    }
    const late: number[] = [];
    for (let i = 0; i < 3; i++)
      late.push(
        (await seedThread(td.app.db, { messages: [{ sender: 'visitor', text: `late ${i}`, at: base + 6 * MINUTE + i }] })).threadId,
      );
    await td.app
      .db('threads')
      .where({ id: seeded[10] })
      .update({ last_activity: clock.now().getTime() + 10 });

    const p2 = await page(p1.nextCursor);
    const p3 = await page(p2.nextCursor);
    expect(p2.threads.map((t) => t.id)).toEqual([...late.reverse(), seeded[6], seeded[5]]);
    expect(p3.threads.map((t) => t.id)).toEqual(seeded.slice(0, 5).reverse());
    expect(p3.nextCursor).toBeNull();
    const seen = [...p1.threads, ...p2.threads, ...p3.threads].map((t) => t.id);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of seeded) expect(seen.filter((s) => s === id)).toHaveLength(1);
    // A fresh first page starts with the newest activity.
    expect((await page()).threads.map((t) => t.id).slice(0, 3)).toEqual([seeded[10], top[1], top[0]]);
  });

  it('a thread’s messages: all of them in order, attachments included, paged with before/after', async () => {
    const at = clock.now().getTime() - DAY;
    const t = await seedThread(td.app.db, {
      messages: [
        { sender: 'visitor', text: 'here is a photo', at },
        {
          sender: 'visitor',
          text: null,
          at: at + 1000,
          attachment: { kind: 'image', url: '/media/abc123', mime: 'image/png', size: 2048 },
        },
        {
          sender: 'staff',
          text: 'Thanks, got it',
          at: at + 2000,
          attachment: { kind: 'voice', url: 'https://res.cloudinary.com/x/voice.ogg', mime: 'audio/ogg', size: 9000 },
        },
        ...Array.from({ length: 7 }, (_, i) => ({ sender: 'visitor' as const, text: `more ${i}`, at: at + 3000 + i })),
      ],
    });
    const all = (await api(td, `/api/admin/threads/${t.threadId}/messages`, cookie)).body;
    expect(all.hasMore).toBe(false);
    expect(all.thread.id).toBe(t.threadId);
    expect(all.messages.map((m) => m.id)).toEqual(t.messageIds);
    expect(all.messages[1]).toMatchObject({
      sender: 'visitor',
      text: null,
      attachment: { kind: 'image', url: '/media/abc123', mime: 'image/png', size: 2048 },
    });
    expect(all.messages[2].attachment).toEqual({
      kind: 'voice',
      url: 'https://res.cloudinary.com/x/voice.ogg',
      mime: 'audio/ogg',
      size: 9000,
    });

    const newest = (await api(td, `/api/admin/threads/${t.threadId}/messages?limit=4`, cookie)).body;
    expect(newest.messages.map((m) => m.id)).toEqual(t.messageIds.slice(6));
    expect(newest.hasMore).toBe(true);
    const older = (await api(td, `/api/admin/threads/${t.threadId}/messages?limit=4&before=${t.messageIds[6]}`, cookie)).body;
    expect(older.messages.map((m) => m.id)).toEqual(t.messageIds.slice(2, 6));
    const after = (await api(td, `/api/admin/threads/${t.threadId}/messages?after=${t.messageIds[7]}`, cookie)).body;
    expect(after.messages.map((m) => m.id)).toEqual(t.messageIds.slice(8));

    expect((await api(td, '/api/admin/threads/999999/messages', cookie)).status).toBe(404);
    expect((await api(td, '/api/admin/threads/999999', cookie)).status).toBe(404);
    for (const bad of [
      '/api/admin/threads/abc/messages',
      '/api/admin/threads/0',
      `/api/admin/threads/${t.threadId}/messages?limit=501`,
      `/api/admin/threads/${t.threadId}/messages?before=x`,
    ]) {
      expect([bad, (await api(td, bad, cookie)).status]).toEqual([bad, 400]);
    }
  });

  it('stats: messages per day for 30 days, the median first response per day, open threads', async () => {
    const now = clock.now().getTime();
    const before = (await api(td, '/api/admin/stats', cookie)).body;
    expect(before.days).toHaveLength(30);
    expect(before.days[29].date).toBe(new Date(now).toISOString().slice(0, 10));

    // Two threads starting 20 days ago (first replies after 2 and 4 minutes: median 3), one 21 days ago never answered.
    const d20 = Math.floor((now - 20 * DAY) / DAY) * DAY + 10 * 60 * MINUTE;
    await seedThread(td.app.db, {
      messages: [
        { sender: 'visitor', text: 'a', at: d20 },
        { sender: 'visitor', text: 'b', at: d20 + MINUTE },
        { sender: 'staff', text: 'c', at: d20 + 2 * MINUTE },
      ],
    });
    await seedThread(td.app.db, {
      status: 'closed',
      messages: [
        { sender: 'visitor', text: 'd', at: d20 + 60 * MINUTE },
        { sender: 'staff', text: 'e', at: d20 + 64 * MINUTE },
        { sender: 'system', text: 'closed', at: d20 + 65 * MINUTE },
      ],
    });
    await seedThread(td.app.db, { messages: [{ sender: 'visitor', text: 'f', at: d20 - DAY }] });
    // Older than 30 days: outside every number.
    await seedThread(td.app.db, {
      messages: [
        { sender: 'visitor', text: 'g', at: now - 40 * DAY },
        { sender: 'staff', text: 'h', at: now - 40 * DAY + MINUTE },
      ],
    });

    const after = (await api(td, '/api/admin/stats', cookie)).body;
    const day = (body: ApiBody, t: number) => body.days.find((d) => d.date === new Date(t).toISOString().slice(0, 10));
    expect(day(after, d20)).toEqual({
      date: new Date(d20).toISOString().slice(0, 10),
      visitorMessages: 3,
      staffMessages: 2,
      answeredThreads: 2,
      medianFirstResponseMs: 3 * MINUTE,
    });
    expect(day(after, d20 - DAY)).toMatchObject({ visitorMessages: 1, staffMessages: 0, answeredThreads: 0, medianFirstResponseMs: null });
    expect(after.openThreads).toBe(before.openThreads + 3);
    expect(after.closedThreads).toBe(before.closedThreads + 1);
    expect(after.utcOffsetMinutes).toBe(0);

    // In Istanbul (UTC+3) a message at 22:30 UTC belongs to the next day.
    const late = Math.floor((now - 15 * DAY) / DAY) * DAY + 22.5 * 60 * MINUTE;
    await seedThread(td.app.db, { messages: [{ sender: 'visitor', text: 'late evening', at: late }] });
    const utc = (await api(td, '/api/admin/stats', cookie)).body;
    const ist = (await api(td, '/api/admin/stats?utcOffset=180', cookie)).body;
    expect(ist.utcOffsetMinutes).toBe(180);
    expect(day(utc, late)?.visitorMessages).toBe(1);
    expect(day(ist, late + DAY)?.visitorMessages).toBe(1);
    expect(day(ist, late)?.visitorMessages).toBe(0);
    expect((await api(td, '/api/admin/stats?utcOffset=999', cookie)).status).toBe(400);
  });
});
