/**
 * How the outbox worker's loop waits between passes: it sleeps until the poll interval is over
 * or something wakes it (an insert, a thread that finished, stop), whichever comes first. A wake
 * that comes while no one sleeps is not lost: the next sleep returns at once. `count` says how
 * many wakes came since start (a drain compares it to learn whether an insert arrived meanwhile).
 */
export function createWakeSignal() {
  let wakeUp: (() => void) | null = null;
  let woken = false;
  let count = 0;
  return {
    wake() {
      count++;
      woken = true;
      wakeUp?.();
    },
    /** Wakes since start. */
    count: () => count,
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
