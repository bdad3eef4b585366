import { GrammyError, HttpError } from 'grammy';
import type { Clock, Store, VisitorNotifier } from '../domain/ports';
import type { Message, Thread } from '../domain/types';
import type { Logger } from '../logger';
import type { StaffChat } from '../staff-chat';
import type { OutboxQueue, OutboxRow } from './outbox-queue';
import { splitForTelegram, type TelegramGateway } from './telegram-gateway';

export interface OutboxWorkerDeps {
  store: Store;
  queue: OutboxQueue;
  telegram: TelegramGateway;
  staffChat: StaffChat;
  notifier: VisitorNotifier;
  clock: Clock;
  logger: Logger;
  options: { pollMs: number; maxAttempts: number; batchSize?: number };
}

/** What to do with a row after a failed send. */
type Verdict =
  | { kind: 'throttled'; retryAfterMs: number }
  | { kind: 'retry_now'; reason: string }
  | { kind: 'backoff'; reason: string }
  | { kind: 'permanent'; reason: string };

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 5 * 60 * 1000;

/** Exponential backoff with full jitter around the nominal delay (0.5x–1.5x). */
export function backoffMs(attempts: number, random = Math.random): number {
  const nominal = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempts, 20));
  return Math.round(nominal * (0.5 + random()));
}

function describe(err: unknown): string {
  if (err instanceof GrammyError) return `${err.error_code}: ${err.description}`;
  if (err instanceof HttpError) return `network: ${String((err.error as Error)?.message ?? err.message)}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Delivers queued visitor messages to the staff chat: claims thread heads, makes
 * sure the thread has its topic, sends, and records every Telegram message in
 * telegram_links before marking the row sent. See docs/delivery.md.
 */
export function createOutboxWorker(deps: OutboxWorkerDeps) {
  const { store, queue, telegram, staffChat, notifier, clock, logger } = deps;
  const batchSize = deps.options.batchSize ?? 16;
  const log = logger.child({ unit: 'outbox' });

  let running = false;
  let loop: Promise<void> | null = null;
  let wakeUp: (() => void) | null = null;
  let woken = false;
  /** Telegram's retry_after applies to the whole chat, not just the row that hit it. */
  const chatPausedUntil = new Map<number, number>();
  const forumByChat = new Map<number, boolean>();

  function wake() {
    woken = true;
    wakeUp?.();
  }

  async function sleep(ms: number) {
    if (woken) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wakeUp = null;
  }

  async function isForum(chatId: number): Promise<boolean> {
    const known = forumByChat.get(chatId);
    if (known !== undefined) return known;
    const forum = await telegram.isForum(chatId);
    forumByChat.set(chatId, forum);
    return forum;
  }

  async function topicName(thread: Thread): Promise<string> {
    const visitor = await store.visitors.findById(thread.visitorId);
    const who = visitor?.name?.trim() || `Visitor #${thread.visitorId}`;
    return `${who} · ${thread.ref}`.slice(0, 128);
  }

  /** Makes sure the thread has a topic in the staff chat; null topic means reply-to fallback mode. */
  async function ensureTopic(thread: Thread, chatId: number): Promise<{ topicId: number | null; header: boolean }> {
    if (!(await isForum(chatId))) return { topicId: null, header: true };
    if (thread.topicChatId === chatId && thread.topicId !== null) return { topicId: thread.topicId, header: false };
    const topicId = await telegram.createTopic(chatId, await topicName(thread));
    await store.threads.setTopic(thread.id, chatId, topicId);
    log.info('topic created', { threadId: thread.id, topicId });
    return { topicId, header: false };
  }

  function render(message: Message, thread: Thread, header: boolean): string {
    const text = message.text ?? '';
    return header ? `#${thread.ref}\n${text}` : text;
  }

  async function deliver(row: OutboxRow, chatId: number): Promise<void> {
    const [message, thread] = await Promise.all([store.messages.findById(row.messageId), store.threads.findById(row.threadId)]);
    if (!message || !thread) {
      await queue.fail(row.id, 'message or thread no longer exists');
      return;
    }
    const { topicId, header } = await ensureTopic(thread, chatId);
    const chunks = splitForTelegram(render(message, thread, header));
    // Chunks already recorded by an earlier, interrupted attempt are not sent again.
    const done = (await store.telegramLinks.listForMessage(message.id)).filter((l) => l.direction === 'to_telegram').length;
    for (let i = done; i < chunks.length; i++) {
      const telegramMessageId = await telegram.sendText(chatId, topicId, chunks[i]);
      await store.telegramLinks.insert(
        { threadId: thread.id, messageId: message.id, chatId, topicId, telegramMessageId, direction: 'to_telegram' },
        clock.now(),
      );
    }
    const completed = await store.transaction(async (repos) => {
      const ok = await repos.outbox.complete(row.id, queue.workerId, clock.now());
      if (ok) await repos.messages.markDelivered(thread.id, [message.id]);
      return ok;
    });
    if (!completed) {
      log.warn('outbox lease lost before completion', { rowId: row.id });
      return;
    }
    notifier.messageStatus(thread.id, message.id, 'delivered');
  }

  function judge(err: unknown): Verdict {
    if (err instanceof GrammyError) {
      const d = err.description.toLowerCase();
      if (err.error_code === 429) return { kind: 'throttled', retryAfterMs: Math.max(1, err.parameters.retry_after ?? 1) * 1000 };
      if (err.error_code >= 500) return { kind: 'backoff', reason: describe(err) };
      if (d.includes('message thread not found') || d.includes('topic_deleted') || d.includes('topic not found'))
        return { kind: 'retry_now', reason: 'topic_deleted' };
      if (d.includes('topic_closed')) return { kind: 'retry_now', reason: 'topic_closed' };
      if (d.includes('not a forum') || d.includes('topics are disabled')) return { kind: 'retry_now', reason: 'not_a_forum' };
      return { kind: 'permanent', reason: describe(err) };
    }
    return { kind: 'backoff', reason: describe(err) };
  }

  async function recover(row: OutboxRow, chatId: number, reason: string): Promise<void> {
    const thread = await store.threads.findById(row.threadId);
    if (reason === 'topic_deleted' && thread) {
      log.warn('topic was deleted; a new one will be created', { threadId: row.threadId });
      await store.threads.setTopic(row.threadId, null, null);
    } else if (reason === 'topic_closed' && thread?.topicId) {
      log.info('topic was closed by hand; reopening', { threadId: row.threadId });
      try {
        await telegram.reopenTopic(chatId, thread.topicId);
      } catch (err) {
        log.warn('reopening the topic failed; a new one will be created', { threadId: row.threadId, error: describe(err) });
        await store.threads.setTopic(row.threadId, null, null);
      }
    } else if (reason === 'not_a_forum') {
      forumByChat.set(chatId, false);
    }
  }

  async function process(row: OutboxRow, chatId: number): Promise<void> {
    try {
      await deliver(row, chatId);
    } catch (err) {
      const verdict = judge(err);
      const now = clock.now().getTime();
      switch (verdict.kind) {
        case 'throttled': {
          const until = now + verdict.retryAfterMs;
          chatPausedUntil.set(chatId, Math.max(chatPausedUntil.get(chatId) ?? 0, until));
          log.warn('telegram asked to slow down', { chatId, retryAfterMs: verdict.retryAfterMs });
          await queue.retryLater(row.id, until, describe(err), false);
          break;
        }
        case 'retry_now':
          if (row.attempts + 1 >= deps.options.maxAttempts) {
            await queue.fail(row.id, `gave up after ${row.attempts + 1} attempts: ${verdict.reason}`);
            break;
          }
          await recover(row, chatId, verdict.reason);
          await queue.retryLater(row.id, now, verdict.reason, true);
          break;
        case 'backoff':
          if (row.attempts + 1 >= deps.options.maxAttempts) {
            log.error('outbox row failed for good', { rowId: row.id, threadId: row.threadId, reason: verdict.reason });
            await queue.fail(row.id, `gave up after ${row.attempts + 1} attempts: ${verdict.reason}`);
            break;
          }
          log.warn('send failed; will retry', { rowId: row.id, attempts: row.attempts + 1, reason: verdict.reason });
          await queue.retryLater(row.id, now + backoffMs(row.attempts), verdict.reason, true);
          break;
        case 'permanent':
          log.error('telegram refused the message; not retrying', { rowId: row.id, threadId: row.threadId, reason: verdict.reason });
          await queue.fail(row.id, verdict.reason);
          break;
      }
    }
  }

  /** One pass: claims due thread heads and sends them. Returns how many rows it handled. */
  async function tick(): Promise<number> {
    const chatId = staffChat.id();
    if (chatId === null) return 0;
    const now = clock.now().getTime();
    if ((chatPausedUntil.get(chatId) ?? 0) > now) return 0;
    const rows = await queue.claim(now, batchSize);
    await Promise.all(rows.map((row) => process(row, chatId)));
    return rows.length;
  }

  async function run() {
    while (running) {
      woken = false;
      let handled = 0;
      try {
        handled = await tick();
      } catch (err) {
        log.error('outbox pass failed', { error: describe(err) });
      }
      if (!running) break;
      if (handled > 0) continue;
      const chatId = staffChat.id();
      const pausedFor = chatId === null ? 0 : (chatPausedUntil.get(chatId) ?? 0) - clock.now().getTime();
      await sleep(Math.max(deps.options.pollMs, Math.min(pausedFor, 60_000)));
    }
  }

  return {
    wake,
    tick,
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    /** Finishes the send in progress, then stops. */
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
      loop = null;
    },
  };
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;
