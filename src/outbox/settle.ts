import type { Clock, Store, TelegramLink, VisitorNotifier } from '../domain/ports';
import type { Message, Thread } from '../domain/types';
import type { Logger } from '../logger';
import { staffTexts } from '../bot/staff-texts';
import type { ChatPacer } from './chat-pacer';
import type { DeliveryMetrics } from './delivery-metrics';
import type { OutboxQueue, OutboxRow } from '../domain/outbox-ports';
import type { TelegramGateway } from './telegram-gateway';
import type { Topics } from './topics';
import { describe } from './verdicts';

export interface SettlementDeps {
  store: Store;
  queue: OutboxQueue;
  telegram: TelegramGateway;
  notifier: VisitorNotifier;
  pacer: ChatPacer;
  topics: Topics;
  metrics: DeliveryMetrics;
  clock: Clock;
  log: Logger;
}

/**
 * Settles claimed rows for good: sent (the messages delivered, the visitor told), or failed
 * (the visitor told, and staff told once per failure episode). A row whose lease was lost
 * meanwhile is left to the worker that holds it now.
 */
export function createSettlement({ store, queue, telegram, notifier, pacer, topics, metrics, clock, log }: SettlementDeps) {
  /**
   * Tells staff a message failed: in the thread's topic, or in General when the
   * topic itself is the problem (or refuses the notice). In English and Turkish:
   * the notice is for the whole group, not one staff member.
   */
  async function noticeStaff(head: OutboxRow, chatId: number, reason: string, topicProblem: boolean): Promise<void> {
    const [thread, message] = await Promise.all([store.threads.findById(head.threadId), store.messages.findById(head.messageId)]);
    if (!thread) return;
    const raw = message?.text ?? (message?.attachment ? `[${message.attachment.kind}]` : '');
    const excerpt = raw.length > 200 ? `${raw.slice(0, 199)}…` : raw;
    const text = [staffTexts('en'), staffTexts('tr')].map((t) => t.deliveryFailed(thread.ref, excerpt, reason)).join('\n\n');
    const inTopic = !topicProblem && thread.topicChatId === chatId && thread.topicId !== null && topics.mayHaveTopics(chatId);
    await pacer.tryReserve(chatId, clock.now().getTime()); // counts against the group's budget like any send
    for (const topicId of inTopic ? [thread.topicId, null] : [null]) {
      try {
        await telegram.sendText(chatId, topicId, text);
        return;
      } catch (err) {
        log.warn('telling staff about a failed message failed', { threadId: thread.id, topicId, error: describe(err) });
      }
    }
  }

  return {
    /**
     * The group reached Telegram: its last send's `links` are recorded, its rows marked sent and its
     * messages delivered, all or nothing (one statement on PostgreSQL, one transaction on SQLite).
     */
    async delivered(rows: OutboxRow[], messages: Message[], thread: Thread, links: TelegramLink[] = []): Promise<void> {
      const completed = await store.settleDelivered({
        threadId: thread.id,
        rowIds: rows.map((r) => r.id),
        messageIds: rows.map((_, i) => messages[i]?.id ?? null),
        links,
        workerId: queue.workerId,
        now: clock.now(),
      });
      if (completed.length < rows.length) log.warn('outbox lease lost before completion', { threadId: thread.id });
      for (const id of completed) notifier.messageStatus(thread.id, id, 'delivered');
      metrics.delivered(messages, completed, clock.now().getTime());
    },

    /** A row that carries no message (a topic action) is done. */
    async done(row: OutboxRow): Promise<void> {
      await store.transaction((repos) => repos.outbox.complete(row.id, queue.workerId, clock.now()));
    },

    /**
     * Fails a row for good (until /retry). For a message: the visitor sees it failed,
     * and staff get one notice per failure episode — when the thread had no failed
     * message yet. Later rows of the thread go on: only pending rows are heads.
     */
    async fail(head: OutboxRow, chatId: number, reason: string, topicProblem: boolean): Promise<void> {
      metrics.failed();
      const firstOfEpisode = head.kind === 'message' && (await queue.failedInThread(head.threadId)) === 0;
      if (!(await queue.fail(head.id, reason)) || head.kind !== 'message') return;
      await store.messages.setDeliveryStatus(head.threadId, [head.messageId], 'failed');
      notifier.messageStatus(head.threadId, head.messageId, 'failed');
      if (firstOfEpisode) await noticeStaff(head, chatId, reason, topicProblem);
    },
  };
}

export type Settlement = ReturnType<typeof createSettlement>;
