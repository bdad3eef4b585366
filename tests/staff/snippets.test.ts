import { STAFF_CHAT_ID, eventually, outboxIdle, roundTrip } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { botMessages, sendParams, staffSays, visitorWithThread, type Staff } from './staff-helpers';

/**
 * Snippets (README "Commands"): saved answers shared by all staff, kept in the database —
 * /snippet add (with the text, or as a reply), /snippet remove, /snippets, and /s <name> in a
 * topic, which sends it to the visitor and posts it in the topic. Names are case-insensitive;
 * English and Turkish. Through the real bot and the emulator, on both databases.
 */
describeEachDatabase('snippets, on %s', (kind) => {
  let h: TopicdeskWithTelegram;
  let deniz: Staff;
  let ayse: Staff;

  beforeAll(async () => {
    h = await startWithTelegram(kind, {
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5002, first_name: 'Ayşe', language_code: 'tr', is_bot: false }) as Staff;
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const say = (text: string, o: { from?: Staff; threadId?: number; replyToMessageId?: number } = {}) =>
    staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: o.from ?? deniz, text, threadId: o.threadId, replyToMessageId: o.replyToMessageId });

  it('add with the text or as a reply, list, replace (any case), remove; stored in the database; bad input changes nothing', async () => {
    expect((await say('/snippet add Refund Your refund is on its way.\nIt takes 3–5 days.')).answer.text).toBe(
      '💾 Snippet “Refund” saved. Send it with /s Refund',
    );
    const { message: source } = h.emu.userSends({ chatId: STAFF_CHAT_ID, from: ayse, text: 'Kargonuz yarın çıkıyor.' });
    expect((await say('/snippet add kargo', { from: ayse, replyToMessageId: source.message_id })).answer.text).toBe(
      '💾 “kargo” hazır yanıtı kaydedildi. /s kargo ile gönderin',
    );
    expect(await h.td.app.db('snippets').orderBy('name_key')).toMatchObject([
      { name_key: 'kargo', name: 'kargo', text: 'Kargonuz yarın çıkıyor.', saved_by: expect.anything() },
      { name_key: 'refund', name: 'Refund', text: 'Your refund is on its way.\nIt takes 3–5 days.' },
    ]);

    const list = await say('/snippets');
    expect(list.answer.text).toBe(
      'Snippets (2) — send one in a visitor’s topic with /s <name>:\n• kargo — Kargonuz yarın çıkıyor.\n• Refund — Your refund is on its way. It takes 3–5 days.',
    );
    expect((await say('/snippet add REFUND Refunds take a week.')).answer.text).toBe('💾 Snippet “REFUND” updated.');
    expect(await h.td.app.db('snippets').where({ name_key: 'refund' })).toMatchObject([{ name: 'REFUND', text: 'Refunds take a week.' }]);

    // Refused: no text, a bad name, too long, an unknown verb; nothing changes.
    const before = await h.td.app.db('snippets').orderBy('name_key');
    expect((await say('/snippet add empty')).answer.text).toMatch(/^Nothing to save/);
    expect((await say('/snippet add bad.name text')).answer.text).toMatch(/^A snippet name is 1–32 letters/);
    expect((await say(`/snippet add long ${'x'.repeat(4001)}`)).answer.text).toMatch(/too long/);
    expect((await say('/snippet rename a b')).answer.text).toMatch(/^Snippets are saved answers/);
    expect((await say('/snippet', { from: ayse })).answer.text).toMatch(/^Hazır yanıtlar tüm personelin/);
    expect(await h.td.app.db('snippets').orderBy('name_key')).toEqual(before);

    expect((await say('/snippet remove Kargo')).answer.text).toBe('🗑 Snippet “Kargo” deleted.');
    expect((await say('/snippet remove kargo', { from: ayse })).answer.text).toBe(
      '“kargo” adında bir hazır yanıt yok. /snippets hepsini listeler.',
    );
    expect(await h.td.app.db('snippets').pluck('name_key')).toEqual(['refund']);
  });

  it('/s <name> in a topic sends the snippet to the visitor as a staff message and posts it in the topic, once', async () => {
    await say('/snippet add hours We are open 9–18, Monday to Friday.');
    const { v, topicId, threadId } = await visitorWithThread(h.td, 'When are you open?');

    const { update, message } = h.emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, text: '/s HOURS', threadId: topicId! });
    const got = await v.waitFor('message', (m) => m.sender === 'staff');
    expect(got).toMatchObject({ threadId, text: 'We are open 9–18, Monday to Friday.', html: null, status: 'delivered' });
    const posted = await eventually(() =>
      botMessages(h.emu, STAFF_CHAT_ID).find((c) => sendParams(c).text === 'We are open 9–18, Monday to Friday.'),
    );
    expect(sendParams(posted!).message_thread_id).toBe(topicId);

    // The same update again (Telegram delivers at least once): nothing is sent twice.
    const processed = (updateId: number) => async () =>
      (await h.td.app.db('processed_updates').where({ update_id: updateId })).length === 1;
    await eventually(processed(h.emu.injectUpdate({ message: update.message }).update_id));
    await outboxIdle(h.td);
    await roundTrip(v);
    expect(v.received.filter((r) => r.event === 'message' && r.payload.sender === 'staff')).toHaveLength(1);
    // Editing the /s command changes nothing for the visitor.
    const edit = h.emu.userEdits({ chatId: STAFF_CHAT_ID, messageId: message.message_id, text: '/s other' });
    await eventually(processed(edit.update.update_id));
    await roundTrip(v);
    expect(v.received.filter((r) => r.event === 'message:update')).toEqual([]);

    expect((await say('/s nosuch', { threadId: topicId! })).answer.text).toBe('There is no snippet “nosuch”. /snippets lists them.');
    expect((await say('/s', { threadId: topicId!, from: ayse })).answer.text).toMatch(/^Ziyaretçiye hazır yanıt gönderin/);
    expect((await say('/s hours')).answer.text).toBe('Use this command inside a visitor’s topic.');
    expect(await h.td.app.db('messages').where({ thread_id: threadId, sender_type: 'staff' })).toHaveLength(1);
    v.close();
  });
});
