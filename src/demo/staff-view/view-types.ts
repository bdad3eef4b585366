/**
 * What the demo's staff view (client/staff-view.ts) receives from the demo server
 * (src/demo/staff-view): the emulated Telegram world of one staff member, trimmed
 * to what the page draws. Types only, shared by both sides.
 */

/** The two chats the staff member sees: the staff supergroup, and the bot's private chat with them. */
export type ChatKey = 'group' | 'private';

/**
 * One place messages are read and written: General, a forum topic, or the private chat.
 * `general` | `topic:<message_thread_id>` | `private`.
 */
export type ConversationKey = 'general' | 'private' | `topic:${number}`;

export type Lang = 'en' | 'tr';

export interface ViewUser {
  id: number;
  name: string;
  username: string | null;
  isBot: boolean;
}

/** A Telegram MessageEntity (offsets in UTF-16 code units, as in JavaScript strings). */
export interface ViewEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

export type MediaKind = 'photo' | 'voice' | 'audio' | 'document' | 'video' | 'video_note' | 'sticker' | 'animation';

export interface ViewMedia {
  kind: MediaKind;
  /** Where the page loads the bytes: the demo server reads them from the emulator (no bot token involved). */
  url: string;
  fileName: string | null;
  mime: string | null;
  size: number | null;
  width: number | null;
  height: number | null;
  /** Seconds (voice, audio, video). */
  duration: number | null;
  /** Audio title and performer, a sticker's emoji. */
  title: string | null;
}

export type ViewService =
  | { kind: 'topic_created'; name: string }
  | { kind: 'topic_edited'; name: string | null }
  | { kind: 'topic_closed' }
  | { kind: 'topic_reopened' };

export interface ViewButton {
  text: string;
  callbackData: string | null;
  url: string | null;
}

export interface ViewMessage {
  chat: ChatKey;
  id: number;
  conversation: ConversationKey;
  /** null: an anonymous admin (the message is signed with the group's title in `signature`). */
  from: ViewUser | null;
  signature: string | null;
  /** Milliseconds since the epoch. */
  date: number;
  edited: boolean;
  /** The text, or a media message's caption. */
  text: string | null;
  entities: ViewEntity[];
  media: ViewMedia | null;
  service: ViewService | null;
  /** The message this one answers (not the topic's own first message, which every topic message points to). */
  replyTo: { id: number; from: string | null; text: string | null; mediaKind: MediaKind | null } | null;
  keyboard: ViewButton[][] | null;
  /** A kind of message the page has no drawing for, with its gist (a contact's name and number…). */
  other: { kind: 'contact' | 'location' | 'poll'; detail: string } | null;
}

export interface ViewTopic {
  id: number;
  name: string;
  /** Telegram's topic icon colour, 0xRRGGBB. */
  iconColor: number;
  closed: boolean;
  deleted: boolean;
}

export interface ViewCommand {
  command: string;
  description: string;
}

/** The command menus (setMyCommands) the staff member sees, in their language. */
export interface ViewCommands {
  group: ViewCommand[];
  private: ViewCommand[];
}

export interface StaffViewSnapshot {
  me: ViewUser;
  bot: ViewUser;
  group: { title: string; id: number };
  topics: ViewTopic[];
  /** Every message of both chats, oldest first. */
  messages: ViewMessage[];
  /** Per conversation, the newest message id the staff member has read. */
  readUpTo: Partial<Record<ConversationKey, number>>;
  commands: ViewCommands;
}

/** What the server pushes over `GET /demo/api/events` (Server-Sent Events, one JSON object per event). */
export type StaffViewEvent =
  | { type: 'snapshot'; snapshot: StaffViewSnapshot }
  /** A new message, or a new version of one (edited, keyboard changed). */
  | { type: 'message'; message: ViewMessage }
  | { type: 'deleted'; chat: ChatKey; ids: number[] }
  | { type: 'topic'; topic: ViewTopic }
  | { type: 'read'; conversation: ConversationKey; messageId: number }
  | { type: 'commands'; commands: ViewCommands }
  /** The bot is typing (sendChatAction) in a conversation: shown for a few seconds. */
  | { type: 'typing'; conversation: ConversationKey }
  /** The bot answered a button press with a text (answerCallbackQuery): a toast, or an alert. */
  | { type: 'notice'; text: string; alert: boolean };

/** Every refusal of the staff view's API: `{ error: { code, message } }`, the message fit to show. */
export interface StaffViewError {
  error: { code: string; message: string };
}
