import type { OutboxQueue, OutboxQueueOptions, OutboxRow } from './outbox-ports';
import type { StatsRepository } from './stats-ports';
import type { Notice } from './notices';
import type { StaffAppend } from './staff-message-ports';
import type {
  AttachmentKind,
  Message,
  MessageId,
  Thread,
  ThreadId,
  ThreadStatus,
  Visitor,
  VisitorId,
  Sender,
  DeliveryStatus,
} from './types';
import type { OtpRepository, UserRepository } from './identity-ports';
import type { AdminReadRepository, StaffSessionRepository } from './admin-ports';
import type { SnippetRepository } from './snippets';
import type { DepartmentRepository } from './departments';
import type { RatingRepository } from './ratings';
import type { ErasureRepository } from './erasure-ports';

/** A stored file to attach to a new message (see src/media). `path` is where storage keeps it. */
export interface NewAttachment {
  kind: AttachmentKind;
  url: string;
  mime: string;
  size: number;
  path: string;
}

export interface NewMessage {
  threadId: ThreadId;
  sender: Sender;
  text: string | null;
  /** Staff messages only: the text's formatting as cleaned HTML (src/bot/formatting/clean-html.ts). */
  html?: string | null;
  /** System messages: the notice (its English rendering is `text`). */
  notice?: Notice | null;
  /** A stored file carried by the message (content_type becomes its kind). */
  attachment?: NewAttachment | null;
  clientId: string | null;
  /** The visitor who wrote it (visitor messages only); with clientId makes sends idempotent. */
  visitorId: VisitorId | null;
  status: DeliveryStatus;
  createdAt: Date;
}

export interface HistoryQuery {
  after?: MessageId;
  before?: MessageId;
  limit: number;
}

export interface VisitorRepository {
  /** Stores the visitor of a token; idempotent (the visitor already stored under the token is returned, `created` false). */
  create(input: { tokenHash: string; now: Date; page?: string | null }): Promise<{ visitor: Visitor; created: boolean }>;
  findByTokenHash(tokenHash: string): Promise<Visitor | null>;
  findById(id: VisitorId): Promise<Visitor | null>;
  updateName(id: VisitorId, name: string): Promise<Visitor>;
  /**
   * Blocks or unblocks the visitor and, once verified, every visitor (device) of its user.
   * A visitor reads as blocked while any visitor of its user is, so a device verified later is covered too.
   */
  setBlocked(id: VisitorId, blocked: boolean): Promise<void>;
  /** The page the visitor was last seen on (from the client), when known. */
  setLastPage(id: VisitorId, page: string): Promise<void>;
  lastPage(id: VisitorId): Promise<string | null>;
  touch(id: VisitorId, now: Date): Promise<void>;
  /**
   * Inside a transaction: holds the visitor's row and, once verified, its user's row until
   * commit (PostgreSQL `select … for update`). Whoever may create the visitor's thread or
   * merge it into a user takes this first, so concurrent first messages, uploads, OTP merges
   * and instances go one at a time and a visitor (or user) never gets two threads by a race.
   * SQLite serializes writers already.
   */
  lockIdentity(id: VisitorId): Promise<void>;
}

export interface ThreadRepository {
  /**
   * `openingRank`: how many threads the visitor's address had opened lately, this one included (outbox priority);
   * `departmentId`: its department (null or left out: the default one).
   */
  create(input: { visitorId: VisitorId; ref: string; now: Date; openingRank?: number; departmentId?: number | null }): Promise<Thread>;
  findById(id: ThreadId): Promise<Thread | null>;
  /**
   * A thread committed just now (a new one, as stored), kept in the cache: its next readers (the staff page's
   * feed, the outbox) find it, and its department, without a read.
   */
  remember(thread: Thread): void;
  /**
   * The visitor's most recent thread (open or closed), if any. A verified visitor's
   * threads are all its user's threads (every device), see docs/identity.md.
   */
  findLatestForVisitor(visitorId: VisitorId): Promise<Thread | null>;
  /** The visitor's threads (for a verified visitor: its user's), oldest first. */
  listForVisitor(visitorId: VisitorId): Promise<Thread[]>;
  /** The thread of a staff chat topic (or of a topic it left by /move), for commands in the topic. */
  findByTopic(chatId: number, topicId: number): Promise<Thread | null>;
  /**
   * Hot path on every staff message: the id of findByTopic's thread, from the cache without any
   * read while the topic keeps leading to it (setTopic and erasure drop the mapping; a topic left by /move keeps it).
   */
  threadIdOfTopic(chatId: number, topicId: number): Promise<ThreadId | null>;
  /** The thread's department (null: the default one; undefined: no such thread), cached apart from the thread. */
  departmentOf(id: ThreadId): Promise<number | null | undefined>;
  /** `before`: the thread's topic as the caller read it (else read first), whose topic → thread mapping is dropped. */
  setTopic(id: ThreadId, chatId: number | null, topicId: number | null, before?: Pick<Thread, 'topicChatId' | 'topicId'>): Promise<void>;
  /** `now` is when it happened (the closing time RETENTION_DAYS counts from); the system time when left out. */
  setStatus(id: ThreadId, status: ThreadStatus, now?: Date): Promise<void>;
  touch(id: ThreadId, now: Date): Promise<void>;
  /**
   * Hands the thread to a department (null: the default one) and its new topic there (null: the outbox
   * makes one with the next message). The topic it leaves keeps leading to it (findByTopic).
   */
  move(id: ThreadId, to: { departmentId: number | null; chatId: number | null; topicId: number | null }): Promise<void>;
  /** Open threads, most recent activity first; with `departmentId`, only that department's (null: the default one). */
  listOpen(page: { limit: number; offset: number; departmentId?: number | null }): Promise<{ threads: Thread[]; total: number }>;
}

export interface MessageRepository {
  insert(input: NewMessage): Promise<Message>;
  findById(id: MessageId): Promise<Message | null>;
  /** Several messages in one query, in the order of `ids` (missing ones left out). */
  findManyByIds(ids: MessageId[]): Promise<Message[]>;
  findByClientId(visitorId: VisitorId, clientId: string): Promise<Message | null>;
  /** Ascending by id. Served from the recent-messages cache when it can be. */
  history(threadIds: ThreadId[], query: HistoryQuery): Promise<Message[]>;
  /** Sets the delivery status of some of the thread's messages (failed, or stored again for /retry). */
  setDeliveryStatus(threadId: ThreadId, ids: MessageId[], status: DeliveryStatus): Promise<void>;
  /** A staff edit: the new text and its formatting (null: none). */
  updateText(id: MessageId, text: string, html: string | null): Promise<Message>;
  countsBySender(threadId: ThreadId): Promise<Record<Sender, number>>;
}

export interface TelegramLink {
  threadId: ThreadId;
  messageId: MessageId | null;
  chatId: number;
  topicId: number | null;
  telegramMessageId: number;
  direction: 'to_telegram' | 'from_telegram';
}

export interface TelegramLinkRepository {
  /** Returns false when this (chat, Telegram message, stored message) link is already recorded. */
  insert(link: TelegramLink, now: Date): Promise<boolean>;
  /** Records several links in one statement (those already recorded are skipped). */
  insertMany(links: TelegramLink[], now: Date): Promise<void>;
  findByTelegramMessage(chatId: number, telegramMessageId: number): Promise<TelegramLink | null>;
  /** Which of these messages already have a Telegram message posted for them. */
  sentMessageIds(messageIds: MessageId[]): Promise<Set<MessageId>>;
  listForMessage(messageId: MessageId): Promise<TelegramLink[]>;
}

export interface OutboxBacklog {
  pending: number;
  failed: number;
  /** When the oldest pending row was queued; null when none waits. */
  oldestPendingAt: Date | null;
}

export interface OutboxRepository {
  /** Queues a message for Telegram. Call inside the transaction that stored the message. */
  /** Queues a message; with `lease`, its row is stored leased to that worker (the hand-off). Returns the row's id. */
  enqueue(input: { threadId: ThreadId; messageId: MessageId; now: Date; lease?: HandOffLease | null }): Promise<number>;
  /** Queues a rename of the thread's topic to the visitor's current name. */
  enqueueTopicRename(input: { threadId: ThreadId; now: Date }): Promise<void>;
  /** Queues reopening the thread's (closed) topic, ahead of the message that reopened the thread. */
  enqueueTopicReopen(input: { threadId: ThreadId; now: Date }): Promise<void>;
  /** Queues closing the thread's topic again, after a note posted into the closed thread (a rating); skipped if the thread reopened meanwhile. */
  enqueueTopicClose(input: { threadId: ThreadId; now: Date }): Promise<void>;
  /** Marks a claimed row sent; false when the claim's lease was lost to another worker. */
  complete(rowId: number, workerId: string, now: Date): Promise<boolean>;
  /** complete for several rows in one statement; returns the ids of the rows this worker still held (now sent). */
  completeMany(rowIds: number[], workerId: string, now: Date): Promise<Set<number>>;
  /** What waits for Telegram and what failed for good: one query for /health, /metrics and /stats. */
  backlog(): Promise<OutboxBacklog>;
  /** Rows waiting for Telegram (backlog().pending). */
  pendingCount(): Promise<number>;
  /** Puts the thread's failed message rows back in the queue, attempts reset; returns their message ids, oldest first. */
  requeueFailed(threadId: ThreadId, now: Date): Promise<MessageId[]>;
  /** A worker's claims and leases on the queue (src/domain/outbox-ports.ts). */
  queue(options: OutboxQueueOptions): OutboxQueue;
}

export interface SettingsRepository {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /** Sets only when absent; returns the value that is stored afterwards. */
  setIfAbsent(key: string, value: string): Promise<string>;
}

export type { SupportStats, DepartmentFigures, StatsRepository } from './stats-ports';
export type { VisitorNotifier, SupportStatus } from './notifier-ports';

export interface Repositories {
  visitors: VisitorRepository;
  threads: ThreadRepository;
  messages: MessageRepository;
  telegramLinks: TelegramLinkRepository;
  outbox: OutboxRepository;
  settings: SettingsRepository;
  stats: StatsRepository;
  users: UserRepository;
  otp: OtpRepository;
  /** The staff page's sessions and one-time login tokens (docs/admin.md). */
  staffSessions: StaffSessionRepository;
  /** The staff page's reads: thread list, search, one thread, stats. */
  adminReads: AdminReadRepository;
  /** Staff's saved answers (domain/snippets.ts). */
  snippets: SnippetRepository;
  /** The departments beside the default one (domain/departments.ts). */
  departments: DepartmentRepository;
  /** Visitors' ratings of closed threads (domain/ratings.ts). */
  ratings: RatingRepository;
  /** Erased visitors: the erasure itself, its log, revoked tokens (domain/erasure-ports.ts). */
  erasures: ErasureRepository;
}

/** A stored visitor's text message for its open thread (Store.appendToOpenThread). */
export interface VisitorAppend {
  visitorId: VisitorId;
  text: string;
  /** Required here: it is how a repeated send is told apart (and answered by the full path). */
  clientId: string;
  now: Date;
  /**
   * The outbox worker of this process would start the message's delivery at once (DeliveryQueue.handOffLease):
   * its outbox row is stored leased to that worker when its thread already has a topic and nothing else of the
   * thread waits in the outbox, or when the thread's only waiting row is leased to that worker (it follows that
   * delivery), and handed to it without a claim (docs/delivery.md, "The hand-off").
   */
  lease?: HandOffLease | null;
}

/** The lease a hand-off row is stored with: the worker's name and until when (epoch milliseconds). */
export interface HandOffLease {
  workerId: string;
  until: number;
}

/** What Store.appendToOpenThread stored: the message, and its outbox row when it was stored leased to the asking worker. */
export interface Appended {
  message: Message;
  handedOff: OutboxRow | null;
}

/** A new visitor's first text message (Store.startConversation): it opens the visitor's first thread. */
export interface ConversationStart {
  tokenHash: string;
  /** The page the visitor wrote from, when known. */
  page: string | null;
  text: string;
  clientId: string;
  /** The new thread's ref, opening rank (Admission.newThread) and department (null: the default one). */
  ref: string;
  openingRank: number;
  departmentId: number | null;
  now: Date;
  /** As VisitorAppend.lease: the outbox row stored leased to this process's worker, which creates the topic. */
  lease?: HandOffLease | null;
}

/** What Store.startConversation stored, as stored. */
export interface StartedConversation {
  visitor: Visitor;
  thread: Thread;
  message: Message;
  outboxId: number;
}

/** A group the outbox delivered (Store.settleDelivered). `messageIds` are the rows' messages, in the rows' order. */
export interface DeliveredGroup {
  threadId: ThreadId;
  rowIds: number[];
  messageIds: Array<MessageId | null>;
  /** The Telegram messages of the group's last send (earlier chunks were recorded as they went). */
  links: TelegramLink[];
  /** Only rows this worker still holds are settled. */
  workerId: string;
  now: Date;
}

/** Repositories plus transactions: `transaction` gives repositories bound to one transaction. */
export interface Store extends Repositories {
  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
  /**
   * The acknowledge path's common case in a few statements, committed together with
   * concurrent ones (src/db/visitor-append.ts): the message stored in the visitor's
   * latest thread and queued for Telegram, that thread's last activity moved. Resolves
   * once committed; null when nothing was stored because the case is not the common one
   * (the thread is closed or missing, the visitor blocked or unknown, the clientId used).
   */
  appendToOpenThread(input: VisitorAppend): Promise<Appended | null>;
  /**
   * A new visitor's first text message stored with the visitor, its first thread and the outbox row,
   * without a read first (src/db/conversation-start.ts). Null when nothing was stored because the case
   * is not the common one (the token was revoked, /lockdown is on, the visitor was stored meanwhile).
   */
  startConversation(input: ConversationStart): Promise<StartedConversation | null>;
  /**
   * A staff message stored with its Telegram link and its thread's last activity, all or nothing and
   * without a read first (src/db/staff-append.ts). Null when nothing was stored: the thread is gone,
   * or this Telegram message was stored before.
   */
  appendStaffMessage(input: StaffAppend): Promise<Message | null>;
  /**
   * Settles a delivered group all or nothing (src/db/delivered-settle.ts): links recorded, the rows
   * this worker still holds marked sent, their messages delivered. Returns the delivered message ids.
   */
  settleDelivered(group: DeliveredGroup): Promise<MessageId[]>;
}

/** Wakes the outbox worker after something was queued. */
export interface DeliveryQueue {
  /** `threadId`: the thread whose rows were queued (else any may have been: src/outbox/wake-signal.ts). */
  wake(threadId?: ThreadId): void;
  /**
   * The lease a new message's outbox row may be stored with, when this process's worker would start it now (else
   * null); `opensThread`: the message opens its thread (it needs a topic first); `visitorId`: whose message it is (one
   * whose thread is in flight may join that delivery even when every place is taken).
   */
  handOffLease?(opensThread?: boolean, visitorId?: VisitorId): HandOffLease | null;
  /** A row stored with that lease (Appended.handedOff): the worker delivers it without claiming it. */
  handOff?(row: OutboxRow): void;
  /** A lease from handOffLease that no row took (nothing stored, or stored unleased): the place it held is free again. */
  leaseUnused?(): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
