/** Visitor protocol v1 as the page sees it (docs/protocol.md); the shapes come from the server's own types. */
import type { DeliveryStatus, MessageView, ThreadStatus, VisitorView } from '../../src/domain/types';

export type { DeliveryStatus, MessageView, ThreadStatus, VisitorView };

export interface SessionPayload {
  token: string;
  visitor: VisitorView;
  thread: ThreadView | null;
  /** The departments a visitor may pick (docs/departments.md); more than one: the page asks before the first message. */
  departments: Array<{ key: string; name: string }>;
}

/** `session.thread` and `thread:status`: `rateable` while the thread is closed and this closing not rated (thread:rate). */
export interface ThreadView {
  id: number;
  status: ThreadStatus;
  rateable: boolean;
}

/** `offline`: nobody can answer right now (no bot, no staff chat yet, or Telegram unreachable); messages are kept. */
export interface SupportStatus {
  status: 'online' | 'away' | 'offline';
  message: string | null;
}

/** The codes the server sends today; any other string may come from a newer server (`string & {}` keeps the known ones suggested). */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'not_found'
  | 'blocked'
  | 'rate_limited'
  | 'unavailable'
  | 'verification_required'
  | 'already_rated'
  | 'internal'
  | (string & {});

export type Ack<T> =
  ({ ok: true } & T) | { ok: false; error: { code: ErrorCode; message: string; retryAfterMs?: number; attemptsLeft?: number } };
