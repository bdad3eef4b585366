/**
 * Keeps topicdesk under Telegram's per-group limit (about 20 messages a minute)
 * instead of running into it: counts sends per chat in a sliding minute, holds
 * the last part of the budget for coalesced sends, and honours retry_after.
 */
export interface ChatPacer {
  /** Milliseconds until a send to this chat may start (0 = now). */
  waitMs(chatId: number, now: number): number;
  /** True when the chat's budget is half spent or a 429 was seen lately: waiting messages should be merged. */
  underPressure(chatId: number, now: number): boolean;
  /**
   * How many sends may start now: up to the pressure mark when not under
   * pressure (so a burst cannot spend the reserve in one go), else what is left.
   */
  freeSlots(chatId: number, now: number): number;
  /** Takes a send slot if one is free now. */
  tryReserve(chatId: number, now: number): boolean;
  /** Telegram said 429: nothing goes to this chat until `until`. */
  pause(chatId: number, until: number): void;
}

/** Telegram's window is a minute; a second of margin absorbs clock and network skew at the window's edge. */
const WINDOW_MS = 61_000;

export function createChatPacer(sendsPerMinute: number): ChatPacer {
  const sends = new Map<number, number[]>();
  const pausedUntil = new Map<number, number>();
  const throttledAt = new Map<number, number>();

  function recent(chatId: number, now: number): number[] {
    const list = sends.get(chatId) ?? [];
    while (list.length && list[0] <= now - WINDOW_MS) list.shift();
    sends.set(chatId, list);
    return list;
  }

  function waitMs(chatId: number, now: number): number {
    const paused = Math.max(0, (pausedUntil.get(chatId) ?? 0) - now);
    if (sendsPerMinute <= 0) return paused;
    const list = recent(chatId, now);
    const budget = list.length < sendsPerMinute ? 0 : list[list.length - sendsPerMinute] + WINDOW_MS - now;
    return Math.max(paused, budget);
  }

  function underPressure(chatId: number, now: number): boolean {
    if (now - (throttledAt.get(chatId) ?? -Infinity) < WINDOW_MS) return true;
    return sendsPerMinute > 0 && recent(chatId, now).length >= sendsPerMinute / 2;
  }

  return {
    waitMs,
    underPressure,
    freeSlots(chatId, now) {
      if (sendsPerMinute <= 0) return waitMs(chatId, now) > 0 ? 0 : Number.MAX_SAFE_INTEGER;
      if (waitMs(chatId, now) > 0) return 0;
      const used = recent(chatId, now).length;
      const mark = underPressure(chatId, now) ? sendsPerMinute : Math.ceil(sendsPerMinute / 2);
      return Math.max(0, mark - used);
    },
    tryReserve(chatId, now) {
      if (waitMs(chatId, now) > 0) return false;
      recent(chatId, now).push(now);
      return true;
    },
    pause(chatId, until) {
      pausedUntil.set(chatId, Math.max(pausedUntil.get(chatId) ?? 0, until));
      throttledAt.set(chatId, Date.now());
    },
  };
}
