import type { Clock, Store, TelegramLink } from '../domain/ports';
import type { Message, Thread } from '../domain/types';
import type { Logger } from '../logger';
import type { ChatPacer } from './chat-pacer';
import type { DeliveryMetrics } from './delivery-metrics';
import type { MediaSender } from './media-sender';
import type { Merging } from './merging';
import type { OutboxQueue, OutboxRow } from '../domain/outbox-ports';
import type { Settlement } from './settle';
import { splitForTelegram, type TelegramGateway } from './telegram-gateway';
import type { Topics } from './topics';
import { backoffMs, describe, isTopicError, judge } from './verdicts';

export interface GroupSenderDeps {
  store: Store;
  queue: OutboxQueue;
  telegram: TelegramGateway;
  pacer: ChatPacer;
  topics: Topics;
  merging: Merging;
  media: MediaSender;
  settle: Settlement;
  metrics: DeliveryMetrics;
  clock: Clock;
  log: Logger;
  maxAttempts: number;
}

/** What became of a group: see GroupSender.process. */
export type Outcome = 'done' | 'again' | 'stop';

/**
 * Sends one claimed thread head — with the rows merged into it — to the staff chat, and
 * decides what a failed send means for its rows (src/outbox/verdicts.ts): wait as Telegram
 * asks, fix the topic and retry at once, back off, or fail for good.
 */
export function createGroupSender(deps: GroupSenderDeps) {
  const { store, queue, telegram, pacer, topics, merging, media, settle, metrics, clock, log } = deps;
  const now = () => clock.now().getTime();

  /** Sends one group (one message, or several merged) and settles its rows. */
  async function deliver(rows: OutboxRow[], messages: Message[], thread: Thread, chatId: number): Promise<void> {
    const { topicId, header } = await topics.ensure(thread, chatId, rows[0].visitorName);
    let links: TelegramLink[] = [];
    if (messages[0].attachment) {
      // Files are never merged with text: one file, or one album of photos (docs/media.md).
      await media.send(messages, thread, chatId, topicId, header);
    } else {
      const chunks = splitForTelegram(merging.render(messages, thread, header));
      // Chunks recorded by an earlier, interrupted attempt are not sent again (a merged group never has any: see
      // merging.ts). A row never leased before (fresh) cannot have any: no look-up.
      const done = rows[0].fresh
        ? 0
        : (await store.telegramLinks.listForMessage(messages[0].id)).filter((l) => l.direction === 'to_telegram').length;
      for (let i = done; i < chunks.length; i++) {
        const telegramMessageId = await telegram.sendText(chatId, topicId, chunks[i]);
        links = messages.map((m) => ({
          threadId: thread.id,
          messageId: m.id,
          chatId,
          topicId,
          telegramMessageId,
          direction: 'to_telegram',
        }));
        // A chunk before the last is recorded at once, so a failure further on never sends it again; the last
        // one's links are recorded in the transaction that settles the rows.
        if (i < chunks.length - 1) await store.telegramLinks.insertMany(links, clock.now());
      }
      if (done === chunks.length) links = [];
    }
    await settle.delivered(rows, messages, thread, links);
  }

  /**
   * Delivers the group headed by `head`: 'done' when its rows are settled (sent, or failed for good), 'again' when
   * the head is to be tried again at once (with a new or reopened topic), 'stop' when the thread must wait.
   */
  async function process(head: OutboxRow, chatId: number): Promise<Outcome> {
    if (!(await pacer.tryReserve(chatId, now()))) {
      await queue.release(head.id);
      return 'stop';
    }
    // Read with the claim (src/db/outbox-heads.ts); looked up only for a head claimed without them.
    const [thread, message] = await Promise.all([
      head.thread ?? store.threads.findById(head.threadId),
      head.kind !== 'message' ? null : (head.message ?? store.messages.findById(head.messageId)),
    ]);
    if (!thread || (head.kind === 'message' && !message)) {
      await queue.fail(head.id, 'message or thread no longer exists');
      return 'done';
    }
    const group = message ? await merging.gather(head, message, chatId) : { rows: [head], messages: [] };
    try {
      if (message) await deliver(group.rows, group.messages, thread, chatId);
      else {
        if (head.kind === 'topic_reopen') await topics.reopen(thread, chatId);
        else if (head.kind === 'topic_close') await topics.close(thread, chatId);
        else await topics.rename(thread, chatId);
        await settle.done(head);
      }
      return 'done';
    } catch (err) {
      const verdict = judge(err);
      const t = now();
      const followers = group.rows.slice(1);
      switch (verdict.kind) {
        case 'throttled':
          await pacer.pause(chatId, t + verdict.retryAfterMs, t);
          metrics.throttled();
          log.warn('telegram asked to slow down', { chatId, retryAfterMs: verdict.retryAfterMs });
          for (const r of group.rows) await queue.retryLater(r.id, t + verdict.retryAfterMs, describe(err), false);
          return 'stop';
        case 'retry_now':
          for (const r of followers) await queue.release(r.id);
          if (head.kind !== 'message') {
            // The topic is gone or closed: the next message recreates/reopens it (with the current name).
            await settle.done(head);
            return 'done';
          }
          if (head.attempts + 1 >= deps.maxAttempts) {
            log.error('outbox row failed for good', { rowId: head.id, threadId: head.threadId, reason: verdict.reason });
            await settle.fail(head, chatId, `gave up after ${head.attempts + 1} attempts: ${verdict.reason}`, true);
            return 'done';
          }
          await topics.recover(head.threadId, chatId, verdict.reason);
          await queue.retryLater(head.id, t, verdict.reason, true);
          return 'again'; // try again at once (with a new or reopened topic)
        case 'backoff': {
          for (const r of followers) await queue.release(r.id);
          if (head.attempts + 1 >= deps.maxAttempts) {
            log.error('outbox row failed for good', { rowId: head.id, threadId: head.threadId, reason: verdict.reason });
            await settle.fail(head, chatId, `gave up after ${head.attempts + 1} attempts: ${verdict.reason}`, isTopicError(err));
            return 'done';
          }
          log.warn('send failed; will retry', { rowId: head.id, attempts: head.attempts + 1, reason: verdict.reason });
          await queue.retryLater(head.id, t + backoffMs(head.attempts), verdict.reason, true);
          return 'stop';
        }
        case 'permanent':
          // A merged send that Telegram refuses is retried message by message, so only the bad one fails.
          for (const r of followers) await queue.release(r.id);
          log.error('telegram refused the message; not retrying', { rowId: head.id, threadId: head.threadId, reason: verdict.reason });
          await settle.fail(head, chatId, verdict.reason, isTopicError(err));
          return 'done';
      }
    }
  }

  return { process };
}

export type GroupSender = ReturnType<typeof createGroupSender>;
