import type { DeliveryStatus, Message, MessageId, Thread, ThreadId, Visitor, VisitorId } from './types';

/** Pushes events to connected visitors (Socket.IO rooms at the edge). */
export interface VisitorNotifier {
  messageCreated(message: Message, options?: { exceptSocketId?: string }): void;
  messageStatus(threadId: ThreadId, messageId: MessageId, status: DeliveryStatus): void;
  messageUpdated(message: Message): void;
  /**
   * The thread was closed or reopened, or (`rateable: false`) its closing was rated. `rateable`
   * defaults to whether it is closed: a thread closed just now has no rating for that closing yet.
   */
  threadStatus(thread: Thread, options?: { rateable?: boolean }): void;
  /** A new thread exists: the visitor's connected sockets must receive its events. */
  threadCreated(thread: Thread): void;
  /** A visitor was stored on its first write: the sockets of its token (every tab) now follow its rooms. */
  visitorStored(visitor: Visitor): void;
  /**
   * Staff erased the visitor (/forget): its sockets, on every instance, are told to start
   * afresh (`session:reset`) and are disconnected; they leave the erased threads' rooms. The
   * staff pages watching each thread's department (`departmentIds`, in the order of threadIds) drop it.
   * Its messages in threads that stay (`elsewhere`: another device's thread) leave every page showing them,
   * visitors' and staff's (`messages:erased`).
   */
  visitorErased(erased: {
    visitorId: VisitorId;
    publicId: number;
    threadIds: ThreadId[];
    departmentIds: Array<number | null>;
    elsewhere: Array<{ threadId: ThreadId; departmentId: number | null; messageIds: MessageId[] }>;
  }): void;
  /**
   * Closed threads past RETENTION_DAYS were erased (src/maintenance/pruner.ts): the staff pages watching each thread's
   * department (`departmentIds`, in the order of threadIds) drop it, and visitors' sockets stop following it. Visitors
   * are not told: the visitor protocol has no event for it, and a page shows what it has until it loads again.
   */
  threadsPruned(pruned: { threadIds: ThreadId[]; departmentIds: Array<number | null> }): void;
  /**
   * What visitors see of support changed (online, away, offline: domain/support-status.ts).
   * Every visitor connected to this instance hears it; other instances learn the change
   * through SupportPeers and tell theirs.
   */
  supportStatus(status: SupportStatus): void;
}

/** `support:status` of visitor protocol v1 (docs/protocol.md). */
export interface SupportStatus {
  status: 'online' | 'away' | 'offline';
  message: string | null;
}
