import type { Clock, Store } from './ports';

/** At most one "typing…" per thread this often (Telegram shows it for about 5 s). */
export const TYPING_INTERVAL_MS = 4000;
/** A typing call Telegram has not answered by then is given up: it would be stale anyway. */
export const TYPING_TIMEOUT_MS = 3000;
/** Typing calls waiting for Telegram at once; more are dropped, never queued. */
export const TYPING_MAX_IN_FLIGHT = 8;

/** Shows "typing…" in a topic (Bot API sendChatAction with message_thread_id); rejects on any failure. */
export type SendTyping = (chatId: number, topicId: number, signal: AbortSignal) => Promise<unknown>;

export type TypingOutcome = 'sent' | 'throttled' | 'no_topic' | 'busy';

export interface TypingRelayDeps {
  store: Pick<Store, 'threads'>;
  clock: Clock;
  /** Null while Telegram is disabled: typing is then ignored. */
  send: SendTyping | null;
  /** Whether a call has any chance (Telegram reachable and a staff chat connected); false: dropped. */
  reachable?: () => boolean;
  onError?: (error: unknown) => void;
}

export type TypingRelay = ReturnType<typeof createTypingRelay>;

/**
 * A visitor typing shows as "typing…" in their thread's topic (docs/protocol.md `typing`).
 * Not a message: it never goes through the outbox, never spends the staff chat's message
 * budget, and is best effort — at most one call per thread every TYPING_INTERVAL_MS (checked
 * per visitor before any database read, then per thread), dropped while the thread's last call
 * is unanswered, while too many are, or while Telegram is away. Kept in this process's memory:
 * with several instances each throttles the visitors connected to it.
 */
export function createTypingRelay({ store, clock, send, reachable = () => true, onError }: TypingRelayDeps) {
  const lastByVisitor = new Map<number, number>();
  const lastByThread = new Map<number, number>();
  const inFlight = new Set<number>();

  const recent = (map: Map<number, number>, key: number, now: number) => {
    const last = map.get(key);
    return last !== undefined && now - last < TYPING_INTERVAL_MS && now >= last;
  };
  /** Forgets what no longer throttles anything, so the maps stay as small as the visitors typing now. */
  const prune = (map: Map<number, number>, now: number) => {
    if (map.size < 1000) return;
    for (const [key, at] of map) if (now - at >= TYPING_INTERVAL_MS || now < at) map.delete(key);
  };

  return {
    /** The visitor typed; resolves once the call is started or dropped (never waits for Telegram). */
    async visitorTyping(visitorId: number): Promise<TypingOutcome> {
      if (!send || !reachable()) return 'busy';
      const now = clock.now().getTime();
      if (recent(lastByVisitor, visitorId, now)) return 'throttled';
      prune(lastByVisitor, now);
      lastByVisitor.set(visitorId, now);
      const thread = await store.threads.findLatestForVisitor(visitorId);
      if (!thread || thread.status !== 'open' || thread.topicChatId === null || thread.topicId === null) return 'no_topic';
      if (recent(lastByThread, thread.id, now)) return 'throttled';
      if (inFlight.has(thread.id) || inFlight.size >= TYPING_MAX_IN_FLIGHT) return 'busy';
      prune(lastByThread, now);
      lastByThread.set(thread.id, now);
      inFlight.add(thread.id);
      void send(thread.topicChatId, thread.topicId, AbortSignal.timeout(TYPING_TIMEOUT_MS))
        .catch((error: unknown) => onError?.(error))
        .finally(() => inFlight.delete(thread.id));
      return 'sent';
    },
  };
}
