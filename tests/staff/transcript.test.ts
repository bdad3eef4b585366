import { STAFF_CHAT_ID, eventually } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { isUploadedFileParam } from '../../src/emulator/types';
import { transcriptHtml } from '../../src/domain/transcript';
import type { Message } from '../../src/domain/types';
import { staffSays, visitorWithThread, type Staff } from './staff-helpers';

/**
 * /transcript in a visitor's topic posts the conversation there as a text file (README
 * "Commands"): every message, oldest first, in UTC, texts as written. Through the real bot and
 * the emulator, on both databases; the HTML form's escaping below.
 */
describeEachDatabase('/transcript, on %s', (kind) => {
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

  it('posts the whole conversation as a document in the topic, in the asker’s language', async () => {
    const { v, topicId, ref, visitorId, threadId } = await visitorWithThread(h.td, 'Hello <b>there</b>');
    const second = await v.send('Line one\nline two');
    expect(second.ok).toBe(true);
    const { message } = h.emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId!, text: 'Hi, how can I help?' });
    await eventually(() => h.td.app.store.telegramLinks.findByTelegramMessage(STAFF_CHAT_ID, message.message_id));

    const before = h.emu.callsTo('sendDocument').length;
    h.emu.userSends({ chatId: STAFF_CHAT_ID, from: ayse, threadId: topicId!, text: '/transcript' });
    const call = await eventually(() =>
      h.emu
        .callsTo('sendDocument')
        .slice(before)
        .find((c) => c.ok),
    );
    expect(call!.params).toMatchObject({
      chat_id: STAFF_CHAT_ID,
      message_thread_id: topicId,
      caption: `🧾 ${ref} görüşmesinin dökümü: 3 mesaj.`,
    });
    const doc = call!.params.document;
    if (!isUploadedFileParam(doc)) throw new Error('no file uploaded');
    expect(doc.file.filename).toBe(`transcript-${ref}.txt`);
    const text = doc.file.bytes.toString('utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe(`Visitor #${visitorId} ile ${ref} görüşmesi`);
    expect(lines[1]).toMatch(/^Başlangıç \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    const body = lines.slice(3).map((l) => l.replace(/^\[[^\]]+\] /, '[t] '));
    expect(body).toEqual([
      '[t] Ziyaretçi:',
      '  Hello <b>there</b>',
      '',
      '[t] Ziyaretçi:',
      '  Line one',
      '  line two',
      '',
      '[t] Destek:',
      '  Hi, how can I help?',
      '',
    ]);
    expect(await h.td.app.db('messages').where({ thread_id: threadId })).toHaveLength(3);

    expect((await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, text: '/transcript' })).answer.text).toBe(
      'Use this command inside a visitor’s topic.',
    );
    v.close();
  });
});

describe('the HTML transcript', () => {
  it('escapes every text and links only http(s) attachments', () => {
    const m = (over: Partial<Message>): Message => ({
      id: 1,
      threadId: 1,
      sender: 'visitor',
      text: null,
      html: null,
      attachment: null,
      notice: null,
      clientId: null,
      status: 'delivered',
      createdAt: new Date('2026-12-06T10:00:00Z'),
      ...over,
    });
    const html = transcriptHtml(
      { thread: { ref: 'abc123', createdAt: new Date('2026-12-06T09:59:00Z') }, visitor: '<Can>', publicUrl: 'https://desk.example/' },
      [
        m({ text: '<script>alert(1)</script> & "x"' }),
        m({ sender: 'staff', attachment: { kind: 'image', url: '/media/a.png', mime: 'image/png', size: 1 } }),
        m({ attachment: { kind: 'file', url: 'javascript:alert(1)', mime: 'x/y', size: 1 } }),
      ],
    );
    expect(html).toContain('<title>Conversation abc123 with &lt;Can&gt;</title>');
    expect(html).toContain('<p class="text">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;</p>');
    expect(html).toContain('<a href="https://desk.example/media/a.png" rel="noopener noreferrer" target="_blank">image</a>');
    expect(html).not.toContain('javascript:');
    expect(html).not.toMatch(/<script/i);
  });
});
