/**
 * The emulated Telegram world: users, chats (with their messages, forum topics
 * and member statuses), files, command menus, and the change events `watch`
 * reports. No HTTP here.
 */
import { randomBytes } from 'node:crypto';
import type { BotCommand, Chat, Message, User, UserFromGetMe } from 'grammy/types';
import { badRequest, forbidden } from './errors';
import { FileStore } from './files';
import { memberConfig } from './members';
import type { ChatInput, EmulatorEvent, MemberConfig, TopicInfo, UserInput } from './types';

export interface TopicState {
  message_thread_id: number;
  name: string;
  icon_color: number;
  icon_custom_emoji_id?: string;
  closed: boolean;
  deleted: boolean;
  /** The forum_topic_created service message (its id is the thread id). */
  createdMessage: Message;
  createdBy: number;
}

export interface ChatState {
  chat: Chat;
  isForum: boolean;
  nextMessageId: number;
  messages: Map<number, Message>;
  topics: Map<number, TopicState>;
  members: Map<number, MemberConfig>;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A copy of a message suitable for `reply_to_message` (which never nests further). */
export function asReply(message: Message): Message & { reply_to_message: undefined } {
  const { reply_to_message: _dropped, ...rest } = message;
  return { ...rest, reply_to_message: undefined };
}

/** A numeric string id, as Telegram's callback query and media group ids. */
export function randomNumericId(): string {
  return BigInt(`0x${randomBytes(7).toString('hex')}`).toString();
}

export class World {
  readonly users = new Map<number, User>();
  readonly chats = new Map<number, ChatState>();
  readonly files = new FileStore();
  readonly commands = new Map<string, BotCommand[]>();
  readonly callbackQueries = new Map<string, { answered: boolean }>();
  /** Every message the bot posted successfully, in order (cleared by reset). */
  readonly sent: Message[] = [];
  private readonly listeners = new Set<(event: EmulatorEvent) => void>();

  constructor(readonly bot: UserFromGetMe) {
    this.users.set(bot.id, this.botUser);
  }

  /** The bot as it appears in `from` of its messages. */
  get botUser(): User {
    return { id: this.bot.id, is_bot: true, first_name: this.bot.first_name, username: this.bot.username };
  }

  addUser(input: UserInput): User {
    const user: User = {
      id: input.id,
      is_bot: input.is_bot ?? false,
      first_name: input.first_name,
      ...(input.last_name !== undefined ? { last_name: input.last_name } : {}),
      ...(input.username !== undefined ? { username: input.username } : {}),
      ...(input.language_code !== undefined ? { language_code: input.language_code } : {}),
      ...(input.is_premium !== undefined ? { is_premium: input.is_premium } : {}),
    };
    this.users.set(user.id, user);
    return user;
  }

  /** Keeps a user seen in an update, unless already known. */
  rememberUser(user: User): void {
    if (!this.users.has(user.id)) this.users.set(user.id, user);
  }

  addChat(input: ChatInput): Chat {
    let chat: Chat;
    switch (input.type) {
      case 'private': {
        const known = this.users.get(input.id);
        chat = {
          id: input.id,
          type: 'private',
          first_name: input.first_name ?? known?.first_name ?? 'User',
          ...((input.last_name ?? known?.last_name) !== undefined ? { last_name: input.last_name ?? known?.last_name } : {}),
          ...((input.username ?? known?.username) !== undefined ? { username: input.username ?? known?.username } : {}),
        };
        break;
      }
      case 'group':
        chat = { id: input.id, type: 'group', title: input.title ?? `Group ${input.id}` };
        break;
      case 'supergroup':
        chat = {
          id: input.id,
          type: 'supergroup',
          title: input.title ?? `Supergroup ${input.id}`,
          ...(input.username !== undefined ? { username: input.username } : {}),
          ...(input.is_forum === true ? { is_forum: true } : {}),
        };
        break;
      case 'channel':
        chat = {
          id: input.id,
          type: 'channel',
          title: input.title ?? `Channel ${input.id}`,
          ...(input.username !== undefined ? { username: input.username } : {}),
        };
        break;
    }
    const isForum = input.type === 'supergroup' && input.is_forum === true;
    const existing = this.chats.get(input.id);
    if (existing !== undefined) {
      existing.chat = chat;
      existing.isForum = isForum;
      return chat;
    }
    this.chats.set(input.id, { chat, isForum, nextMessageId: 1, messages: new Map(), topics: new Map(), members: new Map() });
    return chat;
  }

  /** Chat lookup for the test-facing API (throws a plain Error: this is a test bug). */
  requireChat(chatId: number): ChatState {
    const cs = this.chats.get(chatId);
    if (cs === undefined) throw new Error(`TelegramEmulator: unknown chat ${chatId}; call emu.addChat() first`);
    return cs;
  }

  /** The private chat of a user with the bot, created on first contact (user -> bot). */
  ensurePrivateChat(user: User): ChatState {
    const existing = this.chats.get(user.id);
    if (existing !== undefined) return existing;
    this.addChat({
      id: user.id,
      type: 'private',
      first_name: user.first_name,
      ...(user.last_name !== undefined ? { last_name: user.last_name } : {}),
      ...(user.username !== undefined ? { username: user.username } : {}),
    });
    return this.requireChat(user.id);
  }

  /** Resolves a Bot API chat_id (number, numeric string or "@username"). */
  resolveChat(value: unknown, paramName = 'chat_id'): ChatState {
    if (value === undefined || value === null || value === '') throw badRequest(`${paramName} is empty`);
    let cs: ChatState | undefined;
    if (typeof value === 'number') cs = this.chats.get(value);
    else if (typeof value === 'string' && /^-?\d+$/.test(value)) cs = this.chats.get(Number(value));
    else if (typeof value === 'string' && value.startsWith('@')) {
      const name = value.slice(1).toLowerCase();
      cs = [...this.chats.values()].find((c) => 'username' in c.chat && c.chat.username?.toLowerCase() === name);
    }
    if (cs === undefined) throw badRequest('chat not found');
    return cs;
  }

  /** Like resolveChat, plus Telegram's checks for the bot being able to post there. */
  resolveChatForSending(value: unknown): ChatState {
    if (typeof value === 'number' && !this.chats.has(value) && this.users.has(value)) {
      throw forbidden("bot can't initiate conversation with a user");
    }
    const cs = this.resolveChat(value);
    const status = memberConfig(this, cs, this.bot.id).status;
    if (cs.chat.type === 'private') {
      if (status === 'kicked') throw forbidden('bot was blocked by the user');
    } else {
      const kind = cs.chat.type === 'group' ? 'group chat' : cs.chat.type === 'channel' ? 'channel chat' : 'supergroup chat';
      if (status === 'kicked') throw forbidden(`bot was kicked from the ${kind}`);
      if (status === 'left') throw forbidden(`bot is not a member of the ${kind}`);
    }
    return cs;
  }

  allocMessageId(cs: ChatState): number {
    return cs.nextMessageId++;
  }

  storeMessage(cs: ChatState, message: Message): void {
    cs.messages.set(message.message_id, message);
    if (message.message_id >= cs.nextMessageId) cs.nextMessageId = message.message_id + 1;
    this.emit({ type: 'message', chatId: cs.chat.id, message });
  }

  deleteMessages(cs: ChatState, ids: number[]): void {
    const gone = ids.filter((id) => cs.messages.delete(id));
    if (gone.length > 0) this.emit({ type: 'messages-deleted', chatId: cs.chat.id, messageIds: gone });
  }

  /** A topic was created, renamed, closed, reopened or deleted. */
  topicChanged(cs: ChatState, topic: TopicState): void {
    this.emit({ type: 'topic', chatId: cs.chat.id, topic: this.topicInfo(topic) });
  }

  topicInfo(t: TopicState): TopicInfo {
    return {
      message_thread_id: t.message_thread_id,
      name: t.name,
      icon_color: t.icon_color,
      ...(t.icon_custom_emoji_id !== undefined ? { icon_custom_emoji_id: t.icon_custom_emoji_id } : {}),
      closed: t.closed,
      deleted: t.deleted,
    };
  }

  /** Adds a listener for every change (see EmulatorEvent); returns the function that removes it. */
  watch(listener: (event: EmulatorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: EmulatorEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must not change what the bot gets back: it is reported, and the call goes on.
        console.error('TelegramEmulator: a watch listener threw', error);
      }
    }
  }

  /** Chat as returned by getChat (ChatFullInfo). */
  fullInfo(cs: ChatState): Record<string, unknown> {
    return { ...cs.chat, accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: {} };
  }
}
