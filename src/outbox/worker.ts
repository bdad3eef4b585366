import type { Clock, HandOffLease, Store, VisitorNotifier } from '../domain/ports';
import type { Logger } from '../logger';
import type { Department } from '../domain/departments';
import type { ChatPacer } from './chat-pacer';
import type { OutboxQueue, OutboxRow } from '../domain/outbox-ports';
import type { TelegramGateway } from './telegram-gateway';
import { createMediaSender, type MediaSource } from './media-sender';
import { deliveryMetrics, type OutboxMetrics } from './delivery-metrics';
import { createTopics } from './topics';
import { createMerging } from './merging';
import { createSettlement } from './settle';
import { createGroupSender } from './send-group';
import { describe } from './verdicts';
import { createWakeSignal, startLeaseHeartbeat } from './wake-signal';
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
  /**
   * A thread's first message may be handed over too (it creates the topic): only where no send limit applies, for
   * under one the claims keep new threads behind existing conversations (docs/delivery.md).
   */
  handOffNewThreads?: boolean;
}

export interface OutboxWorkerDeps {
  store: Store;
  queue: OutboxQueue;
  telegram: TelegramGateway;
  /** Where threads go: each department with a staff chat, the default one first (src/domain/department-directory.ts). */
  departments: { claimed(): Department[] };
  notifier: VisitorNotifier;
  pacer: ChatPacer;
  clock: Clock;
  logger: Logger;
  options: OutboxWorkerOptions;
  /** Where stored files are read from (visitor uploads); without it, media rows fail. */
  media?: MediaSource;
  /** Prometheus instruments (GET /metrics), when the application has them. */
  metrics?: OutboxMetrics;
}

/** Under pressure, a thread whose visitor paused this long is sent (merged) without waiting for the full hold. */
const QUIET_MS = 2000;
/**
 * Once half the chat's budget is spent in the window, new threads of an address that had opened
 * more than this many in the hour (threads.opening_rank) wait for their topic until it is not:
 * the budget's reserve goes to existing conversations and ordinary newcomers first.
 */
const CROWDED_RANK = 5;
/** How long a hand-off lease given out holds a place of the worker's, unless its row is handed over first. */
const LEASE_PLACE_MS = 1000;
/** Rows one thread may send in a row before others get their turn. */
const DRAIN_LIMIT = 100;

/**
 * Delivers queued visitor messages to the staff chat. Each thread is drained in
 * order by one worker at a time; threads run in parallel. Under Telegram's group
 * limit the worker paces itself and merges a thread's waiting text messages into
 * one send. Every Telegram message is recorded in telegram_links before the rows
 * are marked sent. See docs/delivery.md.
 *
 * This file schedules: it claims thread heads within the chat's budget and drains
 * them. Sending a group and reading its failure is send-group.ts (with verdicts.ts),
 * topics are topics.ts, merging merging.ts, settling rows settle.ts.
 */
export function createOutboxWorker(deps: OutboxWorkerDeps) {
  const { store, queue, telegram, departments, notifier, pacer, clock, logger } = deps;
  const concurrency = deps.options.concurrency ?? 16;
  const holdMs = deps.options.holdMs ?? 10_000;
  const log = logger.child({ unit: 'outbox' });
  const now = () => clock.now().getTime();
  const metrics = deliveryMetrics(deps.metrics);
  const media = createMediaSender({ store, telegram, source: deps.media, clock, albumWindowMs: deps.options.albumWindowMs ?? 1000 });
  const topics = createTopics({ store, telegram, pacer, now, log });
  const merging = createMerging({ store, queue, pacer, media, mergeBacklog: deps.options.mergeBacklog ?? 3, now });
  const settle = createSettlement({ store, queue, telegram, notifier, pacer, topics, metrics, clock, log });
  const sender = createGroupSender({
    ...{ store, queue, telegram, pacer, topics, merging, media, settle, metrics, clock, log },
    maxAttempts: deps.options.maxAttempts,
  });

  let running = false;
  let loop: Promise<void> | null = null;
  let stopHeartbeat: (() => void) | null = null;
  const signal = createWakeSignal();
  const active = new Map<number, Promise<void>>();
  /** The wake count when each thread in flight was claimed (its drain asks about wakes after it). */
  const since = new Map<number, number>();
  /** Threads in flight that were claimed without a topic (claimHeads counts them twice). */
  const creatingTopics = new Set<number>();

  let passes = 0;
  const idleWaiters: Array<{ after: number; resolve: () => void }> = [];
  /** The last pass claimed as many heads as it asked for, or was bounded by the chat's budget: more may be claimable. */
  let lastFillFull = false;

  const wake = (threadId?: number) => signal.wake(threadId);

  /** Each department with a staff chat: where its threads go (the pacing is per chat). */
  const targets = () => departments.claimed().filter((d): d is Department & { chatId: number } => d.chatId !== null);
  /** Threads in flight, by staff chat (set once a handed-over row's thread is read). */
  const inFlight = new Map<number, number>();
  /** The visitor of each thread in flight, where known: that visitor's next message may join its drain (handOffLease). */
  const visitorOf = new Map<number, number>();
  const count = (set: Iterable<number>, chatId: number) => [...set].filter((id) => inFlight.get(id) === chatId).length;

  /**
   * Leases given out (handOffLease) whose rows have not reached handOff yet, by when each stops counting: each may
   * start a drain, so together with the threads in flight they may not pass the concurrency. A lease no row took is
   * given back by its writer (leaseUnused); one never given back (a writer that failed oddly) stops counting after
   * LEASE_PLACE_MS.
   */
  const promised: number[] = [];
  const placesTaken = (t: number) => {
    while (promised.length > 0 && promised[0] <= t) promised.shift();
    return active.size + promised.length;
  };

  /**
   * Rows handed over for a thread in flight here, in the thread's order: its drain takes them next, with no claim;
   * whatever its drain leaves is started anew (a head) or given back (a row that joined: see `afterDrain`).
   */
  const handed = new Map<number, OutboxRow[]>();

  function queueHanded(row: OutboxRow): void {
    const rows = handed.get(row.threadId) ?? [];
    // Committed (and so handed over) in the thread's order; kept by id all the same.
    const at = rows.findIndex((r) => r.id > row.id);
    rows.splice(at === -1 ? rows.length : at, 0, row);
    handed.set(row.threadId, rows);
  }

  function takeHanded(threadId: number): OutboxRow | undefined {
    const rows = handed.get(threadId);
    const row = rows?.shift();
    if (rows?.length === 0) handed.delete(threadId);
    return row;
  }

  /**
   * A handed-over row's thread, read (from the cache, mostly) and checked: null when the row must go the usual way — the
   * worker stopping, the thread gone, its department without a chat, its topic in another chat (moved) or, for a row
   * joining a drain, in a chat other than that drain's; and a cached record without its topic (a reader refilled it
   * before the topic was set: a claim reads the thread afresh, so no second topic is made).
   */
  async function admit(row: OutboxRow, drainChat?: number): Promise<{ row: OutboxRow; chatId: number } | null> {
    const thread = running ? (row.thread ?? (await store.threads.findById(row.threadId))) : null;
    const target = thread && targets().find((d) => d.id === thread.departmentId);
    const topicElsewhere = thread !== null && thread.topicId !== null && thread.topicChatId !== target?.chatId;
    const staleRecord = !row.thread && thread?.topicId === null;
    const otherChat = drainChat !== undefined && target?.chatId !== drainChat;
    if (!running || !thread || !target || topicElsewhere || staleRecord || otherChat) return null;
    // A thread without a topic (opened by this very message) gets it from the drain, as a claimed one would.
    if (thread.topicId === null) creatingTopics.add(row.threadId);
    visitorOf.set(row.threadId, thread.visitorId);
    return { row: { ...row, thread }, chatId: target.chatId };
  }

  /**
   * Sends a thread's rows one group after another while nothing holds it back: the rows handed over for it first, then
   * what it claims. True when it stopped because the thread had nothing more it could send, and no insert into it came
   * meanwhile: then nothing new became claimable through it, and no pass needs to follow. `chatId` null: `first` was
   * handed over and its thread is read first.
   */
  async function drain(first: OutboxRow, chatId: number | null, claimedAt: number): Promise<boolean> {
    const threadId = first.threadId;
    let row: OutboxRow | null = first;
    if (chatId === null) {
      const admitted = await admit(first);
      if (!admitted) return giveBack(first).then(() => false);
      ({ row, chatId } = admitted);
      inFlight.set(threadId, chatId);
    }
    let seen = claimedAt;
    for (let i = 0; row && running && i < DRAIN_LIMIT; i++) {
      const outcome = await sender.process(row, chatId);
      if (outcome === 'stop') return false;
      const next = outcome === 'done' && handed.has(threadId);
      // Settled, nothing waited behind it when it was claimed, none handed over and no insert into the thread since: done.
      if (outcome === 'done' && !next && row.behind === 0 && !signal.cameFor(threadId, seen)) return true;
      const t = now();
      // Under pressure the next rows go through claimHeads, which holds them back to be merged.
      if (pacer.waitMs(chatId, t) > 0 || pacer.underPressure(chatId, t)) return false;
      if (next) {
        const taken = takeHanded(threadId)!;
        const admitted = await admit(taken, chatId);
        if (!admitted) return giveBack(taken).then(() => false);
        // A message stored since (not handed over) may wait behind it: its followers are looked for (merging.ts).
        row = signal.cameFor(threadId, seen) ? { ...admitted.row, behind: undefined } : admitted.row;
        continue;
      }
      seen = signal.count();
      row = await queue.claimThreadHead(threadId, t);
      if (!row) return !signal.cameFor(threadId, seen);
    }
    return false;
  }

  /**
   * A drain ended: of the rows still handed over for its thread, a head (handed over when nothing of the thread was
   * pending) starts the next drain, and the rows after it follow that one; a row that joined the drain that ended is
   * given back, for what it followed may not have been settled (a send refused or paced), and the claims keep the order.
   */
  function afterDrain(threadId: number): void {
    const rows = handed.get(threadId);
    if (!rows) return;
    if (running && !rows[0].joins) {
      startDrain(takeHanded(threadId)!, null, signal.count());
      return;
    }
    handed.delete(threadId);
    for (const row of rows) void giveBack(row);
  }

  /** Drains a thread from `row`, claimed (or handed over: `chatId` null) with the wake count `claimedAt`, as one of the threads in flight. */
  function startDrain(row: OutboxRow, chatId: number | null, claimedAt: number): void {
    if (chatId !== null) inFlight.set(row.threadId, chatId);
    if (row.thread) visitorOf.set(row.threadId, row.thread.visitorId);
    const work = drain(row, chatId, claimedAt)
      .catch((error: unknown) => {
        log.error('delivering a thread failed', { threadId: row.threadId, error: describe(error) });
        return false;
      })
      .then((settled) => {
        active.delete(row.threadId);
        creatingTopics.delete(row.threadId);
        inFlight.delete(row.threadId);
        visitorOf.delete(row.threadId);
        since.delete(row.threadId);
        afterDrain(row.threadId);
        // A pass follows unless this thread ran dry with nothing else waiting for its place (the last pass took all it could).
        if (!settled || lastFillFull || idleWaiters.length > 0) signal.nudge();
      });
    active.set(row.threadId, work);
    since.set(row.threadId, claimedAt);
  }

  /** A handed-over row this worker will not deliver: its lease is given back and a pass may claim it. */
  async function giveBack(row: OutboxRow): Promise<void> {
    await queue
      .release(row.id)
      .catch((error: unknown) => log.warn('giving back a handed-over row failed; its lease runs out', { error: describe(error) }));
    signal.wake(row.threadId);
  }

  /**
   * The hand-off (docs/delivery.md): a visitor's message stored while this worker would start it at once is stored
   * leased to it (handOffLease) and given to it here, with no claim and no pass. Taken in the order of the commits:
   * a row for a thread in flight here waits for that thread's drain, which takes it next; a head (nothing else of its
   * thread was pending, or the message opened the thread) starts a drain; a row that joined a drain that has ended
   * meanwhile is given back.
   */
  function handOff(row: OutboxRow): void {
    promised.shift();
    if (active.has(row.threadId)) queueHanded(row);
    else if (!running || row.joins) void giveBack(row);
    else startDrain(row, null, signal.count());
  }

  /** Claims due thread heads of every department, each within its chat's budget, up to the concurrency limit. */
  async function fill(): Promise<number> {
    let claimed = 0;
    let full = false;
    for (const target of targets()) {
      const got = await fillChat(target);
      claimed += got.claimed;
      full ||= got.full;
    }
    lastFillFull = full;
    return claimed;
  }

  /** Claims the department's due thread heads and starts draining them. */
  async function fillChat(department: Department & { chatId: number }): Promise<{ claimed: number; full: boolean }> {
    const { chatId } = department;
    const t = now();
    if (pacer.waitMs(chatId, t) > 0) return { claimed: 0, full: false };
    // Every place taken (or promised to a hand-off on its way): whatever waits is claimed when a thread in flight finishes.
    const free = concurrency - placesTaken(t);
    if (free <= 0) return { claimed: 0, full: true };
    const hold = pacer.underPressure(chatId, t) ? { maxMs: holdMs, quietMs: Math.min(QUIET_MS, holdMs) } : undefined;
    // Never claim more than the chat's budget lets start now (a burst must not spend the reserve at once); a thread in
    // flight will spend one send, two while it creates its topic (src/db/outbox-claims.ts claimHeads).
    const sends = pacer.freeSlots(chatId, t) - count(active.keys(), chatId) - count(creatingTopics, chatId);
    // On the budget's reserve, an address opening many threads gets no more topics until the reserve is not needed.
    const crowdedAbove = pacer.onReserve(chatId, t) ? CROWDED_RANK : undefined;
    const limit = Math.min(free, sends);
    // Wakes since start: a drain that saw one arrive while it ran passes the turn on.
    const claimedAt = signal.count();
    const where = { id: department.id, chatId };
    const rows = await queue.claimHeads(t, limit, [...active.keys()], hold, sends, crowdedAbove, where);
    // More may be claimable when the pass took all it asked for, or when the chat's budget (not the concurrency) bounded
    // it: a head still without its topic costs two sends (claimHeads). Without a limit the budget never does.
    const cost = rows.length + rows.filter((r) => r.needsTopic === true).length;
    const full = rows.length >= limit || sends <= free || cost >= sends;
    if (rows.length) log.debug('claimed thread heads', { rows: rows.map((r) => r.id), active: active.size, chatId });
    for (const row of rows) {
      if (row.needsTopic) creatingTopics.add(row.threadId);
      startDrain(row, chatId, claimedAt);
    }
    return { claimed: rows.length, full };
  }

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
      signal.consume();
      // The threads' wakes older than every drain in flight are asked about no more.
      signal.forgetUpTo(Math.min(signal.count(), ...since.values()));
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
      if (claimed > 0 && lastFillFull && active.size < concurrency) continue;
      // Paced in every chat: until the first has room again; else the usual poll.
      const t = now();
      const wait = Math.min(...targets().map((d) => pacer.waitMs(d.chatId, t)));
      await signal.sleep(wait > 0 && wait !== Infinity ? Math.min(wait, 60_000) : deps.options.pollMs);
    }
  }

  return {
    wake,
    /**
     * The lease a new message's outbox row may be stored with (VisitorAppend.lease): while this worker runs, has a
     * place free and no staff chat is paced or under pressure (there rows wait to be merged); for a message that
     * opens its thread, only without a send limit (handOffNewThreads). Else null.
     */
    handOffLease(opensThread = false, visitorId?: number): HandOffLease | null {
      if (!running || (opensThread && !deps.options.handOffNewThreads)) return null;
      const t = now();
      // Every place taken (or promised): only a message of a visitor whose thread is in flight here, which may join its drain.
      const full = placesTaken(t) >= concurrency;
      if (full && (visitorId === undefined || ![...visitorOf.values()].includes(visitorId))) return null;
      if (targets().some((d) => pacer.waitMs(d.chatId, t) > 0 || pacer.underPressure(d.chatId, t))) return null;
      promised.push(t + LEASE_PLACE_MS);
      return { workerId: queue.workerId, until: t + queue.leaseMs };
    },
    handOff,
    /** A lease given out that no row took: the place it held is free again. */
    leaseUnused(): void {
      promised.shift();
    },
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
      stopHeartbeat = startLeaseHeartbeat({
        ...{ queue, now, inFlight: () => [...active.keys()] },
        onError: (error) => log.warn('renewing the outbox leases failed', { error: describe(error) }),
      });
      loop = run();
    },
    /** Lets the sends in flight finish, then stops. */
    async stop() {
      running = false;
      signal.interrupt();
      await loop;
      await Promise.all([...active.values()]);
      stopHeartbeat?.();
      stopHeartbeat = null;
      loop = null;
    },
  };
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;
