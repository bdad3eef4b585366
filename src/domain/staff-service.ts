import { DomainError } from './errors';
import { isLockdownOn, setLockdown } from './lockdown';
import { notice as noticeOf } from './notices';
import type { Clock, DepartmentFigures, Store, SupportStats, VisitorNotifier } from './ports';
import type { StaffChoice } from './support-status';
import type { Message, Thread, ThreadId, Visitor } from './types';

export interface StaffServiceDeps {
  store: Store;
  notifier: VisitorNotifier;
  /** Support's status (domain/support-status.ts): it stores staff's choice and tells every visitor. */
  support: { setStaffChoice(choice: StaffChoice): Promise<void> };
  clock: Clock;
  /** Wakes the outbox after /retry queued failed messages again (without it, they go at the next poll). */
  delivery?: { wake(): void };
}

export interface ThreadInfo {
  thread: Thread;
  visitor: Visitor;
  counts: Record<'visitor' | 'staff' | 'system', number>;
  lastPage: string | null;
}

export type StaffService = ReturnType<typeof createStaffService>;

/** What staff do to threads and visitors from Telegram. Framework-free; the bot feature calls Telegram. */
export function createStaffService({ store, notifier, support, clock, delivery }: StaffServiceDeps) {
  async function requireThread(threadId: ThreadId): Promise<Thread> {
    const thread = await store.threads.findById(threadId);
    if (!thread) throw new DomainError('not_found', 'Thread not found.');
    return thread;
  }

  /** A system message in the thread: a notice every reader sees in their language (domain/notices.ts). */
  async function systemMessage(thread: Thread, { notice, text }: ReturnType<typeof noticeOf>): Promise<Message> {
    return store.transaction(async (repos) => {
      const now = clock.now();
      const m = await repos.messages.insert({
        threadId: thread.id,
        sender: 'system',
        text,
        notice,
        clientId: null,
        visitorId: null,
        status: 'delivered',
        createdAt: now,
      });
      await repos.threads.touch(thread.id, now);
      return m;
    });
  }

  /** Sets a thread's status. Returns false when it already had it. */
  async function setThreadStatus(threadId: ThreadId, status: Thread['status']): Promise<{ thread: Thread; changed: boolean }> {
    const thread = await requireThread(threadId);
    if (thread.status === status) return { thread, changed: false };
    await store.threads.setStatus(thread.id, status, clock.now());
    const updated = { ...thread, status };
    const note = await systemMessage(updated, noticeOf(status === 'closed' ? 'thread_closed' : 'thread_reopened'));
    notifier.threadStatus(updated);
    notifier.messageCreated(note);
    return { thread: updated, changed: true };
  }

  return {
    closeThread: (threadId: ThreadId) => setThreadStatus(threadId, 'closed'),
    reopenThread: (threadId: ThreadId) => setThreadStatus(threadId, 'open'),

    /** Blocks or unblocks the thread's visitor. Returns false when nothing changed. */
    async setBlocked(threadId: ThreadId, blocked: boolean): Promise<{ visitor: Visitor; changed: boolean }> {
      const thread = await requireThread(threadId);
      const visitor = await store.visitors.findById(thread.visitorId);
      if (!visitor) throw new DomainError('not_found', 'Visitor not found.');
      if (visitor.blocked === blocked) return { visitor, changed: false };
      await store.visitors.setBlocked(visitor.id, blocked);
      return { visitor: { ...visitor, blocked }, changed: true };
    },

    async info(threadId: ThreadId): Promise<ThreadInfo> {
      const thread = await requireThread(threadId);
      const visitor = await store.visitors.findById(thread.visitorId);
      if (!visitor) throw new DomainError('not_found', 'Visitor not found.');
      const [counts, lastPage] = await Promise.all([store.messages.countsBySender(thread.id), store.visitors.lastPage(visitor.id)]);
      return { thread, visitor, counts, lastPage };
    },

    /** A page of open threads; with `departmentId`, only that department's (null: the default one). */
    async openThreads(
      page: number,
      pageSize: number,
      departmentId?: number | null,
    ): Promise<{ items: Array<{ thread: Thread; visitor: Visitor | null }>; total: number }> {
      const { threads, total } = await store.threads.listOpen({ limit: pageSize, offset: page * pageSize, departmentId });
      const items = await Promise.all(
        threads.map(async (thread) => ({ thread, visitor: await store.visitors.findById(thread.visitorId) })),
      );
      return { items, total };
    },

    /** /stats: with `departmentId`, that department's figures (null: the default one's). */
    stats: (departmentId?: number | null): Promise<SupportStats> => store.stats.stats(clock.now(), departmentId),
    /** Each department's open and closed threads and median first response (30 days). */
    statsByDepartment: (): Promise<DepartmentFigures[]> => store.stats.byDepartment(clock.now()),

    /** /retry: the thread's failed messages go back in the queue, stored again for the visitor. Returns how many. */
    async retryFailed(threadId: ThreadId): Promise<number> {
      const thread = await requireThread(threadId);
      const ids = await store.transaction(async (repos) => {
        const requeued = await repos.outbox.requeueFailed(thread.id, clock.now());
        await repos.messages.setDeliveryStatus(thread.id, requeued, 'stored');
        return requeued;
      });
      for (const id of ids) notifier.messageStatus(thread.id, id, 'stored');
      if (ids.length) delivery?.wake();
      return ids.length;
    },

    /** /lockdown: while on, only verified visitors may open new threads (domain/lockdown.ts); kept in the database. */
    async setLockdown(on: boolean): Promise<void> {
      await setLockdown(store.settings, on);
    },
    lockdownOn: (): Promise<boolean> => isLockdownOn(store.settings),

    /** Away with a message, or back online; what visitors see follows at once (offline wins over both: domain/support-status.ts). */
    async setSupportStatus(status: 'online' | 'away', message: string | null): Promise<void> {
      await support.setStaffChoice({ status, message: status === 'away' ? message : null });
    },

    /** A staff member edited their message in Telegram: the stored text (and its formatting) follow and the visitor sees it. */
    async editStaffMessage(chatId: number, telegramMessageId: number, text: string, html: string | null = null): Promise<Message | null> {
      const link = await store.telegramLinks.findByTelegramMessage(chatId, telegramMessageId);
      if (!link || link.direction !== 'from_telegram' || link.messageId === null) return null;
      const updated = await store.messages.updateText(link.messageId, text, html);
      notifier.messageUpdated(updated);
      return updated;
    },
  };
}
