/**
 * Updates as people create them: a user writes, edits, sends a contact or a
 * file, presses an inline button — the message is stored in its chat (a
 * private chat is created on first contact) and its update queued for the bot.
 */
import type { CallbackQuery, Message, MessageEntity, Update, User } from 'grammy/types';
import { nowSeconds, randomNumericId, type World } from './state';
import { detectEntities } from './text';
import { requireTopic, threadFields } from './topics';
import type { UpdateQueue } from './updates';

/** What injectUpdate accepts: any part of an Update (update_id is assigned). */
export type UpdateInput = Partial<Update> | Record<string, unknown>;

export interface InjectedMessage {
  update: Update;
  message: Message;
}

export interface UserMessageOptions {
  chatId: number;
  from: User;
  /** Forum topic to post into. */
  threadId?: number;
  replyToMessageId?: number;
}

export interface UserSendsOptions extends UserMessageOptions {
  text: string;
  /** Default: what Telegram detects by itself (bot commands, mentions, URLs...). */
  entities?: MessageEntity[];
}

export interface UserSendsFileOptions extends UserMessageOptions {
  bytes: Buffer;
  caption?: string;
}

const MESSAGE_KEYS = ['message', 'edited_message', 'channel_post', 'edited_channel_post'];

export class UserActions {
  constructor(
    private readonly world: World,
    private readonly updates: UpdateQueue,
  ) {}

  /** Queues any update; the messages, users and callback queries in it become known. */
  injectUpdate(partial: UpdateInput): Update {
    const raw = partial as Record<string, unknown>;
    for (const key of MESSAGE_KEYS) {
      const m = raw[key] as Partial<Message> | undefined;
      const cs = m?.chat !== undefined ? this.world.chats.get(m.chat.id) : undefined;
      if (cs !== undefined && m !== undefined && typeof m.message_id === 'number') this.world.storeMessage(cs, m as Message);
      if (m?.from !== undefined) this.world.rememberUser(m.from);
    }
    const cq = raw.callback_query as Partial<CallbackQuery> | undefined;
    if (typeof cq?.id === 'string' && !this.world.callbackQueries.has(cq.id)) {
      this.world.callbackQueries.set(cq.id, { answered: false });
    }
    return this.updates.push(raw);
  }

  /** A user posts a message where `o` says; `content` makes its text, contact, photo... once the place is known. */
  send(o: UserMessageOptions, content: () => Partial<Message>): InjectedMessage {
    this.world.rememberUser(o.from);
    let cs = this.world.chats.get(o.chatId);
    if (cs === undefined) {
      if (o.chatId !== o.from.id) throw new Error(`TelegramEmulator: unknown chat ${o.chatId}; call emu.addChat() first`);
      cs = this.world.ensurePrivateChat(o.from);
    }
    let replyTo: Message | undefined;
    if (o.replyToMessageId !== undefined) {
      replyTo = cs.messages.get(o.replyToMessageId);
      if (replyTo === undefined) throw new Error(`TelegramEmulator: no message ${o.replyToMessageId} in chat ${o.chatId}`);
    }
    const threadId = o.threadId ?? (replyTo?.is_topic_message === true ? replyTo.message_thread_id : undefined);
    if (threadId !== undefined && !cs.isForum) throw new Error(`TelegramEmulator: chat ${o.chatId} is not a forum`);
    const topic = threadId !== undefined ? requireTopic(cs, threadId) : undefined;
    const message: Message = {
      message_id: this.world.allocMessageId(cs),
      from: o.from,
      chat: cs.chat,
      date: nowSeconds(),
      ...threadFields(topic, replyTo),
      ...content(),
    };
    this.world.storeMessage(cs, message);
    return { update: this.updates.push({ message }), message };
  }

  /** A text message, with the entities Telegram detects unless given. */
  sends(o: UserSendsOptions): InjectedMessage {
    const entities = o.entities ?? detectEntities(o.text);
    return this.send(o, () => ({ text: o.text, ...(entities.length > 0 ? { entities } : {}) }));
  }

  edits(o: { chatId: number; messageId: number; text: string; entities?: MessageEntity[] }): InjectedMessage {
    const cs = this.world.requireChat(o.chatId);
    const before = cs.messages.get(o.messageId);
    if (before === undefined) throw new Error(`TelegramEmulator: no message ${o.messageId} in chat ${o.chatId}`);
    const entities = o.entities ?? detectEntities(o.text);
    const { entities: _old, ...rest } = before;
    const message: Message = { ...rest, text: o.text, ...(entities.length > 0 ? { entities } : {}), edit_date: nowSeconds() };
    this.world.storeMessage(cs, message);
    return { update: this.updates.push({ edited_message: message }), message };
  }

  pressesButton(o: { chatId: number; from: User; messageId: number; data: string }): { update: Update; callbackQuery: CallbackQuery } {
    const message = this.world.requireChat(o.chatId).messages.get(o.messageId);
    if (message === undefined) throw new Error(`TelegramEmulator: no message ${o.messageId} in chat ${o.chatId}`);
    const id = randomNumericId();
    this.world.callbackQueries.set(id, { answered: false });
    const callbackQuery: CallbackQuery = { id, from: o.from, message, chat_instance: String(Math.abs(o.chatId) * 7919), data: o.data };
    return { update: this.updates.push({ callback_query: callbackQuery }), callbackQuery };
  }
}
