/**
 * The emulated Telegram world: users, chats (with their messages, forum topics
 * and member statuses), files, commands. No HTTP here.
 */
import { randomBytes } from 'node:crypto';
import type { BotCommand, Chat, ChatMember, Message, User, UserFromGetMe } from 'grammy/types';
import { badRequest, forbidden } from './errors';
import type { ChatInput, EmulatorEvent, MemberConfig, StoredFileContent, TopicInfo, UserInput } from './types';

export type StoredFile = StoredFileContent;

export interface AddFileOptions {
  file_path?: string;
  file_size?: number;
  mime_type?: string;
  file_name?: string;
  /** Folder of the default file_path ('photos', 'documents', 'voice', 'music', 'videos'). */
  dir?: string;
  /** Extension of the default file_path. */
  ext?: string;
}

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

/** Telegram's allowed forum topic icon colors. */
export const TOPIC_ICON_COLORS = [0x6fb9f0, 0xffd67e, 0xcb86db, 0x8eee98, 0xff93b2, 0xfb6f5f];

/** The user Telegram shows as sender of anonymous group admins. */
export const GROUP_ANONYMOUS_BOT: User = {
  id: 1087968824,
  is_bot: true,
  first_name: 'Group',
  username: 'GroupAnonymousBot',
};

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  json: 'application/json',
  zip: 'application/zip',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  mp4: 'video/mp4',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

export function fileExtension(filename: string | undefined): string | undefined {
  return /\.([A-Za-z0-9]{1,8})$/.exec(filename ?? '')?.[1]?.toLowerCase();
}

export function guessMime(filename: string | undefined, fallback = 'application/octet-stream'): string {
  const ext = fileExtension(filename);
  return (ext !== undefined ? MIME_BY_EXT[ext] : undefined) ?? fallback;
}

/** A copy of a message suitable for `reply_to_message` (which never nests further). */
export function asReply(message: Message): Message & { reply_to_message: undefined } {
  const { reply_to_message: _dropped, ...rest } = message;
  return { ...rest, reply_to_message: undefined };
}

/**
 * The key setMyCommands stores a list under: its scope (type, chat, user) and language.
 * The chat is given as a number or a numeric string, or as "@username" (resolved by the caller).
 */
export function commandListKey(scope: { type: string; chat_id?: unknown; user_id?: unknown }, languageCode: string): string {
  const part = (v: unknown): string =>
    typeof v === 'number' || typeof v === 'string' ? String(v).trim() : v == null ? '' : JSON.stringify(v);
  return [scope.type, part(scope.chat_id), part(scope.user_id), languageCode].join('|');
}

function randomId(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export class World {
  readonly users = new Map<number, User>();
  readonly chats = new Map<number, ChatState>();
  readonly files = new Map<string, StoredFile>();
  readonly filesByPath = new Map<string, StoredFile>();
  readonly commands = new Map<string, BotCommand[]>();
  readonly callbackQueries = new Map<string, { answered: boolean }>();
  /** Every message the bot posted successfully, in order (cleared by reset). */
  readonly sent: Message[] = [];
  private fileCounter = 0;
  private readonly listeners = new Set<(event: EmulatorEvent) => void>();

  constructor(readonly bot: UserFromGetMe) {
    this.users.set(bot.id, {
      id: bot.id,
      is_bot: true,
      first_name: bot.first_name,
      username: bot.username,
    });
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
    const existing = this.chats.get(input.id);
    if (existing !== undefined) {
      existing.chat = chat;
      existing.isForum = input.type === 'supergroup' && input.is_forum === true;
      return chat;
    }
    this.chats.set(input.id, {
      chat,
      isForum: input.type === 'supergroup' && input.is_forum === true,
      nextMessageId: 1,
      messages: new Map(),
      topics: new Map(),
      members: new Map(),
    });
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
    const status = this.memberConfig(cs, this.bot.id).status;
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

  /** Deletes a topic with its messages, as Telegram does. */
  deleteTopic(cs: ChatState, topic: TopicState): void {
    topic.deleted = true;
    const ids = [...cs.messages.values()].filter((m) => m.message_thread_id === topic.message_thread_id).map((m) => m.message_id);
    this.deleteMessages(cs, ids);
    this.topicChanged(cs, topic);
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

  memberConfig(cs: ChatState, userId: number): MemberConfig {
    const configured = cs.members.get(userId);
    if (configured !== undefined) return configured;
    if (userId === this.bot.id && cs.chat.type !== 'private') {
      return { status: 'administrator', can_manage_topics: true, can_delete_messages: true };
    }
    return { status: 'member' };
  }

  botCanManageTopics(cs: ChatState): boolean {
    const cfg = this.memberConfig(cs, this.bot.id);
    return cfg.status === 'creator' || (cfg.status === 'administrator' && cfg.can_manage_topics === true);
  }

  botCanDeleteOthers(cs: ChatState): boolean {
    if (cs.chat.type === 'private') return true;
    const cfg = this.memberConfig(cs, this.bot.id);
    return cfg.status === 'creator' || (cfg.status === 'administrator' && cfg.can_delete_messages !== false);
  }

  chatMember(cs: ChatState, user: User): ChatMember {
    const cfg = this.memberConfig(cs, user.id);
    const title = cfg.custom_title !== undefined ? { custom_title: cfg.custom_title } : {};
    switch (cfg.status) {
      case 'creator':
        return { status: 'creator', user, is_anonymous: false, ...title };
      case 'administrator':
        return {
          status: 'administrator',
          user,
          can_be_edited: false,
          is_anonymous: false,
          can_manage_chat: true,
          can_delete_messages: cfg.can_delete_messages ?? true,
          can_manage_video_chats: true,
          can_restrict_members: true,
          can_promote_members: false,
          can_change_info: true,
          can_invite_users: true,
          can_post_stories: true,
          can_edit_stories: true,
          can_delete_stories: true,
          can_pin_messages: true,
          can_send_welcome_messages: false,
          ...(cs.chat.type === 'supergroup' ? { can_manage_topics: cfg.can_manage_topics ?? user.id === this.bot.id } : {}),
          ...title,
        };
      case 'member':
        return { status: 'member', user };
      case 'left':
        return { status: 'left', user };
      case 'kicked':
        return { status: 'kicked', user, until_date: 0 };
    }
  }

  /**
   * The command menu a user sees in a chat, resolved as Telegram does: the narrowest scope
   * that has a list wins (in groups: that member, the chat's administrators, the chat, all
   * chat administrators, all group chats, default; in private chats: the chat, all private
   * chats, default), each in the user's language first, then for all languages.
   */
  commandsFor(cs: ChatState, userId: number, languageCode = ''): BotCommand[] {
    const chat_id = cs.chat.id;
    const cfg = this.memberConfig(cs, userId);
    const admin = cfg.status === 'creator' || cfg.status === 'administrator';
    const scopes: { type: string; chat_id?: number; user_id?: number }[] =
      cs.chat.type === 'private'
        ? [{ type: 'chat', chat_id }, { type: 'all_private_chats' }, { type: 'default' }]
        : [
            { type: 'chat_member', chat_id, user_id: userId },
            ...(admin ? [{ type: 'chat_administrators', chat_id }] : []),
            { type: 'chat', chat_id },
            ...(admin ? [{ type: 'all_chat_administrators' }] : []),
            { type: 'all_group_chats' },
            { type: 'default' },
          ];
    for (const scope of scopes) {
      const list = this.commands.get(commandListKey(scope, languageCode)) ?? this.commands.get(commandListKey(scope, ''));
      if (list !== undefined) return [...list];
    }
    return [];
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

  /**
   * Registers downloadable bytes. `file_path` defaults to `<dir>/file_<n>.<ext>`
   * (dir 'documents', ext from file_name or 'bin'), like Telegram's paths.
   */
  addFile(bytes: Buffer, opts: AddFileOptions = {}): StoredFile {
    const n = this.fileCounter++;
    const ext = opts.ext ?? fileExtension(opts.file_name) ?? 'bin';
    const file: StoredFile = {
      file_id: `BQACAgIAAxkBAA${randomId(24)}`,
      file_unique_id: `AgAD${randomId(9)}`,
      file_path: opts.file_path ?? `${opts.dir ?? 'documents'}/file_${n}.${ext}`,
      file_size: opts.file_size ?? bytes.length,
      bytes,
      ...(opts.mime_type !== undefined ? { mime_type: opts.mime_type } : {}),
      ...(opts.file_name !== undefined ? { file_name: opts.file_name } : {}),
    };
    this.files.set(file.file_id, file);
    this.filesByPath.set(file.file_path, file);
    return file;
  }

  /** Chat as returned by getChat (ChatFullInfo). */
  fullInfo(cs: ChatState): Record<string, unknown> {
    return { ...cs.chat, accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: {} };
  }
}
