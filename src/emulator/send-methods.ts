/**
 * Posting: sendMessage, send<Media>, sendMediaGroup, copyMessage,
 * forwardMessage and sendChatAction — where a message goes (chat, topic,
 * reply), flood control, and what Telegram stores and answers.
 */
import type { Message, MessageOrigin } from 'grammy/types';
import { badRequest } from './errors';
import { inputFile, isGroupMediaKind, type MediaKind, mediaContent } from './media';
import { asRecord, type Handler, inlineMarkup, type MethodDeps, type MethodTable, optInt, optStr, reqInt, toInt } from './params';
import { type ChatState, nowSeconds, randomNumericId, type TopicState, type World } from './state';
import { formatOutgoing, textFields } from './text';
import { threadFields } from './topics';
import { isUploadedFileParam, type Params } from './types';

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

/** What a message in the Bot API can be copied or forwarded with. */
const COPYABLE = [
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

interface Target {
  cs: ChatState;
  topic?: TopicState;
  replyTo?: Message;
}

/** The topic a message_thread_id names; in chats that are not forums it is ignored. */
function resolveThread(cs: ChatState, threadId: number | undefined): TopicState | undefined {
  if (threadId === undefined || threadId === 0 || !cs.isForum) return undefined;
  const topic = cs.topics.get(threadId);
  if (topic === undefined || topic.deleted) throw badRequest('message thread not found');
  if (topic.closed) throw badRequest('TOPIC_CLOSED');
  return topic;
}

/** Where a send goes: the chat, the topic, the message it replies to (a reply in a topic stays in it). */
function prepareTarget(world: World, p: Params): Target {
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

function newBotMessage(world: World, t: Target, p: Params, content: Partial<Message>): Message {
  const markup = inlineMarkup(p.reply_markup);
  const fromBot: Partial<Message> = t.cs.chat.type === 'channel' ? { sender_chat: t.cs.chat } : { from: world.botUser };
  return {
    message_id: world.allocMessageId(t.cs),
    ...fromBot,
    chat: t.cs.chat,
    date: nowSeconds(),
    ...threadFields(t.topic, t.replyTo),
    ...(p.protect_content === true ? { has_protected_content: true } : {}),
    ...content,
    ...(markup !== undefined ? { reply_markup: markup } : {}),
  };
}

/** Content of an existing message for copyMessage / forwardMessage. */
function copyableContent(m: Message): Partial<Message> {
  const out: Partial<Record<(typeof COPYABLE)[number], unknown>> = {};
  for (const k of COPYABLE) if (m[k] !== undefined) out[k] = m[k];
  if (Object.keys(out).length === 0) throw badRequest("message can't be copied");
  return out as Partial<Message>;
}

function sourceMessage(world: World, p: Params, verb: 'copy' | 'forward'): Message {
  const from = world.resolveChat(p.from_chat_id, 'from_chat_id');
  const id = reqInt(p, 'message_id', `message to ${verb} not found`);
  const m = from.messages.get(id);
  if (m === undefined) throw badRequest(`message to ${verb} not found`);
  return m;
}

export function sendMethods({ world, limiter }: MethodDeps): MethodTable {
  const resolveUser = (id: number) => world.users.get(id);

  /** Stores what the bot posted and counts it against the chat's flood limit. */
  function commit(cs: ChatState, messages: Message[]): void {
    for (const m of messages) {
      world.storeMessage(cs, m);
      world.sent.push(m);
    }
    limiter.record(cs.chat.id, messages.length);
  }

  function sendMedia(kind: MediaKind): Handler {
    return (p) => {
      const target = prepareTarget(world, p);
      const caption = formatOutgoing('caption', p.caption, p.parse_mode, p.caption_entities, resolveUser);
      const raw = p[kind];
      const file = inputFile(world, raw, kind, kind);
      limiter.check(target.cs.chat.id);
      const message = newBotMessage(world, target, p, {
        ...mediaContent(world, kind, file, p, isUploadedFileParam(raw)),
        ...textFields(caption, 'caption'),
        ...(p.has_spoiler === true ? { has_media_spoiler: true } : {}),
      });
      commit(target.cs, [message]);
      return message;
    };
  }

  return {
    sendMessage: (p) => {
      const target = prepareTarget(world, p);
      const text = formatOutgoing('text', p.text, p.parse_mode, p.entities, resolveUser);
      limiter.check(target.cs.chat.id);
      const message = newBotMessage(world, target, p, textFields(text, 'text'));
      commit(target.cs, [message]);
      return message;
    },

    sendPhoto: sendMedia('photo'),
    sendAudio: sendMedia('audio'),
    sendVoice: sendMedia('voice'),
    sendDocument: sendMedia('document'),
    sendVideo: sendMedia('video'),

    sendMediaGroup: (p) => {
      const target = prepareTarget(world, p);
      const media = p.media;
      if (!Array.isArray(media) || media.length < 2 || media.length > 10) {
        throw badRequest('wrong number of media in the media group (must be 2-10)');
      }
      const items = media.map((raw, i) => {
        const item = asRecord(raw);
        const type = item?.type;
        if (item === undefined || !isGroupMediaKind(type)) throw badRequest(`wrong type of media #${i + 1} in the media group`);
        const caption = formatOutgoing('caption', item.caption, item.parse_mode, item.caption_entities, resolveUser);
        const file = inputFile(world, item.media, type, `media #${i + 1}`);
        return { item, type, caption, file, uploaded: isUploadedFileParam(item.media) };
      });
      limiter.check(target.cs.chat.id, items.length);
      const media_group_id = randomNumericId();
      const messages = items.map(({ item, type, caption, file, uploaded }) =>
        newBotMessage(
          world,
          target,
          {},
          { media_group_id, ...mediaContent(world, type, file, item, uploaded), ...textFields(caption, 'caption') },
        ),
      );
      commit(target.cs, messages);
      return messages;
    },

    copyMessage: (p) => {
      const original = sourceMessage(world, p, 'copy');
      const target = prepareTarget(world, p);
      const content = copyableContent(original);
      if (p.caption !== undefined) {
        const caption = formatOutgoing('caption', p.caption, p.parse_mode, p.caption_entities, resolveUser);
        delete content.caption;
        delete content.caption_entities;
        Object.assign(content, textFields(caption, 'caption'));
      }
      limiter.check(target.cs.chat.id);
      const message = newBotMessage(world, target, p, content);
      commit(target.cs, [message]);
      return { message_id: message.message_id };
    },

    forwardMessage: (p) => {
      const original = sourceMessage(world, p, 'forward');
      const target = prepareTarget(world, p);
      const origin: MessageOrigin =
        original.chat.type === 'channel'
          ? { type: 'channel', chat: original.chat, message_id: original.message_id, date: original.date }
          : original.sender_chat !== undefined
            ? { type: 'chat', sender_chat: original.sender_chat, date: original.date }
            : { type: 'user', sender_user: original.from ?? world.botUser, date: original.date };
      limiter.check(target.cs.chat.id);
      const message = newBotMessage(world, target, p, { ...copyableContent(original), forward_origin: origin });
      commit(target.cs, [message]);
      return message;
    },

    sendChatAction: (p) => {
      const cs = world.resolveChatForSending(p.chat_id);
      resolveThread(cs, optInt(p, 'message_thread_id'));
      const action = optStr(p, 'action');
      if (action === undefined || !CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
      return true;
    },
  };
}
