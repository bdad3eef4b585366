/**
 * Bot API method implementations. Each handler gets the decoded params and
 * returns the `result` (or a Described result), or throws a BotApiError.
 */
import { randomBytes } from 'node:crypto';
import type { BotCommand, InlineKeyboardButton, Message, MessageOrigin, PhotoSize } from 'grammy/types';
import { badRequest } from './errors';
import type { RateLimiter } from './rate-limit';
import {
  asReply,
  type ChatState,
  commandListKey,
  fileExtension,
  guessMime,
  nowSeconds,
  type StoredFile,
  TOPIC_ICON_COLORS,
  type TopicState,
  type World,
} from './state';
import { formatOutgoing, type FormattedText } from './text';
import { isUploadedFileParam, type Params } from './types';
import { toInt, type UpdateQueue } from './updates';

export interface CallContext {
  /** Registers a callback for when the HTTP client goes away before the answer. */
  onClientGone(cb: () => void): void;
}

export type Handler = (params: Params, ctx: CallContext) => unknown;

export interface MethodDeps {
  world: World;
  updates: UpdateQueue;
  limiter: RateLimiter;
}

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

const MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024;

// ---- parameter helpers ----------------------------------------------------

function optInt(p: Params, name: string): number | undefined {
  const v = p[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = toInt(v);
  if (n === undefined) throw badRequest(`invalid ${name} specified`);
  return n;
}

function reqInt(p: Params, name: string, emptyMessage = `${name} is empty`): number {
  const n = optInt(p, name);
  if (n === undefined) throw badRequest(emptyMessage);
  return n;
}

function optStr(p: Params, name: string): string | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint'
      ? String(v)
      : JSON.stringify(v);
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Telegram echoes only inline keyboards in returned messages. */
function inlineMarkup(v: unknown): Message['reply_markup'] | undefined {
  const markup = asRecord(v);
  if (markup === undefined || !Array.isArray(markup.inline_keyboard)) return undefined;
  return { inline_keyboard: markup.inline_keyboard as InlineKeyboardButton[][] };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function textFields(f: FormattedText | undefined, kind: 'text' | 'caption'): Partial<Message> {
  if (f === undefined) return {};
  const entityKey = kind === 'text' ? 'entities' : 'caption_entities';
  return f.entities.length > 0 ? { [kind]: f.text, [entityKey]: f.entities } : { [kind]: f.text };
}

function randomNumericId(): string {
  return BigInt(`0x${randomBytes(7).toString('hex')}`).toString();
}

// ---- media ---------------------------------------------------------------

type MediaKind = 'photo' | 'document' | 'audio' | 'voice' | 'video';

function isGroupMediaKind(v: unknown): v is MediaKind {
  return v === 'photo' || v === 'video' || v === 'audio' || v === 'document';
}

const MEDIA_DIR: Record<MediaKind, string> = {
  photo: 'photos',
  document: 'documents',
  audio: 'music',
  voice: 'voice',
  video: 'videos',
};

const MEDIA_DEFAULT_EXT: Record<MediaKind, string> = {
  photo: 'jpg',
  document: 'bin',
  audio: 'mp3',
  voice: 'oga',
  video: 'mp4',
};

/** PhotoSize list as Telegram makes it from one upload: several sizes, largest last. */
export function makePhotoSizes(world: World, bytes: Buffer, width = 1280, height = 960): PhotoSize[] {
  const biggest = Math.max(width, height, 1);
  const sizes: PhotoSize[] = [];
  for (const side of [90, 320, 800]) {
    if (side >= biggest) break;
    const f = world.addFile(bytes, { dir: 'photos', ext: 'jpg', mime_type: 'image/jpeg' });
    sizes.push({
      file_id: f.file_id,
      file_unique_id: f.file_unique_id,
      width: Math.max(1, Math.round((width * side) / biggest)),
      height: Math.max(1, Math.round((height * side) / biggest)),
      file_size: f.file_size,
    });
  }
  const f = world.addFile(bytes, { dir: 'photos', ext: 'jpg', mime_type: 'image/jpeg' });
  sizes.push({ file_id: f.file_id, file_unique_id: f.file_unique_id, width, height, file_size: f.file_size });
  return sizes;
}

export function createHandlers(deps: MethodDeps): Map<string, { name: string; handler: Handler }> {
  const { world, updates, limiter } = deps;
  const resolveUser = (id: number) => world.users.get(id);

  // ---- shared sending logic ------------------------------------------------

  interface Target {
    cs: ChatState;
    topic?: TopicState;
    replyTo?: Message;
  }

  function resolveThread(cs: ChatState, threadId: number | undefined): TopicState | undefined {
    // message_thread_id only means something in forums here; elsewhere it is ignored.
    if (threadId === undefined || threadId === 0 || !cs.isForum) return undefined;
    const topic = cs.topics.get(threadId);
    if (topic === undefined || topic.deleted) throw badRequest('message thread not found');
    if (topic.closed) throw badRequest('TOPIC_CLOSED');
    return topic;
  }

  function prepareTarget(p: Params): Target {
    const cs = world.resolveChatForSending(p.chat_id);
    const rp = asRecord(p.reply_parameters);
    const replyId = rp !== undefined ? toInt(rp.message_id) : optInt(p, 'reply_to_message_id');
    const allowWithout = rp !== undefined ? rp.allow_sending_without_reply === true : p.allow_sending_without_reply === true;
    let replyTo: Message | undefined;
    if (replyId !== undefined) {
      const source = rp?.chat_id !== undefined ? world.resolveChat(rp.chat_id) : cs;
      replyTo = source.messages.get(replyId);
      if (replyTo === undefined && !allowWithout) throw badRequest('message to be replied not found');
    }
    let threadId = optInt(p, 'message_thread_id');
    if (threadId === undefined && replyTo?.is_topic_message === true) threadId = replyTo.message_thread_id;
    const topic = resolveThread(cs, threadId);
    return { cs, ...(topic !== undefined ? { topic } : {}), ...(replyTo !== undefined ? { replyTo } : {}) };
  }

  function newBotMessage(t: Target, p: Params, content: Partial<Message>): Message {
    const { cs, topic, replyTo } = t;
    const markup = inlineMarkup(p.reply_markup);
    const fromBot: Partial<Message> = cs.chat.type === 'channel' ? { sender_chat: cs.chat } : { from: world.botUser };
    const reply = replyTo ?? topic?.createdMessage;
    const message: Message = {
      message_id: world.allocMessageId(cs),
      ...fromBot,
      chat: cs.chat,
      date: nowSeconds(),
      ...(topic !== undefined ? { message_thread_id: topic.message_thread_id, is_topic_message: true } : {}),
      ...(reply !== undefined ? { reply_to_message: asReply(reply) } : {}),
      ...(p.protect_content === true ? { has_protected_content: true } : {}),
      ...content,
      ...(markup !== undefined ? { reply_markup: markup } : {}),
    };
    return message;
  }

  function commit(cs: ChatState, messages: Message[]): void {
    for (const m of messages) {
      world.storeMessage(cs, m);
      world.sent.push(m);
    }
    limiter.record(cs.chat.id, messages.length);
  }

  function inputFile(value: unknown, kind: MediaKind, field: string): StoredFile {
    if (value === undefined || value === null || value === '') throw badRequest(`there is no ${field} in the request`);
    if (isUploadedFileParam(value)) {
      const { filename, contentType, bytes } = value.file;
      return world.addFile(bytes, {
        dir: MEDIA_DIR[kind],
        ext: fileExtension(filename) ?? MEDIA_DEFAULT_EXT[kind],
        mime_type: guessMime(filename, contentType === 'application/octet-stream' ? undefined : contentType),
        file_name: filename,
      });
    }
    if (typeof value === 'string') {
      const known = world.files.get(value);
      if (known !== undefined) return known;
      if (/^https?:\/\//i.test(value)) {
        // No internet here: pretend Telegram fetched an empty file.
        const name = value.split(/[?#]/)[0]?.split('/').pop() ?? '';
        return world.addFile(Buffer.alloc(0), {
          dir: MEDIA_DIR[kind],
          ext: fileExtension(name) ?? MEDIA_DEFAULT_EXT[kind],
          ...(name !== '' ? { file_name: name, mime_type: guessMime(name) } : {}),
        });
      }
      throw badRequest('wrong file identifier/HTTP URL specified');
    }
    throw badRequest(`wrong type of the ${field} parameter`);
  }

  function mediaContent(kind: MediaKind, file: StoredFile, p: Params, uploaded: boolean): Partial<Message> {
    const base = { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size };
    const fileName = file.file_name !== undefined ? { file_name: file.file_name } : {};
    switch (kind) {
      case 'photo':
        return {
          photo: uploaded
            ? makePhotoSizes(world, file.bytes, optInt(p, 'width'), optInt(p, 'height'))
            : [{ ...base, width: 1280, height: 960 }],
        };
      case 'document':
        return { document: { ...base, ...fileName, mime_type: file.mime_type ?? guessMime(file.file_name) } };
      case 'audio': {
        const performer = optStr(p, 'performer');
        const title = optStr(p, 'title');
        return {
          audio: {
            ...base,
            duration: optInt(p, 'duration') ?? 0,
            ...(performer !== undefined ? { performer } : {}),
            ...(title !== undefined ? { title } : {}),
            ...fileName,
            mime_type: file.mime_type ?? 'audio/mpeg',
          },
        };
      }
      case 'voice':
        return { voice: { ...base, duration: optInt(p, 'duration') ?? 0, mime_type: 'audio/ogg' } };
      case 'video':
        return {
          video: {
            ...base,
            width: optInt(p, 'width') ?? 1280,
            height: optInt(p, 'height') ?? 720,
            duration: optInt(p, 'duration') ?? 0,
            ...fileName,
            mime_type: file.mime_type ?? 'video/mp4',
          },
        };
    }
  }

  function sendMedia(kind: MediaKind): Handler {
    return (p) => {
      const target = prepareTarget(p);
      const caption = formatOutgoing('caption', p.caption, p.parse_mode, p.caption_entities, resolveUser);
      const raw = p[kind];
      const file = inputFile(raw, kind, kind);
      limiter.check(target.cs.chat.id);
      const message = newBotMessage(target, p, {
        ...mediaContent(kind, file, p, isUploadedFileParam(raw)),
        ...textFields(caption, 'caption'),
        ...(p.has_spoiler === true ? { has_media_spoiler: true } : {}),
      });
      commit(target.cs, [message]);
      return message;
    };
  }

  /** Content of an existing message for copyMessage / forwardMessage. */
  function copyableContent(m: Message): Partial<Message> {
    const keys = [
      'text',
      'entities',
      'caption',
      'caption_entities',
      'photo',
      'document',
      'audio',
      'voice',
      'video',
      'contact',
      'sticker',
      'animation',
      'location',
    ] as const;
    const out: Partial<Record<(typeof keys)[number], unknown>> = {};
    for (const k of keys) if (m[k] !== undefined) out[k] = m[k];
    if (Object.keys(out).length === 0) throw badRequest("message can't be copied");
    return out as Partial<Message>;
  }

  function sourceMessage(p: Params, verb: 'copy' | 'forward'): Message {
    const from = world.resolveChat(p.from_chat_id, 'from_chat_id');
    const id = reqInt(p, 'message_id', `message to ${verb} not found`);
    const m = from.messages.get(id);
    if (m === undefined) throw badRequest(`message to ${verb} not found`);
    return m;
  }

  function editableMessage(p: Params): { cs: ChatState; message: Message } {
    const cs = world.resolveChat(p.chat_id);
    const id = reqInt(p, 'message_id', 'message identifier is not specified');
    const message = cs.messages.get(id);
    if (message === undefined) throw badRequest('message to edit not found');
    if (message.from?.id !== world.bot.id && message.sender_chat === undefined) throw badRequest("message can't be edited");
    return { cs, message };
  }

  const NOT_MODIFIED =
    'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

  function finishEdit(cs: ChatState, before: Message, changes: Partial<Message>, p: Params): Message {
    const markup = inlineMarkup(p.reply_markup);
    const after: Message = { ...before, ...changes, edit_date: nowSeconds() };
    // Like Telegram: an edit without reply_markup removes the inline keyboard.
    if (markup !== undefined) after.reply_markup = markup;
    else delete after.reply_markup;
    const { edit_date: _a, ...a } = before;
    const { edit_date: _b, ...b } = after;
    if (sameJson(a, b)) throw badRequest(NOT_MODIFIED);
    world.storeMessage(cs, after);
    return after;
  }

  // ---- forum topics ----------------------------------------------------------

  function forumChat(p: Params): ChatState {
    const cs = world.resolveChat(p.chat_id);
    if (!cs.isForum) throw badRequest('the chat is not a forum');
    return cs;
  }

  function manageableTopic(p: Params, right: 'topics' | 'delete'): { cs: ChatState; topic: TopicState } {
    const cs = forumChat(p);
    const id = reqInt(p, 'message_thread_id', 'message thread not found');
    const topic = cs.topics.get(id);
    if (topic === undefined || topic.deleted) throw badRequest('message thread not found');
    const allowed = right === 'topics' ? world.botCanManageTopics(cs) || topic.createdBy === world.bot.id : world.botCanDeleteOthers(cs);
    if (!allowed) throw badRequest('CHAT_ADMIN_REQUIRED');
    return { cs, topic };
  }

  function topicServiceMessage(cs: ChatState, topic: TopicState, content: Partial<Message>): Message {
    const m: Message = {
      message_id: world.allocMessageId(cs),
      message_thread_id: topic.message_thread_id,
      from: world.botUser,
      chat: cs.chat,
      date: nowSeconds(),
      is_topic_message: true,
      reply_to_message: asReply(topic.createdMessage),
      ...content,
    };
    world.storeMessage(cs, m);
    return m;
  }

  const commandsKey = (p: Params): string => {
    const scope = asRecord(p.scope) ?? { type: 'default' };
    const type = typeof scope.type === 'string' ? scope.type : 'default';
    // "@username" and numeric strings name the same chat as its number.
    let chat_id = scope.chat_id;
    if (chat_id !== undefined) {
      try {
        chat_id = world.resolveChat(chat_id).chat.id;
      } catch {
        // A chat the emulator does not know keeps its own key.
      }
    }
    return commandListKey({ type, chat_id, user_id: scope.user_id }, optStr(p, 'language_code') ?? '');
  };

  // ---- the method table -------------------------------------------------------

  const methods: Record<string, Handler> = {
    getMe: () => world.bot,

    getUpdates: (p, ctx) => updates.getUpdates(p, (cb) => ctx.onClientGone(cb)),
    setWebhook: (p) => updates.setWebhook(p),
    deleteWebhook: (p) => updates.deleteWebhook(p),
    getWebhookInfo: () => updates.webhookInfo(),

    sendMessage: (p) => {
      const target = prepareTarget(p);
      const text = formatOutgoing('text', p.text, p.parse_mode, p.entities, resolveUser);
      limiter.check(target.cs.chat.id);
      const message = newBotMessage(target, p, textFields(text, 'text'));
      commit(target.cs, [message]);
      return message;
    },

    sendPhoto: sendMedia('photo'),
    sendAudio: sendMedia('audio'),
    sendVoice: sendMedia('voice'),
    sendDocument: sendMedia('document'),
    sendVideo: sendMedia('video'),

    sendMediaGroup: (p) => {
      const target = prepareTarget(p);
      const media = p.media;
      if (!Array.isArray(media) || media.length < 2 || media.length > 10) {
        throw badRequest('wrong number of media in the media group (must be 2-10)');
      }
      const items = media.map((raw, i) => {
        const item = asRecord(raw);
        const type = item?.type;
        if (item === undefined || !isGroupMediaKind(type)) throw badRequest(`wrong type of media #${i + 1} in the media group`);
        const caption = formatOutgoing('caption', item.caption, item.parse_mode, item.caption_entities, resolveUser);
        const file = inputFile(item.media, type, `media #${i + 1}`);
        return { item, type, caption, file, uploaded: isUploadedFileParam(item.media) };
      });
      limiter.check(target.cs.chat.id, items.length);
      const media_group_id = randomNumericId();
      const messages = items.map(({ item, type, caption, file, uploaded }) =>
        newBotMessage(target, {}, { media_group_id, ...mediaContent(type, file, item, uploaded), ...textFields(caption, 'caption') }),
      );
      commit(target.cs, messages);
      return messages;
    },

    copyMessage: (p) => {
      const original = sourceMessage(p, 'copy');
      const target = prepareTarget(p);
      const content = copyableContent(original);
      if (p.caption !== undefined) {
        const caption = formatOutgoing('caption', p.caption, p.parse_mode, p.caption_entities, resolveUser);
        delete content.caption;
        delete content.caption_entities;
        Object.assign(content, textFields(caption, 'caption'));
      }
      limiter.check(target.cs.chat.id);
      const message = newBotMessage(target, p, content);
      commit(target.cs, [message]);
      return { message_id: message.message_id };
    },

    forwardMessage: (p) => {
      const original = sourceMessage(p, 'forward');
      const target = prepareTarget(p);
      const origin: MessageOrigin =
        original.chat.type === 'channel'
          ? { type: 'channel', chat: original.chat, message_id: original.message_id, date: original.date }
          : original.sender_chat !== undefined
            ? { type: 'chat', sender_chat: original.sender_chat, date: original.date }
            : { type: 'user', sender_user: original.from ?? world.botUser, date: original.date };
      limiter.check(target.cs.chat.id);
      const message = newBotMessage(target, p, { ...copyableContent(original), forward_origin: origin });
      commit(target.cs, [message]);
      return message;
    },

    editMessageText: (p) => {
      if (p.inline_message_id !== undefined) {
        formatOutgoing('text', p.text, p.parse_mode, p.entities, resolveUser);
        return true;
      }
      const { cs, message } = editableMessage(p);
      if (message.text === undefined) throw badRequest('there is no text in the message to edit');
      const text = formatOutgoing('text', p.text, p.parse_mode, p.entities, resolveUser);
      return finishEdit(cs, message, { ...textFields(text, 'text'), entities: text?.entities.length ? text.entities : undefined }, p);
    },

    editMessageCaption: (p) => {
      if (p.inline_message_id !== undefined) return true;
      const { cs, message } = editableMessage(p);
      if (message.text !== undefined) throw badRequest('there is no caption in the message to edit');
      const caption = formatOutgoing('caption', p.caption, p.parse_mode, p.caption_entities, resolveUser);
      return finishEdit(
        cs,
        message,
        { caption: caption?.text, caption_entities: caption?.entities.length ? caption.entities : undefined },
        p,
      );
    },

    editMessageReplyMarkup: (p) => {
      if (p.inline_message_id !== undefined) return true;
      const { cs, message } = editableMessage(p);
      return finishEdit(cs, message, {}, p);
    },

    deleteMessage: (p) => {
      const cs = world.resolveChat(p.chat_id);
      const id = reqInt(p, 'message_id', 'message identifier is not specified');
      const message = cs.messages.get(id);
      if (message === undefined) throw badRequest('message to delete not found');
      if (message.from?.id !== world.bot.id && !world.botCanDeleteOthers(cs)) throw badRequest("message can't be deleted");
      world.deleteMessages(cs, [id]);
      return true;
    },

    createForumTopic: (p) => {
      const cs = forumChat(p);
      if (!world.botCanManageTopics(cs)) throw badRequest('not enough rights to create a topic');
      const name = (optStr(p, 'name') ?? '').trim();
      if (name === '') throw badRequest('TOPIC_TITLE_EMPTY');
      if (Array.from(name).length > 128) throw badRequest('TOPIC_TITLE_TOO_LONG');
      const icon_color = optInt(p, 'icon_color') ?? TOPIC_ICON_COLORS[0] ?? 0x6fb9f0;
      if (!TOPIC_ICON_COLORS.includes(icon_color)) throw badRequest('invalid icon_color specified');
      const emoji = optStr(p, 'icon_custom_emoji_id');
      const iconEmoji = emoji !== undefined && emoji !== '' ? { icon_custom_emoji_id: emoji } : {};
      const id = world.allocMessageId(cs);
      const created: Message = {
        message_id: id,
        message_thread_id: id,
        from: world.botUser,
        chat: cs.chat,
        date: nowSeconds(),
        forum_topic_created: { name, icon_color, ...iconEmoji },
        is_topic_message: true,
      };
      const topic: TopicState = {
        message_thread_id: id,
        name,
        icon_color,
        ...iconEmoji,
        closed: false,
        deleted: false,
        createdMessage: created,
        createdBy: world.bot.id,
      };
      cs.topics.set(id, topic);
      world.storeMessage(cs, created);
      world.topicChanged(cs, topic);
      return { message_thread_id: id, name, icon_color, ...iconEmoji };
    },

    editForumTopic: (p) => {
      const { cs, topic } = manageableTopic(p, 'topics');
      const name = optStr(p, 'name');
      const emoji = optStr(p, 'icon_custom_emoji_id');
      const changes: { name?: string; icon_custom_emoji_id?: string } = {};
      if (name !== undefined && name.trim() !== '' && name.trim() !== topic.name) changes.name = name.trim();
      if (emoji !== undefined && emoji !== (topic.icon_custom_emoji_id ?? '')) changes.icon_custom_emoji_id = emoji;
      if (Object.keys(changes).length === 0) throw badRequest('TOPIC_NOT_MODIFIED');
      if (changes.name !== undefined) topic.name = changes.name;
      if (changes.icon_custom_emoji_id !== undefined) {
        if (changes.icon_custom_emoji_id === '') delete topic.icon_custom_emoji_id;
        else topic.icon_custom_emoji_id = changes.icon_custom_emoji_id;
      }
      topicServiceMessage(cs, topic, { forum_topic_edited: changes });
      world.topicChanged(cs, topic);
      return true;
    },

    closeForumTopic: (p) => {
      const { cs, topic } = manageableTopic(p, 'topics');
      if (topic.closed) throw badRequest('TOPIC_NOT_MODIFIED');
      topic.closed = true;
      topicServiceMessage(cs, topic, { forum_topic_closed: {} });
      world.topicChanged(cs, topic);
      return true;
    },

    reopenForumTopic: (p) => {
      const { cs, topic } = manageableTopic(p, 'topics');
      if (!topic.closed) throw badRequest('TOPIC_NOT_MODIFIED');
      topic.closed = false;
      topicServiceMessage(cs, topic, { forum_topic_reopened: {} });
      world.topicChanged(cs, topic);
      return true;
    },

    deleteForumTopic: (p) => {
      const { cs, topic } = manageableTopic(p, 'delete');
      world.deleteTopic(cs, topic);
      return true;
    },

    getFile: (p) => {
      const id = optStr(p, 'file_id') ?? '';
      const file = world.files.get(id);
      if (file === undefined) throw badRequest('invalid file_id');
      if (file.file_size > MAX_DOWNLOAD_SIZE) throw badRequest('file is too big');
      return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: file.file_path };
    },

    getChat: (p) => world.fullInfo(world.resolveChat(p.chat_id)),

    getChatMember: (p) => {
      const cs = world.resolveChat(p.chat_id);
      const userId = reqInt(p, 'user_id', 'user not found');
      const user = world.users.get(userId);
      if (user === undefined) throw badRequest('user not found');
      return world.chatMember(cs, user);
    },

    getChatAdministrators: (p) => {
      const cs = world.resolveChat(p.chat_id);
      const ids = new Set<number>([world.bot.id, ...cs.members.keys()]);
      return [...ids]
        .map((id) => world.users.get(id))
        .filter((u) => u !== undefined)
        .map((u) => world.chatMember(cs, u))
        .filter((m) => m.status === 'creator' || m.status === 'administrator');
    },

    setMyCommands: (p) => {
      const commands = p.commands;
      if (!Array.isArray(commands)) throw badRequest('commands is empty');
      if (commands.length > 100) throw badRequest('too many commands');
      const list: BotCommand[] = commands.map((c) => {
        const r = asRecord(c);
        const command = typeof r?.command === 'string' ? r.command : '';
        const description = typeof r?.description === 'string' ? r.description : '';
        if (!/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
        if (description.trim() === '' || description.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
        return { command, description };
      });
      world.commands.set(commandsKey(p), list);
      return true;
    },

    getMyCommands: (p) => world.commands.get(commandsKey(p)) ?? [],

    deleteMyCommands: (p) => {
      world.commands.delete(commandsKey(p));
      return true;
    },

    answerCallbackQuery: (p) => {
      const id = optStr(p, 'callback_query_id') ?? '';
      const query = world.callbackQueries.get(id);
      if (query === undefined || query.answered) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      query.answered = true;
      return true;
    },

    sendChatAction: (p) => {
      const cs = world.resolveChatForSending(p.chat_id);
      resolveThread(cs, optInt(p, 'message_thread_id'));
      const action = optStr(p, 'action');
      if (action === undefined || !CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
      return true;
    },
  };

  const table = new Map<string, { name: string; handler: Handler }>();
  for (const [name, handler] of Object.entries(methods)) table.set(name.toLowerCase(), { name, handler });
  return table;
}
