/**
 * JSON shapes of the staff API and the `/admin` socket namespace (docs/admin.md),
 * shared by the server and the staff page (client/admin.ts). Types only. Times are ISO-8601.
 */
import type { DeliveryStatus, MessageView, ThreadStatus } from '../../domain/types';
import type { SatisfactionReport } from '../../domain/ratings';

export type { DeliveryStatus, MessageView, ThreadStatus };

/** A department as the page names it (docs/departments.md): `key` as in `?department=`. */
export interface DepartmentView {
  key: string;
  name: string;
}

export interface ThreadSummaryView {
  id: number;
  ref: string;
  status: ThreadStatus;
  /** Its department (null only for one added on another instance a moment ago). */
  department: DepartmentView | null;
  visitor: { id: number; name: string | null; verified: boolean };
  /** The thread's forum topic in the staff chat (https://t.me/c/…), when it has one. */
  telegramUrl: string | null;
  lastActivityAt: string;
  createdAt: string;
  messageCount: number;
  lastMessage: MessageView | null;
  /** With a search: the thread's newest matching message. */
  match: MessageView | null;
}

export interface ThreadDetailView extends Omit<ThreadSummaryView, 'visitor'> {
  visitor: ThreadSummaryView['visitor'] & {
    phone: string | null;
    username: string | null;
    blocked: boolean;
    createdAt: string;
    lastSeenAt: string;
    lastPage: string | null;
  };
}

/** GET /api/admin/threads */
export interface ThreadListResponse {
  threads: ThreadSummaryView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** GET /api/admin/threads/:id/messages */
export interface ThreadMessagesResponse {
  thread: ThreadDetailView;
  messages: MessageView[];
  /** More messages exist before the first one (or, with `after`, after the last one). */
  hasMore: boolean;
}

export interface DayStatsView {
  /** The viewer's local day, YYYY-MM-DD. */
  date: string;
  visitorMessages: number;
  staffMessages: number;
  answeredThreads: number;
  medianFirstResponseMs: number | null;
}

/** One department's line in the stats: its threads now, and its median first response over the period. */
export interface DepartmentStatsView extends DepartmentView {
  openThreads: number;
  closedThreads: number;
  medianFirstResponseMs: number | null;
}

/** GET /api/admin/stats */
export interface StatsView {
  days: DayStatsView[];
  openThreads: number;
  closedThreads: number;
  medianFirstResponseMs: number | null;
  /** Visitors' ratings over the 30 days: overall, per day, per week (weeks from Monday; the first and last may be partial). */
  satisfaction: SatisfactionReport;
  /** Each department shown (every one the viewer may read, or the one asked for), the default first. */
  departments: DepartmentStatsView[];
  utcOffsetMinutes: number;
  generatedAt: string;
}

/** GET /api/admin/session */
export interface SessionView {
  staff: { telegramUserId: number; name: string | null; username: string | null };
  /** The departments this person may read (those whose staff chat they are in), the default first. */
  departments: DepartmentView[];
  csrfToken: string;
  idleTimeoutMinutes: number;
}

/** Server → staff page events on the `/admin` namespace. The page only listens. */
export interface AdminServerEvents {
  message: (message: MessageView) => void;
  'message:update': (message: MessageView) => void;
  'message:status': (payload: { threadId: number; id: number; status: DeliveryStatus }) => void;
  'thread:status': (payload: { id: number; status: ThreadStatus }) => void;
  /** The thread was erased (/forget): it is gone from the list and can no longer be read. */
  'thread:erased': (payload: { id: number }) => void;
  /** Messages of an erased visitor (/forget) left a thread that stays (another device's of its verified user). */
  'messages:erased': (payload: { threadId: number; ids: number[] }) => void;
  /** The session ended (logout, expiry, removal from the staff chat); the socket is closed next. */
  'session:ended': (payload: { reason: string }) => void;
}
