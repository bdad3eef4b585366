import { notice, noticeText, type Notice } from './notices';
import { DomainError } from './errors';
import type { Clock, DeliveryQueue, NewAttachment, Store, VisitorNotifier } from './ports';
import type { Message, MessageId, Thread, ThreadId, Visitor, VisitorId } from './types';
import { hashToken, newThreadRef, publicVisitorId, type VisitorTokens } from './tokens';
import type { StaffChoice } from './support-status';
import { isLockdownOn } from './lockdown';

export interface ChatServiceDeps {
  store: Store;
  notifier: VisitorNotifier;
  delivery: DeliveryQueue;
  clock: Clock;
  /** Issues and recognises visitor tokens (domain/tokens.ts). */
  tokens: VisitorTokens;
  /** Staff's /away and /back; while away, a visitor writing after a silence gets the away message. */
  support?: { staffChoice(): StaffChoice };
}

/** While support is away, a visitor's first message after this much silence gets the away message. */
export const AWAY_REPLY_AFTER_MS = 30 * 60 * 1000;

/**
 * Who writes: a stored visitor, or the token of one that is not stored yet (a
 * connection stores nothing until its first write: docs/protocol.md). `page` is
 * remembered when the visitor is stored (staff's /info).
 */
export type Writer = { visitorId: VisitorId } | { tokenHash: string; page?: string | null };

/**
 * The limits a write meets on its way (src/web/address-budgets.ts): each is asked
 * before what it limits is stored, and refuses by throwing. A write that fails
 * after asking stores nothing; the caller gives back what was spent.
 */
export interface Admission {
  /** A new visitor is about to be stored. */
  newVisitor(): Promise<void>;
  /** A new thread is about to be opened; `rank`: how many threads the writer's address opened lately, this one included. */
  newThread(): Promise<{ rank: number }>;
}

export interface VisitorSession {
  token: string;
  /** The stored visitor; null until its first write. */
  visitor: Visitor | null;
  /** What the protocol shows (`session.visitor`): the stored visitor, or a fresh one. */
  shown: Pick<Visitor, 'publicId' | 'name' | 'verified' | 'phone'>;
  /** How this session writes (postVisitorMessage, updateProfile, ensureVisitor). */
  writer: Writer;
  thread: Thread | null;
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
export function createChatService({ store, notifier, delivery, clock, tokens, support }: ChatServiceDeps) {
  const blocked = () => new DomainError('blocked', 'Support is not accepting messages from you.');

  /**
   * The visitor of a token. Nothing is stored here: a token this installation issued
   * but whose visitor has not written yet stays valid without a row, and no token (or
   * one that is not ours) gets a fresh one. The visitor is stored on its first write.
   */
  async function openSession(token: string | undefined): Promise<VisitorSession> {
    if (token) {
      const tokenHash = hashToken(token);
      const visitor = await store.visitors.findByTokenHash(tokenHash);
      if (visitor) {
        await store.visitors.touch(visitor.id, clock.now());
        const thread = await store.threads.findLatestForVisitor(visitor.id);
        return { token, visitor, shown: visitor, writer: { visitorId: visitor.id }, thread };
      }
      if (tokens.isIssued(token)) return unstored(token);
    }
    return unstored(tokens.issue());
  }

  function unstored(token: string): VisitorSession {
    const tokenHash = hashToken(token);
    const shown = { publicId: publicVisitorId(tokenHash), name: null, verified: false, phone: null };
    return { token, visitor: null, shown, writer: { tokenHash }, thread: null };
  }

  /**
   * A token's writer for HTTP uploads: a stored visitor, a token issued here whose
   * visitor is not stored yet, or null (unknown: refused).
   */
  async function authenticate(token: string): Promise<{ visitor: Visitor | null; writer: Writer; publicId: number } | null> {
    const tokenHash = hashToken(token);
    const visitor = await store.visitors.findByTokenHash(tokenHash);
    if (visitor) return { visitor, writer: { visitorId: visitor.id }, publicId: visitor.publicId };
    if (!tokens.isIssued(token)) return null;
    return { visitor: null, writer: { tokenHash }, publicId: publicVisitorId(tokenHash) };
  }

  async function requireVisitor(visitorId: number, repos: Pick<Store, 'visitors'> = store): Promise<Visitor> {
    const visitor = await repos.visitors.findById(visitorId);
    if (!visitor) throw new DomainError('unauthorized', 'Unknown visitor.');
    return visitor;
  }

  /** The writer's stored visitor, or null when it has not written yet. */
  async function storedVisitor(writer: Writer, repos: Pick<Store, 'visitors'> = store): Promise<Visitor | null> {
    // Inside a transaction, through its repositories: SQLite has one connection, held by the transaction.
    return 'visitorId' in writer ? requireVisitor(writer.visitorId, repos) : repos.visitors.findByTokenHash(writer.tokenHash);
  }

  /** The writer's visitor, stored now if it was not yet (asking `admission` first). */
  async function storeVisitor(
    writer: Writer,
    admission: Admission | undefined,
    repos: Pick<Store, 'visitors'>,
  ): Promise<{ visitor: Visitor; stored: boolean }> {
    const known = await storedVisitor(writer, repos);
    if (known) return { visitor: known, stored: false };
    if ('visitorId' in writer) throw new DomainError('unauthorized', 'Unknown visitor.');
    const { visitor, created } = await repos.visitors.create({ tokenHash: writer.tokenHash, now: clock.now(), page: writer.page });
    // Asked only once the row is really new (another tab may have stored it meanwhile); a refusal rolls the row back.
    if (created) await admission?.newVisitor();
    return { visitor, stored: created };
  }

  /** Makes sure the writer's visitor is stored (a write other than a message: otp:start). */
  async function ensureVisitor(writer: Writer, admission?: Admission): Promise<Visitor> {
    const { visitor, stored } = await store.transaction((repos) => storeVisitor(writer, admission, repos));
    if (stored) notifier.visitorStored(visitor);
    return visitor;
  }

  /**
   * Stores a visitor's message and queues it for Telegram in one transaction —
   * with the visitor itself and its thread when this is its first message. While
   * staff's /lockdown is on, only a verified visitor may open a new thread.
   * Idempotent on (visitor, clientId): a repeated clientId returns the stored message.
   */
  async function postVisitorMessage(
    writer: Writer,
    input: PostVisitorMessageInput,
    admission?: Admission,
  ): Promise<{ message: Message; created: boolean; visitorId: VisitorId }> {
    const known = 'visitorId' in writer ? await requireVisitor(writer.visitorId) : null;
    if (known?.blocked) throw blocked();

    const result = await store
      .transaction(async (repos) => {
        const { visitor, stored } = known ? { visitor: known, stored: false } : await storeVisitor(writer, admission, repos);
        const visitorId = visitor.id;
        if (visitor.blocked) throw blocked();
        const existing = input.clientId === null || stored ? null : await repos.messages.findByClientId(visitorId, input.clientId);
        if (existing)
          return {
            message: existing,
            created: false,
            visitor,
            storedVisitor: null as Visitor | null,
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
          if (!visitor.verified && (await isLockdownOn(repos.settings))) {
            throw new DomainError(
              'verification_required',
              'Support takes new conversations only from visitors verified with Telegram right now. Verify, then write again.',
            );
          }
          const { rank } = (await admission?.newThread()) ?? { rank: 1 };
          thread = await repos.threads.create({ visitorId, ref: newThreadRef(), now, openingRank: rank });
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
        return { message, created: true, visitor, storedVisitor: stored ? visitor : null, newThread, reopened, awayReply };
      })
      .catch(async (error: unknown) => {
        // Two sends with one clientId raced: the unique index let one through; answer with it.
        const visitor = input.clientId === null ? null : (known ?? (await storedVisitor(writer).catch(() => null)));
        const winner =
          visitor && input.clientId !== null ? await store.messages.findByClientId(visitor.id, input.clientId).catch(() => null) : null;
        if (visitor && winner)
          return { message: winner, created: false, visitor, storedVisitor: null, newThread: null, reopened: null, awayReply: null };
        throw error;
      });

    if (result.storedVisitor) notifier.visitorStored(result.storedVisitor);
    if (result.created) {
      if (result.newThread) notifier.threadCreated(result.newThread);
      if (result.reopened) notifier.threadStatus(result.reopened);
      notifier.messageCreated(result.message, { exceptSocketId: input.originSocketId });
      if (result.awayReply) notifier.messageCreated(result.awayReply);
      delivery.wake();
    }
    return { message: result.message, created: result.created, visitorId: result.visitor.id };
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

  /** Messages of the visitor's threads, ascending by id (none before its first write). */
  async function history(writer: Writer, query: { after?: MessageId; before?: MessageId; limit?: number }): Promise<Message[]> {
    const visitor = await storedVisitor(writer);
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
    const before = await ensureVisitor(writer, admission);
    const visitorId = before.id;
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

  return {
    openSession,
    authenticate,
    ensureVisitor,
    storedVisitor,
    postVisitorMessage,
    postStaffMessage,
    history,
    updateProfile,
    notePage,
    threadsOf,
  };
}
