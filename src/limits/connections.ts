import { luaScript, type ScriptClient } from '../scale/lua';
import type { Logger } from '../logger';

/**
 * Open connections per key (a client address): not a budget that refills with
 * time but a count that goes down when a connection closes. `id` names one
 * connection, so releasing twice is harmless.
 */
export interface ConnectionCounter {
  tryOpen(key: string, id: string): Promise<boolean>;
  release(key: string, id: string): void;
  close(): void;
}

/** Counts this process's open connections per key and refuses beyond `max`. */
export function createConnectionCounter(
  max: number,
): ConnectionCounter & { count(key: string): number; keys(): Iterable<[string, ReadonlySet<string>]> } {
  const open = new Map<string, Set<string>>();
  return {
    async tryOpen(key, id) {
      const ids = open.get(key) ?? new Set<string>();
      if (!ids.has(id) && ids.size >= max) return false;
      ids.add(id);
      open.set(key, ids);
      return true;
    },
    release(key, id) {
      const ids = open.get(key);
      if (!ids) return;
      ids.delete(id);
      if (ids.size === 0) open.delete(key);
    },
    count: (key) => open.get(key)?.size ?? 0,
    keys: () => open.entries(),
    close() {},
  };
}

/** The part of a node-redis client the shared count uses (redis.pub of src/scale/redis.ts). */
export type RedisCommands = ScriptClient;

export interface SharedConnectionsOptions {
  client: RedisCommands;
  /** The set of an address is `<prefix>:rl:<name>:<address>` (REDIS_KEY_PREFIX). */
  prefix: string;
  /** Names this instance's connections in the shared sets. */
  instanceId: string;
  logger: Logger;
  /** A command slower than this counts as failed and the instance counts alone. */
  timeoutMs?: number;
  /** How often each instance re-asserts its open connections … */
  heartbeatMs?: number;
  /** … and after how long without one a connection counts as gone (its instance died). */
  staleMs?: number;
}

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

const open = luaScript(OPEN);
const heartbeat = luaScript(HEARTBEAT);

/**
 * Open connections per address counted by every instance together (docs/deploy.md,
 * "Several instances"). A count is not a refilling budget, so it is not a
 * rate-limiter-flexible budget: a crashed instance's connections must drop out,
 * which the heartbeats do. When Redis fails or is slow, the instance counts its
 * own connections alone, and says so (at most once a minute while it lasts).
 */
export function createSharedConnectionCounter(
  name: string,
  max: number,
  { client, prefix, instanceId, logger, timeoutMs = 500, heartbeatMs = 10_000, staleMs = 30_000 }: SharedConnectionsOptions,
): ConnectionCounter {
  const log = logger.child({ unit: 'limits' });
  const keyOf = (key: string) => `${prefix}:rl:${name}:${key}`;
  let lastWarning = 0;
  function failed(error: unknown) {
    const now = Date.now();
    if (now - lastWarning < 60_000) return;
    lastWarning = now;
    log.warn('Redis is unavailable: connections are counted per instance until it is back', { counter: name, error });
  }

  // Every open connection of this instance, whether Redis or (during an outage) this instance decided.
  const mine = createConnectionCounter(Number.MAX_SAFE_INTEGER);
  const member = (id: string) => `${instanceId}:${id}`;
  // Re-asserting every open connection also restores them after a Redis restart or an outage.
  const timer = setInterval(() => {
    if (!client.isReady) return;
    for (const [key, ids] of mine.keys()) {
      heartbeat(client, [keyOf(key)], [String(staleMs), ...[...ids].map(member)], timeoutMs).catch(failed);
    }
  }, heartbeatMs);
  timer.unref();
  return {
    async tryOpen(key, id) {
      let allowed: boolean;
      try {
        allowed = (await open(client, [keyOf(key)], [member(id), String(max), String(staleMs)], timeoutMs)) === 1;
      } catch (error) {
        failed(error);
        allowed = mine.count(key) < max;
      }
      if (allowed) await mine.tryOpen(key, id);
      return allowed;
    },
    release(key, id) {
      mine.release(key, id);
      // If this fails the entry goes stale: no heartbeat refreshes it any more.
      if (client.isReady) client.sendCommand(['ZREM', keyOf(key), member(id)], { timeout: timeoutMs }).catch(() => undefined);
    },
    close: () => clearInterval(timer),
  };
}
