import NodeCache from 'node-cache';

/**
 * The hot-path cache (node-cache, 3-minute TTL by default). A TTL of 0 disables
 * caching entirely, which the bench uses to show the difference.
 */
export interface Cache {
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T): void;
  del(keys: string[]): void;
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
    stats: () => ({ hits: cache.getStats().hits, misses: cache.getStats().misses }),
    close: () => cache.close(),
  };
}

export const cacheKeys = {
  thread: (id: number) => `thread:${id}`,
  topic: (chatId: number, topicId: number) => `topic:${chatId}:${topicId}`,
  recentMessages: (threadId: number) => `recent:${threadId}`,
};
