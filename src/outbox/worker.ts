import { GrammyError, HttpError } from 'grammy';
import type { Clock, Store, VisitorNotifier } from '../domain/ports';
import type { Message, Thread } from '../domain/types';
import type { Logger } from '../logger';
import type { StaffChat } from '../staff-chat';
import type { ChatPacer } from './chat-pacer';
import type { Metrics } from '../scale/metrics';
import type { OutboxQueue, OutboxRow } from './outbox-queue';
import { MediaUnavailableError, splitForTelegram, TELEGRAM_TEXT_LIMIT, type TelegramGateway } from './telegram-gateway';
import { createMediaSender, type MediaSource } from './media-sender';
import { staffTexts } from '../bot/staff-texts';
import { cleanName } from '../domain/text';
import { isDatabaseUnavailable } from '../db/unavailable';

export interface OutboxWorkerOptions {
  pollMs: number;
  maxAttempts: number;
  /** Threads delivered in parallel. */
  concurrency?: number;
  /** Under pressure, a thread's messages wait up to this long (or until the visitor pauses) to be merged into one send. */
  holdMs?: number;
  /** Without pressure, a thread with this many waiting messages has them merged. */
  mergeBacklog?: number;
  /** An image waits this long after it was stored for the images picked with it, to go as one album. */
  albumWindowMs?: number;
}

export interface OutboxWorkerDeps {
  store: Store;
  queue: OutboxQueue;
  telegram: TelegramGateway;
  staffChat: StaffChat;
  notifier: VisitorNotifier;
  pacer: ChatPacer;
  clock: Clock;
  logger: Logger;
  options: OutboxWorkerOptions;
  /** Where stored files are read from (visitor uploads); without it, media rows fail. */
  media?: MediaSource;
  /** Prometheus instruments (GET /metrics), when the application has them. */
  metrics?: Pick<Metrics, 'messages' | 'telegramThrottled' | 'outboxFailed' | 'sendToTelegram'>;
}

/** What to do with a row after a failed send. */
type Verdict =
  | { kind: 'throttled'; retryAfterMs: number }
  | { kind: 'retry_now'; reason: 'topic_deleted' | 'topic_closed' | 'not_a_forum' }
  | { kind: 'backoff'; reason: string }
  | { kind: 'permanent'; reason: string };

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 5 * 60 * 1000;
const MAX_MERGED = 50;
/** Under pressure, a thread whose visitor paused this long is sent (merged) without waiting for the full hold. */
const QUIET_MS = 2000;
/**
 * Once half the chat's budget is spent in the window, new threads of an address that had opened
 * more than this many in the hour (threads.opening_rank) wait for their topic until it is not:
 * the budget's reserve goes to existing conversations and ordinary newcomers first.
 */
const CROWDED_RANK = 5;
/** Rows one thread may send in a row before others get their turn. */
const DRAIN_LIMIT = 100;

/** Exponential backoff with jitter around the nominal delay (0.5x–1.5x). */
export function backoffMs(attempts: number, random = Math.random): number {
  const nominal = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempts, 20));
  return Math.round(nominal * (0.5 + random()));
}

function describe(err: unknown): string {
  if (err instanceof GrammyError) return `${err.error_code}: ${err.description}`;
  if (err instanceof HttpError) return `network: ${String((err.error as Error)?.message ?? err.message)}`;
  return err instanceof Error ? err.message : String(err);
}

export function judge(err: unknown): Verdict {
  if (err instanceof MediaUnavailableError) return { kind: 'permanent', reason: err.message };
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

/** Errors raised while creating the thread's topic: the staff notice then goes to General. */
const topicErrors = new WeakSet<object>();

/** One line of a merged Telegram message: the message's own time, then its text. */
export function mergedLine(message: Message, timeFormat: Intl.DateTimeFormat): string {
  return `[${timeFormat.format(message.createdAt)}] ${message.text ?? ''}`;
}

/**
 * Delivers queued visitor messages to the staff chat. Each thread is drained in
 * order by one worker at a time; threads run in parallel. Under Telegram's group
 * limit the worker paces itself and merges a thread's waiting text messages into
 * one send. Every Telegram message is recorded in telegram_links before the rows
 * are marked sent. See docs/delivery.md.
 */
export function createOutboxWorker(deps: OutboxWorkerDeps) {
  const { store, queue, telegram, staffChat, notifier, pacer, clock, logger } = deps;
  const concurrency = deps.options.concurrency ?? 16;
  const holdMs = deps.options.holdMs ?? 10_000;
  const mergeBacklog = deps.options.mergeBacklog ?? 3;
  const log = logger.child({ unit: 'outbox' });
  const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const media = createMediaSender({ store, telegram, source: deps.media, clock, albumWindowMs: deps.options.albumWindowMs ?? 1000 });

  let running = false;
  let loop: Promise<void> | null = null;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  let wakeUp: (() => void) | null = null;
  let woken = false;
  const active = new Map<number, Promise<void>>();
  /** Threads in flight that were claimed without a topic (claimHeads counts them twice). */
  const creatingTopics = new Set<number>();
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

  const now = () => clock.now().getTime();

  async function isForum(chatId: number): Promise<boolean> {
    const known = forumByChat.get(chatId);
    if (known !== undefined) return known;
    const forum = await telegram.isForum(chatId);
    forumByChat.set(chatId, forum);
    return forum;
  }

  async function topicName(thread: Thread): Promise<string> {
    const visitor = await store.visitors.findById(thread.visitorId);
    // Names are cleaned where they come in; a name stored before that (or any other) is cleaned here too.
    const who = cleanName(visitor?.name ?? '') || `Visitor #${thread.visitorId}`;
    return `${who} · ${thread.ref}`.slice(0, 128);
  }

  /** Makes sure the thread has a topic in the staff chat; null topic means reply-to fallback mode (header on every message). */
  async function ensureTopic(thread: Thread, chatId: number): Promise<{ topicId: number | null; header: boolean }> {
    if (!(await isForum(chatId))) return { topicId: null, header: true };
    if (thread.topicChatId === chatId && thread.topicId !== null) return { topicId: thread.topicId, header: false };
    await pacer.tryReserve(chatId, now()); // a new topic posts a service message: it counts against the group's budget
    const topicId = await telegram.createTopic(chatId, await topicName(thread));
    await store.threads.setTopic(thread.id, chatId, topicId);
    log.info('topic created', { threadId: thread.id, topicId });
    return { topicId, header: false };
  }

  function render(messages: Message[], thread: Thread, header: boolean): string {
    const body = messages.length === 1 ? (messages[0].text ?? '') : messages.map((m) => mergedLine(m, timeFormat)).join('\n');
    return header ? `#${thread.ref}\n${body}` : body;
  }

  /** Sends one group (one message, or several merged) and settles its rows. */
  async function deliver(rows: OutboxRow[], messages: Message[], thread: Thread, chatId: number): Promise<void> {
    const { topicId, header } = await ensureTopic(thread, chatId).catch((err: unknown) => {
      if (typeof err === 'object' && err !== null) topicErrors.add(err);
      throw err;
    });
    if (messages[0].attachment) {
      // Files are never merged with text: one file, or one album of photos (docs/media.md).
      await media.send(messages, thread, chatId, topicId, header);
    } else {
      const chunks = splitForTelegram(render(messages, thread, header));
      // Chunks recorded by an earlier, interrupted attempt are not sent again (a merged group never has any: see gather).
      const done = (await store.telegramLinks.listForMessage(messages[0].id)).filter((l) => l.direction === 'to_telegram').length;
      for (let i = done; i < chunks.length; i++) {
        const telegramMessageId = await telegram.sendText(chatId, topicId, chunks[i]);
        for (const m of messages) {
          await store.telegramLinks.insert(
            { threadId: thread.id, messageId: m.id, chatId, topicId, telegramMessageId, direction: 'to_telegram' },
            clock.now(),
          );
        }
      }
    }
    const completed = await store.transaction(async (repos) => {
      const ids: number[] = [];
      for (let i = 0; i < rows.length; i++)
        if (await repos.outbox.complete(rows[i].id, queue.workerId, clock.now())) ids.push(messages[i].id);
      await repos.messages.markDelivered(thread.id, ids);
      return ids;
    });
    if (completed.length < rows.length) log.warn('outbox lease lost before completion', { threadId: thread.id });
    for (const id of completed) notifier.messageStatus(thread.id, id, 'delivered');
    if (deps.metrics && completed.length) {
      deps.metrics.messages.inc({ direction: 'to_telegram' }, completed.length);
      const t = now();
      for (const m of messages) if (completed.includes(m.id)) deps.metrics.sendToTelegram.observe((t - m.createdAt.getTime()) / 1000);
    }
  }

  const alreadySent = async (messageId: number) =>
    (await store.telegramLinks.listForMessage(messageId)).some((l) => l.direction === 'to_telegram');

  /** Picks the rows to send with `head`: followers are merged when the chat is under pressure or the backlog has grown. */
  async function gather(head: OutboxRow, headMessage: Message, chatId: number): Promise<{ rows: OutboxRow[]; messages: Message[] }> {
    const group = { rows: [head], messages: [headMessage] };
    if (headMessage.attachment !== null) return media.gatherAlbum(head, headMessage, queue, alreadySent, now);
    if (headMessage.text === null) return group;
    // A message that already reached Telegram (an interrupted earlier attempt) is settled alone, never re-merged.
    if (await alreadySent(headMessage.id)) return group;
    const followers = await queue.claimFollowers(head.threadId, head.id, now(), MAX_MERGED - 1);
    const merge = followers.length > 0 && (pacer.underPressure(chatId, now()) || followers.length + 1 >= mergeBacklog);
    let size = mergedLine(headMessage, timeFormat).length + 16; // room for a fallback-mode header
    let i = 0;
    if (merge) {
      // Two queries for the whole run of followers, not two per message.
      const ids = followers.map((f) => f.messageId);
      const [found, sent] = await Promise.all([store.messages.findManyByIds(ids), store.telegramLinks.sentMessageIds(ids)]);
      const byId = new Map(found.map((m) => [m.id, m]));
      for (; i < followers.length; i++) {
        const m = byId.get(followers[i].messageId);
        if (!m || m.attachment !== null || sent.has(m.id)) break;
        size += 1 + mergedLine(m, timeFormat).length;
        if (size > TELEGRAM_TEXT_LIMIT) break;
        group.rows.push(followers[i]);
        group.messages.push(m);
      }
    }
    for (const rest of followers.slice(i)) await queue.release(rest.id);
    return group;
  }

  async function recover(threadId: number, chatId: number, reason: Extract<Verdict, { kind: 'retry_now' }>['reason']): Promise<void> {
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
  }

  /** Renames the thread's topic to the visitor's current name; nothing to do while the thread has no topic. */
  async function renameTopic(row: OutboxRow, thread: Thread, chatId: number): Promise<void> {
    if (thread.topicChatId === chatId && thread.topicId !== null && (await isForum(chatId))) {
      await telegram.renameTopic(chatId, thread.topicId, await topicName(thread));
    }
    await store.transaction((repos) => repos.outbox.complete(row.id, queue.workerId, clock.now()));
  }

  /** Reopens the thread's topic (closed by /close) before the message that reopened the thread is posted. */
  async function reopenTopic(row: OutboxRow, thread: Thread, chatId: number): Promise<void> {
    if (thread.topicChatId === chatId && thread.topicId !== null && (await isForum(chatId))) {
      await telegram.reopenTopic(chatId, thread.topicId);
      log.info('topic reopened', { threadId: thread.id, topicId: thread.topicId });
    }
    await store.transaction((repos) => repos.outbox.complete(row.id, queue.workerId, clock.now()));
  }

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
    const inTopic = !topicProblem && thread.topicChatId === chatId && thread.topicId !== null && forumByChat.get(chatId) !== false;
    await pacer.tryReserve(chatId, now()); // counts against the group's budget like any send
    for (const topicId of inTopic ? [thread.topicId, null] : [null]) {
      try {
        await telegram.sendText(chatId, topicId, text);
        return;
      } catch (err) {
        log.warn('telling staff about a failed message failed', { threadId: thread.id, topicId, error: describe(err) });
      }
    }
  }

  /**
   * Fails a row for good (until /retry). For a message: the visitor sees it failed,
   * and staff get one notice per failure episode — when the thread had no failed
   * message yet. Later rows of the thread go on: only pending rows are heads.
   */
  async function failRow(head: OutboxRow, chatId: number, reason: string, topicProblem: boolean): Promise<void> {
    deps.metrics?.outboxFailed.inc();
    const firstOfEpisode = head.kind === 'message' && (await queue.failedInThread(head.threadId)) === 0;
    if (!(await queue.fail(head.id, reason)) || head.kind !== 'message') return;
    await store.messages.setDeliveryStatus(head.threadId, [head.messageId], 'failed');
    notifier.messageStatus(head.threadId, head.messageId, 'failed');
    if (firstOfEpisode) await noticeStaff(head, chatId, reason, topicProblem);
  }

  /** Delivers the group headed by `head`. True when it reached Telegram. */
  async function processGroup(head: OutboxRow, chatId: number): Promise<boolean> {
    if (!(await pacer.tryReserve(chatId, now()))) {
      await queue.release(head.id);
      return false;
    }
    const thread = await store.threads.findById(head.threadId);
    const message = head.kind === 'message' ? await store.messages.findById(head.messageId) : null;
    if (!thread || (head.kind === 'message' && !message)) {
      await queue.fail(head.id, 'message or thread no longer exists');
      return true;
    }
    const group = message ? await gather(head, message, chatId) : { rows: [head], messages: [] };
    try {
      if (message) await deliver(group.rows, group.messages, thread, chatId);
      else if (head.kind === 'topic_reopen') await reopenTopic(head, thread, chatId);
      else await renameTopic(head, thread, chatId);
      return true;
    } catch (err) {
      const verdict = judge(err);
      const t = now();
      const followers = group.rows.slice(1);
      switch (verdict.kind) {
        case 'throttled':
          await pacer.pause(chatId, t + verdict.retryAfterMs, t);
          deps.metrics?.telegramThrottled.inc();
          log.warn('telegram asked to slow down', { chatId, retryAfterMs: verdict.retryAfterMs });
          for (const r of group.rows) await queue.retryLater(r.id, t + verdict.retryAfterMs, describe(err), false);
          return false;
        case 'retry_now':
          for (const r of followers) await queue.release(r.id);
          if (head.kind !== 'message') {
            // The topic is gone or closed: the next message recreates/reopens it (with the current name).
            await store.transaction((repos) => repos.outbox.complete(head.id, queue.workerId, clock.now()));
            return true;
          }
          if (head.attempts + 1 >= deps.options.maxAttempts) {
            log.error('outbox row failed for good', { rowId: head.id, threadId: head.threadId, reason: verdict.reason });
            await failRow(head, chatId, `gave up after ${head.attempts + 1} attempts: ${verdict.reason}`, true);
            return true;
          }
          await recover(head.threadId, chatId, verdict.reason);
          await queue.retryLater(head.id, t, verdict.reason, true);
          return true; // try again at once (with a new or reopened topic)
        case 'backoff': {
          for (const r of followers) await queue.release(r.id);
          if (head.attempts + 1 >= deps.options.maxAttempts) {
            log.error('outbox row failed for good', { rowId: head.id, threadId: head.threadId, reason: verdict.reason });
            await failRow(head, chatId, `gave up after ${head.attempts + 1} attempts: ${verdict.reason}`, topicErrors.has(err as object));
            return true;
          }
          log.warn('send failed; will retry', { rowId: head.id, attempts: head.attempts + 1, reason: verdict.reason });
          await queue.retryLater(head.id, t + backoffMs(head.attempts), verdict.reason, true);
          return false;
        }
        case 'permanent':
          // A merged send that Telegram refuses is retried message by message, so only the bad one fails.
          for (const r of followers) await queue.release(r.id);
          log.error('telegram refused the message; not retrying', { rowId: head.id, threadId: head.threadId, reason: verdict.reason });
          await failRow(head, chatId, verdict.reason, topicErrors.has(err as object));
          return true;
      }
    }
  }

  /** Sends a thread's rows one group after another while nothing holds it back. */
  async function drain(first: OutboxRow, chatId: number): Promise<void> {
    let row: OutboxRow | null = first;
    for (let i = 0; row && running && i < DRAIN_LIMIT; i++) {
      if (!(await processGroup(row, chatId))) return;
      const t = now();
      // Under pressure the next rows go through claimHeads, which holds them back to be merged.
      if (pacer.waitMs(chatId, t) > 0 || pacer.underPressure(chatId, t)) return;
      row = await queue.claimThreadHead(row.threadId, t);
    }
  }

  /** Claims due thread heads up to the concurrency limit and starts draining them. */
  async function fill(): Promise<number> {
    const chatId = staffChat.id();
    if (chatId === null) return 0;
    const t = now();
    if (pacer.waitMs(chatId, t) > 0) return 0;
    const hold = pacer.underPressure(chatId, t) ? { maxMs: holdMs, quietMs: Math.min(QUIET_MS, holdMs) } : undefined;
    // Never claim more than the chat's budget lets start now: a burst must not spend the reserve at once. A thread
    // still without its topic costs two sends; existing conversations come first (outbox-queue.ts claimHeads).
    // Each thread in flight will spend at least one send, two while it still creates its topic.
    const sends = pacer.freeSlots(chatId, t) - active.size - creatingTopics.size;
    // On the budget's reserve, an address opening many threads gets no more topics until the reserve is not needed.
    const crowdedAbove = pacer.onReserve(chatId, t) ? CROWDED_RANK : undefined;
    const rows = await queue.claimHeads(t, Math.min(concurrency - active.size, sends), [...active.keys()], hold, sends, crowdedAbove);
    if (rows.length) log.debug('claimed thread heads', { rows: rows.map((r) => r.id), active: active.size });
    for (const row of rows) {
      if (row.needsTopic) creatingTopics.add(row.threadId);
      const work = drain(row, chatId)
        .catch((error: unknown) => {
          log.error('delivering a thread failed', { threadId: row.threadId, error: describe(error) });
        })
        .finally(() => {
          active.delete(row.threadId);
          creatingTopics.delete(row.threadId);
          wake();
        });
      active.set(row.threadId, work);
    }
    return rows.length;
  }

  /** Renews the leases of the rows in flight, three times per lease, so they never expire while this process lives. */
  function startHeartbeat() {
    heartbeat = setInterval(
      () => {
        if (active.size === 0) return;
        queue
          .renew(now(), [...active.keys()])
          .catch((error: unknown) => log.warn('renewing the outbox leases failed', { error: describe(error) }));
      },
      Math.max(100, Math.floor(queue.leaseMs / 3)),
    );
    heartbeat.unref();
  }

  let passes = 0;
  const idleWaiters: Array<{ after: number; resolve: () => void }> = [];

  async function run() {
    try {
      const freed = await queue.reclaimAbandoned();
      if (freed > 0) log.info('took back the outbox rows a previous process left leased', { rows: freed });
    } catch (error) {
      log.warn('taking back abandoned outbox leases failed; they expire by themselves', { error: describe(error) });
    }
    // While the database cannot be reached every pass fails alike: said once, and once when it answers again.
    let databaseAway = false;
    while (running) {
      woken = false;
      passes++;
      let claimed = 0;
      try {
        claimed = await fill();
        if (databaseAway) log.info('outbox resumed: the database answers again');
        databaseAway = false;
      } catch (err) {
        if (!isDatabaseUnavailable(err)) log.error('outbox pass failed', { error: describe(err) });
        else if (!databaseAway) log.error('outbox paused: the database cannot be reached; trying again', { error: describe(err) });
        databaseAway ||= isDatabaseUnavailable(err);
      }
      if (claimed === 0 && active.size === 0) {
        for (const [i, waiter] of [...idleWaiters.entries()].reverse())
          if (waiter.after < passes) {
            idleWaiters.splice(i, 1);
            waiter.resolve();
          }
      }
      if (!running) break;
      if (claimed > 0 && active.size < concurrency) continue;
      const chatId = staffChat.id();
      const wait = chatId === null ? 0 : pacer.waitMs(chatId, now());
      await sleep(wait > 0 ? Math.min(wait, 60_000) : deps.options.pollMs);
    }
  }

  return {
    wake,
    /**
     * Resolves after the next whole pass that began after this call and found nothing to
     * claim, with no send in flight: the queue has nothing it may send now (tests use it
     * to show that something was not sent).
     */
    idlePass(): Promise<void> {
      return new Promise((resolve) => {
        idleWaiters.push({ after: passes, resolve });
        wake();
      });
    },
    start() {
      if (running) return;
      running = true;
      startHeartbeat();
      loop = run();
    },
    /** Lets the sends in flight finish, then stops. */
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
      await Promise.all([...active.values()]);
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      loop = null;
    },
  };
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;
