import type { Message, MessageEntity, User } from 'grammy/types';
import type { TopicInfo } from '../../emulator';
import type { ChatKey, ConversationKey, MediaKind, ViewEntity, ViewMedia, ViewMessage, ViewTopic, ViewUser } from './view-types';

/** Where the page fetches a file's bytes (see the files route in staff-view.ts). */
export type FileUrl = (fileId: string) => string;

export function viewUser(user: User): ViewUser {
  return {
    id: user.id,
    name: [user.first_name, user.last_name].filter(Boolean).join(' '),
    username: user.username ?? null,
    isBot: user.is_bot,
  };
}

export function viewTopic(topic: TopicInfo): ViewTopic {
  return { id: topic.message_thread_id, name: topic.name, iconColor: topic.icon_color, closed: topic.closed, deleted: topic.deleted };
}

/** The conversation a message of the staff group (or the private chat) belongs to. */
export function conversationOf(chat: ChatKey, message: Pick<Message, 'is_topic_message' | 'message_thread_id'>): ConversationKey {
  if (chat === 'private') return 'private';
  return message.is_topic_message === true && message.message_thread_id !== undefined ? `topic:${message.message_thread_id}` : 'general';
}

function viewEntities(entities: MessageEntity[] | undefined): ViewEntity[] {
  return (entities ?? []).map((e) => ({
    type: e.type,
    offset: e.offset,
    length: e.length,
    ...('url' in e && typeof e.url === 'string' ? { url: e.url } : {}),
    ...('language' in e && typeof e.language === 'string' ? { language: e.language } : {}),
  }));
}

function media(m: Message, fileUrl: FileUrl): ViewMedia | null {
  const base = (kind: MediaKind, file: { file_id: string; file_size?: number }): ViewMedia => ({
    kind,
    url: fileUrl(file.file_id),
    fileName: null,
    mime: null,
    size: file.file_size ?? null,
    width: null,
    height: null,
    duration: null,
    title: null,
  });
  if (m.photo?.length) {
    const largest = m.photo.reduce((a, b) => (b.width * b.height >= a.width * a.height ? b : a));
    return { ...base('photo', largest), width: largest.width, height: largest.height, mime: 'image/jpeg' };
  }
  if (m.voice) return { ...base('voice', m.voice), mime: m.voice.mime_type ?? null, duration: m.voice.duration };
  if (m.audio) {
    const title = [m.audio.performer, m.audio.title].filter(Boolean).join(' — ');
    return {
      ...base('audio', m.audio),
      fileName: m.audio.file_name ?? null,
      mime: m.audio.mime_type ?? null,
      duration: m.audio.duration,
      title: title || null,
    };
  }
  if (m.video_note) return { ...base('video_note', m.video_note), duration: m.video_note.duration, mime: 'video/mp4' };
  if (m.video) {
    return {
      ...base('video', m.video),
      fileName: m.video.file_name ?? null,
      mime: m.video.mime_type ?? null,
      width: m.video.width,
      height: m.video.height,
      duration: m.video.duration,
    };
  }
  if (m.animation)
    return { ...base('animation', m.animation), fileName: m.animation.file_name ?? null, mime: m.animation.mime_type ?? null };
  if (m.sticker) {
    // An animated or video sticker shows as its thumbnail, when it has one.
    const still = m.sticker.is_animated || m.sticker.is_video ? m.sticker.thumbnail : m.sticker;
    if (!still) return null;
    return { ...base('sticker', still), width: still.width, height: still.height, title: m.sticker.emoji ?? null };
  }
  if (m.document) {
    return { ...base('document', m.document), fileName: m.document.file_name ?? null, mime: m.document.mime_type ?? null };
  }
  return null;
}

function other(m: Message): ViewMessage['other'] {
  if (m.contact) {
    const name = [m.contact.first_name, m.contact.last_name].filter(Boolean).join(' ');
    return { kind: 'contact', detail: `${name}, ${m.contact.phone_number}` };
  }
  if (m.location) return { kind: 'location', detail: `${m.location.latitude}, ${m.location.longitude}` };
  if (m.poll) return { kind: 'poll', detail: m.poll.question };
  return null;
}

/** A Telegram message of the staff group or the private chat, as the staff view draws it. */
export function viewMessage(chat: ChatKey, m: Message, fileUrl: FileUrl): ViewMessage {
  const conversation = conversationOf(chat, m);
  const topicId = conversation.startsWith('topic:') ? m.message_thread_id : undefined;
  const reply = m.reply_to_message;
  // In a topic every message "replies" to the topic's first message; only a real reply is shown as one.
  const isRealReply = reply !== undefined && reply.message_id !== topicId;
  const anonymous = m.sender_chat !== undefined && m.sender_chat.id === m.chat.id;
  const service = m.forum_topic_created
    ? { kind: 'topic_created' as const, name: m.forum_topic_created.name }
    : m.forum_topic_edited
      ? { kind: 'topic_edited' as const, name: m.forum_topic_edited.name ?? null }
      : m.forum_topic_closed
        ? { kind: 'topic_closed' as const }
        : m.forum_topic_reopened
          ? { kind: 'topic_reopened' as const }
          : null;
  const keyboard = m.reply_markup?.inline_keyboard.map((row) =>
    row.map((b) => ({
      text: b.text,
      callbackData: 'callback_data' in b && typeof b.callback_data === 'string' ? b.callback_data : null,
      url: 'url' in b && typeof b.url === 'string' ? b.url : null,
    })),
  );
  return {
    chat,
    id: m.message_id,
    conversation,
    from: anonymous || m.from === undefined ? null : viewUser(m.from),
    signature: anonymous && 'title' in m.chat ? (m.chat.title ?? null) : null,
    date: m.date * 1000,
    edited: m.edit_date !== undefined,
    text: m.text ?? m.caption ?? null,
    entities: viewEntities(m.entities ?? m.caption_entities),
    media: media(m, fileUrl),
    service,
    replyTo:
      isRealReply && reply !== undefined
        ? {
            id: reply.message_id,
            from: reply.from ? viewUser(reply.from).name : null,
            text: reply.text ?? reply.caption ?? null,
            mediaKind: media(reply, fileUrl)?.kind ?? null,
          }
        : null,
    keyboard: keyboard?.length ? keyboard : null,
    other: service === null ? other(m) : null,
  };
}
