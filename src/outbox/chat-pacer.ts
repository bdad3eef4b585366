/**
 * Keeps topicdesk under Telegram's per-group limit (about 20 messages a minute)
 * instead of running into it: counts sends per chat in a sliding minute, holds
 * the last part of the budget for coalesced sends, and honours retry_after.
 *
 * The reads answer from this instance's view of the chat's budget; taking a slot
 * and pausing after a 429 are the decisions, and with several instances they are
 * made in Redis (shared-pacing.ts), so N instances share one budget (docs/delivery.md).
 */
export interface ChatPacer {
  /** Milliseconds until a send to this chat may start (0 = now). */
  waitMs(chatId: number, now: number): number;
  /** True when the chat's budget is half spent or a 429 was seen lately: waiting messages should be merged. */
  underPressure(chatId: number, now: number): boolean;
  /** True when half the chat's budget is spent in the window (pacing on): what is left is the reserve. */
  onReserve(chatId: number, now: number): boolean;
  /**
   * How many sends may start now: up to the pressure mark when not under
   * pressure (so a burst cannot spend the reserve in one go), else what is left.
   */
  freeSlots(chatId: number, now: number): number;
  /** Takes a send slot if one is free now. */
  tryReserve(chatId: number, now: number): Promise<boolean>;
  /** Telegram said 429 at `now`: nothing goes to this chat until `until`. */
  pause(chatId: number, until: number, now: number): Promise<void>;
}

/** Telegram's window is a minute; a second of margin absorbs clock and network skew at the window's edge. */
export const PACING_WINDOW_MS = 61_000;

/** One chat's budget: the sends of the last window (by a unique id), and the last 429. */
interface Budget {
  sends: Map<string, number>;
  /** The latest send's time: one at or after it is simply appended. */
  latest: number;
  pausedUntil: number;
  throttledAt: number;
}

/** What crosses Redis: a chat's budget, merged into every instance's view (union of sends, latest pause). */
export interface BudgetNews {
  chatId: number;
  sends: Array<[id: string, at: number]>;
  pausedUntil: number;
  throttledAt: number;
}

/** The budgets this instance knows of, and the arithmetic over them. */
export function createBudgets(sendsPerMinute: number) {
  const budgets = new Map<number, Budget>();

  function budget(chatId: number, now: number): Budget {
    let b = budgets.get(chatId);
    if (!b) {
      b = { sends: new Map(), latest: -Infinity, pausedUntil: 0, throttledAt: -Infinity };
      budgets.set(chatId, b);
    }
    // The sends are kept oldest first (record, merge): the expired ones are a prefix.
    for (const [id, at] of b.sends) {
      if (at > now - PACING_WINDOW_MS) break;
      b.sends.delete(id);
    }
    return b;
  }

  /** Sends in the window, oldest first (a Map iterates in insertion order). */
  function keepInOrder(b: Budget, sends: Iterable<[string, number]>): void {
    const all = [...b.sends, ...sends].sort((x, y) => x[1] - y[1]);
    b.sends = new Map(all);
    b.latest = all.at(-1)?.[1] ?? b.latest;
  }

  function waitMs(chatId: number, now: number): number {
    const b = budget(chatId, now);
    const paused = Math.max(0, b.pausedUntil - now);
    if (sendsPerMinute <= 0 || b.sends.size < sendsPerMinute) return paused;
    const times = [...b.sends.values()].sort((x, y) => x - y);
    return Math.max(paused, times[times.length - sendsPerMinute] + PACING_WINDOW_MS - now);
  }

  function onReserve(chatId: number, now: number): boolean {
    return sendsPerMinute > 0 && budget(chatId, now).sends.size >= sendsPerMinute / 2;
  }

  function underPressure(chatId: number, now: number): boolean {
    const b = budget(chatId, now);
    if (now - b.throttledAt < PACING_WINDOW_MS) return true;
    return onReserve(chatId, now);
  }

  return {
    waitMs,
    underPressure,
    onReserve,
    freeSlots(chatId: number, now: number): number {
      if (sendsPerMinute <= 0) return waitMs(chatId, now) > 0 ? 0 : Number.MAX_SAFE_INTEGER;
      if (waitMs(chatId, now) > 0) return 0;
      const mark = underPressure(chatId, now) ? sendsPerMinute : Math.ceil(sendsPerMinute / 2);
      return Math.max(0, mark - budget(chatId, now).sends.size);
    },
    record(chatId: number, id: string, now: number) {
      // Without a limit nothing reads the sends: none are kept (at hundreds a second, a window of them would be tens of thousands).
      if (sendsPerMinute <= 0) return;
      const b = budget(chatId, now);
      if (now >= b.latest) b.sends.set(id, now);
      else keepInOrder(b, [[id, now]]);
      b.latest = Math.max(b.latest, now);
    },
    /** How many sends the chat's window holds now. */
    sendsInWindow: (chatId: number, now: number) => budget(chatId, now).sends.size,
    pause(chatId: number, until: number, now: number) {
      const b = budget(chatId, now);
      b.pausedUntil = Math.max(b.pausedUntil, until);
      b.throttledAt = Math.max(b.throttledAt, now);
    },
    merge(news: BudgetNews, now: number) {
      const b = budget(news.chatId, now);
      if (sendsPerMinute > 0)
        keepInOrder(
          b,
          news.sends.filter(([id, at]) => at > now - PACING_WINDOW_MS && !b.sends.has(id)),
        );
      b.pausedUntil = Math.max(b.pausedUntil, news.pausedUntil);
      b.throttledAt = Math.max(b.throttledAt, news.throttledAt);
    },
  };
}

export type Budgets = ReturnType<typeof createBudgets>;

/** Paces on the budgets this instance knows of; `newId` names each send. */
export function pacerOver(budgets: Budgets, newId: () => string): ChatPacer {
  return {
    waitMs: budgets.waitMs,
    underPressure: budgets.underPressure,
    onReserve: budgets.onReserve,
    freeSlots: (chatId, now) => budgets.freeSlots(chatId, now),
    async tryReserve(chatId, now) {
      if (budgets.waitMs(chatId, now) > 0) return false;
      budgets.record(chatId, newId(), now);
      return true;
    },
    async pause(chatId, until, now) {
      budgets.pause(chatId, until, now);
    },
  };
}

/** One instance's pacer: the budget lives in this process. */
export function createChatPacer(sendsPerMinute: number): ChatPacer {
  let sequence = 0;
  return pacerOver(createBudgets(sendsPerMinute), () => String(++sequence));
}
