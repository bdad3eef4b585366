/**
 * How the outbox worker's loop waits between passes: it sleeps until the poll interval is over
 * or something wakes it (an insert, a thread that finished, stop), whichever comes first. A wake
 * that comes while no one sleeps is not lost: the next sleep returns at once. `count` says how
 * many wakes (inserts) came since start; a wake may name the thread its rows were queued for, so
 * that a drain learns whether an insert into *its* thread arrived meanwhile (`cameFor`): at a
 * busy moment other threads' inserts do not send every drain back for one more look-up.
 */
export function createWakeSignal() {
  let wakeUp: (() => void) | null = null;
  let woken = false;
  let count = 0;
  /** `count` at the last wake that named no thread (any thread may have rows since). */
  let anyAt = 0;
  /** `count` at each thread's last wake, kept while a drain may still ask (forgetUpTo). */
  const threadAt = new Map<number, number>();
  const rouse = () => {
    woken = true;
    wakeUp?.();
  };
  return {
    /** Rows were queued: for `threadId`, or for any thread. */
    wake(threadId?: number) {
      count++;
      if (threadId === undefined) anyAt = count;
      else threadAt.set(threadId, count);
      rouse();
    },
    /** Starts a pass soon, without saying that anything was queued (a thread finished). */
    nudge: rouse,
    /** Wakes since start. */
    count: () => count,
    /** Whether a wake that may concern `threadId` came after the `since`-th. */
    cameFor: (threadId: number, since: number) => anyAt > since || (threadAt.get(threadId) ?? 0) > since,
    /** Forgets the threads' wakes up to the `since`-th: no drain asks about them any more. */
    forgetUpTo(since: number) {
      for (const [threadId, at] of threadAt) if (at <= since) threadAt.delete(threadId);
    },
    /** A pass begins: wakes before it are consumed by it. */
    consume() {
      woken = false;
    },
    /** Ends a sleep in progress without counting a wake (stop). */
    interrupt() {
      wakeUp?.();
    },
    async sleep(ms: number): Promise<void> {
      if (woken) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = null;
    },
  };
}

/**
 * Renews the leases of the threads in flight, three times per lease, so they never expire while
 * this process lives (src/db/outbox-claims.ts `renew`). Returns what stops it.
 */
export function startLeaseHeartbeat(o: {
  queue: { leaseMs: number; renew(now: number, threadIds: number[]): Promise<number> };
  inFlight: () => number[];
  now: () => number;
  onError: (error: unknown) => void;
}): () => void {
  const timer = setInterval(
    () => {
      const threadIds = o.inFlight();
      if (threadIds.length > 0) o.queue.renew(o.now(), threadIds).catch(o.onError);
    },
    Math.max(100, Math.floor(o.queue.leaseMs / 3)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
