import { noticeText, type Notice } from './notices';
import { DomainError } from './errors';
import type { Clock, DeliveryQueue, NewAttachment, Store, VisitorNotifier } from './ports';
import type { Message, MessageId, Thread, ThreadId, Visitor } from './types';
import type { VisitorTokens } from './tokens';
import { createVisitorIdentity, type Admission, type Writer } from './visitor-identity';
import { createVisitorMessages, type VisitorMessagesDeps } from './visitor-messages';
import { createThreadRatings } from './ratings';

export interface ChatServiceDeps {
  store: Store;
  notifier: VisitorNotifier;
  delivery: DeliveryQueue;
  clock: Clock;
  /** Issues and recognises visitor tokens (domain/tokens.ts). */
  tokens: VisitorTokens;
  /** Staff's /away and /back (src/domain/visitor-messages.ts). */
  support?: VisitorMessagesDeps['support'];
  /** The departments a visitor's new thread may be routed to (`message:send`'s `department`). */
  departments?: VisitorMessagesDeps['departments'];
}

export interface StaffMessageInput {
  threadId: ThreadId;
  text: string | null;
  /** The text's Telegram formatting as cleaned HTML (src/bot/formatting); null or absent: none. */
  html?: string | null;
  /** A staff file, downloaded from Telegram and stored (src/bot/features/staff-media.ts). */
  attachment?: NewAttachment;
  /** A note about the staff message instead of it (e.g. a file too large to forward): stored as a system message. */
  notice?: Notice;
  /** `updateId`: the update it came in, recorded as handled with the message (only when storing it is all the update does). */
  telegram: { chatId: number; topicId: number | null; messageId: number; updateId?: number };
}

export type ChatService = ReturnType<typeof createChatService>;

/**
 * The conversation rules of topicdesk, free of any framework: visitors write into
 * their thread, staff answer, and everything is persisted before anyone is told.
 */
export function createChatService({ store, notifier, delivery, clock, tokens, support, departments }: ChatServiceDeps) {
  const visitors = createVisitorIdentity({ store, notifier, clock, tokens });
  const { postVisitorMessage } = createVisitorMessages({ store, notifier, delivery, clock, visitors, support, departments });
  const ratings = createThreadRatings({ store, notifier, delivery, clock });

  /**
   * Stores a staff member's message from Telegram and pushes it to the visitor: stored first (one
   * write, no read before it), then emitted. Idempotent per Telegram message: null when it was stored before.
   */
  async function postStaffMessage(input: StaffMessageInput): Promise<Message | null> {
    const message = await store.appendStaffMessage({
      threadId: input.threadId,
      sender: input.notice ? 'system' : 'staff',
      text: input.notice ? noticeText(input.notice, 'en') : input.text,
      html: input.notice ? null : (input.html ?? null),
      notice: input.notice ?? null,
      attachment: input.attachment ?? null,
      telegram: { chatId: input.telegram.chatId, topicId: input.telegram.topicId, messageId: input.telegram.messageId },
      updateId: input.telegram.updateId,
      now: clock.now(),
    });
    if (message) notifier.messageCreated(message);
    // Nothing stored: a repeat, or a thread that is gone (erased meanwhile), which the staff member is told about.
    else if (!(await store.threads.findById(input.threadId))) throw new DomainError('not_found', 'Thread not found.');
    return message;
  }

  /** Messages of the visitor's threads, ascending by id (none before its first write). */
  async function history(writer: Writer, query: { after?: MessageId; before?: MessageId; limit?: number }): Promise<Message[]> {
    const visitor = await visitors.storedVisitor(writer);
    if (!visitor) return [];
    const threads = await store.threads.listForVisitor(visitor.id);
    if (threads.length === 0) return [];
    return store.messages.history(
      threads.map((t) => t.id),
      { after: query.after, before: query.before, limit: query.limit ?? 50 },
    );
  }

  /** Renames the visitor (storing it, if this is its first write); the thread's topic follows (through the outbox, like every visitor-caused send). */
  async function updateProfile(writer: Writer, name: string, admission?: Admission): Promise<Visitor> {
    const before = await visitors.ensureVisitor(writer, admission);
    const visitorId = before.id;
    const visitor = await store.visitors.updateName(visitorId, name);
    if (before.name !== visitor.name) {
      const thread = await store.threads.findLatestForVisitor(visitorId);
      if (thread) {
        await store.outbox.enqueueTopicRename({ threadId: thread.id, now: clock.now() });
        delivery.wake(thread.id);
      }
    }
    return visitor;
  }

  /** Remembers the page the visitor is chatting from (shown to staff in /info). */
  async function notePage(visitorId: number, page: string): Promise<void> {
    await store.visitors.setLastPage(visitorId, page);
  }

  async function threadsOf(visitorId: number): Promise<Thread[]> {
    return store.threads.listForVisitor(visitorId);
  }

  return {
    openSession: visitors.openSession,
    authenticate: visitors.authenticate,
    ensureVisitor: visitors.ensureVisitor,
    storedVisitor: visitors.storedVisitor,
    postVisitorMessage,
    postStaffMessage,
    history,
    updateProfile,
    notePage,
    threadsOf,
    /** thread:rate and whether a thread's closing can still be rated (domain/ratings.ts). */
    rateThread: ratings.rate.bind(ratings),
    rateable: ratings.rateable.bind(ratings),
  };
}
