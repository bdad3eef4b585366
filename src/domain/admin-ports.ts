import type { Message, MessageId, ThreadId, ThreadStatus, VisitorId } from './types';
import type { SatisfactionReport } from './ratings';
import type { DepartmentFigures } from './ports';

/**
 * The departments a staff member may read (null: the default department): those whose staff chat
 * they are a member of (docs/departments.md). Every read of the staff page is narrowed to them.
 */
export type DepartmentScope = ReadonlyArray<number | null>;

/**
 * What the read-only staff page (docs/admin.md) needs from storage. Kept apart
 * from the chat's Store: nothing here writes conversation data; the only writes
 * are the staff page's own sessions and the use of a login token.
 */

export interface StaffSession {
  /** SHA-256 (hex) of the session id the cookie carries. */
  idHash: string;
  telegramUserId: number;
  createdAt: Date;
  lastSeenAt: Date;
  revokedAt: Date | null;
}

export interface StaffSessionRepository {
  /**
   * Uses a one-time login token: marks it used and returns its staff member's
   * Telegram id, or null when it is unknown, expired or already used. Atomic, so
   * two requests racing with one token cannot both win.
   */
  consumeLoginToken(tokenHash: string, now: Date): Promise<number | null>;
  /** Stores a new one-time login token (its hash) for a staff member. */
  createLoginToken(input: { tokenHash: string; telegramUserId: number; expiresAt: Date; now: Date }): Promise<void>;
  create(input: { idHash: string; telegramUserId: number; userAgent: string | null; now: Date }): Promise<StaffSession>;
  find(idHash: string): Promise<StaffSession | null>;
  touch(idHash: string, now: Date): Promise<void>;
  revoke(idHash: string, now: Date): Promise<void>;
  /** Revokes every live session of a staff member; returns how many. */
  revokeAllFor(telegramUserId: number, now: Date): Promise<number>;
  /** Deletes sessions and login tokens that can no longer be used. */
  prune(input: { sessionsIdleBefore: Date; sessionsCreatedBefore: Date; tokensExpiredBefore: Date }): Promise<void>;
}

/** Position in the newest-activity-first thread list: the last thread of the previous page. */
export interface ThreadCursor {
  lastActivity: number;
  id: ThreadId;
}

export interface ThreadListQuery {
  /** Only threads of these departments (empty: none). */
  departments: DepartmentScope;
  status?: ThreadStatus;
  verified?: boolean;
  /** Search words (see searchTerms); a thread matches when one of its messages has all of them. */
  terms?: string[];
  /** Only threads with a message (with `terms`: a matching message) in [from, to]. */
  from?: Date;
  to?: Date;
  cursor?: ThreadCursor;
  limit: number;
}

export interface ThreadSummary {
  id: ThreadId;
  ref: string;
  status: ThreadStatus;
  /** Its department (null: the default one). */
  departmentId: number | null;
  visitor: { id: VisitorId; name: string | null; verified: boolean };
  /** Staff chat and forum topic, once created. */
  topic: { chatId: number; topicId: number } | null;
  lastActivityAt: Date;
  createdAt: Date;
  messageCount: number;
  lastMessage: Message | null;
  /** With a search: the thread's newest matching message. */
  match: Message | null;
}

export interface ThreadDetail extends ThreadSummary {
  visitorDetail: {
    phone: string | null;
    username: string | null;
    blocked: boolean;
    createdAt: Date;
    lastSeenAt: Date;
    lastPage: string | null;
  };
}

export interface DayStats {
  /** Local calendar day, YYYY-MM-DD. */
  date: string;
  visitorMessages: number;
  staffMessages: number;
  /** Threads whose first visitor message fell on this day and that have a staff reply. */
  answeredThreads: number;
  /** Median time from those threads' first visitor message to their first staff reply. */
  medianFirstResponseMs: number | null;
}

export interface AdminStats {
  days: DayStats[];
  openThreads: number;
  closedThreads: number;
  /** Over the whole period. */
  medianFirstResponseMs: number | null;
  /** Visitors' ratings over the period, per day and per week (domain/ratings.ts). */
  satisfaction: SatisfactionReport;
  /** Each department of the scope that has threads, over the same period. */
  byDepartment: DepartmentFigures[];
}

export interface AdminReadRepository {
  listThreads(query: ThreadListQuery): Promise<{ threads: ThreadSummary[]; next: ThreadCursor | null }>;
  /** The thread, when it belongs to one of `departments`: otherwise null, as for an unknown id. */
  thread(id: ThreadId, departments: DepartmentScope): Promise<ThreadDetail | null>;
  /** Ascending by id: the newest `limit` (before `before`), or the oldest `limit` after `after`. */
  messages(
    threadId: ThreadId,
    page: { before?: MessageId; after?: MessageId; limit: number },
  ): Promise<{ messages: Message[]; hasMore: boolean }>;
  /** `days` local days ending today; the local day is UTC shifted by `utcOffsetMinutes`. Only threads of `departments`. */
  stats(input: { now: Date; days: number; utcOffsetMinutes: number; departments: DepartmentScope }): Promise<AdminStats>;
}
