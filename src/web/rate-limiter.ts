/**
 * Token buckets keyed by visitor (or IP): `burst` requests at once, then a
 * steady `perMinute`. Refusals say when the next request will be accepted.
 */
export interface RateLimiter {
  take(key: string): { ok: true } | { ok: false; retryAfterMs: number };
  close(): void;
}

export function createRateLimiter({ burst, perMinute }: { burst: number; perMinute: number }, now = () => Date.now()): RateLimiter {
  const refillPerMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  // Full buckets carry no information; forget them so the map stays small.
  const sweeper = setInterval(() => {
    const t = now();
    for (const [k, b] of buckets) if (b.tokens + (t - b.at) * refillPerMs >= burst) buckets.delete(k);
  }, 60_000);
  sweeper.unref();

  return {
    take(key) {
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
    },
    close: () => clearInterval(sweeper),
  };
}

/** Counts open connections per key (IP) and refuses beyond `max`. */
export function createConnectionCounter(max: number) {
  const open = new Map<string, number>();
  return {
    tryOpen(key: string): boolean {
      const n = open.get(key) ?? 0;
      if (n >= max) return false;
      open.set(key, n + 1);
      return true;
    },
    close(key: string) {
      const n = (open.get(key) ?? 1) - 1;
      if (n <= 0) open.delete(key);
      else open.set(key, n);
    },
  };
}
