import NodeCache from 'node-cache';

/**
 * The hot-path cache (node-cache, 3-minute TTL by default). A TTL of 0 disables
 * caching entirely, which the bench uses to show the difference.
 */
export interface Cache {
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T): void;
  del(keys: string[]): void;
  /** Drops every entry. */
  clear(): void;
  stats(): { hits: number; misses: number };
  close(): void;
}

export function createCache(ttlSeconds: number): Cache {
  if (ttlSeconds <= 0) {
    let misses = 0;
    return {
      get: () => {
        misses++;
        return undefined;
      },
      set: () => undefined,
      del: () => undefined,
      clear: () => undefined,
      stats: () => ({ hits: 0, misses }),
      close: () => undefined,
    };
  }
  // useClones: false — cached records are treated as immutable by every reader.
  const cache = new NodeCache({ stdTTL: ttlSeconds, checkperiod: Math.max(30, ttlSeconds), useClones: false });
  return {
    get: (key) => cache.get(key),
    set: (key, value) => void cache.set(key, value),
    del: (keys) => void cache.del(keys),
    clear: () => cache.flushAll(),
    stats: () => ({ hits: cache.getStats().hits, misses: cache.getStats().misses }),
    close: () => cache.close(),
  };
}

export const cacheKeys = {
  thread: (id: number) => `thread:${id}`,
  topic: (chatId: number, topicId: number) => `topic:${chatId}:${topicId}`,
  /** A thread's department, kept apart from the thread (which every new message changes). */
  threadDepartment: (id: number) => `thread-department:${id}`,
  recentMessages: (threadId: number) => `recent:${threadId}`,
};

/**
 * Several instances: every invalidation is also published, and every instance
 * drops the keys another one invalidated. A cached entry can then be stale only
 * for the moment a message takes to cross Redis (well under the write's own
 * round trip), never for the 3-minute TTL.
 *
 * While Redis is away, the others' invalidations cannot be heard, so the cache is
 * not used at all (every read goes to the database). When Redis is back, this
 * instance drops its whole cache and asks the others to drop theirs: whatever it
 * invalidated meanwhile never reached them.
 */
export async function shareInvalidations(
  local: Cache,
  redis: {
    pub: { publish(channel: string, message: string): Promise<unknown> };
    sub: { subscribe(channel: string, listener: (message: string) => void): Promise<unknown> };
    isReady(): boolean;
    onReconnect(listener: () => void): void;
  },
  instanceId: string,
  channel = 'topicdesk:cache-invalidate',
): Promise<Cache> {
  const publish = (news: { keys: string[] } | { all: true }) =>
    void redis.pub.publish(channel, JSON.stringify({ from: instanceId, ...news })).catch(() => undefined);
  await redis.sub.subscribe(channel, (message) => {
    try {
      const { from, keys, all } = JSON.parse(message) as { from: string; keys?: string[]; all?: boolean };
      if (from === instanceId) return;
      if (all === true) local.clear();
      else if (Array.isArray(keys)) local.del(keys);
    } catch {
      // Not ours: ignore.
    }
  });
  redis.onReconnect(() => {
    local.clear();
    publish({ all: true });
  });
  return {
    ...local,
    get: (key) => (redis.isReady() ? local.get(key) : undefined),
    set(key, value) {
      if (redis.isReady()) local.set(key, value);
    },
    del(keys) {
      local.del(keys);
      if (keys.length) publish({ keys });
    },
  };
}
