import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from '@grammyjs/runner';
import { Bot, GrammyError, HttpError, InputFile } from 'grammy';
import type { Message, Update } from 'grammy/types';
import { type EmulatorEvent, isUploadedFileParam, parseTelegramHtml, TelegramEmulator } from '../../src/emulator';
import { eventually as eventuallyTrue } from '../support/harness';

const FORUM_ID = -1001234567890;
const GROUP_ID = -1009876543210;

let emu: TelegramEmulator;
let bot: Bot;

beforeEach(async () => {
  emu = await TelegramEmulator.start();
  emu.addChat({ id: FORUM_ID, type: 'supergroup', title: 'Support', is_forum: true });
  emu.addChat({ id: GROUP_ID, type: 'supergroup', title: 'Plain group' });
  bot = new Bot(emu.token, { client: { apiRoot: emu.apiRoot } });
});

afterEach(async () => {
  await emu.stop();
});

/** Retries an assertion for up to `ms` (tests/support/harness.ts eventually). */
const eventually = (assertion: () => void, ms = 2000) =>
  eventuallyTrue(
    () => {
      assertion();
      return true;
    },
    { timeoutMs: ms, intervalMs: 10, what: 'the assertion' },
  );

/** Runs `fn`, expects a GrammyError and returns it. */
async function grammyError(fn: () => Promise<unknown>): Promise<GrammyError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof GrammyError) return e;
    throw e;
  }
  throw new Error('expected a GrammyError, but the call succeeded');
}

describe('TelegramEmulator basics', () => {
  test('getMe returns the configured bot', async () => {
    const me = await bot.api.getMe();
    expect(me).toMatchObject({
      id: 123456,
      is_bot: true,
      username: 'topicdesk_test_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
    });
    expect(typeof me.first_name).toBe('string');
    expect(emu.bot.id).toBe(me.id);
    expect(emu.callsTo('getMe')).toHaveLength(1);
  });

  test('unknown token → 401, unknown method → 404, both recorded', async () => {
    const stranger = new Bot('999:WRONG', { client: { apiRoot: emu.apiRoot } });
    const unauthorized = await grammyError(() => stranger.api.getMe());
    expect(unauthorized.error_code).toBe(401);
    expect(unauthorized.description).toBe('Unauthorized');

    const res = await fetch(`${emu.apiRoot}/bot${emu.token}/noSuchMethod`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found: method not found' });
    expect(emu.calls.map((c) => [c.method, c.ok, c.error?.error_code])).toEqual([
      ['getMe', false, 401],
      ['noSuchMethod', false, 404],
    ]);
  });

  test('urlencoded bodies: numeric params become numbers, JSON values are parsed', async () => {
    const body = new URLSearchParams({
      chat_id: String(GROUP_ID),
      text: '[not json, just text]',
      reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'Go', callback_data: 'go' }]] }),
    });
    const res = await fetch(`${emu.apiRoot}/bot${emu.token}/sendMessage`, { method: 'POST', body });
    const json = (await res.json()) as { ok: boolean; result: Message };
    expect(json.ok).toBe(true);
    expect(json.result.reply_markup?.inline_keyboard[0]?.[0]?.text).toBe('Go');
    const [call] = emu.callsTo('sendMessage');
    expect(call?.params).toEqual({
      chat_id: GROUP_ID,
      text: '[not json, just text]',
      reply_markup: { inline_keyboard: [[{ text: 'Go', callback_data: 'go' }]] },
    });
  });
});

describe('messages and forum topics', () => {
  test('sendMessage into a topic created with createForumTopic', async () => {
    const topic = await bot.api.createForumTopic(FORUM_ID, 'Ayşe — chat #1');
    expect(topic).toEqual({ message_thread_id: expect.any(Number), name: 'Ayşe — chat #1', icon_color: 0x6fb9f0 });

    const m1 = await bot.api.sendMessage(FORUM_ID, 'Hello from the bot', { message_thread_id: topic.message_thread_id });
    const m2 = await bot.api.sendMessage(FORUM_ID, 'Second', { message_thread_id: topic.message_thread_id });
    expect(m1).toMatchObject({
      chat: { id: FORUM_ID, type: 'supergroup', title: 'Support', is_forum: true },
      from: { id: emu.bot.id, is_bot: true },
      text: 'Hello from the bot',
      message_thread_id: topic.message_thread_id,
      is_topic_message: true,
      reply_to_message: { message_id: topic.message_thread_id, forum_topic_created: { name: 'Ayşe — chat #1' } },
    });
    expect(m1.message_id).toBeGreaterThan(topic.message_thread_id);
    expect(m2.message_id).toBe(m1.message_id + 1);
    expect(typeof m1.date).toBe('number');
    expect(emu.sentMessages(FORUM_ID).map((m) => m.text)).toEqual(['Hello from the bot', 'Second']);
    expect(emu.topics(FORUM_ID)).toEqual([
      { message_thread_id: topic.message_thread_id, name: 'Ayşe — chat #1', icon_color: 0x6fb9f0, closed: false, deleted: false },
    ]);
  });

  test('createForumTopic needs a forum and the right to manage topics', async () => {
    const notForum = await grammyError(() => bot.api.createForumTopic(GROUP_ID, 'x'));
    expect(notForum.error_code).toBe(400);
    expect(notForum.description).toBe('Bad Request: the chat is not a forum');

    emu.setChatMember(FORUM_ID, emu.bot.id, { status: 'administrator', can_manage_topics: false });
    const noRights = await grammyError(() => bot.api.createForumTopic(FORUM_ID, 'x'));
    expect(noRights.description).toBe('Bad Request: not enough rights to create a topic');
  });

  test('deleted topic → message thread not found; closed topic → TOPIC_CLOSED', async () => {
    const open = await bot.api.createForumTopic(FORUM_ID, 'will be deleted');
    emu.deleteTopic(FORUM_ID, open.message_thread_id);
    const deleted = await grammyError(() => bot.api.sendMessage(FORUM_ID, 'anyone?', { message_thread_id: open.message_thread_id }));
    expect(deleted.error_code).toBe(400);
    expect(deleted.description).toBe('Bad Request: message thread not found');

    const closed = await bot.api.createForumTopic(FORUM_ID, 'will be closed');
    const staff = emu.addUser({ id: 42, first_name: 'Staff' });
    const update = emu.closeTopic(FORUM_ID, closed.message_thread_id, { by: staff });
    expect(update?.message?.forum_topic_closed).toEqual({});
    const err = await grammyError(() => bot.api.sendMessage(FORUM_ID, 'hi', { message_thread_id: closed.message_thread_id }));
    expect(err.description).toBe('Bad Request: TOPIC_CLOSED');

    await bot.api.reopenForumTopic(FORUM_ID, closed.message_thread_id);
    await bot.api.sendMessage(FORUM_ID, 'hi again', { message_thread_id: closed.message_thread_id });
    const again = await grammyError(() => bot.api.reopenForumTopic(FORUM_ID, closed.message_thread_id));
    expect(again.description).toBe('Bad Request: TOPIC_NOT_MODIFIED');
    expect(emu.topics(FORUM_ID).map((t) => [t.name, t.closed, t.deleted])).toEqual([
      ['will be deleted', false, true],
      ['will be closed', false, false],
    ]);
  });

  test('unknown chat, empty and too long texts', async () => {
    expect((await grammyError(() => bot.api.sendMessage(-100111, 'x'))).description).toBe('Bad Request: chat not found');
    expect((await grammyError(() => bot.api.sendMessage(GROUP_ID, ''))).description).toBe('Bad Request: message text is empty');
    expect((await grammyError(() => bot.api.sendMessage(GROUP_ID, 'x'.repeat(4097)))).description).toBe('Bad Request: message is too long');
    await bot.api.sendMessage(GROUP_ID, 'x'.repeat(4096));
  });

  test('editMessageText and deleteMessage', async () => {
    const m = await bot.api.sendMessage(GROUP_ID, 'draft');
    const edited = await bot.api.editMessageText(GROUP_ID, m.message_id, '<i>final</i>', { parse_mode: 'HTML' });
    expect(edited).toMatchObject({ text: 'final', entities: [{ type: 'italic', offset: 0, length: 5 }] });
    expect(typeof (edited as Message).edit_date).toBe('number');
    const same = await grammyError(() => bot.api.editMessageText(GROUP_ID, m.message_id, '<i>final</i>', { parse_mode: 'HTML' }));
    expect(same.description).toMatch(/^Bad Request: message is not modified/);
    expect(await bot.api.deleteMessage(GROUP_ID, m.message_id)).toBe(true);
    const gone = await grammyError(() => bot.api.deleteMessage(GROUP_ID, m.message_id));
    expect(gone.description).toBe('Bad Request: message to delete not found');
  });

  test('getChat and getChatMember', async () => {
    const chat = await bot.api.getChat(FORUM_ID);
    expect(chat).toMatchObject({ id: FORUM_ID, type: 'supergroup', is_forum: true, title: 'Support' });

    const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe', username: 'ayse', language_code: 'tr' });
    expect((await bot.api.getChatMember(FORUM_ID, ayse.id)).status).toBe('member');
    emu.setChatMember(FORUM_ID, ayse.id, { status: 'kicked' });
    expect((await bot.api.getChatMember(FORUM_ID, ayse.id)).status).toBe('kicked');
    const me = await bot.api.getChatMember(FORUM_ID, emu.bot.id);
    expect(me).toMatchObject({ status: 'administrator', can_manage_topics: true });
  });
});

describe('other methods', () => {
  test('topic management, commands, chat actions, callback queries, media by file_id, reset()', async () => {
    const topic = await bot.api.createForumTopic(FORUM_ID, 'Old name', { icon_color: 0xffd67e });
    const id = topic.message_thread_id;
    expect(await bot.api.editForumTopic(FORUM_ID, id, { name: 'New name' })).toBe(true);
    expect((await grammyError(() => bot.api.editForumTopic(FORUM_ID, id, { name: 'New name' }))).description).toBe(
      'Bad Request: TOPIC_NOT_MODIFIED',
    );
    expect(await bot.api.closeForumTopic(FORUM_ID, id)).toBe(true);
    expect(emu.topics(FORUM_ID)[0]).toMatchObject({ name: 'New name', icon_color: 0xffd67e, closed: true });
    expect(await bot.api.deleteForumTopic(FORUM_ID, id)).toBe(true);
    expect((await grammyError(() => bot.api.closeForumTopic(FORUM_ID, id))).description).toBe('Bad Request: message thread not found');

    await bot.api.setMyCommands([{ command: 'start', description: 'Start' }]);
    await bot.api.setMyCommands([{ command: 'hilfe', description: 'Hilfe' }], { language_code: 'de' });
    expect(await bot.api.getMyCommands()).toEqual([{ command: 'start', description: 'Start' }]);
    expect(await bot.api.getMyCommands({ language_code: 'de' })).toEqual([{ command: 'hilfe', description: 'Hilfe' }]);
    await bot.api.deleteMyCommands();
    expect(await bot.api.getMyCommands()).toEqual([]);
    expect((await grammyError(() => bot.api.setMyCommands([{ command: 'Bad Command', description: 'x' }]))).error_code).toBe(400);

    expect(await bot.api.sendChatAction(GROUP_ID, 'typing')).toBe(true);

    const withButton = await bot.api.sendMessage(GROUP_ID, 'Pick', {
      reply_markup: { inline_keyboard: [[{ text: 'Take', callback_data: 'take' }]] },
    });
    const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
    const { callbackQuery } = emu.userPressesButton({ chatId: GROUP_ID, from: ayse, messageId: withButton.message_id, data: 'take' });
    expect(await bot.api.answerCallbackQuery(callbackQuery.id, { text: 'Taken' })).toBe(true);
    expect((await grammyError(() => bot.api.answerCallbackQuery(callbackQuery.id))).description).toMatch(/query is too old/);

    const voice = emu.addFile(Buffer.from('ogg'), { file_path: 'voice/file_1.oga' });
    const sentVoice = await bot.api.sendVoice(GROUP_ID, voice.file_id, { caption: 'listen' });
    expect(sentVoice.voice).toMatchObject({ file_id: voice.file_id, file_size: 3 });
    const sentAudio = await bot.api.sendAudio(GROUP_ID, new InputFile(Buffer.from('mp3!'), 'song.mp3'), { title: 'Song' });
    expect(sentAudio.audio).toMatchObject({ file_name: 'song.mp3', mime_type: 'audio/mpeg', title: 'Song', file_size: 4 });
    const sentDoc = await bot.api.sendDocument(GROUP_ID, new InputFile(Buffer.from('{}'), 'data.json'));
    expect(sentDoc.document).toMatchObject({ file_name: 'data.json', mime_type: 'application/json' });
    expect((await grammyError(() => bot.api.sendDocument(GROUP_ID, 'no-such-file-id'))).description).toBe(
      'Bad Request: wrong file identifier/HTTP URL specified',
    );

    emu.failNext('getMe', { error_code: 500, description: 'boom' });
    emu.setLatency(1000);
    emu.reset();
    expect(emu.calls).toEqual([]);
    expect(emu.sentMessages()).toEqual([]);
    await bot.api.getMe(); // neither the fault nor the latency survive reset()
    expect(emu.topics(FORUM_ID)).toHaveLength(1); // the world does
  });

  test('injectUpdate queues arbitrary updates; allowed_updates filters them like Telegram', async () => {
    const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
    const member = {
      chat: { id: GROUP_ID, type: 'supergroup', title: 'Plain group' },
      from: ayse,
      date: 1,
      old_chat_member: { status: 'left', user: ayse },
      new_chat_member: { status: 'member', user: ayse },
    };
    emu.injectUpdate({ chat_member: member });
    const mine = emu.injectUpdate({
      my_chat_member: {
        ...member,
        old_chat_member: { status: 'left', user: emu.bot },
        new_chat_member: { status: 'administrator', user: emu.bot },
      },
    });
    // chat_member is only delivered when asked for explicitly.
    expect((await bot.api.getUpdates()).map((u) => u.update_id)).toEqual([mine.update_id]);
    emu.injectUpdate({ chat_member: member });
    const [explicit] = await bot.api.getUpdates({ offset: mine.update_id + 1, allowed_updates: ['chat_member'] });
    expect(explicit?.chat_member?.new_chat_member.status).toBe('member');
  });
});

describe("watching the world (what the demo's staff view shows)", () => {
  test('watch reports messages, edits, deletions, topic changes and calls as they happen, until unwatched', async () => {
    const events: EmulatorEvent[] = [];
    const unwatch = emu.watch((e) => events.push(e));
    const staff = emu.addUser({ id: 42, first_name: 'Staff' });
    const summary = () =>
      events.map((e) =>
        e.type === 'message'
          ? `message ${e.chatId} #${e.message.message_id}${e.message.edit_date !== undefined ? ' edited' : ''}`
          : e.type === 'messages-deleted'
            ? `deleted ${e.chatId} ${e.messageIds.join(',')}`
            : e.type === 'topic'
              ? `topic ${e.topic.message_thread_id} ${e.topic.name}${e.topic.closed ? ' closed' : ''}${e.topic.deleted ? ' deleted' : ''}`
              : `call ${e.call.method} ${e.call.ok ? 'ok' : 'failed'}`,
      );

    const topic = await bot.api.createForumTopic(FORUM_ID, 'Visitor #1');
    const id = topic.message_thread_id;
    const sent = await bot.api.sendMessage(FORUM_ID, 'Hello', { message_thread_id: id });
    const typed = emu.userSends({ chatId: FORUM_ID, from: staff, threadId: id, text: 'Hi' }).message;
    emu.userEdits({ chatId: FORUM_ID, messageId: typed.message_id, text: 'Hi!' });
    await bot.api.closeForumTopic(FORUM_ID, id);
    emu.reopenTopic(FORUM_ID, id, { by: staff });
    await bot.api.editForumTopic(FORUM_ID, id, { name: 'Ayşe' });
    await grammyError(() => bot.api.deleteMessage(FORUM_ID, 9999));
    await bot.api.deleteMessage(FORUM_ID, sent.message_id);
    await bot.api.deleteForumTopic(FORUM_ID, id);
    expect(summary()).toEqual([
      `message ${FORUM_ID} #${id}`,
      `topic ${id} Visitor #1`,
      'call createForumTopic ok',
      `message ${FORUM_ID} #${sent.message_id}`,
      'call sendMessage ok',
      `message ${FORUM_ID} #${typed.message_id}`,
      `message ${FORUM_ID} #${typed.message_id} edited`,
      `message ${FORUM_ID} #${typed.message_id + 1}`,
      `topic ${id} Visitor #1 closed`,
      'call closeForumTopic ok',
      `message ${FORUM_ID} #${typed.message_id + 2}`,
      `topic ${id} Visitor #1`,
      `message ${FORUM_ID} #${typed.message_id + 3}`,
      `topic ${id} Ayşe`,
      'call editForumTopic ok',
      'call deleteMessage failed',
      `deleted ${FORUM_ID} ${sent.message_id}`,
      'call deleteMessage ok',
      `deleted ${FORUM_ID} ${[id, typed.message_id, typed.message_id + 1, typed.message_id + 2, typed.message_id + 3].join(',')}`,
      `topic ${id} Ayşe deleted`,
      'call deleteForumTopic ok',
    ]);
    const service = events.flatMap((e) => (e.type === 'message' ? [e.message] : []));
    expect(service.map((m) => Object.keys(m).find((k) => k.startsWith('forum_topic_')) ?? 'text')).toEqual([
      'forum_topic_created',
      'text',
      'text',
      'text',
      'forum_topic_closed',
      'forum_topic_reopened',
      'forum_topic_edited',
    ]);

    unwatch();
    await bot.api.sendMessage(GROUP_ID, 'unseen');
    expect(events).toHaveLength(21);
  });

  test('a listener that throws changes nothing for the bot; its error is reported on stderr', async () => {
    const reported: unknown[][] = [];
    const stderr = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void reported.push(args));
    try {
      emu.watch(() => {
        throw new Error('listener bug');
      });
      const m = await bot.api.sendMessage(GROUP_ID, 'still sent');
      expect(m.text).toBe('still sent');
      expect(emu.chatMessages(GROUP_ID).map((x) => x.text)).toEqual(['still sent']);
      // The stored message and the answered call, each reported once.
      expect(reported).toEqual([
        ['TelegramEmulator: a watch listener threw', new Error('listener bug')],
        ['TelegramEmulator: a watch listener threw', new Error('listener bug')],
      ]);
    } finally {
      stderr.mockRestore();
    }
  });

  test('chatMessages, chat, user and file give the stored state', async () => {
    const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
    const m1 = await bot.api.sendMessage(GROUP_ID, 'one');
    const doc = emu.userSendsDocument({ chatId: GROUP_ID, from: ayse, bytes: Buffer.from('%PDF-1.4'), fileName: 'a.pdf' }).message;
    await bot.api.deleteMessage(GROUP_ID, m1.message_id);
    expect(emu.chatMessages(GROUP_ID).map((m) => m.message_id)).toEqual([doc.message_id]);
    expect(emu.chat(GROUP_ID)).toMatchObject({ id: GROUP_ID, title: 'Plain group' });
    expect(emu.chat(-1)).toBeUndefined();
    expect(emu.user(ayse.id)).toEqual(ayse);
    const file = emu.file(doc.document!.file_id);
    expect(file).toMatchObject({ file_name: 'a.pdf', mime_type: 'application/pdf', file_size: 8 });
    expect(file?.bytes.toString()).toBe('%PDF-1.4');
    expect(emu.file('nope')).toBeUndefined();
    expect(() => emu.chatMessages(-1)).toThrow('unknown chat -1');
  });

  test('commandsFor resolves scopes and languages as Telegram does', async () => {
    const admin = emu.addUser({ id: 1, first_name: 'Admin' });
    const member = emu.addUser({ id: 2, first_name: 'Member' });
    emu.setChatMember(FORUM_ID, admin.id, { status: 'administrator' });
    const list = (name: string) => [{ command: name.replace(' ', '_'), description: name }];
    await bot.api.setMyCommands(list('default'));
    expect(emu.commandsFor(FORUM_ID, member.id)).toEqual(list('default'));
    await bot.api.setMyCommands(list('groups'), { scope: { type: 'all_group_chats' } });
    await bot.api.setMyCommands(list('privates'), { scope: { type: 'all_private_chats' } });
    await bot.api.setMyCommands(list('admins'), { scope: { type: 'all_chat_administrators' } });
    expect(emu.commandsFor(FORUM_ID, member.id)).toEqual(list('groups'));
    expect(emu.commandsFor(FORUM_ID, admin.id)).toEqual(list('admins'));
    emu.userSends({ chatId: member.id, from: member, text: 'hi' });
    expect(emu.commandsFor(member.id, member.id)).toEqual(list('privates'));
    // A chat named by its number, as a string, or by "@username" is one scope.
    await bot.api.setMyCommands(list('forum'), { scope: { type: 'chat', chat_id: String(FORUM_ID) } });
    await bot.api.setMyCommands(list('forum tr'), { scope: { type: 'chat', chat_id: FORUM_ID }, language_code: 'tr' });
    expect(emu.commandsFor(FORUM_ID, admin.id)).toEqual(list('forum'));
    expect(emu.commandsFor(FORUM_ID, admin.id, 'tr')).toEqual(list('forum tr'));
    expect(emu.commandsFor(FORUM_ID, admin.id, 'de')).toEqual(list('forum'));
    await bot.api.setMyCommands(list('just you'), { scope: { type: 'chat_member', chat_id: FORUM_ID, user_id: member.id } });
    expect(emu.commandsFor(FORUM_ID, member.id, 'tr')).toEqual(list('just you'));
    expect(emu.commandsFor(GROUP_ID, member.id)).toEqual(list('groups'));
    await bot.api.deleteMyCommands({ scope: { type: 'chat', chat_id: FORUM_ID } });
    expect(emu.commandsFor(FORUM_ID, admin.id)).toEqual(list('admins'));
  });

  test('keepCalls bounds the recorded calls; waitFor still sees new ones', async () => {
    const small = await TelegramEmulator.start({ keepCalls: 3 });
    try {
      small.addChat({ id: GROUP_ID, type: 'supergroup', title: 'Plain group' });
      const api = new Bot(small.token, { client: { apiRoot: small.apiRoot } }).api;
      for (let i = 1; i <= 5; i++) await api.sendMessage(GROUP_ID, `m${i}`);
      expect(small.calls.map((c) => c.params.text)).toEqual(['m3', 'm4', 'm5']);
      const waiting = small.waitFor((c) => c.params.text === 'm6');
      await api.sendMessage(GROUP_ID, 'm6');
      expect((await waiting).params.text).toBe('m6');
      expect(small.sentMessages(GROUP_ID)).toHaveLength(6);
    } finally {
      await small.stop();
    }
  });
});

describe('HTML parse mode', () => {
  test('well-formed HTML is accepted; the plain text and entities are returned and recorded', async () => {
    const html = '<b>Ayşe</b> wrote: &lt;hi&gt; &amp; <a href="https://example.com/?a=1&amp;b=2">link</a>';
    const m = await bot.api.sendMessage(GROUP_ID, html, { parse_mode: 'HTML' });
    expect(m.text).toBe('Ayşe wrote: <hi> & link');
    expect(m.entities).toEqual([
      { type: 'bold', offset: 0, length: 4 },
      { type: 'text_link', offset: 19, length: 4, url: 'https://example.com/?a=1&b=2' },
    ]);
    const [call] = emu.callsTo('sendMessage');
    expect(call?.params.text).toBe(html);
    expect((call?.result as Message).text).toBe('Ayşe wrote: <hi> & link');
  });

  test('<script> and a lone < are rejected like Telegram does', async () => {
    const script = await grammyError(() => bot.api.sendMessage(GROUP_ID, 'x <script>alert(1)</script>', { parse_mode: 'HTML' }));
    expect(script.error_code).toBe(400);
    expect(script.description).toBe('Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 2');

    const lone = await grammyError(() => bot.api.sendMessage(GROUP_ID, 'a < b', { parse_mode: 'HTML' }));
    expect(lone.description).toBe('Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2');

    const unclosed = await grammyError(() => bot.api.sendMessage(GROUP_ID, '<b>bold', { parse_mode: 'HTML' }));
    expect(unclosed.description).toBe('Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"');
    expect(emu.sentMessages()).toHaveLength(0);
    expect(emu.callsTo('sendMessage').every((c) => !c.ok)).toBe(true);
  });

  test('parser details: nesting, pre/code language, spoilers, numeric entities', () => {
    expect(parseTelegramHtml('<pre><code class="language-ts">let x</code></pre>')).toEqual({
      text: 'let x',
      entities: [{ type: 'pre', offset: 0, length: 5, language: 'ts' }],
    });
    expect(parseTelegramHtml('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>&#128512;&#x41;').text).toBe('st😀A');
    expect(() => parseTelegramHtml('<b><i>x</b></i>')).toThrow(/Unmatched end tag/);
    expect(() => parseTelegramHtml('<span>x</span>')).toThrow(/must have class "tg-spoiler"/);
    expect(() => parseTelegramHtml('<br>')).toThrow('Unsupported start tag "br" at byte offset 0');
    expect(parseTelegramHtml('AT&T &nbsp;').text).toBe('AT&T &nbsp;');
  });
});

describe('fault injection', () => {
  test('setChatRateLimit answers 429 with retry_after in parameters', async () => {
    emu.setChatRateLimit(GROUP_ID, { limit: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) await bot.api.sendMessage(GROUP_ID, `m${i}`);
    const err = await grammyError(() => bot.api.sendMessage(GROUP_ID, 'one too many'));
    expect(err.error_code).toBe(429);
    expect(err.parameters.retry_after).toBeGreaterThanOrEqual(59);
    expect(err.parameters.retry_after).toBeLessThanOrEqual(60);
    expect(err.description).toBe(`Too Many Requests: retry after ${err.parameters.retry_after}`);
    // Other chats are not affected.
    await bot.api.sendMessage(FORUM_ID, 'fine');
    expect(emu.sentMessages(GROUP_ID)).toHaveLength(3);
  });

  test('the rate limit window slides', async () => {
    emu.setChatRateLimit(GROUP_ID, { limit: 1, windowMs: 300 });
    await bot.api.sendMessage(GROUP_ID, 'a');
    const err = await grammyError(() => bot.api.sendMessage(GROUP_ID, 'b'));
    expect(err.parameters.retry_after).toBe(1);
    // The window's length is what is tested: waiting it out is the point.
    await new Promise((r) => setTimeout(r, 350));
    await bot.api.sendMessage(GROUP_ID, 'c');
  });

  test('failNext answers the next N calls with the given error', async () => {
    emu.failNext('sendMessage', { error_code: 500, description: 'Internal Server Error' });
    const err = await grammyError(() => bot.api.sendMessage(GROUP_ID, 'x'));
    expect(err.error_code).toBe(500);
    expect(err.description).toBe('Internal Server Error');
    await bot.api.sendMessage(GROUP_ID, 'x');

    emu.failNext('*', { error_code: 429, description: 'Too Many Requests: retry after 7', retry_after: 7 }, 2);
    expect((await grammyError(() => bot.api.getMe())).parameters.retry_after).toBe(7);
    expect((await grammyError(() => bot.api.getChat(GROUP_ID))).error_code).toBe(429);
    await bot.api.getMe();
    expect(emu.calls.map((c) => `${c.method}:${c.ok ? 'ok' : c.error?.error_code}`)).toEqual([
      'sendMessage:500',
      'sendMessage:ok',
      'getMe:429',
      'getChat:429',
      'getMe:ok',
    ]);
  });

  test('hangNext leaves the request unanswered until the client gives up', async () => {
    const impatient = new Bot(emu.token, { client: { apiRoot: emu.apiRoot, timeoutSeconds: 1 } });
    emu.hangNext('sendMessage');
    const started = Date.now();
    await expect(impatient.api.sendMessage(GROUP_ID, 'lost')).rejects.toBeInstanceOf(HttpError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(emu.sentMessages()).toHaveLength(0);
    const [call] = emu.callsTo('sendMessage');
    expect(call).toMatchObject({ ok: false, error: { error_code: 0 } });
    await impatient.api.sendMessage(GROUP_ID, 'delivered');
  });

  test('setLatency delays answers', async () => {
    emu.setLatency(150);
    const started = Date.now();
    await bot.api.getMe();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  test('waitFor resolves on future calls and explains timeouts', async () => {
    const waiting = emu.waitFor((c) => c.method === 'sendMessage' && c.params.text === 'later');
    await bot.api.sendMessage(GROUP_ID, 'earlier');
    await bot.api.sendMessage(GROUP_ID, 'later');
    expect((await waiting).params.text).toBe('later');
    await expect(emu.waitForCalls('sendMessage', 2, { timeoutMs: 100 })).resolves.toHaveLength(2);

    await bot.api.sendMessage(-1, 'nowhere').catch(() => undefined);
    await expect(emu.waitFor((c) => c.params.chat_id === -1, { timeoutMs: 100 })).rejects.toThrow(
      /timed out after 100ms[\s\S]*sendMessage .*chat not found/,
    );
    const failed = await emu.waitFor((c) => !c.ok && c.params.chat_id === -1, { timeoutMs: 100 });
    expect(failed.error?.description).toBe('Bad Request: chat not found');
  });
});

describe('updates', () => {
  test('getUpdates long-polls, honours offset and times out with []', async () => {
    const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe', username: 'ayse', language_code: 'tr' });
    const poll = bot.api.getUpdates({ timeout: 2 });
    await emu.longPollHeld();
    const started = Date.now();
    emu.userSends({ chatId: ayse.id, from: ayse, text: '/start hello' });
    const updates = await poll;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(updates).toHaveLength(1);
    const message = updates[0]?.message;
    expect(message).toMatchObject({
      chat: { id: ayse.id, type: 'private', first_name: 'Ayşe' },
      from: { id: ayse.id, username: 'ayse', language_code: 'tr' },
      text: '/start hello',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    });

    // Not confirmed yet: delivered again.
    const again = await bot.api.getUpdates({ timeout: 0 });
    expect(again.map((u) => u.update_id)).toEqual([updates[0]?.update_id]);

    // offset confirms; nothing new → [] after the timeout.
    const t0 = Date.now();
    const none = await bot.api.getUpdates({ offset: (updates[0]?.update_id ?? 0) + 1, timeout: 1 });
    expect(none).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(emu.pendingUpdates()).toEqual([]);
  });

  test('userSends in a topic carries the topic root as reply_to_message; limit is honoured', async () => {
    const topic = await bot.api.createForumTopic(FORUM_ID, 'Ticket');
    const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
    const first = emu.userSends({ chatId: FORUM_ID, from: ayse, text: 'in topic', threadId: topic.message_thread_id });
    expect(first.message).toMatchObject({
      message_thread_id: topic.message_thread_id,
      is_topic_message: true,
      reply_to_message: { message_id: topic.message_thread_id, forum_topic_created: { name: 'Ticket' } },
    });
    const botMsg = await bot.api.sendMessage(FORUM_ID, 'answer', { message_thread_id: topic.message_thread_id });
    const reply = emu.userSends({ chatId: FORUM_ID, from: ayse, text: 'thanks', replyToMessageId: botMsg.message_id });
    expect(reply.message).toMatchObject({
      message_thread_id: topic.message_thread_id,
      reply_to_message: { message_id: botMsg.message_id },
    });
    expect(reply.message.reply_to_message?.reply_to_message).toBeUndefined();
    emu.userEdits({ chatId: FORUM_ID, messageId: first.message.message_id, text: 'edited' });

    const batch = await bot.api.getUpdates({ limit: 2 });
    expect(batch.map((u) => (u.message ?? u.edited_message)?.text)).toEqual(['in topic', 'thanks']);
    const rest = await bot.api.getUpdates({ offset: (batch[1]?.update_id ?? 0) + 1 });
    expect(rest[0]?.edited_message).toMatchObject({ text: 'edited', edit_date: expect.any(Number) });
  });

  test('a second getUpdates terminates the first with 409', async () => {
    const first = bot.api.getUpdates({ timeout: 5 });
    await emu.longPollHeld();
    const second = bot.api.getUpdates({ timeout: 0 });
    const err = await grammyError(() => first);
    expect(err.error_code).toBe(409);
    expect(err.description).toMatch(/^Conflict: terminated by other getUpdates request/);
    await expect(second).resolves.toEqual([]);
  });

  test('stop() ends a held long poll promptly', async () => {
    const poll = fetch(`${emu.apiRoot}/bot${emu.token}/getUpdates?timeout=30`).then(
      () => 'answered',
      () => 'failed',
    );
    await emu.longPollHeld();
    const started = Date.now();
    await emu.stop();
    await expect(poll).resolves.toMatch(/answered|failed/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('files', () => {
  test('getFile + download of a registered file', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    const added = emu.addFile(bytes, { file_path: 'photos/file_7.png' });
    const file = await bot.api.getFile(added.file_id);
    expect(file).toEqual({ file_id: added.file_id, file_unique_id: added.file_unique_id, file_size: 8, file_path: 'photos/file_7.png' });
    const res = await fetch(`${emu.apiRoot}/file/bot${emu.token}/${file.file_path ?? ''}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);

    const bad = await grammyError(() => bot.api.getFile('nope'));
    expect(bad.description).toBe('Bad Request: invalid file_id');
    expect((await fetch(`${emu.apiRoot}/file/bot${emu.token}/missing.bin`)).status).toBe(404);
  });

  test('files sent by users can be fetched by the bot', async () => {
    const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
    const { message } = emu.userSendsPhoto({ chatId: ayse.id, from: ayse, bytes: Buffer.from('jpeg bytes'), caption: 'look' });
    const sizes = message.photo ?? [];
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes[sizes.length - 1]?.width).toBeGreaterThan(sizes[0]?.width ?? Infinity);
    const file = await bot.api.getFile(sizes[sizes.length - 1]?.file_id ?? '');
    const res = await fetch(`${emu.apiRoot}/file/bot${emu.token}/${file.file_path ?? ''}`);
    expect(await res.text()).toBe('jpeg bytes');

    const doc = emu.userSendsDocument({ chatId: ayse.id, from: ayse, bytes: Buffer.from('%PDF'), fileName: 'cv.pdf' });
    expect(doc.message.document).toMatchObject({ file_name: 'cv.pdf', mime_type: 'application/pdf', file_size: 4 });
    const voice = emu.userSendsVoice({ chatId: ayse.id, from: ayse, bytes: Buffer.from('ogg'), duration: 3 });
    expect(voice.message.voice).toMatchObject({ duration: 3, mime_type: 'audio/ogg' });
    const contact = emu.userSendsContact({
      chatId: ayse.id,
      from: ayse,
      contact: { phone_number: '+90555', first_name: 'Ayşe', user_id: ayse.id },
    });
    expect(contact.message.contact?.phone_number).toBe('+90555');
  });

  test('multipart upload (InputFile) with sendPhoto records the bytes', async () => {
    const bytes = Buffer.from('\x89PNG fake image bytes\r\n--not-a-boundary\r\n', 'latin1');
    const m = await bot.api.sendPhoto(GROUP_ID, new InputFile(bytes, 'a.png'), { caption: '<b>Receipt</b>', parse_mode: 'HTML' });
    expect(m.caption).toBe('Receipt');
    expect(m.caption_entities).toEqual([{ type: 'bold', offset: 0, length: 7 }]);
    expect(m.photo?.length).toBeGreaterThan(1);

    const [call] = emu.callsTo('sendPhoto');
    expect(call?.params.chat_id).toBe(GROUP_ID);
    expect(call?.params.caption).toBe('<b>Receipt</b>');
    const photo = call?.params.photo;
    expect(isUploadedFileParam(photo)).toBe(true);
    if (!isUploadedFileParam(photo)) return;
    expect(photo.file.filename).toBe('a.png');
    expect(photo.file.contentType).toBe('application/octet-stream');
    expect(photo.file.bytes.equals(bytes)).toBe(true);

    const biggest = m.photo?.[m.photo.length - 1];
    const file = await bot.api.getFile(biggest?.file_id ?? '');
    const res = await fetch(`${emu.apiRoot}/file/bot${emu.token}/${file.file_path ?? ''}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  test('sendMediaGroup resolves attach:// references inside the media JSON', async () => {
    // grammY narrows the result to a union of media message types; plain Message is easier to inspect.
    const msgs: Message[] = await bot.api.sendMediaGroup(GROUP_ID, [
      { type: 'document', media: new InputFile(Buffer.from('one'), 'one.pdf'), caption: 'first' },
      { type: 'document', media: new InputFile(Buffer.from('two'), 'two.txt') },
    ]);
    expect(msgs).toHaveLength(2);
    expect(msgs[0]?.media_group_id).toBeDefined();
    expect(msgs[0]?.media_group_id).toBe(msgs[1]?.media_group_id);
    expect(msgs[0]?.caption).toBe('first');
    expect(msgs[0]?.document).toMatchObject({ file_name: 'one.pdf', mime_type: 'application/pdf' });
    expect(msgs[1]?.document).toMatchObject({ file_name: 'two.txt', mime_type: 'text/plain', file_size: 3 });
    const media = emu.callsTo('sendMediaGroup')[0]?.params.media as { media: unknown }[];
    const second = media[1]?.media;
    expect(isUploadedFileParam(second) && second.file.bytes.toString()).toBe('two');
  });
});

describe('webhook', () => {
  test('updates are POSTed in order with the secret token, retried after failures', async () => {
    const received: { secret: string | undefined; update: Update }[] = [];
    let failuresLeft = 2;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failuresLeft > 0) {
          failuresLeft--;
          res.writeHead(500).end();
          return;
        }
        const secret = req.headers['x-telegram-bot-api-secret-token'];
        received.push({
          secret: typeof secret === 'string' ? secret : undefined,
          update: JSON.parse(Buffer.concat(chunks).toString()) as Update,
        });
        const update = received[received.length - 1]?.update;
        if (update?.message?.text === 'reply via webhook') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ method: 'sendMessage', chat_id: update.message.chat.id, text: 'webhook reply' }));
          return;
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      await bot.api.setWebhook(url, { secret_token: 'sekret_123' });
      const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
      emu.userSends({ chatId: ayse.id, from: ayse, text: 'one' });
      emu.userSends({ chatId: ayse.id, from: ayse, text: 'two' });
      emu.userSends({ chatId: ayse.id, from: ayse, text: 'reply via webhook' });
      await emu.waitFor((c) => c.method === 'sendMessage' && c.via === 'webhook-reply');
      await emu.webhookIdle();

      expect(received.map((r) => r.update.message?.text)).toEqual(['one', 'two', 'reply via webhook']);
      expect(received.every((r) => r.secret === 'sekret_123')).toBe(true);
      expect(emu.sentMessages(ayse.id).map((m) => m.text)).toEqual(['webhook reply']);

      const info = await bot.api.getWebhookInfo();
      expect(info).toMatchObject({ url, pending_update_count: 0, has_custom_certificate: false });

      const conflict = await grammyError(() => bot.api.getUpdates());
      expect(conflict.error_code).toBe(409);
      expect(conflict.description).toBe(
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
      await bot.api.deleteWebhook();
      expect(await bot.api.getUpdates()).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('undeliverable updates stay pending with last_error_message', async () => {
    const server = http.createServer((_req, res) => res.writeHead(503, 'Service Unavailable').end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await bot.api.setWebhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
      emu.userSends({ chatId: ayse.id, from: ayse, text: 'lost?' });
      await emu.webhookIdle();
      const info = await bot.api.getWebhookInfo();
      expect(info.pending_update_count).toBe(1);
      expect(info.last_error_message).toBe('Wrong response from the webhook: 503 Service Unavailable');
      await bot.api.deleteWebhook();
      expect((await bot.api.getUpdates())[0]?.message?.text).toBe('lost?');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('plain grammY polling', () => {
  test('bot.start() / bot.stop(): stop confirms the offset and leaves no failed calls', async () => {
    const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
    bot.on('message:text', (ctx) => ctx.reply(`got ${ctx.message.text}`));
    const polling = bot.start();
    emu.userSends({ chatId: ayse.id, from: ayse, text: 'ping' });
    await emu.waitFor((c) => c.method === 'sendMessage' && c.params.text === 'got ping');
    await emu.longPollHeld(); // the next long poll started
    await bot.stop();
    await polling;
    await eventually(() => expect(emu.callsTo('getUpdates').some((c) => c.clientGone === true)).toBe(true));
    expect(emu.calls.filter((c) => !c.ok)).toEqual([]);
    expect(emu.callsTo('deleteWebhook')).toHaveLength(1);
    expect(emu.pendingUpdates()).toEqual([]);
  });
});

describe('@grammyjs/runner against the emulator', () => {
  test('run(bot) receives an injected message, answers it and stops cleanly', async () => {
    const seen: string[] = [];
    bot.command('start', async (ctx) => {
      seen.push(`command:${ctx.match}`);
      await ctx.reply('Welcome!');
    });
    bot.on('message:text', async (ctx) => {
      seen.push(ctx.message.text);
      await ctx.reply(`echo: ${ctx.message.text}`, { reply_parameters: { message_id: ctx.message.message_id } });
    });

    const handle = run(bot);
    const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
    emu.userSends({ chatId: ayse.id, from: ayse, text: '/start topic-7' });
    emu.userSends({ chatId: ayse.id, from: ayse, text: 'hello' });

    const echo = await emu.waitFor((c) => c.method === 'sendMessage' && c.params.text === 'echo: hello');
    expect((echo.result as Message).reply_to_message?.text).toBe('hello');
    await emu.waitFor((c) => c.method === 'sendMessage' && c.params.text === 'Welcome!');
    expect(seen).toEqual(['command:topic-7', 'hello']);
    expect(emu.callsTo('getMe')).toHaveLength(1); // bot.init() from the runner

    // The runner asks for the next batch with offset = last update_id + 1, which confirms the first batch.
    await eventually(() => expect(emu.pendingUpdates()).toEqual([]));
    await handle.stop();
    expect(handle.isRunning()).toBe(false);

    // stop() aborts the held long poll (the emulator sees the client go away).
    await eventually(() => expect(emu.callsTo('getUpdates').some((c) => c.clientGone === true)).toBe(true));
    const polls = emu.callsTo('getUpdates');
    expect(polls[0]?.params).toMatchObject({ offset: 0, limit: 100, timeout: 30 });
    const lastId = (polls[0]?.result as Update[]).map((u) => u.update_id).pop() ?? 0;
    expect(polls[polls.length - 1]).toMatchObject({ ok: true, clientGone: true, result: [], params: { offset: lastId + 1 } });
  });
});
