import type { MessageEntity } from 'grammy/types';
import { connectVisitor, eventually, roundTrip, STAFF_CHAT_ID, type VisitorClient } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { makePng } from '../support/media-samples';
import { visitorWithThread, type Staff } from './staff-helpers';

/**
 * Staff formatting end to end on the server (docs/protocol.md "Formatting from staff"): a
 * formatted message in the topic, through the real bot and the emulator, reaches the visitor
 * with `html` (stored, in history, and edits too); visitor text never has any. The rules of
 * the conversion are tests/bot/staff-html.test.ts; the page, tests/browser/staff-formatting.test.ts.
 */
const e = (type: string, offset: number, length: number, extra: Record<string, unknown> = {}) =>
  ({ type, offset, length, ...extra }) as MessageEntity;
const LINK = 'rel="noopener noreferrer" target="_blank"';

describeEachDatabase('formatting from staff, on %s', (kind) => {
  let h: TopicdeskWithTelegram;
  let deniz: Staff;
  let v: VisitorClient;
  let topicId: number;
  let threadId: number;

  beforeAll(async () => {
    h = await startWithTelegram(kind, {
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
      },
    });
    const t = await visitorWithThread(h.td, 'Hi <b>there</b> & "you"');
    ({ v, threadId } = t);
    topicId = t.topicId!;
  });
  afterAll(async () => {
    v?.close();
    await h?.stop();
  });

  /** Staff write `text` with `entities` in the topic; the visitor's copy of it. */
  async function staffWrites(text: string, entities: MessageEntity[]) {
    const { message } = h.emu.userSends({ chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId, text, entities });
    const link = await eventually(() => h.td.app.store.telegramLinks.findByTelegramMessage(STAFF_CHAT_ID, message.message_id));
    return { tg: message, got: await v.waitFor('message', (m) => m.id === link!.messageId) };
  }

  it('a formatted staff message reaches the visitor as text plus clean HTML, stored and in history', async () => {
    const text = '😀 Bold italic under strike secret code\nblock\nquoted docs';
    const at = (word: string) => text.indexOf(word);
    const entities = [
      e('bold', at('Bold'), 4),
      e('italic', at('italic'), 6),
      e('underline', at('under'), 5),
      e('strikethrough', at('strike'), 6),
      e('spoiler', at('secret'), 6),
      e('code', at('code'), 4),
      e('pre', at('block'), 5, { language: 'js' }),
      e('blockquote', at('quoted'), 11),
      e('text_link', at('docs'), 4, { url: 'https://docs.example/help' }),
    ];
    const { got } = await staffWrites(text, entities);
    const html =
      '😀 <b>Bold</b> <i>italic</i> <u>under</u> <s>strike</s> <tg-spoiler>secret</tg-spoiler> <code>code</code>\n<pre>block</pre>\n' +
      `<blockquote>quoted <a href="https://docs.example/help" ${LINK}>docs</a></blockquote>`;
    expect(got).toMatchObject({ sender: 'staff', text, html, threadId });

    const row = await h.td.app.db('messages').where({ id: got.id }).first();
    expect(row).toMatchObject({ content_text: text, content_html: html });
    const again = await connectVisitor(h.td.url, v.session.token);
    const history = await again.emit('history', {});
    expect(history.messages.find((m) => m.id === got.id)).toMatchObject({ text, html });
    again.close();
  });

  it('an edit brings the new formatting; an edit without formatting drops it', async () => {
    const { tg, got } = await staffWrites('Your order ships today', [e('bold', 11, 5)]);
    expect(got.html).toBe('Your order <b>ships</b> today');

    h.emu.userEdits({ chatId: STAFF_CHAT_ID, messageId: tg.message_id, text: 'Your order ships tomorrow', entities: [e('italic', 17, 8)] });
    expect(await v.waitFor('message:update', (m) => m.id === got.id)).toMatchObject({
      text: 'Your order ships tomorrow',
      html: 'Your order ships <i>tomorrow</i>',
    });
    h.emu.userEdits({ chatId: STAFF_CHAT_ID, messageId: tg.message_id, text: 'Your order shipped', entities: [] });
    expect(await v.waitFor('message:update', (m) => m.id === got.id && m.text === 'Your order shipped')).toMatchObject({ html: null });
    expect(await h.td.app.db('messages').where({ id: got.id }).first()).toMatchObject({ content_html: null });
  });

  it('hostile formatting: a javascript: link stays text, markup in code stays text', async () => {
    const text = 'Click here <script>alert(1)</script>';
    const { got } = await staffWrites(text, [e('text_link', 0, 10, { url: 'javascript:alert(document.cookie)' }), e('code', 11, 25)]);
    expect(got.html).toBe('Click here <code>&lt;script&gt;alert(1)&lt;/script&gt;</code>');
    const plain = await staffWrites('Only a javascript: link', [e('text_link', 0, 4, { url: 'javascript:alert(1)' })]);
    expect(plain.got).toMatchObject({ text: 'Only a javascript: link', html: null });
  });

  it('a caption keeps its formatting; plain staff text and every visitor or system message have none', async () => {
    const { message } = h.emu.userSendsPhoto({
      chatId: STAFF_CHAT_ID,
      from: deniz,
      threadId: topicId,
      bytes: makePng(8, 8),
      caption: 'Label at https://label.example/x',
    });
    const link = await eventually(() => h.td.app.store.telegramLinks.findByTelegramMessage(STAFF_CHAT_ID, message.message_id));
    const photo = await v.waitFor('message', (m) => m.id === link!.messageId);
    expect(photo).toMatchObject({
      text: 'Label at https://label.example/x',
      html: `Label at <a href="https://label.example/x" ${LINK}>https://label.example/x</a>`,
    });
    const { got } = await staffWrites('Plain words', []);
    expect(got.html).toBeNull();

    await roundTrip(v);
    const history = await v.emit('history', { limit: 200 });
    const own = history.messages.filter((m) => m.sender === 'visitor');
    expect(own.map((m) => [m.text, m.html])).toEqual([['Hi <b>there</b> & "you"', null]]);
  });
});
