/**
 * Forum topics in the world, whoever acts (the bot through the Bot API, or
 * staff in the Telegram app): opening one, the service messages that record
 * each change, closing and reopening, deleting, and where a message posted
 * into a topic points.
 */
import type { Message, User } from 'grammy/types';
import { asReply, type ChatState, nowSeconds, type TopicState, type World } from './state';

/** Telegram's allowed forum topic icon colors. */
export const TOPIC_ICON_COLORS = [0x6fb9f0, 0xffd67e, 0xcb86db, 0x8eee98, 0xff93b2, 0xfb6f5f];

/** Who a service message is from: `{ from }`, or an anonymous admin's `{ from, sender_chat }`. */
export type Sender = Pick<Message, 'from' | 'sender_chat'>;

/** Topic lookup for the test-facing API (throws a plain Error: this is a test bug). */
export function requireTopic(cs: ChatState, threadId: number): TopicState {
  const topic = cs.topics.get(threadId);
  if (topic === undefined || topic.deleted) throw new Error(`TelegramEmulator: no topic ${threadId} in chat ${cs.chat.id}`);
  return topic;
}

/** The thread and reply fields of a message posted into `topic` (a reply to `replyTo`, else to the topic's first message). */
export function threadFields(topic: TopicState | undefined, replyTo: Message | undefined): Partial<Message> {
  const reply = replyTo ?? topic?.createdMessage;
  return {
    ...(topic !== undefined ? { message_thread_id: topic.message_thread_id, is_topic_message: true } : {}),
    ...(reply !== undefined ? { reply_to_message: asReply(reply) } : {}),
  };
}

/** Opens a topic: its forum_topic_created message (whose id is the thread id) is stored. */
export function openTopic(
  world: World,
  cs: ChatState,
  o: { name: string; icon_color: number; icon_custom_emoji_id?: string; by: User },
): TopicState {
  const id = world.allocMessageId(cs);
  const iconEmoji = o.icon_custom_emoji_id !== undefined ? { icon_custom_emoji_id: o.icon_custom_emoji_id } : {};
  const created: Message = {
    message_id: id,
    message_thread_id: id,
    from: o.by,
    chat: cs.chat,
    date: nowSeconds(),
    forum_topic_created: { name: o.name, icon_color: o.icon_color, ...iconEmoji },
    is_topic_message: true,
  };
  const topic: TopicState = {
    message_thread_id: id,
    name: o.name,
    icon_color: o.icon_color,
    ...iconEmoji,
    closed: false,
    deleted: false,
    createdMessage: created,
    createdBy: o.by.id,
  };
  cs.topics.set(id, topic);
  world.storeMessage(cs, created);
  world.topicChanged(cs, topic);
  return topic;
}

/** Stores a service message (forum_topic_closed, _reopened, _edited) in the topic. */
export function topicServiceMessage(world: World, cs: ChatState, topic: TopicState, sender: Sender, content: Partial<Message>): Message {
  const message: Message = {
    message_id: world.allocMessageId(cs),
    message_thread_id: topic.message_thread_id,
    ...sender,
    chat: cs.chat,
    date: nowSeconds(),
    is_topic_message: true,
    reply_to_message: asReply(topic.createdMessage),
    ...content,
  };
  world.storeMessage(cs, message);
  return message;
}

/** Closes or reopens a topic with its service message; undefined when it already was. */
export function setTopicClosed(world: World, cs: ChatState, topic: TopicState, closed: boolean, sender: Sender): Message | undefined {
  if (topic.closed === closed) return undefined;
  topic.closed = closed;
  const message = topicServiceMessage(world, cs, topic, sender, closed ? { forum_topic_closed: {} } : { forum_topic_reopened: {} });
  world.topicChanged(cs, topic);
  return message;
}

/** Deletes a topic with its messages, as Telegram does. */
export function deleteTopic(world: World, cs: ChatState, topic: TopicState): void {
  topic.deleted = true;
  const ids = [...cs.messages.values()].filter((m) => m.message_thread_id === topic.message_thread_id).map((m) => m.message_id);
  world.deleteMessages(cs, ids);
  world.topicChanged(cs, topic);
}
