import fs from 'node:fs';
import type { Update } from 'grammy/types';
import path from 'node:path';
import { connectVisitor, eventually, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { makePng } from '../support/media-samples';
import { upload } from '../support/uploads';
import { hashToken } from '../../src/domain/tokens';
import { FORGET_CONFIRM_MS } from '../../src/bot/features/staff-commands/forget';
import type { RecordedCall } from '../../src/emulator/types';
import { movableClock, staffSays, telegramIdsOf, visitorWithThread, type Staff } from './staff-helpers';
import { connectStaff, staffCookie } from '../admin/admin-helpers';

const count = async (td: RunningTopicdesk, table: string, where: Record<string, unknown> = {}) =>
  Number((await td.app.db(table).where(where).count({ n: '*' }).first())?.n ?? 0);

/** The inline keyboard's buttons of a bot message: [text, callback_data]. */
const buttonsOf = (params: { reply_markup?: { inline_keyboard?: Array<Array<{ text: string; callback_data?: string }>> } }) =>
  (params.reply_markup?.inline_keyboard ?? []).flat().map((b) => [b.text, b.callback_data ?? '']);

/**
 * /forget (README "Commands", docs/admin.md "Erasing a visitor"): confirmed with an inline button
 * by the staff member who asked, it erases the visitor — rows on both databases, files, identity,
 * token, topic — keeps only counts for /stats, logs who erased which thread without content, and
 * tells the visitor's open pages to start afresh. Through the real bot, the emulator and sockets.
 */
describeEachDatabase('/forget, on %s', (kind) => {
  let h: TopicdeskWithTelegram;
  let deniz: Staff;
  let ayse: Staff;
  const clock = movableClock();

  beforeAll(async () => {
    h = await startWithTelegram(kind, {
      clock,
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', username: 'deniz', language_code: 'en', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5002, first_name: 'Ayşe', language_code: 'tr', is_bot: false }) as Staff;
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** Deniz (or another) presses a button of a bot message; resolves with the bot's answerCallbackQuery. */
  async function press(from: Staff, messageId: number, data: string): Promise<RecordedCall> {
    const { callbackQuery } = h.emu.userPressesButton({ chatId: STAFF_CHAT_ID, from, messageId, data });
    return h.emu.waitFor((c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === callbackQuery.id);
  }

  it('asks first; only the asker can confirm; Cancel changes nothing; Erase removes the visitor and keeps the counts', async () => {
    const td = h.td;
    const { v, threadId, topicId, ref, visitorId } = await visitorWithThread(td, 'My order 4711 never came');
    const oldToken = v.session.token;
    // A second tab of the same visitor.
    const tab = await connectVisitor(td.url, oldToken);
    // A file of the visitor's, on local disk.
    const res = await upload(td.url, {
      token: oldToken,
      parts: [{ name: 'file', filename: 'receipt.png', bytes: makePng(20, 20, { noise: true }) }],
    });
    expect(res.status).toBe(201);
    const filePath = (await td.app.db<{ id: number; file_path: string }>('messages').where({ id: res.body.message.id }).first())!.file_path;
    const onDisk = path.join(h.db.dataDir, 'media', filePath);
    expect(fs.existsSync(onDisk)).toBe(true);
    // A staff answer (a first response for the stats), delivered back to the visitor.
    const { message } = h.emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId!, text: 'Let me check.' });
    await eventually(() => td.app.store.telegramLinks.findByTelegramMessage(STAFF_CHAT_ID, message.message_id));
    // Verified with Telegram: the identity, a verification request, the bot's conversation state.
    const now = clock.now();
    const user = await td.app.store.users.upsert({
      telegramId: 777001,
      username: 'buyer',
      phone: '+905551112233',
      displayName: 'Can',
      now,
    });
    await td.app.store.users.linkVisitor(visitorId, user.id, 'Can');
    await td.app.store.otp.create({ visitorId, payloadHash: 'p'.repeat(64), linkExpiresAt: new Date(now.getTime() + 60_000), now });
    await td.app.db('conversation_state').insert({ key: 'otp:777001', value: '{}', updated_at: now.getTime() });
    await eventually(async () => (await count(td, 'outbox', { thread_id: threadId, status: 'pending' })) === 0, { what: 'outbox drained' });
    expect(await count(td, 'telegram_links', { thread_id: threadId })).toBeGreaterThan(0);
    expect(await count(td, 'outbox', { thread_id: threadId })).toBeGreaterThan(0);

    const statsBefore = await td.app.store.stats.stats(clock.now());
    const defaultBefore = await td.app.store.stats.stats(clock.now(), null);
    const pageStatsBefore = await td.app.store.adminReads.stats({ now: clock.now(), days: 7, utcOffsetMinutes: 180, departments: [null] });
    expect(statsBefore.messagesToday).toBeGreaterThanOrEqual(3);
    expect(statsBefore.medianFirstResponseMs).not.toBeNull();

    // /forget asks, with Erase and Cancel buttons, in the asker's language.
    const asked = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId!, text: '/forget' });
    expect(asked.answer.params.message_thread_id).toBe(topicId);
    expect(asked.answer.text.split('\n')[0]).toBe(`Erase the visitor of ${ref}?`);
    const buttons = buttonsOf(asked.answer.params);
    expect(buttons.map(([text]) => text)).toEqual(['🧹 Erase', 'Cancel']);
    const [eraseData, cancelData] = buttons.map(([, data]) => data);
    expect(eraseData).toMatch(new RegExp(`^forget:yes:${threadId}:5001:\\d+$`));

    // Ayşe's press is refused with an alert (in Turkish); nothing changes.
    const refused = await press(ayse, asked.answer.message.message_id, eraseData);
    expect(refused.params).toMatchObject({ show_alert: true, text: 'Bunu yalnızca /forget gönderen personel yanıtlayabilir.' });
    expect(await count(td, 'visitors', { id: visitorId })).toBe(1);

    // Deniz's Cancel: the question becomes "cancelled"; nothing changes.
    await press(deniz, asked.answer.message.message_id, cancelData);
    const cancelled = await h.emu.waitFor((c) => c.method === 'editMessageText' && c.params.message_id === asked.answer.message.message_id);
    expect(cancelled.params.text).toBe(`Erasing the visitor of ${ref} was cancelled. Nothing changed.`);
    expect(cancelled.params.reply_markup).toBeUndefined();
    expect(await count(td, 'visitors', { id: visitorId })).toBe(1);
    expect(await count(td, 'messages', { thread_id: threadId })).toBe(3);
    expect(await count(td, 'erasures')).toBe(0);

    // Asked again, Deniz erases.
    const again = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId!, text: '/forget' });
    const erasedAnswer = await press(deniz, again.answer.message.message_id, buttonsOf(again.answer.params)[0][1]);
    expect(erasedAnswer.params.text).toBe('Erased.');
    expect(erasedAnswer.params.show_alert).toBeUndefined();

    // The open pages (both tabs) are told to start afresh, and let go.
    for (const client of [v, tab]) {
      expect(await client.waitFor('session:reset')).toEqual({ reason: 'erased' });
      await eventually(() => !client.socket.connected, { what: 'the server ends the erased visitor’s connection' });
    }
    // The topic is deleted; General says who erased which thread, without content.
    await h.emu.waitFor((c) => c.method === 'deleteForumTopic' && c.params.message_thread_id === topicId);
    const note = await h.emu.waitFor((c) => c.method === 'sendMessage' && String(c.params.text).startsWith('🧹'));
    expect(note.params.message_thread_id).toBeUndefined();
    expect(note.params.text).toBe(`🧹 @deniz erased the visitor of ${ref}: 1 conversation, 3 messages.`);

    // A staff message that reaches the bot from the deleted topic (written as it went) stores nothing: the topic,
    // known in memory since Deniz's answer, no longer leads to a thread.
    const written = { ...message, message_id: message.message_id + 1000, text: 'One more thing' };
    await td.app.bot!.handleUpdate({ update_id: 880_001, message: written } as Update);
    expect(await count(td, 'processed_updates', { update_id: 880_001 })).toBe(1);
    expect(await count(td, 'messages', { content_text: 'One more thing' })).toBe(0);

    // Rows gone: messages, thread, visitor, links, outbox, verification, identity.
    expect(await count(td, 'messages', { thread_id: threadId })).toBe(0);
    expect(await count(td, 'messages', { visitor_id: visitorId })).toBe(0);
    expect(await count(td, 'threads', { visitor_id: visitorId })).toBe(0);
    expect(await count(td, 'visitors', { id: visitorId })).toBe(0);
    expect(await count(td, 'telegram_links', { thread_id: threadId })).toBe(0);
    expect(await count(td, 'outbox', { thread_id: threadId })).toBe(0);
    expect(await count(td, 'otp_requests', { visitor_id: visitorId })).toBe(0);
    expect(await count(td, 'users', { id: user.id })).toBe(0);
    expect(await count(td, 'conversation_state', { key: 'otp:777001' })).toBe(0);
    // The file is gone from disk.
    expect(fs.existsSync(onDisk)).toBe(false);

    // The log: who, when, which thread, how much; nothing the visitor wrote or was.
    const log = await td.app.db<Record<string, unknown>>('erasures').select('*');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ thread_ref: ref, threads: 1, messages: 3, files: 1, pending_media: null });
    expect(Number(log[0].staff_telegram_id)).toBe(5001);
    expect(Math.abs(Number(log[0].erased_at) - clock.now().getTime())).toBeLessThan(60_000);
    const line = td.logs.find((l) => l.message === 'visitor erased');
    expect(line).toMatchObject({ threadRef: ref, staffTelegramId: 5001, threads: 1, messages: 3, filesRemoved: 1, filesPending: 0 });
    // Its times are numbers that may hold any digits ("4711" in an epoch millisecond; PostgreSQL's bigints come as
    // strings of digits): only the text is searched.
    const texts = (value: unknown) =>
      JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? 0 : v));
    for (const text of [texts(log), texts(line)])
      for (const secret of ['4711', 'Let me check', '+90555', 'buyer', 'Can', filePath]) expect(text).not.toContain(secret);

    // /stats and the staff page count the same messages and first responses; the thread counts as closed.
    const statsAfter = await td.app.store.stats.stats(clock.now());
    expect(statsAfter).toEqual({
      ...statsBefore,
      openThreads: statsBefore.openThreads - 1,
      closedThreads: statsBefore.closedThreads + 1,
    });
    // /stats of the thread's department (the default one) too.
    expect(await td.app.store.stats.stats(clock.now(), null)).toEqual({
      ...defaultBefore,
      openThreads: defaultBefore.openThreads - 1,
      closedThreads: defaultBefore.closedThreads + 1,
    });
    const pageStatsAfter = await td.app.store.adminReads.stats({ now: clock.now(), days: 7, utcOffsetMinutes: 180, departments: [null] });
    expect(pageStatsAfter).toEqual({
      ...pageStatsBefore,
      openThreads: pageStatsBefore.openThreads - 1,
      closedThreads: pageStatsBefore.closedThreads + 1,
      byDepartment: pageStatsBefore.byDepartment.map((f) => ({ ...f, openThreads: f.openThreads - 1, closedThreads: f.closedThreads + 1 })),
    });

    // The old token resumes nothing: a new visitor with a new token, and uploads with it are refused.
    const back = await connectVisitor(td.url, oldToken);
    expect(back.session.token).not.toBe(oldToken);
    expect(back.session.visitor.id).not.toBe(v.session.visitor.id);
    expect(back.session.thread).toBeNull();
    expect(await back.emit('history', { limit: 10 })).toMatchObject({ ok: true, messages: [] });
    expect(await count(td, 'revoked_visitor_tokens', { token_hash: hashToken(oldToken) })).toBe(1);
    const late = await upload(td.url, { token: oldToken, parts: [{ name: 'file', filename: 'x.png', bytes: makePng(8, 8) }] });
    expect(late.status).toBe(401);
    // The new session is a visitor like any other.
    const fresh = await back.send('Hello again');
    expect(fresh.ok).toBe(true);
    expect(fresh.message.threadId).not.toBe(threadId);
    back.close();
  });

  it("another device's thread stays without the erased visitor's messages: out of its history, its open pages, the staff page and its topic", async () => {
    const td = h.td;
    // One person on two devices, verified on both: the first device's thread, then the second's (the newer one).
    const first = await visitorWithThread(td, 'Question from the laptop');
    const second = await visitorWithThread(td, 'Question from the phone');
    const user = await td.app.store.users.upsert({
      telegramId: 777002,
      username: 'twodevices',
      phone: '+905550000002',
      displayName: 'Ece',
      now: clock.now(),
    });
    await td.app.store.users.linkVisitor(first.visitorId, user.id, 'Ece');
    await td.app.store.users.linkVisitor(second.visitorId, user.id, 'Ece');
    // The laptop writes again: into the person's latest thread, the phone's.
    const secret = await first.v.send('My card ends 4242');
    expect(secret).toMatchObject({ ok: true, message: { threadId: second.threadId } });
    const kept = await second.v.send('Still there?');
    expect(kept.ok).toBe(true);
    const telegramOf = async (id: number) =>
      eventually(
        async () => {
          const ids = await telegramIdsOf(td, id);
          return ids.length ? ids : null;
        },
        { what: `message ${id} in Telegram` },
      );
    const [secretInTelegram] = (await telegramOf(secret.message.id))!;
    const [keptInTelegram] = (await telegramOf(kept.message.id))!;
    // One more from the laptop, recorded as one Telegram message with a phone message (as a merged send would be): the
    // phone's words are in it, so it stays in Telegram.
    const shared = await first.v.send('And the expiry is 09/29');
    const [sharedInTelegram] = (await telegramOf(shared.message.id))!;
    await td.app.db('telegram_links').insert({
      thread_id: second.threadId,
      message_id: kept.message.id,
      chat_id: STAFF_CHAT_ID,
      topic_id: second.topicId,
      telegram_message_id: sharedInTelegram,
      direction: 'to_telegram',
      created_at: clock.now().getTime(),
    });
    // The phone's history (now in the cache) and an open staff page show the laptop's message.
    const historyOf = async () =>
      ((await second.v.emit('history', { limit: 20 })) as { messages: Array<{ id: number }> }).messages.map((m) => m.id);
    expect(await historyOf()).toContain(secret.message.id);
    // The phone's thread's recent messages as the cache keeps them (read by any one-thread history: the phone's own, once
    // the laptop's thread is gone).
    expect((await td.app.store.messages.history([second.threadId], { limit: 20 })).map((m) => m.id)).toContain(secret.message.id);
    const staffPage = await connectStaff(td, { cookie: await staffCookie(td, h.emu, deniz) });

    const asked = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: first.topicId!, text: '/forget' });
    await press(deniz, asked.answer.message.message_id, buttonsOf(asked.answer.params)[0][1]);
    const erasedEvent = { threadId: second.threadId, ids: [secret.message.id, shared.message.id] };
    expect(await second.v.waitFor('messages:erased')).toEqual(erasedEvent);
    await eventually(() => staffPage.events.some((e) => e.event === 'messages:erased'), { what: 'messages:erased on the staff page' });
    expect(staffPage.events.filter((e) => e.event === 'messages:erased').map((e) => e.payload)).toEqual([erasedEvent]);
    expect(staffPage.events.filter((e) => e.event === 'thread:erased').map((e) => e.payload)).toEqual([{ id: first.threadId }]);
    // The phone's thread answers without it at once (no cached copy), and keeps everything else.
    expect(await historyOf()).toEqual([second.firstMessageId, kept.message.id]);
    expect(await count(td, 'threads', { id: second.threadId })).toBe(1);
    // In Telegram: the laptop's message leaves the phone's topic, which stays with the phone's messages.
    // The note in General comes after every deletion.
    await h.emu.waitFor(
      (c) => c.method === 'sendMessage' && String(c.params.text).startsWith('🧹') && String(c.params.text).includes(first.ref),
    );
    expect(
      h.emu
        .callsTo('deleteMessage')
        .filter((c) => c.ok)
        .map((c) => c.params.message_id),
    ).toContain(secretInTelegram);
    const deleted = h.emu.callsTo('deleteMessage').map((c) => c.params.message_id);
    expect(deleted).not.toContain(keptInTelegram);
    expect(deleted).not.toContain(sharedInTelegram);
    expect(h.emu.callsTo('deleteForumTopic').map((c) => c.params.message_thread_id)).not.toContain(second.topicId);
    staffPage.close();
    first.v.close();
    second.v.close();
  });

  it('a confirmation that is too old, or whose visitor is already erased, changes nothing and says so', async () => {
    const td = h.td;
    const a = await visitorWithThread(td, 'first');
    const statsBefore = await td.app.store.stats.stats(clock.now());

    // Too old: pressed after FORGET_CONFIRM_MS.
    const asked = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: a.topicId!, text: '/forget' });
    clock.advance(FORGET_CONFIRM_MS + 1000);
    const late = await press(deniz, asked.answer.message.message_id, buttonsOf(asked.answer.params)[0][1]);
    expect(late.params).toMatchObject({
      show_alert: true,
      text: 'This confirmation is older than 10 minutes: nothing changed. Send /forget again.',
    });
    expect(await count(td, 'visitors', { id: a.visitorId })).toBe(1);
    expect(await count(td, 'messages', { thread_id: a.threadId })).toBe(1);

    // Closed first: the confirmations go to General (the topic refuses the bot's posts). Two of them; the second is stale once the first erased.
    await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: a.topicId!, text: '/close' });
    // The visitor rated the closing, with a comment.
    const closedAt = (await td.app.store.ratings.currentClosing(a.threadId))!;
    await td.app.store.ratings.insert({
      threadId: a.threadId,
      closedAt,
      score: 2,
      comment: 'Deniz was slow, call me on 0555',
      now: clock.now(),
    });
    const closedStats = await td.app.store.stats.stats(clock.now());
    const first = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: a.topicId!, text: '/forget' });
    const second = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: a.topicId!, text: '/forget' });
    expect(first.answer.params.message_thread_id).toBeUndefined();
    expect(first.answer.text.startsWith(`#${a.ref} · `)).toBe(true);
    await press(deniz, first.answer.message.message_id, buttonsOf(first.answer.params)[0][1]);
    await h.emu.waitFor((c) => c.method === 'deleteForumTopic' && c.params.message_thread_id === a.topicId);
    expect(await count(td, 'visitors', { id: a.visitorId })).toBe(0);
    const erasures = await count(td, 'erasures');

    const stale = await press(deniz, second.answer.message.message_id, buttonsOf(second.answer.params)[0][1]);
    expect(stale.params).toMatchObject({ show_alert: true, text: 'This visitor was already erased: nothing changed.' });
    const edited = await h.emu.waitFor((c) => c.method === 'editMessageText' && c.params.message_id === second.answer.message.message_id);
    expect(edited.params.text).toBe('This visitor was already erased: nothing changed.');
    expect(await count(td, 'erasures')).toBe(erasures);
    // The rating's score stays for the satisfaction figures; its comment is gone.
    const ratings = await td.app
      .db<{ thread_id: number; score: number; comment: string | null }>('thread_ratings')
      .where({ thread_id: a.threadId });
    expect(ratings.map((r) => [Number(r.score), r.comment])).toEqual([[2, null]]);
    // A closed thread erased: every count stays exactly as it was, satisfaction included.
    expect(await td.app.store.stats.stats(clock.now())).toEqual(closedStats);
    expect(closedStats.openThreads + closedStats.closedThreads).toBe(statsBefore.openThreads + statsBefore.closedThreads);
    a.v.close();
  });
});
