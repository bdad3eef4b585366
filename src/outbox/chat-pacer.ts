import type { Logger } from '../logger';
import { luaScript } from '../scale/lua';

/**
 * Keeps topicdesk under Telegram's per-group limit (about 20 messages a minute)
 * instead of running into it: counts sends per chat in a sliding minute, holds
 * the last part of the budget for coalesced sends, and honours retry_after.
 *
 * The reads answer from this instance's view of the chat's budget; taking a slot
 * and pausing after a 429 are the decisions, and with several instances they are
 * made in Redis (sharePacing), so N instances share one budget (docs/delivery.md).
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
/** A Redis answer slower than this counts as Redis being away. */
const REDIS_TIMEOUT_MS = 1000;

/** One chat's budget: the sends of the last window (by a unique id), and the last 429. */
interface Budget {
  sends: Map<string, number>;
  pausedUntil: number;
  throttledAt: number;
}

/** What crosses Redis: a chat's budget, merged into every instance's view (union of sends, latest pause). */
interface BudgetNews {
  chatId: number;
  sends: Array<[id: string, at: number]>;
  pausedUntil: number;
  throttledAt: number;
}

/** The budgets this instance knows of, and the arithmetic over them. */
function createBudgets(sendsPerMinute: number) {
  const budgets = new Map<number, Budget>();

  function budget(chatId: number, now: number): Budget {
    let b = budgets.get(chatId);
    if (!b) {
      b = { sends: new Map(), pausedUntil: 0, throttledAt: -Infinity };
      budgets.set(chatId, b);
    }
    for (const [id, at] of b.sends) if (at <= now - PACING_WINDOW_MS) b.sends.delete(id);
    return b;
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
      budget(chatId, now).sends.set(id, now);
    },
    pause(chatId: number, until: number, now: number) {
      const b = budget(chatId, now);
      b.pausedUntil = Math.max(b.pausedUntil, until);
      b.throttledAt = Math.max(b.throttledAt, now);
    },
    merge(news: BudgetNews, now: number) {
      const b = budget(news.chatId, now);
      for (const [id, at] of news.sends) if (at > now - PACING_WINDOW_MS) b.sends.set(id, at);
      b.pausedUntil = Math.max(b.pausedUntil, news.pausedUntil);
      b.throttledAt = Math.max(b.throttledAt, news.throttledAt);
    },
  };
}

type Budgets = ReturnType<typeof createBudgets>;

/** Paces on the budgets this instance knows of; `newId` names each send. */
function pacerOver(budgets: Budgets, newId: () => string): ChatPacer {
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

/** Takes a slot if the chat is not paused and the window has room; answers with the whole budget. */
const RESERVE = `
local sends, state = KEYS[1], KEYS[2]
local now, window, limit, id = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', sends, '-inf', now - window)
local paused = tonumber(redis.call('HGET', state, 'pausedUntil') or '0')
local ok = 0
if paused <= now and (limit <= 0 or redis.call('ZCARD', sends) < limit) then
  ok = 1
  if limit > 0 then
    redis.call('ZADD', sends, now, id)
    redis.call('PEXPIRE', sends, window)
  end
end
return {ok, redis.call('ZRANGE', sends, 0, -1, 'WITHSCORES'), tostring(paused), redis.call('HGET', state, 'throttledAt') or '0'}
`;

/** Records a 429: the pause only ever grows. */
const PAUSE = `
local state = KEYS[1]
local untilAt, now, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local paused = tonumber(redis.call('HGET', state, 'pausedUntil') or '0')
if untilAt > paused then paused = untilAt end
redis.call('HSET', state, 'pausedUntil', tostring(paused), 'throttledAt', tostring(now))
redis.call('PEXPIRE', state, math.max(paused - now, 0) + window)
return tostring(paused)
`;

const reserve = luaScript(RESERVE);
const pause = luaScript(PAUSE);

export interface PacingRedis {
  pub: {
    readonly isReady: boolean;
    sendCommand<T = unknown>(args: ReadonlyArray<string>, options?: { timeout?: number }): Promise<T>;
    publish(channel: string, message: string): Promise<unknown>;
  };
  sub: { subscribe(channel: string, listener: (message: string) => void): Promise<unknown> };
}

/**
 * Several instances: one budget per bot and chat, kept in Redis. Taking a slot
 * and recording a 429 are single Lua scripts, so two instances can never both
 * take the last slot; what each script leaves is published, so every instance's
 * reads (waiting time, pressure, free slots) see the others' sends at once.
 * If Redis cannot be reached, the instance paces on its own view and says so in
 * the log: delivery goes on, at worst with the 429s Telegram then asks for.
 */
export async function sharePacing(
  sendsPerMinute: number,
  redis: PacingRedis,
  { instanceId, botId, prefix, logger }: { instanceId: string; botId: string; prefix: string; logger: Logger },
): Promise<ChatPacer> {
  const log = logger.child({ unit: 'pacer' });
  const budgets = createBudgets(sendsPerMinute);
  const channel = `${prefix}:telegram-pacing:${botId}`;
  const key = (chatId: number, part: 'sends' | 'state') => `${prefix}:telegram-pacing:${botId}:${chatId}:${part}`;
  let sequence = 0;
  let degraded = false;

  await redis.sub.subscribe(channel, (message) => {
    try {
      const news = JSON.parse(message) as BudgetNews & { from: string };
      if (news.from !== instanceId && Array.isArray(news.sends)) budgets.merge(news, Date.now());
    } catch {
      // Not ours: ignore.
    }
  });

  function announce(news: BudgetNews, now: number) {
    budgets.merge(news, now);
    void redis.pub.publish(channel, JSON.stringify({ ...news, from: instanceId })).catch(() => undefined);
  }

  function fallBack(error: unknown) {
    if (!degraded) log.warn('redis unreachable: pacing Telegram sends on this instance alone', { error });
    degraded = true;
  }

  const newId = () => `${instanceId}:${++sequence}`;
  const alone = pacerOver(budgets, newId);
  return {
    ...alone,
    async tryReserve(chatId, now) {
      if (budgets.waitMs(chatId, now) > 0) return false;
      const id = newId();
      try {
        const [ok, flat, pausedUntil, throttledAt] = await reserve<[number, string[], string, string]>(
          redis.pub,
          [key(chatId, 'sends'), key(chatId, 'state')],
          [String(now), String(PACING_WINDOW_MS), String(sendsPerMinute), id],
          REDIS_TIMEOUT_MS,
        );
        if (degraded) log.info('redis is back: Telegram pacing is shared again');
        degraded = false;
        const sends: Array<[string, number]> = [];
        for (let i = 0; i + 1 < flat.length; i += 2) sends.push([flat[i], Number(flat[i + 1])]);
        announce({ chatId, sends, pausedUntil: Number(pausedUntil), throttledAt: Number(throttledAt) }, now);
        return ok === 1;
      } catch (error) {
        fallBack(error);
        return alone.tryReserve(chatId, now);
      }
    },
    async pause(chatId, until, now) {
      await alone.pause(chatId, until, now);
      try {
        const paused = await pause<string>(
          redis.pub,
          [key(chatId, 'state')],
          [String(until), String(now), String(PACING_WINDOW_MS)],
          REDIS_TIMEOUT_MS,
        );
        announce({ chatId, sends: [], pausedUntil: Number(paused), throttledAt: now }, now);
      } catch (error) {
        fallBack(error);
      }
    },
  };
}
