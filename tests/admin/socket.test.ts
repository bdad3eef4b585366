import { io as connectClient } from 'socket.io-client';
import { connectVisitor, eventually, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { api, connectStaff, movableClock, staffCookie, type Staff } from './admin-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * The staff page's live feed: the `/admin` Socket.IO namespace admits only a
 * staff session (cookie checked in the namespace middleware) and carries every
 * thread's message events; the visitor namespace is unchanged.
 */
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'connected',
    (err: Error & { data?: { code?: string } }) => err.data?.code ?? err.message,
  );

describeEachDatabase('the staff socket namespace on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  let ayse: Staff;
  const clock = movableClock();

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      clock,
      env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' },
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5002, first_name: 'Ayşe', is_bot: false }) as Staff;
      },
    });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  it('refuses a socket without a staff session', async () => {
    expect(await refusal(connectStaff(td))).toBe('unauthorized');
    expect(await refusal(connectStaff(td, { cookie: 'topicdesk_staff=forged.value' }))).toBe('unauthorized');
    // A visitor's credentials are not a staff session.
    const v = await connectVisitor(td.url);
    const asVisitor = connectClient(`${td.url}/admin`, {
      auth: { token: v.session.token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    expect(
      await new Promise((resolve) => {
        asVisitor.once('connect', () => resolve('connected'));
        asVisitor.once('connect_error', (err) => resolve(err.data?.code));
      }),
    ).toBe('unauthorized');
    asVisitor.close();
    v.close();
  });

  it('refuses a staff cookie sent from another site’s page', async () => {
    const cookie = await staffCookie(td, emu, deniz);
    expect(await refusal(connectStaff(td, { cookie, origin: 'https://evil.example' }))).toBe('forbidden');
    const ok = await connectStaff(td, { cookie, origin: td.url });
    ok.close();
  });

  it('a staff socket sees every thread live: visitor messages, staff replies, delivery, closing; visitors still see only their own', async () => {
    const staffSocket = await connectStaff(td, { cookie: await staffCookie(td, emu, deniz) });
    const alice = await connectVisitor(td.url);
    const bob = await connectVisitor(td.url);

    const a1 = await alice.send('Alice: where is my order?');
    const b1 = await bob.send('Bob: refund please');
    await eventually(() => staffSocket.events.filter((e) => e.event === 'message').length >= 2, { what: 'two live messages' });
    const live = staffSocket.events.filter((e) => e.event === 'message').map((e) => e.payload);
    expect(live.map((m) => [m.id, m.threadId, m.sender, m.text])).toEqual([
      [a1.message.id, a1.message.threadId, 'visitor', 'Alice: where is my order?'],
      [b1.message.id, b1.message.threadId, 'visitor', 'Bob: refund please'],
    ]);
    await eventually(() => staffSocket.events.some((e) => e.event === 'message:status' && e.payload.id === a1.message.id), {
      what: 'delivered',
    });
    expect(staffSocket.events.find((e) => e.event === 'message:status' && e.payload.id === a1.message.id)!.payload).toEqual({
      threadId: a1.message.threadId,
      id: a1.message.id,
      status: 'delivered',
    });

    const topicId = await eventually(async () => (await td.app.store.threads.findById(a1.message.threadId))?.topicId, { what: 'topic' });
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: 'Hi Alice, on it', threadId: topicId! });
    await eventually(() => staffSocket.events.some((e) => e.event === 'message' && e.payload.sender === 'staff'), {
      what: 'staff reply live',
    });
    emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: '/close', threadId: topicId! });
    await eventually(() => staffSocket.events.some((e) => e.event === 'thread:status'), { what: 'thread:status' });
    expect(staffSocket.events.find((e) => e.event === 'thread:status')!.payload).toEqual({ id: a1.message.threadId, status: 'closed' });

    // The visitor namespace is as it was: Alice got her reply and close; Bob nothing of Alice's.
    await alice.waitFor('message', (m) => m.sender === 'staff');
    await alice.waitFor('thread:status');
    expect(bob.received.filter((r) => r.event === 'message' || r.event === 'thread:status')).toEqual([]);
    // And staff events never reach visitors' sockets.
    expect(alice.received.some((r) => r.event === 'message:status' && 'threadId' in r.payload)).toBe(false);
    staffSocket.close();
    alice.close();
    bob.close();
  });

  it('logging out closes that session’s sockets, and only those', async () => {
    const cookie = await staffCookie(td, emu, deniz);
    const mine = await connectStaff(td, { cookie });
    const other = await connectStaff(td, { cookie: await staffCookie(td, emu, deniz) });
    const { csrfToken } = (await api(td, '/api/admin/session', cookie)).body;
    const closed = new Promise((resolve) => mine.once('disconnect', resolve));
    expect(
      (await api(td, '/api/admin/logout', cookie, { method: 'POST', headers: { 'x-csrf-token': csrfToken, origin: td.url } })).status,
    ).toBe(204);
    await closed;
    expect(mine.events.find((e) => e.event === 'session:ended')?.payload).toEqual({ reason: 'logged_out' });
    expect(other.connected).toBe(true);
    expect(await refusal(connectStaff(td, { cookie }))).toBe('unauthorized');
    other.close();
  });

  it('a removed staff member’s socket is closed at the next check, and a new one refused', async () => {
    const cookie = await staffCookie(td, emu, ayse);
    const socket = await connectStaff(td, { cookie });
    emu.setChatMember(STAFF_CHAT_ID, ayse.id, { status: 'left' });
    clock.advance(61_000);
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    await td.app.staffPage.recheckSockets();
    await closed;
    expect(socket.events.find((e) => e.event === 'session:ended')?.payload).toEqual({ reason: 'not_staff' });
    expect(await refusal(connectStaff(td, { cookie }))).toBe('unauthorized'); // revoked
    emu.setChatMember(STAFF_CHAT_ID, ayse.id, { status: 'member' });
  });

  it('removed from the staff chat: Telegram says so, and every socket and session of theirs ends at once, no check needed', async () => {
    const chat = { id: STAFF_CHAT_ID, type: 'supergroup' as const, title: 'Support', is_forum: true as const };
    const cookie = await staffCookie(td, emu, ayse);
    const socket = await connectStaff(td, { cookie });
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    // Deniz removes Ayşe. The membership cache still says "member" for a minute; the update does not wait for it.
    emu.setChatMember(STAFF_CHAT_ID, ayse.id, { status: 'kicked' });
    emu.injectUpdate({
      chat_member: {
        chat,
        from: deniz,
        date: Math.floor(Date.now() / 1000),
        old_chat_member: { status: 'member', user: ayse },
        new_chat_member: { status: 'kicked', user: ayse, until_date: 0 },
      },
    });
    await closed;
    expect(socket.events.find((e) => e.event === 'session:ended')?.payload).toEqual({ reason: 'not_staff' });
    expect(await refusal(connectStaff(td, { cookie }))).toBe('unauthorized'); // revoked in the database
    emu.setChatMember(STAFF_CHAT_ID, ayse.id, { status: 'member' });

    // Leaving by oneself shows as a service message in the chat: the same.
    const again = await connectStaff(td, { cookie: await staffCookie(td, emu, ayse) });
    const closedAgain = new Promise((resolve) => again.once('disconnect', resolve));
    emu.setChatMember(STAFF_CHAT_ID, ayse.id, { status: 'left' });
    emu.injectUpdate({
      message: { message_id: 90_001, date: Math.floor(Date.now() / 1000), chat, from: ayse, left_chat_member: ayse },
    });
    await closedAgain;
    expect(again.events.find((e) => e.event === 'session:ended')?.payload).toEqual({ reason: 'not_staff' });
    emu.setChatMember(STAFF_CHAT_ID, ayse.id, { status: 'member' });

    // Someone else's departure, or one from another chat, ends nobody's session.
    const watcher = await connectStaff(td, { cookie: await staffCookie(td, emu, deniz) });
    emu.injectUpdate({
      chat_member: {
        chat: { id: -100999, type: 'supergroup', title: 'Elsewhere' },
        from: deniz,
        date: Math.floor(Date.now() / 1000),
        old_chat_member: { status: 'member', user: deniz },
        new_chat_member: { status: 'left', user: deniz },
      },
    });
    const marker = await connectVisitor(td.url);
    await marker.send('after the other chat’s update');
    await eventually(
      async () =>
        watcher.events.some((e) => e.event === 'message' && (e.payload as { text?: string }).text === 'after the other chat’s update'),
      { what: 'the feed goes on' },
    );
    expect(watcher.connected).toBe(true);
    marker.close();
    watcher.close();
  });

  it('a session idle for 12 hours loses its socket at the next check (watching is not activity)', async () => {
    const socket = await connectStaff(td, { cookie: await staffCookie(td, emu, deniz) });
    clock.advance(6 * 60 * 60_000);
    await td.app.staffPage.recheckSockets();
    expect(socket.connected).toBe(true);
    clock.advance(6 * 60 * 60_000 + 60_000);
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    await td.app.staffPage.recheckSockets();
    await closed;
    expect(socket.events.find((e) => e.event === 'session:ended')?.payload).toEqual({ reason: 'expired' });
  });
});
