/** A bucket's sizes: `burst` requests at once, then a steady `perMinute`. */
export interface BucketSizes {
  burst: number;
  perMinute: number;
}

export type Take = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Token buckets keyed by visitor (or IP). Refusals say when the next request
 * will be accepted. Async because the buckets may live in Redis (src/scale/redis-limits.ts).
 */
export interface RateLimiter {
  take(key: string): Promise<Take>;
  close(): void;
}

/** Open connections per key (IP); `id` names one connection, so releasing twice is harmless. */
export interface ConnectionCounter {
  tryOpen(key: string, id: string): Promise<boolean>;
  release(key: string, id: string): void;
  close(): void;
}

/**
 * Where limits are kept: in this process (one instance), or in Redis so that
 * every instance spends from the same budget (docs/deploy.md). `name` keeps the
 * buckets of different purposes apart.
 */
export interface Limiters {
  bucket(name: string, sizes: BucketSizes): RateLimiter;
  connections(name: string, max: number): ConnectionCounter;
}

export const localLimiters: Limiters = {
  bucket: (_name, sizes) => createRateLimiter(sizes),
  connections: (_name, max) => createConnectionCounter(max),
};

/** In-memory token buckets of this process. */
export function createRateLimiter({ burst, perMinute }: BucketSizes, now = () => Date.now()): RateLimiter {
  const refillPerMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  // Full buckets carry no information; forget them so the map stays small.
  const sweeper = setInterval(() => {
    const t = now();
    for (const [k, b] of buckets) if (b.tokens + (t - b.at) * refillPerMs >= burst) buckets.delete(k);
  }, 60_000);
  sweeper.unref();

  function take(key: string): Take {
    const t = now();
    const b = buckets.get(key) ?? { tokens: burst, at: t };
    b.tokens = Math.min(burst, b.tokens + (t - b.at) * refillPerMs);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / refillPerMs) };
  }

  return {
    take: async (key) => take(key),
    close: () => clearInterval(sweeper),
  };
}

/** Counts this process's open connections per key (IP) and refuses beyond `max`. */
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
