import { notice, noticeText, type Notice } from './notices';
import { DomainError } from './errors';
import type { Clock, DeliveryQueue, NewAttachment, Store, VisitorNotifier } from './ports';
import type { Message, MessageId, Thread, ThreadId, Visitor } from './types';
import { hashToken, newThreadRef, newVisitorToken } from './tokens';
import type { StaffChoice } from './support-status';

export interface ChatServiceDeps {
  store: Store;
  notifier: VisitorNotifier;
  delivery: DeliveryQueue;
  clock: Clock;
  /** Staff's /away and /back; while away, a visitor writing after a silence gets the away message. */
  support?: { staffChoice(): StaffChoice };
}

/** While support is away, a visitor's first message after this much silence gets the away message. */
export const AWAY_REPLY_AFTER_MS = 30 * 60 * 1000;

export interface VisitorSession {
  token: string;
  visitor: Visitor;
  thread: Thread | null;
  isNew: boolean;
}

export interface PostVisitorMessageInput {
  /** The text, or a file's caption (null: a file without one). */
  text: string | null;
  /** Makes the send idempotent; uploads may leave it out. */
  clientId: string | null;
  /** A stored file (POST /api/uploads), queued for Telegram like text. */
  attachment?: NewAttachment;
  /** The socket that sent it: it gets an ack, not a broadcast copy. */
  originSocketId?: string;
}

export interface StaffMessageInput {
  threadId: ThreadId;
  text: string | null;
  /** A staff file, downloaded from Telegram and stored (src/bot/features/staff-media.ts). */
  attachment?: NewAttachment;
  /** A note about the staff message instead of it (e.g. a file too large to forward): stored as a system message. */
  notice?: Notice;
  telegram: { chatId: number; topicId: number | null; messageId: number };
}

export type ChatService = ReturnType<typeof createChatService>;

/**
 * The conversation rules of topicdesk, free of any framework: visitors write into
 * their thread, staff answer, and everything is persisted before anyone is told.
 */
export function createChatService({ store, notifier, delivery, clock, support }: ChatServiceDeps) {
  /** Resolves a visitor from its token, or creates a new visitor (no or unknown token). */
  async function openSession(token: string | undefined): Promise<VisitorSession> {
    const now = clock.now();
    if (token) {
      const visitor = await store.visitors.findByTokenHash(hashToken(token));
      if (visitor) {
        await store.visitors.touch(visitor.id, now);
        const thread = await store.threads.findLatestForVisitor(visitor.id);
        return { token, visitor, thread, isNew: false };
      }
    }
    const fresh = newVisitorToken();
    const visitor = await store.visitors.create({ tokenHash: hashToken(fresh), now });
    return { token: fresh, visitor, thread: null, isNew: true };
  }

  /** The visitor a token belongs to, without creating one (HTTP uploads: an unknown token is refused). */
  async function authenticate(token: string): Promise<Visitor | null> {
    return store.visitors.findByTokenHash(hashToken(token));
  }

  async function requireVisitor(visitorId: number): Promise<Visitor> {
    const visitor = await store.visitors.findById(visitorId);
    if (!visitor) throw new DomainError('unauthorized', 'Unknown visitor.');
    return visitor;
  }

  /**
   * Stores a visitor's message and queues it for Telegram in one transaction.
   * Idempotent on (visitor, clientId): a repeated clientId returns the stored message.
   */
  async function postVisitorMessage(visitorId: number, input: PostVisitorMessageInput): Promise<{ message: Message; created: boolean }> {
    const visitor = await requireVisitor(visitorId);
    if (visitor.blocked) throw new DomainError('blocked', 'Support is not accepting messages from you.');

    const result = await store
      .transaction(async (repos) => {
        const existing = input.clientId === null ? null : await repos.messages.findByClientId(visitorId, input.clientId);
        if (existing)
          return {
            message: existing,
            created: false,
            newThread: null as Thread | null,
            reopened: null as Thread | null,
            awayReply: null as Message | null,
          };

        // One at a time per visitor (and user), across connections and instances: see lockIdentity.
        await repos.visitors.lockIdentity(visitorId);
        const now = clock.now();
        let thread = await repos.threads.findLatestForVisitor(visitorId);
        let newThread: Thread | null = null;
        let reopened: Thread | null = null;
        if (!thread) {
          thread = await repos.threads.create({ visitorId, ref: newThreadRef(), now });
          newThread = thread;
        } else if (thread.status === 'closed') {
          await repos.threads.setStatus(thread.id, 'open', now);
          reopened = { ...thread, status: 'open' };
          // Staff closed the topic with the thread: the outbox reopens it (if it has one) before posting this message.
          await repos.outbox.enqueueTopicReopen({ threadId: thread.id, now });
        }
        const message = await repos.messages.insert({
          threadId: thread.id,
          sender: 'visitor',
          text: input.text,
          attachment: input.attachment ?? null,
          clientId: input.clientId,
          visitorId,
          status: 'stored',
          createdAt: now,
        });
        await repos.outbox.enqueue({ threadId: thread.id, messageId: message.id, now });
        let awayReply: Message | null = null;
        const status = support?.staffChoice();
        if (status?.status === 'away' && (newThread || now.getTime() - thread.lastActivityAt.getTime() >= AWAY_REPLY_AFTER_MS)) {
          awayReply = await repos.messages.insert({
            threadId: thread.id,
            sender: 'system',
            ...notice('away', status.message ? { message: status.message } : {}),
            clientId: null,
            visitorId: null,
            status: 'delivered',
            createdAt: now,
          });
        }
        await repos.threads.touch(thread.id, now);
        return { message, created: true, newThread, reopened, awayReply };
      })
      .catch(async (error: unknown) => {
        // Two sends with one clientId raced: the unique index let one through; answer with it.
        const winner = input.clientId === null ? null : await store.messages.findByClientId(visitorId, input.clientId).catch(() => null);
        if (winner) return { message: winner, created: false, newThread: null, reopened: null, awayReply: null };
        throw error;
      });

    if (result.created) {
      if (result.newThread) notifier.threadCreated(result.newThread);
      if (result.reopened) notifier.threadStatus(result.reopened);
      notifier.messageCreated(result.message, { exceptSocketId: input.originSocketId });
      if (result.awayReply) notifier.messageCreated(result.awayReply);
      delivery.wake();
    }
    return { message: result.message, created: result.created };
  }

  /** Stores a staff member's message from Telegram and pushes it to the visitor. Idempotent per Telegram message. */
  async function postStaffMessage(input: StaffMessageInput): Promise<Message | null> {
    const message = await store.transaction(async (repos) => {
      const thread = await repos.threads.findById(input.threadId);
      if (!thread) throw new DomainError('not_found', 'Thread not found.');
      const now = clock.now();
      const already = await repos.telegramLinks.findByTelegramMessage(input.telegram.chatId, input.telegram.messageId);
      if (already) return null;
      const stored = await repos.messages.insert({
        threadId: thread.id,
        sender: input.notice ? 'system' : 'staff',
        text: input.notice ? noticeText(input.notice, 'en') : input.text,
        notice: input.notice ?? null,
        attachment: input.attachment ?? null,
        clientId: null,
        visitorId: null,
        status: 'delivered',
        createdAt: now,
      });
      await repos.telegramLinks.insert(
        {
          threadId: thread.id,
          messageId: stored.id,
          chatId: input.telegram.chatId,
          topicId: input.telegram.topicId,
          telegramMessageId: input.telegram.messageId,
          direction: 'from_telegram',
        },
        now,
      );
      await repos.threads.touch(thread.id, now);
      return stored;
    });
    if (message) notifier.messageCreated(message);
    return message;
  }

  /** Messages of the visitor's threads, ascending by id. */
  async function history(visitorId: number, query: { after?: MessageId; before?: MessageId; limit?: number }): Promise<Message[]> {
    await requireVisitor(visitorId);
    const threads = await store.threads.listForVisitor(visitorId);
    if (threads.length === 0) return [];
    return store.messages.history(
      threads.map((t) => t.id),
      { after: query.after, before: query.before, limit: query.limit ?? 50 },
    );
  }

  /** Renames the visitor; the thread's topic follows (through the outbox, like every visitor-caused send). */
  async function updateProfile(visitorId: number, name: string): Promise<Visitor> {
    const before = await requireVisitor(visitorId);
    const visitor = await store.visitors.updateName(visitorId, name);
    if (before.name !== visitor.name) {
      const thread = await store.threads.findLatestForVisitor(visitorId);
      if (thread) {
        await store.outbox.enqueueTopicRename({ threadId: thread.id, now: clock.now() });
        delivery.wake();
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

  return { openSession, authenticate, postVisitorMessage, postStaffMessage, history, updateProfile, notePage, threadsOf };
}
