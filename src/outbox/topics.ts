import type { Store } from '../domain/ports';
import type { Thread } from '../domain/types';
import { topicTitle } from '../domain/topic-link';
import type { Logger } from '../logger';
import type { ChatPacer } from './chat-pacer';
import type { TelegramGateway } from './telegram-gateway';
import { describe, markTopicError, type Verdict } from './verdicts';

export interface TopicsDeps {
  store: Store;
  telegram: TelegramGateway;
  pacer: ChatPacer;
  now: () => number;
  log: Logger;
}

/**
 * Each thread's topic in the staff chat: created before its first message, named after the
 * visitor, renamed and reopened when asked, and recreated or reopened when Telegram says it was
 * deleted or closed by hand. A chat without topics is remembered: its messages go with a header.
 */
export function createTopics({ store, telegram, pacer, now, log }: TopicsDeps) {
  const forumByChat = new Map<number, boolean>();

  async function isForum(chatId: number): Promise<boolean> {
    const known = forumByChat.get(chatId);
    if (known !== undefined) return known;
    const forum = await telegram.isForum(chatId);
    forumByChat.set(chatId, forum);
    return forum;
  }

  /** `visitorName`: as the claim read it (undefined: looked up). */
  async function topicName(thread: Thread, visitorName?: string | null): Promise<string> {
    // Names are cleaned where they come in; a name stored before that (or any other) is cleaned here too.
    const name = visitorName !== undefined ? visitorName : (await store.visitors.findById(thread.visitorId))?.name;
    return topicTitle(name, thread);
  }

  const hasTopicIn = async (thread: Thread, chatId: number) =>
    thread.topicChatId === chatId && thread.topicId !== null && (await isForum(chatId));

  async function ensure(thread: Thread, chatId: number, visitorName?: string | null): Promise<{ topicId: number | null; header: boolean }> {
    if (!(await isForum(chatId))) return { topicId: null, header: true };
    if (thread.topicChatId === chatId && thread.topicId !== null) return { topicId: thread.topicId, header: false };
    await pacer.tryReserve(chatId, now()); // a new topic posts a service message: it counts against the group's budget
    const topicId = await telegram.createTopic(chatId, await topicName(thread, visitorName));
    // The thread as the claim read it says which topic it had: nothing to read before the update.
    await store.threads.setTopic(thread.id, chatId, topicId, thread);
    log.info('topic created', { threadId: thread.id, topicId });
    return { topicId, header: false };
  }

  return {
    /**
     * Makes sure the thread has a topic in the staff chat; null topic means reply-to fallback mode
     * (header on every message). Its errors are marked as topic errors (verdicts.ts isTopicError).
     * `visitorName` as the claim read it names a new topic without a look-up.
     */
    async ensure(thread: Thread, chatId: number, visitorName?: string | null): Promise<{ topicId: number | null; header: boolean }> {
      return ensure(thread, chatId, visitorName).catch((err: unknown) => {
        markTopicError(err);
        throw err;
      });
    },
    /** False only when the chat is known to have no topics. */
    mayHaveTopics: (chatId: number): boolean => forumByChat.get(chatId) !== false,
    /** Renames the thread's topic to the visitor's current name; nothing to do while the thread has no topic. */
    async rename(thread: Thread, chatId: number): Promise<void> {
      if (await hasTopicIn(thread, chatId)) await telegram.renameTopic(chatId, thread.topicId!, await topicName(thread));
    },
    /** Reopens the thread's topic (closed by /close) before the message that reopened the thread is posted. */
    async reopen(thread: Thread, chatId: number): Promise<void> {
      if (await hasTopicIn(thread, chatId)) {
        await telegram.reopenTopic(chatId, thread.topicId!);
        log.info('topic reopened', { threadId: thread.id, topicId: thread.topicId });
      }
    },
    /**
     * Closes the thread's topic again after a note was posted into the closed thread (a rating):
     * if Telegram refused to post into the closed topic, the outbox reopened it to deliver the note.
     * Nothing to do when the thread was reopened meanwhile.
     */
    async close(thread: Thread, chatId: number): Promise<void> {
      if (thread.status === 'closed' && (await hasTopicIn(thread, chatId))) await telegram.closeTopic(chatId, thread.topicId!);
    },
    /** After Telegram said the topic is gone or closed, or the chat has no topics: makes the next try work. */
    async recover(threadId: number, chatId: number, reason: Extract<Verdict, { kind: 'retry_now' }>['reason']): Promise<void> {
      const thread = await store.threads.findById(threadId);
      if (reason === 'topic_deleted' && thread) {
        log.warn('topic was deleted; a new one will be created', { threadId });
        await store.threads.setTopic(threadId, null, null);
      } else if (reason === 'topic_closed' && thread?.topicId) {
        log.info('topic was closed by hand; reopening', { threadId });
        try {
          await telegram.reopenTopic(chatId, thread.topicId);
        } catch (err) {
          log.warn('reopening the topic failed; a new one will be created', { threadId, error: describe(err) });
          await store.threads.setTopic(threadId, null, null);
        }
      } else if (reason === 'not_a_forum') {
        forumByChat.set(chatId, false);
      }
    },
  };
}

export type Topics = ReturnType<typeof createTopics>;
