import type { Message, Thread } from './types';

/** One row of the outbox as a worker holds it (docs/delivery.md). */
export interface OutboxRow {
  id: number;
  /** 'message' (a stored message to post), 'topic_rename', 'topic_reopen' or 'topic_close'. */
  kind: string;
  threadId: number;
  /** 0 for rows that carry no message. */
  messageId: number;
  attempts: number;
  createdAt: number;
  /**
   * When claimed, no Telegram message was recorded for the row's message (telegram_links): no part
   * of it reached Telegram in an earlier, interrupted attempt, so nothing need be looked up again.
   */
  fresh?: boolean;
  /** Claimed as a thread's head (claimHeads, claimThreadHead): how many of the thread's rows were pending behind it. */
  behind?: number;
  /** Claimed by claimHeads as the first message of a thread still without its topic: it will cost two sends. */
  needsTopic?: boolean;
  /** Claimed as a head: its thread, its message and the visitor's name as the claim read them (no look-ups afterwards). */
  thread?: Thread;
  message?: Message;
  visitorName?: string | null;
  /**
   * Handed over behind a row of its thread that this worker was delivering (the append found that row its thread's only
   * pending one, leased here): it may only follow that delivery (src/outbox/worker.ts), never start one of its own.
   */
  joins?: boolean;
}

/**
 * A message's outbox row as the hand-off gives it to the worker (stored leased to it, never leased before): what a
 * claim would have answered, with `behind` and whatever else the caller already holds (src/outbox/worker.ts handOff).
 */
export function handedOffRow(
  id: number,
  message: Message,
  known: Pick<OutboxRow, 'behind'> & Pick<Partial<OutboxRow>, 'needsTopic' | 'thread' | 'visitorName' | 'joins'>,
): OutboxRow {
  const { threadId, createdAt } = message;
  return {
    id,
    kind: 'message',
    threadId,
    messageId: message.id,
    attempts: 0,
    createdAt: createdAt.getTime(),
    fresh: true,
    message,
    ...known,
  };
}

export interface OutboxQueueOptions {
  /** Names this worker's leases (locked_by). */
  workerId: string;
  leaseMs: number;
  /** This process is the only one using the database (a SQLite file): leases found at start are a dead process's. */
  soleUser?: boolean;
}

/** The department a claim is for: its id (null: the default one) and the staff chat its threads go to. */
export interface OutboxDepartment {
  id: number | null;
  chatId: number;
}

/** Under Telegram's group limit, claimed heads wait to be merged: until the thread went quiet, or its oldest row waited long enough. */
export interface OutboxHold {
  maxMs: number;
  quietMs: number;
}

/**
 * One worker's hold on the outbox (src/db/outbox-claims.ts). A claim is a lease (locked_by +
 * locked_until) taken with a compare-and-set UPDATE, so any number of workers on one database
 * never hold the same row at once; a worker that dies loses its lease when it expires and the
 * row is claimed again. Only the oldest pending row of each thread (its head) is claimable,
 * which keeps every thread in order. Leases are short: the worker renews the ones it holds
 * (`renew`) while their sends are in flight. Times are epoch milliseconds.
 */
export interface OutboxQueue {
  readonly workerId: string;
  readonly leaseMs: number;

  // Claiming
  /**
   * Claims up to `limit` due thread heads, skipping threads already being worked on here; with
   * `hold`, only threads that went quiet or waited long enough. Within `sends` (default `limit`),
   * a head whose thread has no topic yet counts twice. Existing conversations and topic actions
   * come first; with `crowdedAbove`, new threads of an address that opened more than that many
   * this hour are not claimed at all. With `department`, only that department's threads (null id:
   * the default one), a thread whose topic is in another chat counting as one without a topic.
   */
  claimHeads(
    now: number,
    limit: number,
    excludeThreadIds: number[],
    hold?: OutboxHold,
    sends?: number,
    crowdedAbove?: number,
    department?: OutboxDepartment,
  ): Promise<OutboxRow[]>;
  /** Claims the head of one thread, if it is due. */
  claimThreadHead(threadId: number, now: number): Promise<OutboxRow | null>;
  /**
   * Claims the thread's next waiting rows of `contentType` (text, or image for an album) right after `afterId`, in order,
   * stopping at the first gap; none (nothing leased) when fewer than `atLeast` (default 1) are waiting.
   */
  claimFollowers(threadId: number, afterId: number, now: number, max: number, contentType?: string, atLeast?: number): Promise<OutboxRow[]>;

  // Leases
  /** Extends this worker's leases on the threads it is delivering now (the heartbeat). */
  renew(now: number, threadIds: number[]): Promise<number>;
  /** At start, for the sole user of the database: takes back every lease left in it. Returns how many rows were freed. */
  reclaimAbandoned(): Promise<number>;

  // Settling (a row sent is completed with OutboxRepository.complete, in the transaction that marks its message delivered)
  /** Gives a claimed row back untouched (e.g. it did not fit into a merged message). */
  release(id: number): Promise<void>;
  /** Gives the row back to be tried at `availableAt`; `countAttempt` false for throttling. */
  retryLater(id: number, availableAt: number, error: string | null, countAttempt: boolean): Promise<void>;
  /** Marks a claimed row failed for good (until /retry); false when the lease was lost meanwhile. */
  fail(id: number, error: string): Promise<boolean>;
  /** How many of the thread's message rows are failed (waiting for /retry). */
  failedInThread(threadId: number): Promise<number>;
  /** Soonest time any pending row becomes due, or null. */
  nextDueAt(): Promise<number | null>;
}
