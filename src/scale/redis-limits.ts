import { createHash } from 'node:crypto';
import { MemoryStore, type Options as RateLimitOptions, type Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Logger } from '../logger';
import {
  createConnectionCounter,
  createRateLimiter,
  type BucketSizes,
  type ConnectionCounter,
  type Limiters,
  type RateLimiter,
  type Take,
} from '../web/rate-limiter';

/** The part of a node-redis client the limits use (redis.pub of src/scale/redis.ts). */
export interface RedisCommands {
  readonly isReady: boolean;
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
}

export interface RedisLimitersOptions {
  client: RedisCommands;
  /** Keys are `<prefix>:rl:<limiter name>:<key>` (REDIS_KEY_PREFIX, default "topicdesk"). */
  prefix: string;
  /** Names this instance's connections in the shared sets. */
  instanceId: string;
  logger: Logger;
  /** A command slower than this counts as failed and the instance limits alone. */
  timeoutMs?: number;
  /** How often each instance re-asserts its open connections … */
  heartbeatMs?: number;
  /** … and after how long without one a connection counts as gone (its instance died). */
  staleMs?: number;
}

/**
 * One token bucket, atomically: refill by the time elapsed (Redis's clock, the
 * same for every instance), take a token if there is one, and let the key
 * expire when the bucket would be full again — an absent key is a full bucket.
 * Returns {1, 0} or {0, retryAfterMs}.
 */
const TAKE = `
local burst = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * perMs)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((burst - tokens) / perMs)))
if ok == 1 then return {1, 0} end
return {0, math.ceil((1 - tokens) / perMs)}
`;

/**
 * Opens one connection in an address's sorted set (member `<instance>:<socket>`,
 * score the last heartbeat in ms): entries older than staleMs are dropped first
 * (their instance died without saying goodbye), then the count is checked.
 */
const OPEN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - stale)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], stale)
return 1
`;

/** Re-asserts an instance's open connections of one address (ARGV[1] staleMs, then the members). */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], now, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
`;

/** EVALSHA, falling back to EVAL (which caches the script) when Redis does not know it yet. */
function luaScript(source: string) {
  const sha = createHash('sha1').update(source).digest('hex');
  return async (client: RedisCommands, key: string, args: string[], timeout: number): Promise<unknown> => {
    if (!client.isReady) throw new Error('Redis is not connected');
    try {
      return await client.sendCommand(['EVALSHA', sha, '1', key, ...args], { timeout });
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return await client.sendCommand(['EVAL', source, '1', key, ...args], { timeout });
    }
  };
}
const take = luaScript(TAKE);
const open = luaScript(OPEN);
const heartbeat = luaScript(HEARTBEAT);

/**
 * Limits shared by every instance through Redis (docs/deploy.md, "Several
 * instances"). When Redis fails or is slow, each limit falls back to this
 * instance's own in-memory copy — a Redis blip must not refuse every visitor —
 * and a warning is logged (at most once a minute while it lasts).
 */
export function createRedisLimiters({
  client,
  prefix,
  instanceId,
  logger,
  timeoutMs = 500,
  heartbeatMs = 10_000,
  staleMs = 30_000,
}: RedisLimitersOptions): Limiters & { httpStore(name: string): Store } {
  const log = logger.child({ unit: 'limits' });
  const keyOf = (name: string, key: string) => `${prefix}:rl:${name}:${key}`;

  let failingSince: number | null = null;
  let lastWarning = 0;
  function failed(limiter: string, error: unknown) {
    const now = Date.now();
    failingSince ??= now;
    if (now - lastWarning < 60_000) return;
    lastWarning = now;
    log.warn('Redis is unavailable: limits apply per instance until it is back', { limiter, error });
  }
  function succeeded() {
    if (failingSince === null) return;
    log.info('Redis is back: limits are shared again', { afterMs: Date.now() - failingSince });
    failingSince = null;
    lastWarning = 0;
  }

  function bucket(name: string, sizes: BucketSizes): RateLimiter {
    const local = createRateLimiter(sizes);
    const args = [String(sizes.burst), String(sizes.perMinute / 60_000)];
    return {
      async take(key) {
        let reply: unknown;
        try {
          reply = await take(client, keyOf(name, key), args, timeoutMs);
        } catch (error) {
          failed(name, error);
          return local.take(key);
        }
        succeeded();
        const [ok, retryAfterMs] = reply as [number, number];
        return (ok === 1 ? { ok: true } : { ok: false, retryAfterMs: Math.max(1, retryAfterMs) }) satisfies Take;
      },
      close: () => local.close(),
    };
  }

  function connections(name: string, max: number): ConnectionCounter {
    // Every open connection of this instance, whether Redis or (during an outage) this instance decided.
    const mine = createConnectionCounter(Number.MAX_SAFE_INTEGER);
    const member = (id: string) => `${instanceId}:${id}`;
    // Re-asserting every open connection also restores them after a Redis restart or an outage.
    const timer = setInterval(() => {
      if (!client.isReady) return;
      for (const [key, ids] of mine.keys()) {
        heartbeat(client, keyOf(name, key), [String(staleMs), ...[...ids].map(member)], timeoutMs).catch((error) => failed(name, error));
      }
    }, heartbeatMs);
    timer.unref();
    return {
      async tryOpen(key, id) {
        let allowed: boolean;
        try {
          allowed = (await open(client, keyOf(name, key), [member(id), String(max), String(staleMs)], timeoutMs)) === 1;
          succeeded();
        } catch (error) {
          failed(name, error);
          allowed = mine.count(key) < max;
        }
        if (allowed) await mine.tryOpen(key, id);
        return allowed;
      },
      release(key, id) {
        mine.release(key, id);
        // If this fails the entry goes stale: no heartbeat refreshes it any more.
        if (client.isReady) client.sendCommand(['ZREM', keyOf(name, key), member(id)], { timeout: timeoutMs }).catch(() => undefined);
      },
      close: () => clearInterval(timer),
    };
  }

  /** express-rate-limit's store (rate-limit-redis), with this instance's MemoryStore behind it for outages. */
  function httpStore(name: string): Store {
    const shared = new RedisStore({
      prefix: keyOf(name, ''),
      sendCommand: (...args: string[]) =>
        client.isReady
          ? (client.sendCommand(args, { timeout: timeoutMs }) as Promise<RedisReply>)
          : Promise.reject(new Error('Redis is not connected')),
    });
    const local = new MemoryStore();
    let options: RateLimitOptions | null = null;
    let loadedAt = 0;
    // Loads rate-limit-redis's scripts; again after a failure, in case Redis lost them or never got them.
    const load = () => {
      loadedAt = Date.now();
      if (options) shared.init(options).catch((error: unknown) => failed(name, error));
    };
    return {
      localKeys: false,
      prefix: shared.prefix,
      init(o) {
        options = o;
        local.init(o);
        load();
      },
      async increment(key) {
        try {
          const result = await shared.increment(key);
          succeeded();
          return result;
        } catch (error) {
          failed(name, error);
          if (Date.now() - loadedAt > 5000) load();
          return local.increment(key);
        }
      },
      async decrement(key) {
        await shared.decrement(key).catch(() => local.decrement(key));
      },
      async resetKey(key) {
        await local.resetKey(key);
        await shared.resetKey(key).catch(() => undefined);
      },
      shutdown: () => local.shutdown(),
    };
  }

  return { bucket, connections, httpStore };
}
