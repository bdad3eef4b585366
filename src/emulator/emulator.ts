/**
 * TelegramEmulator: a local HTTP server speaking the Telegram Bot API, plus a
 * test-facing API to set up the world, inject updates as humans would create
 * them, inject faults and inspect every call the bot made (inspection.ts).
 * Each method hands over to the module that does the work.
 */
import type { CallbackQuery, Chat, Contact, MessageEntity, Update, User, UserFromGetMe } from 'grammy/types';
import { assemble, type EmulatorParts } from './assemble';
import { EmulatorInspection } from './inspection';
import type { TopicEventOptions } from './staff-topics';
import type { ChatInput, FaultSpec, MemberConfig, RateLimitSpec, StartOptions, StoredFileInfo, TopicInfo, UserInput } from './types';
import type { InjectedMessage, UpdateInput, UserMessageOptions, UserSendsOptions } from './user-actions';
import * as files from './user-files';

export class TelegramEmulator extends EmulatorInspection {
  readonly token: string;
  /** The bot's User object (as returned by getMe). */
  readonly bot: UserFromGetMe;
  private stopping: Promise<void> | undefined;

  static async start(options: StartOptions = {}): Promise<TelegramEmulator> {
    const emu = new TelegramEmulator(assemble(options));
    await emu.parts.server.listen();
    return emu;
  }

  private constructor(parts: EmulatorParts) {
    super(parts);
    this.token = parts.token;
    this.bot = parts.bot;
  }

  /** e.g. 'http://127.0.0.1:41234' — pass as grammY's `client.apiRoot`. */
  get apiRoot(): string {
    return this.parts.server.origin;
  }

  /** TCP connections the emulator accepted since it started (a keep-alive client reuses its few). */
  get connectionsAccepted(): number {
    return this.parts.server.connectionsAccepted;
  }

  // ---- world setup ---------------------------------------------------------------

  addChat(input: ChatInput): Chat {
    return this.parts.world.addChat(input);
  }

  addUser(input: UserInput): User {
    return this.parts.world.addUser(input);
  }

  /** Sets a member's status; for the bot itself this controls its rights (default: admin + can_manage_topics). */
  setChatMember(chatId: number, userId: number, config: MemberConfig): void {
    this.parts.world.requireChat(chatId).members.set(userId, { ...config });
  }

  /** Registers a downloadable file (getFile + /file/bot<token>/<file_path>). */
  addFile(bytes: Buffer, options: { file_path?: string; file_size?: number; mime_type?: string; file_name?: string } = {}): StoredFileInfo {
    const f = this.parts.world.files.add(bytes, options);
    return { file_id: f.file_id, file_unique_id: f.file_unique_id, file_path: f.file_path, file_size: f.file_size };
  }

  // ---- faults ----------------------------------------------------------------------

  /** The next `times` calls to `method` ('*' = any method) answer with this error. */
  failNext(method: string, fault: FaultSpec, times = 1): void {
    this.parts.faults.failNext(method, fault, times);
  }

  /** The next `times` calls to `method` ('*' = any) never get an answer (until the client aborts or stop()). */
  hangNext(method: string, times = 1): void {
    this.parts.faults.hangNext(method, times);
  }

  /** The next `times` calls to `method` take effect (e.g. the message is posted) but are never answered. */
  acceptThenHangNext(method: string, times = 1): void {
    this.parts.faults.acceptThenHangNext(method, times);
  }

  /** Flood control for sends (send*, copyMessage, forwardMessage) into one chat; null removes it. */
  setChatRateLimit(chatId: number, spec: RateLimitSpec | null): void {
    this.parts.limiter.set(chatId, spec);
  }

  /** Delays every answer by `ms`. */
  setLatency(ms: number): void {
    this.parts.faults.latencyMs = Math.max(0, ms);
  }

  /** Clears recorded calls, sent messages, faults, latency and rate limits; keeps chats/users/topics/updates. */
  reset(): void {
    this.parts.log.clear();
    this.parts.world.sent.length = 0;
    this.parts.faults.clear();
    this.parts.limiter.clear();
  }

  // ---- updates from "humans" ---------------------------------------------------------

  /** Queues an update (update_id assigned) for getUpdates, or delivers it to the webhook. */
  injectUpdate(partial: UpdateInput): Update {
    return this.parts.users.injectUpdate(partial);
  }

  /** A user types a text message (private chat: chatId = user id, created on first contact). */
  userSends(o: UserSendsOptions): InjectedMessage {
    return this.parts.users.sends(o);
  }

  /** A user edits one of their messages → edited_message update. */
  userEdits(o: { chatId: number; messageId: number; text: string; entities?: MessageEntity[] }): InjectedMessage {
    return this.parts.users.edits(o);
  }

  userSendsContact(o: UserMessageOptions & { contact: Contact }): InjectedMessage {
    return this.parts.users.send(o, () => ({ contact: { ...o.contact } }));
  }

  userSendsPhoto(o: files.PhotoOptions): InjectedMessage {
    return this.parts.users.send(o, () => files.photoContent(this.parts.world, o));
  }

  /** `fileSize` overrides the reported size (e.g. a file over the Bot API's 20 MB download limit, without 20 MB of bytes). */
  userSendsDocument(o: files.DocumentOptions): InjectedMessage {
    return this.parts.users.send(o, () => files.documentContent(this.parts.world, o));
  }

  userSendsVoice(o: files.VoiceOptions): InjectedMessage {
    return this.parts.users.send(o, () => files.voiceContent(this.parts.world, o));
  }

  userSendsAudio(o: files.AudioOptions): InjectedMessage {
    return this.parts.users.send(o, () => files.audioContent(this.parts.world, o));
  }

  /** A round video message (no caption in Telegram). */
  userSendsVideoNote(o: files.VideoNoteOptions): InjectedMessage {
    return this.parts.users.send(o, () => files.videoNoteContent(this.parts.world, o));
  }

  /** A sticker: static (WebP bytes), or animated / video with a WebP thumbnail (`thumbnailBytes`). */
  userSendsSticker(o: files.StickerOptions): InjectedMessage {
    return this.parts.users.send(o, () => files.stickerContent(this.parts.world, o));
  }

  /** A user presses an inline keyboard button under a stored message → callback_query update. */
  userPressesButton(o: { chatId: number; from: User; messageId: number; data: string }): { update: Update; callbackQuery: CallbackQuery } {
    return this.parts.users.pressesButton(o);
  }

  // ---- topics managed "by hand" ---------------------------------------------------------

  /**
   * Creates a topic without going through the Bot API. Without `by` it looks as
   * if the bot created it earlier (no update); with `by` a human created it and
   * the forum_topic_created message is injected (unless silent).
   */
  createTopic(chatId: number, name: string, o: TopicEventOptions & { iconColor?: number } = {}): TopicInfo {
    return this.parts.staffTopics.create(chatId, name, o);
  }

  /** Staff closes a topic in the Telegram app: forum_topic_closed service message update (unless silent). */
  closeTopic(chatId: number, threadId: number, o: TopicEventOptions = {}): Update | undefined {
    return this.parts.staffTopics.setClosed(chatId, threadId, true, o);
  }

  /** Staff reopens a topic in the Telegram app: forum_topic_reopened service message update (unless silent). */
  reopenTopic(chatId: number, threadId: number, o: TopicEventOptions = {}): Update | undefined {
    return this.parts.staffTopics.setClosed(chatId, threadId, false, o);
  }

  /** Staff deletes a topic in the Telegram app. Like Telegram, bots get no update about it. */
  deleteTopic(chatId: number, threadId: number): void {
    this.parts.staffTopics.delete(chatId, threadId);
  }

  // ---- shutdown -------------------------------------------------------------------------

  /** Closes the server and every held connection (long polls, hung requests) right away. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.parts.dispatcher.stop();
      this.parts.updates.close();
      this.parts.log.close();
      await this.parts.server.close();
    })();
    return this.stopping;
  }
}
