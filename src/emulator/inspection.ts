/**
 * The read side of the emulator's test-facing API: the calls the bot made (and
 * waiting for them), the messages, chats, users, files, command menus and
 * topics of the world, live changes (`watch`) and the update queue.
 */
import type { BotCommand, Chat, Message, Update, User } from 'grammy/types';
import type { EmulatorParts } from './assemble';
import { commandsFor } from './commands';
import type { EmulatorEvent, RecordedCall, StoredFileContent, TopicInfo, WaitOptions } from './types';

export abstract class EmulatorInspection {
  protected constructor(protected readonly parts: EmulatorParts) {}

  /** Every call received so far (also failed ones), in the order they were answered. */
  get calls(): RecordedCall[] {
    return this.parts.log.all();
  }

  callsTo(method: string): RecordedCall[] {
    return this.parts.log.to(method);
  }

  /**
   * Resolves with the first existing or future call matching the predicate.
   * Only successful calls count unless the predicate reads `call.ok` or includeFailed is set.
   */
  waitFor(predicate: (call: RecordedCall) => unknown, options: WaitOptions = {}): Promise<RecordedCall> {
    return this.parts.log.waitFor(predicate, options);
  }

  /** Resolves with all successful calls to `method` once there are at least `count`. */
  waitForCalls(method: string, count: number, options: WaitOptions = {}): Promise<RecordedCall[]> {
    return this.parts.log.waitForCalls(method, count, options);
  }

  /** Messages the bot posted successfully (as returned to it), optionally for one chat. */
  sentMessages(chatId?: number): Message[] {
    const sent = this.parts.world.sent;
    return chatId === undefined ? [...sent] : sent.filter((m) => m.chat.id === chatId);
  }

  /** A message currently stored in a chat (latest version after edits), if it exists. */
  message(chatId: number, messageId: number): Message | undefined {
    return this.parts.world.chats.get(chatId)?.messages.get(messageId);
  }

  /** Every message currently stored in a chat (latest versions, deleted ones gone), by message id. */
  chatMessages(chatId: number): Message[] {
    return [...this.parts.world.requireChat(chatId).messages.values()].sort((a, b) => a.message_id - b.message_id);
  }

  /** A chat as the bot sees it, if it exists. */
  chat(chatId: number): Chat | undefined {
    return this.parts.world.chats.get(chatId)?.chat;
  }

  /** A user the emulator knows (added, or seen in an update). */
  user(userId: number): User | undefined {
    return this.parts.world.users.get(userId);
  }

  /** A stored file with its bytes, as `/file/bot<token>/<file_path>` serves it, if it exists. */
  file(fileId: string): StoredFileContent | undefined {
    const file = this.parts.world.files.get(fileId);
    return file === undefined ? undefined : { ...file };
  }

  /** The command menu (setMyCommands) a user sees in a chat, resolved through Telegram's scopes and languages. */
  commandsFor(chatId: number, userId: number, languageCode?: string): BotCommand[] {
    const world = this.parts.world;
    return commandsFor(world, world.requireChat(chatId), userId, languageCode);
  }

  topics(chatId: number): TopicInfo[] {
    const world = this.parts.world;
    const topics = [...world.requireChat(chatId).topics.values()];
    return topics.sort((a, b) => a.message_thread_id - b.message_thread_id).map((t) => world.topicInfo(t));
  }

  /**
   * Calls `listener` on every change as it happens (EmulatorEvent: messages stored and
   * deleted, topics changed, calls answered), synchronously; returns the function that
   * stops it. A listener that throws is reported on stderr; the change goes on.
   */
  watch(listener: (event: EmulatorEvent) => void): () => void {
    return this.parts.world.watch(listener);
  }

  /** Updates queued and not yet confirmed by getUpdates (or not yet delivered to the webhook). */
  pendingUpdates(): Update[] {
    return this.parts.updates.snapshot();
  }

  /** Resolves once the bot's getUpdates long poll is held here (at once if it is): updates injected now reach it. */
  longPollHeld(): Promise<void> {
    return this.parts.updates.pollHeld();
  }

  /** Resolves when no webhook delivery is in progress. */
  webhookIdle(): Promise<void> {
    return this.parts.updates.idle();
  }
}
