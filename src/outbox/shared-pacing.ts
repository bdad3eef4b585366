import type { Logger } from '../logger';
import { luaScript } from '../scale/lua';
import { createBudgets, pacerOver, PACING_WINDOW_MS, type BudgetNews, type ChatPacer } from './chat-pacer';

/** A Redis answer slower than this counts as Redis being away. */
const REDIS_TIMEOUT_MS = 1000;

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
