import { DomainError } from './errors';
import { isLockdownOn } from './lockdown';
import { notice } from './notices';
import type { Clock, DeliveryQueue, NewAttachment, Store, VisitorNotifier } from './ports';
import { handedOffRow, type OutboxRow } from './outbox-ports';
import type { StaffChoice } from './support-status';
import type { Department } from './departments';
import { newThreadRef } from './tokens';
import type { Message, Thread, Visitor, VisitorId } from './types';
import type { Admission, VisitorIdentity, Writer } from './visitor-identity';

/** While support is away, a visitor's first message after this much silence gets the away message. */
export const AWAY_REPLY_AFTER_MS = 30 * 60 * 1000;

export interface PostVisitorMessageInput {
  /** The text, or a file's caption (null: a file without one). */
  text: string | null;
  /** Makes the send idempotent; uploads may leave it out. */
  clientId: string | null;
  /** A stored file (POST /api/uploads), queued for Telegram like text. */
  attachment?: NewAttachment;
  /** The socket that sent it: it gets an ack, not a broadcast copy. */
  originSocketId?: string;
  /** The department's key (SPEC §8): where a thread this message opens goes. Unknown: bad_request. */
  department?: string;
}

export interface VisitorMessagesDeps {
  store: Store;
  notifier: VisitorNotifier;
  delivery: DeliveryQueue;
  clock: Clock;
  visitors: VisitorIdentity;
  /** Staff's /away and /back; while away, a visitor writing after a silence gets the away message. */
  support?: { staffChoice(): StaffChoice };
  /** The claimed departments by key (src/domain/department-directory.ts); without it every thread is the default's. */
  departments?: { byKey(key: string): Promise<Department | null> };
}

const blocked = () => new DomainError('blocked', 'Support is not accepting messages from you.');

/** What a visitor writes: stored with its thread (opened or reopened as needed), queued for Telegram, then told. */
export function createVisitorMessages({ store, notifier, delivery, clock, visitors, support, departments }: VisitorMessagesDeps) {
  /** A message was queued for Telegram: its row goes to the worker when it was stored leased to it, else the worker is woken. */
  const queued = (threadId: number, handedOff: OutboxRow | null) =>
    handedOff && delivery.handOff ? delivery.handOff(handedOff) : delivery.wake(threadId);

  /**
   * The hand-off leases one write asks for (DeliveryQueue.handOffLease). Each holds a place of the worker's until its
   * row is handed over; `settled` gives back, once the write is over, every lease its row did not take (the write
   * stored nothing, stored the row unleased, or failed), so that no place stays held for nothing.
   */
  function handOffLeases() {
    let asked = 0;
    const settle = (handed: boolean) => {
      for (let i = handed ? 1 : 0; i < asked; i++) delivery.leaseUnused?.();
      asked = 0;
    };
    return {
      ask(opensThread: boolean, visitorId?: VisitorId) {
        const lease = delivery.handOffLease?.(opensThread, visitorId) ?? null;
        if (lease) asked++;
        return lease;
      },
      settled<T>(write: Promise<T>, handed: (result: T) => boolean): Promise<T> {
        return write.then(
          (result) => {
            settle(handed(result));
            return result;
          },
          (error: unknown) => {
            settle(false);
            throw error;
          },
        );
      },
    };
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
    // The common case first: a stored visitor writing text into its open thread while support is not away
    // (no away reply due). The store answers null for anything else (blocked, closed, repeated clientId…).
    const { text, clientId } = input;
    // Checked on every message (from memory), so that a wrong key is told at once, not only on a thread's first.
    const department = input.department === undefined ? null : await departments?.byKey(input.department);
    if (input.department !== undefined && !department)
      throw new DomainError('bad_request', `There is no department "${input.department}".`);
    if ('visitorId' in writer && text !== null && clientId !== null && !input.attachment && support?.staffChoice().status !== 'away') {
      const now = clock.now();
      // Stored leased to this process's worker when it would start the delivery now: handed over without a claim.
      const leases = handOffLeases();
      const lease = leases.ask(false, writer.visitorId);
      const appended = await leases.settled(
        store.appendToOpenThread({ visitorId: writer.visitorId, text, clientId, now, lease }),
        (a) => a?.handedOff != null,
      );
      if (appended) {
        const { message, handedOff } = appended;
        notifier.messageCreated(message, { exceptSocketId: input.originSocketId });
        queued(message.threadId, handedOff);
        return { message, created: true, visitorId: writer.visitorId };
      }
    }
    if (!('visitorId' in writer) && text !== null && clientId !== null && !input.attachment && support?.staffChoice().status !== 'away') {
      const started = await startConversation(
        writer,
        { text, clientId, departmentId: department?.id ?? null },
        input.originSocketId,
        admission,
      );
      if (started) return started;
    }
    const known = 'visitorId' in writer ? await visitors.requireVisitor(writer.visitorId) : null;
    if (known?.blocked) throw blocked();

    const leases = handOffLeases();
    const written = store
      .transaction(async (repos) => {
        const { visitor, stored } = known ? { visitor: known, stored: false } : await visitors.storeVisitor(writer, admission, repos);
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
            handedOff: null as OutboxRow | null,
          };

        // One at a time per visitor (and user), across connections and instances: see lockIdentity. A visitor stored by
        // this very transaction is seen by no other until the commit: nothing to wait for.
        if (!stored) await repos.visitors.lockIdentity(visitorId);
        const now = clock.now();
        // A visitor stored by this very transaction has no thread yet: nothing to look up.
        let thread = stored ? null : await repos.threads.findLatestForVisitor(visitorId);
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
          thread = await repos.threads.create({
            visitorId,
            ref: newThreadRef(),
            now,
            openingRank: rank,
            departmentId: department?.id ?? null,
          });
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
        // A thread opened just now is known to no other delivery: its first text message is handed to this process's
        // worker when it would start it at once (docs/delivery.md, "The hand-off"), which creates the topic.
        const lease = newThread && !input.attachment ? leases.ask(true) : null;
        const outboxId = await repos.outbox.enqueue({ threadId: thread.id, messageId: message.id, now, lease });
        const handedOff =
          lease && newThread
            ? handedOffRow(outboxId, message, { behind: 0, needsTopic: true, thread: newThread, visitorName: visitor.name })
            : null;
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
        // A thread created just now already has this last activity.
        if (!newThread) await repos.threads.touch(thread.id, now);
        return { message, created: true, visitor, storedVisitor: stored ? visitor : null, newThread, reopened, awayReply, handedOff };
      })
      .catch(async (error: unknown) => {
        // Two sends with one clientId raced: the unique index let one through; answer with it.
        const visitor = input.clientId === null ? null : (known ?? (await visitors.storedVisitor(writer).catch(() => null)));
        const winner =
          visitor && input.clientId !== null ? await store.messages.findByClientId(visitor.id, input.clientId).catch(() => null) : null;
        if (visitor && winner)
          return {
            ...{ message: winner, created: false, visitor, storedVisitor: null, newThread: null, reopened: null },
            ...{ awayReply: null, handedOff: null },
          };
        throw error;
      });
    const result = await leases.settled(written, (r) => r.handedOff !== null);

    if (result.storedVisitor) notifier.visitorStored(result.storedVisitor);
    if (result.created) {
      if (result.newThread) {
        // Committed: the staff page's feed and the outbox read it from the cache.
        store.threads.remember(result.newThread);
        notifier.threadCreated(result.newThread);
      }
      if (result.reopened) notifier.threadStatus(result.reopened);
      notifier.messageCreated(result.message, { exceptSocketId: input.originSocketId });
      if (result.awayReply) notifier.messageCreated(result.awayReply);
      queued(result.message.threadId, result.handedOff);
    }
    return { message: result.message, created: result.created, visitorId: result.visitor.id };
  }

  /**
   * The other common case: a new visitor's first text message (support not away) stored with the visitor, its
   * first thread and its outbox row at once (Store.startConversation). Null when the store stored nothing — the
   * token revoked, /lockdown on, the visitor stored meanwhile by another tab, or a budget refused — and what was
   * spent here is given back: the full path does it all again and tells the visitor why it cannot.
   */
  async function startConversation(
    writer: { tokenHash: string; page?: string | null },
    m: { text: string; clientId: string; departmentId: number | null },
    originSocketId: string | undefined,
    admission: Admission | undefined,
  ): Promise<{ message: Message; created: true; visitorId: VisitorId } | null> {
    let rank = 1;
    try {
      // Spent before the write that needs them (the full path spends as it goes).
      await admission?.newVisitor();
      rank = (await admission?.newThread())?.rank ?? 1;
    } catch {
      await admission?.refund?.();
      return null;
    }
    const now = clock.now();
    const leases = handOffLeases();
    const lease = leases.ask(true);
    const started = await leases.settled(
      store.startConversation({
        ...{ tokenHash: writer.tokenHash, page: writer.page ?? null, text: m.text, clientId: m.clientId },
        ...{ ref: newThreadRef(), openingRank: rank, departmentId: m.departmentId, now, lease },
      }),
      (r) => r !== null && lease !== null,
    );
    if (!started) {
      await admission?.refund?.();
      return null;
    }
    const { visitor, thread, message } = started;
    notifier.visitorStored(visitor);
    // Committed: the staff page's feed and the outbox read it from the cache.
    store.threads.remember(thread);
    notifier.threadCreated(thread);
    notifier.messageCreated(message, { exceptSocketId: originSocketId });
    const handedOff = lease
      ? handedOffRow(started.outboxId, message, { behind: 0, needsTopic: true, thread, visitorName: visitor.name })
      : null;
    queued(message.threadId, handedOff);
    return { message, created: true, visitorId: visitor.id };
  }

  return { postVisitorMessage };
}
