import type { User } from 'grammy/types';
import { createDatabase } from '../../src/db/database';
import { hashToken } from '../../src/domain/tokens';
import {
  connectVisitor,
  eventually,
  startTopicdesk,
  STAFF_CHAT_ID,
  storedVisitorId,
  type RunningTopicdesk,
  type VisitorClient,
} from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import {
  botAnswers,
  botMessages,
  codeIn,
  hasContactButton,
  movableClock,
  runToCode,
  shareOwnContact,
  startLink,
  wrongCode,
} from './otp-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * Identity over Telegram (docs/identity.md), end to end: real sockets,
 * the real bot polling the Bot API emulator, private-chat updates with real
 * `contact` objects, and a real database.
 */
describeEachDatabase('identity over Telegram, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  const clock = movableClock();
  /** Everything that must never appear in a log line. */
  const secrets: string[] = [];
  let nextUserId = 7000;

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

  const remember = (...values: string[]) => secrets.push(...values);

  /** A visitor with a thread whose first message reached its topic. */
  async function visitorWithTopic(text = 'Where is my order?'): Promise<{ v: VisitorClient; threadId: number; topicId: number }> {
    const v = await connectVisitor(td.url);
    remember(v.session.token);
    const sent = await v.send(text);
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    const thread = await td.app.store.threads.findById(sent.message.threadId);
    return { v, threadId: thread!.id, topicId: thread!.topicId! };
  }

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, { clock });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  it('verifies a visitor: contact button, code, users row, thread linked, topic renamed, a note for staff', async () => {
    const { v, threadId, topicId } = await visitorWithTopic();
    const user = newUser({ language_code: 'tr' });

    const start = await v.emit('otp:start', {});
    expect(start.ok).toBe(true);
    expect(start.link).toMatch(/^https:\/\/t\.me\/topicdesk_test_bot\?start=[A-Za-z0-9_-]{1,64}$/);
    const expiresIn = Date.parse(start.expiresAt) - clock.now().getTime();
    expect(expiresIn).toBeGreaterThan(9 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000);
    const payload = new URL(start.link).searchParams.get('start')!;
    remember(payload);

    // Turkish user, Turkish texts; the contact button asks for the user's own number.
    const ask = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: `/start ${payload}` }));
    expect(hasContactButton(ask)).toBe(true);
    expect(ask.text).toContain('telefon numaranızı paylaşın');

    const codeMessage = await botAnswers(emu, user.id, () => shareOwnContact(emu, user, '+90 555 123 45 67'));
    expect(codeMessage.text).toMatch(/^Doğrulama kodunuz: \d{6}/);
    expect(codeMessage.reply_markup).toEqual({ remove_keyboard: true });
    const code = codeIn(codeMessage.text);
    remember(code);

    const verified = await v.emit('otp:verify', { code });
    expect(verified).toEqual({
      ok: true,
      visitor: { id: v.session.visitor.id, name: 'Ayşe Yılmaz', verified: true, phone: '+905551234567' },
    });

    // The users row, and the thread linked to it.
    const row = await td.app.db('users').where({ telegram_id: user.id }).first();
    expect(row).toMatchObject({ username: user.username, phone_number: '+905551234567', display_name: 'Ayşe Yılmaz' });
    expect(
      Number(
        (
          await td.app
            .db('visitors')
            .where({ id: (await storedVisitorId(td.app, v))! })
            .first()
        ).user_id,
      ),
    ).toBe(Number(row.id));
    expect(Number((await td.app.db('threads').where({ id: threadId }).first()).user_id)).toBe(Number(row.id));
    // What /info can show: the user behind the visitor.
    const stored = await td.app.store.users.findById(Number(row.id));
    expect(stored).toMatchObject({ telegramId: user.id, username: user.username, phone: '+905551234567', displayName: 'Ayşe Yılmaz' });

    // Staff: the topic takes the Telegram name and gets the verification line, through the outbox.
    const rename = await emu.waitFor((c) => c.method === 'editForumTopic' && c.params.message_thread_id === topicId);
    expect(rename.params.name).toMatch(/^Ayşe Yılmaz · /);
    const note = await emu.waitFor(
      (c) => c.method === 'sendMessage' && c.params.message_thread_id === topicId && String(c.params.text).startsWith('✅'),
    );
    expect(note.params.text).toBe(`✅ Verified via Telegram as @${user.username} (Ayşe Yılmaz), +905551234567`);
    // The visitor's own devices see the note as a system message.
    const system = await v.waitFor('message', (m) => m.sender === 'system');
    expect(system.text).toBe(note.params.text);

    // A reconnect is verified from the start.
    const again = await connectVisitor(td.url, v.session.token);
    expect(again.session.visitor).toEqual({ id: v.session.visitor.id, name: 'Ayşe Yılmaz', verified: true, phone: '+905551234567' });
    expect(again.session.thread?.id).toBe(threadId);
    again.close();

    // The private chat never shows thread data.
    for (const m of botMessages(emu, user.id)) {
      expect(m.params.text).not.toContain('Where is my order?');
      expect(m.params.text).not.toContain((await td.app.store.threads.findById(threadId))!.ref);
    }

    // A second otp:start is pointless now.
    expect((await v.emit('otp:start', {})).error.code).toBe('already_verified');
    v.close();
  });

  it("refuses someone else's contact, repeats the button after a text, and /cancel ends the flow", async () => {
    const v = await connectVisitor(td.url);
    remember(v.session.token);
    const user = newUser();
    const stranger = newUser({ first_name: 'Mehmet', username: undefined });
    const { payload } = await startLink(v);
    remember(payload);
    await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: `/start ${payload}` }));

    const afterText = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: 'here is my number: 555' }));
    expect(afterText.text).toContain('use the button');
    expect(hasContactButton(afterText)).toBe(true);

    // A contact card of another Telegram user (forwarded from the address book).
    const foreign = await botAnswers(emu, user.id, () =>
      emu.userSendsContact({
        chatId: user.id,
        from: user,
        contact: { phone_number: '905550000000', first_name: 'Mehmet', user_id: stranger.id },
      }),
    );
    expect(foreign.text).toContain('not your own contact');
    expect(hasContactButton(foreign)).toBe(true);
    // A contact with no Telegram account behind it is not the user's either.
    const noAccount = await botAnswers(emu, user.id, () =>
      emu.userSendsContact({ chatId: user.id, from: user, contact: { phone_number: '905550000001', first_name: 'Nobody' } }),
    );
    expect(noAccount.text).toContain('not your own contact');

    const cancelled = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: '/cancel' }));
    expect(cancelled.text).toBe('Verification cancelled. Nothing was saved.');
    expect(cancelled.reply_markup).toEqual({ remove_keyboard: true });

    // After /cancel the conversation is over: a contact now sends no code.
    const late = await botAnswers(emu, user.id, () => shareOwnContact(emu, user));
    expect(late.text).not.toMatch(/\d{6}/);
    expect((await v.emit('otp:verify', { code: '123456' })).error.code).toBe('not_found');
    expect(await td.app.db('users').where({ telegram_id: user.id })).toHaveLength(0);
    expect(await td.app.db('users').where({ telegram_id: stranger.id })).toHaveLength(0);
    v.close();
  });

  it('counts wrong tries down, refuses the 6th try even with the right code, and a new code works', async () => {
    const { v } = await visitorWithTopic('I need help with my account');
    const user = newUser();
    const { code, payload } = await runToCode(emu, v, user);
    remember(code, payload);

    const bad = wrongCode(code);
    for (const left of [4, 3, 2, 1, 0]) {
      const res = await v.emit('otp:verify', { code: bad });
      expect(res.ok).toBe(false);
      expect(res.error).toMatchObject({ code: 'invalid_code', attemptsLeft: left });
    }
    const sixth = await v.emit('otp:verify', { code });
    expect(sixth.error).toMatchObject({ code: 'too_many_attempts', attemptsLeft: 0 });
    expect((await td.app.store.visitors.findById((await storedVisitorId(td.app, v))!))!.verified).toBe(false);

    // A malformed code is a bad request and costs no try.
    expect((await v.emit('otp:verify', { code: '12ab' })).error.code).toBe('bad_request');

    // A new code at most once a minute.
    const tooSoon = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: '/code' }));
    expect(tooSoon.text).toMatch(/^Please wait \d+ s before asking for a new code\.$/);
    clock.advance(61_000);
    const fresh = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: '/code' }));
    const newCode = codeIn(fresh.text);
    remember(newCode);
    // The dead code stays dead; the new one verifies (unless it happens to be the same 6 digits).
    if (newCode !== code) expect((await v.emit('otp:verify', { code })).error.code).toBe('invalid_code');
    const ok = await v.emit('otp:verify', { code: newCode });
    expect(ok.ok).toBe(true);
    expect(ok.visitor.verified).toBe(true);

    // Back in the bot, the finished flow says so and ends.
    const done = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: 'thanks' }));
    expect(done.text).toBe('✅ You are verified. You can go back to the website chat.');
    // A finished conversation leaves nothing behind in storage.
    await eventually(async () => (await td.app.db('conversation_state').where({ key: `otp:${user.id}` })).length === 0, {
      what: 'conversation state deleted',
    });
    v.close();
  });

  it('refuses an expired code; a new one is valid again', async () => {
    const v = await connectVisitor(td.url);
    remember(v.session.token);
    const user = newUser();
    const { code, payload } = await runToCode(emu, v, user);
    remember(code, payload);

    clock.advance(5 * 60_000 + 1000);
    expect((await v.emit('otp:verify', { code })).error).toMatchObject({ code: 'code_expired' });

    const fresh = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: '/code' }));
    const newCode = codeIn(fresh.text);
    remember(newCode);
    expect((await v.emit('otp:verify', { code: newCode })).ok).toBe(true);
    v.close();
  });

  it('a link works once, for one Telegram user, and only for 10 minutes', async () => {
    const v = await connectVisitor(td.url);
    remember(v.session.token);
    const user = newUser();
    const other = newUser();

    // Plain /start explains the bot; a made-up payload is refused.
    const about = await botAnswers(emu, other.id, () => emu.userSends({ chatId: other.id, from: other, text: '/start' }));
    expect(about.text).toContain('support assistant of this website');
    const invalid = await botAnswers(emu, other.id, () =>
      emu.userSends({ chatId: other.id, from: other, text: '/start abcdefghijklmnop' }),
    );
    expect(invalid.text).toBe('This verification link is not valid. Please get a new one in the website chat.');

    const { code, payload } = await runToCode(emu, v, user);
    remember(code, payload);
    // Someone else opening the same link.
    const stolen = await botAnswers(emu, other.id, () => emu.userSends({ chatId: other.id, from: other, text: `/start ${payload}` }));
    expect(stolen.text).toBe('This verification link was already used. Please get a new one in the website chat.');
    expect((await v.emit('otp:verify', { code })).ok).toBe(true);
    // The same user, after the link did its job.
    const reused = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: `/start ${payload}` }));
    expect(reused.text).toBe('This verification link was already used. Please get a new one in the website chat.');

    // A link opened after 10 minutes.
    const late = await connectVisitor(td.url);
    remember(late.session.token);
    const { payload: oldPayload } = await startLink(late);
    remember(oldPayload);
    clock.advance(10 * 60_000 + 1000);
    const expired = await botAnswers(emu, other.id, () => emu.userSends({ chatId: other.id, from: other, text: `/start ${oldPayload}` }));
    expect(expired.text).toBe('This verification link has expired. Please get a new one in the website chat.');
    v.close();
    late.close();
  });

  it('a second device verified as the same person gets the whole history and the same thread and topic', async () => {
    const user = newUser({ first_name: 'Deniz', last_name: undefined });
    const phone = await visitorWithTopic('My parcel 4711 is late');
    const first = await runToCode(emu, phone.v, user);
    remember(first.code, first.payload);
    expect((await phone.v.emit('otp:verify', { code: first.code })).ok).toBe(true);
    const staffMember = emu.addUser({ id: 5001, first_name: 'Staff', is_bot: false });
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staffMember, text: 'We are checking parcel 4711', threadId: phone.topicId });
    await phone.v.waitFor('message', (m) => m.sender === 'staff');

    // The laptop: a new visitor that has never written. The user's earlier conversation is still waiting
    // in the bot; the new link takes over.
    const laptop = await connectVisitor(td.url);
    remember(laptop.session.token);
    expect(laptop.session.thread).toBeNull();
    expect((await laptop.emit('history', {})).messages).toEqual([]);
    const second = await runToCode(emu, laptop, user);
    remember(second.code, second.payload);
    const verified = await laptop.emit('otp:verify', { code: second.code });
    expect(verified.visitor).toMatchObject({ verified: true, name: 'Deniz' });

    // The whole history, in order.
    const history = await laptop.emit('history', {});
    expect(history.messages.map((m) => [m.sender, m.text])).toEqual([
      ['visitor', 'My parcel 4711 is late'],
      ['system', expect.stringMatching(/^✅ Verified via Telegram as @/)],
      ['staff', 'We are checking parcel 4711'],
      ['system', expect.stringMatching(/^✅ Verified via Telegram as @/)],
    ]);

    // Writing from the laptop continues the same thread and topic; the phone sees it live.
    const topicsBefore = emu.callsTo('createForumTopic').length;
    const sent = await laptop.send('Any news?');
    expect(sent.message.threadId).toBe(phone.threadId);
    await laptop.waitFor('message:status', (s) => s.id === sent.message.id);
    expect((await phone.v.waitFor('message', (m) => m.id === sent.message.id)).text).toBe('Any news?');
    expect(emu.callsTo('createForumTopic').length).toBe(topicsBefore);
    expect(
      emu
        .sentMessages(STAFF_CHAT_ID)
        .filter((m) => m.text === 'Any news?')
        .map((m) => m.message_thread_id),
    ).toEqual([phone.topicId]);

    // A staff reply reaches both devices.
    emu.userSends({ chatId: STAFF_CHAT_ID, from: staffMember, text: 'It arrives tomorrow', threadId: phone.topicId });
    await phone.v.waitFor('message', (m) => m.text === 'It arrives tomorrow');
    await laptop.waitFor('message', (m) => m.text === 'It arrives tomorrow');

    // One user, two visitors, one thread; a reconnect of the laptop lands in that thread.
    const users = await td.app.db('users').where({ telegram_id: user.id });
    expect(users).toHaveLength(1);
    const visitors = await td.app.db('visitors').where({ user_id: users[0].id }).orderBy('id');
    expect(visitors.map((r) => r.token_hash)).toEqual([hashToken(phone.v.session.token), hashToken(laptop.session.token)]);
    expect(await td.app.db('threads').where({ user_id: users[0].id })).toHaveLength(1);
    const back = await connectVisitor(td.url, laptop.session.token);
    expect(back.session.thread?.id).toBe(phone.threadId);
    back.close();
    phone.v.close();
    laptop.close();
  });

  it('a device that already had its own thread keeps both threads visible; new messages go to the newest', async () => {
    const user = newUser({ first_name: 'Ece', last_name: undefined });
    const a = await visitorWithTopic('first device, first thread');
    const firstRun = await runToCode(emu, a.v, user);
    remember(firstRun.code, firstRun.payload);
    expect((await a.v.emit('otp:verify', { code: firstRun.code })).ok).toBe(true);

    const b = await visitorWithTopic('second device wrote before verifying');
    const secondRun = await runToCode(emu, b.v, user);
    remember(secondRun.code, secondRun.payload);
    expect((await b.v.emit('otp:verify', { code: secondRun.code })).ok).toBe(true);

    // Staff in the newer topic learn about the older thread.
    const refA = (await td.app.store.threads.findById(a.threadId))!.ref;
    const note = await emu.waitFor(
      (c) => c.method === 'sendMessage' && c.params.message_thread_id === b.topicId && String(c.params.text).startsWith('✅'),
    );
    expect(note.params.text).toContain(`Earlier threads of this person: #${refA}`);

    for (const device of [a.v, b.v]) {
      const texts = (await device.emit('history', {})).messages.map((m) => m.text);
      expect(texts).toEqual(expect.arrayContaining(['first device, first thread', 'second device wrote before verifying']));
    }
    const fromA = await a.v.send('now from the first device');
    expect(fromA.message.threadId).toBe(b.threadId);
    await b.v.waitFor('message', (m) => m.id === fromA.message.id);
    a.v.close();
    b.v.close();
  });

  it('rate limits otp:start and otp:verify per visitor', async () => {
    const v = await connectVisitor(td.url);
    remember(v.session.token);
    for (let i = 0; i < 3; i++) remember((await startLink(v)).payload);
    const refused = await v.emit('otp:start', {});
    expect(refused.error.code).toBe('rate_limited');
    expect(refused.error.retryAfterMs).toBeGreaterThan(0);

    // No code is waiting for this visitor: each try is answered, until the visitor's budget is spent.
    for (let i = 0; i < 10; i++) expect((await v.emit('otp:verify', { code: '000000' })).error.code).toBe('not_found');
    expect((await v.emit('otp:verify', { code: '000000' })).error.code).toBe('rate_limited');
    v.close();
  });

  it('a blocked visitor cannot start a verification', async () => {
    const v = await connectVisitor(td.url);
    remember(v.session.token);
    expect((await v.emit('profile:update', { name: 'Spammer' })).ok).toBe(true); // stores the visitor
    await td.app
      .db('visitors')
      .where({ id: (await storedVisitorId(td.app, v))! })
      .update({ blocked: true });
    expect((await v.emit('otp:start', {})).error.code).toBe('blocked');
    v.close();
  });

  it('retries a 429 inside the conversation (auto-retry), also when the conversation is replayed', async () => {
    const v = await connectVisitor(td.url);
    remember(v.session.token);
    const user = newUser();
    const { payload } = await startLink(v);
    remember(payload);
    // Nothing else may take the injected failure: the outbox is idle.
    await eventually(async () => (await td.app.store.outbox.pendingCount()) === 0, { what: 'outbox idle' });
    const refusedHere = () => emu.callsTo('sendMessage').filter((c) => !c.ok && Number(c.params.chat_id) === user.id);
    // The contact question is sent from inside the conversation, with the conversation's own Api.
    emu.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 });
    const ask = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: `/start ${payload}` }));
    expect(hasContactButton(ask)).toBe(true);
    expect(refusedHere()).toHaveLength(1);
    expect(refusedHere()[0].error?.error_code).toBe(429);
    // The next update replays the conversation, 429 included, and carries on.
    const codeMessage = await botAnswers(emu, user.id, () => shareOwnContact(emu, user));
    const code = codeIn(codeMessage.text);
    remember(code);
    expect((await v.emit('otp:verify', { code })).ok).toBe(true);
    v.close();
  });

  it('writes no code, link payload or visitor token into the logs', async () => {
    expect(secrets.length).toBeGreaterThan(20);
    const text = td.logs.map((l) => JSON.stringify(l)).join('\n');
    expect(text).toContain('verification code sent');
    expect(text).toContain('visitor verified');
    for (const s of secrets) {
      // A six-digit code is looked for as a number of its own: "202611" inside a migration's name is not a leak.
      if (/^\d+$/.test(s)) expect([s, new RegExp(`(?<!\\d)${s}(?!\\d)`).test(text)]).toEqual([s, false]);
      else expect(text).not.toContain(s);
    }
    // Nor the phone numbers people shared.
    expect(text).not.toContain('905551234567');
  });
});

describeEachDatabase('identity over Telegram across a restart, on %s', (kind) => {
  it('a conversation interrupted by a restart resumes on the same database', async () => {
    const db = await createTestDatabase(kind);
    const emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    const user = emu.addUser({ id: 8001, first_name: 'Can', username: 'can_r', language_code: 'en', is_bot: false });
    let td = await startTopicdesk({ db, emulator: emu });
    try {
      await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
      const v = await connectVisitor(td.url);
      const { payload } = await startLink(v);
      const ask = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: `/start ${payload}` }));
      expect(hasContactButton(ask)).toBe(true);
      // A text in between: the conversation has some history to replay.
      await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: 'hmm?' }));
      v.close();
      const logsBefore = td.logs;
      await td.stop();
      expect(await conversationRows(db)).toBe(1);

      td = await startTopicdesk({ db, emulator: emu });
      await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok again' });
      const codeMessage = await botAnswers(emu, user.id, () => shareOwnContact(emu, user));
      const code = codeIn(codeMessage.text);

      const back = await connectVisitor(td.url, v.session.token);
      const verified = await back.emit('otp:verify', { code });
      expect(verified).toMatchObject({ ok: true, visitor: { verified: true, name: 'Can', phone: '+905551234567' } });
      // A verified visitor's first thread belongs to its user from the start.
      const sent = await back.send('hello after verifying');
      const thread = await td.app.store.threads.findById(sent.message.threadId);
      expect(thread!.userId).toBe(Number((await td.app.db('users').where({ telegram_id: user.id }).first()).id));
      back.close();

      const text = [...logsBefore, ...td.logs].map((l) => JSON.stringify(l)).join('\n');
      for (const s of [code, payload, v.session.token]) expect(text).not.toContain(s);
    } finally {
      await td.stop();
      await emu.stop();
      await db.drop();
    }
  });
});

describe('identity over Telegram with Telegram disabled', () => {
  it('answers otp:start and otp:verify with unavailable', async () => {
    const db = await createTestDatabase('sqlite');
    const td = await startTopicdesk({ db });
    try {
      const v = await connectVisitor(td.url);
      const start = await v.emit('otp:start', {});
      expect(start).toEqual({
        ok: false,
        error: { code: 'unavailable', message: 'Verification through Telegram is not available right now.' },
      });
      expect((await v.emit('otp:verify', { code: '123456' })).error.code).toBe('unavailable');
      // Malformed payloads are still bad requests.
      expect((await v.emit('otp:start', { extra: 1 })).error.code).toBe('bad_request');
      v.close();
    } finally {
      await td.stop();
      await db.drop();
    }
  });
});

async function conversationRows(testDb: TestDatabase): Promise<number> {
  const probe = createDatabase(testDb.config);
  try {
    return (await probe('conversation_state')).length;
  } finally {
    await probe.destroy();
  }
}
