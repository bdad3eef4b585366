import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type IRateLimiterOptions } from 'rate-limiter-flexible';
import type { Logger } from '../logger';

/** One window of a budget: at most `points` per `seconds` (a fixed window, starting with its first spend). */
export interface BudgetWindow {
  points: number;
  seconds: number;
}

/** A spend: accepted (`used`: what the first window has spent so far, this one included), or refused with when to retry. */
export type Spend = { ok: true; used: number } | { ok: false; retryAfterMs: number };

/** A budget per key (a visitor, an address): every window must have room for a spend to be accepted. */
export interface Budget {
  /** Spends `points` in every window; when one of them has no room, nothing is spent and the answer says when to retry. */
  spend(key: string, points?: number): Promise<Spend>;
  /** Gives points back (the thing they paid for did not happen after all). */
  refund(key: string, points?: number): Promise<void>;
  /** Whether `points` would be accepted now, spending nothing (to refuse early, before costly work). */
  check(key: string, points?: number): Promise<Spend>;
}

export interface Budgets {
  /** The budget called `name` (which keeps it apart from the others in Redis) with these windows, shortest first. */
  budget(name: string, windows: BudgetWindow[]): Budget;
}

/** The part of a node-redis client the budgets use (redis.pub of src/scale/redis.ts). */
export interface BudgetsRedis {
  readonly isReady: boolean;
  withCommandOptions(options: { timeout: number }): unknown;
}

export interface BudgetsOptions {
  /** Unset: budgets live in this process. Set: shared by every instance (docs/deploy.md). */
  redis?: {
    client: BudgetsRedis;
    /** Keys are `<prefix>:rl:<budget name>:<window>s:<key>` (REDIS_KEY_PREFIX). */
    prefix: string;
    /** A Redis answer slower than this counts as Redis failing: this instance's own copy answers. */
    timeoutMs?: number;
  };
  logger: Logger;
}

/** Token-bucket sizes ("`burst` at once, then `perMinute`") as one window with the same burst and long-run rate. */
export function burstWindow({ burst, perMinute }: { burst: number; perMinute: number }): BudgetWindow {
  return { points: burst, seconds: Math.max(1, Math.ceil((60 * burst) / perMinute)) };
}

/** A budget of at most `perHour` an hour and `perDay` a day. */
export const hourAndDay = (perHour: number, perDay: number): BudgetWindow[] => [
  { points: perHour, seconds: 3600 },
  { points: perDay, seconds: 86_400 },
];

/**
 * Per-key budgets on rate-limiter-flexible: in memory for one instance; with
 * Redis, one budget for every instance, each window a RateLimiterRedis with an
 * in-memory insurance limiter that answers while Redis fails or is slow — a
 * Redis blip must not refuse every visitor. The switch is logged (at most once a
 * minute while it lasts), and so is Redis coming back.
 */
export function createBudgets({ redis, logger }: BudgetsOptions): Budgets {
  const log = logger.child({ unit: 'limits' });
  const store = redis ? redis.client.withCommandOptions({ timeout: redis.timeoutMs ?? 500 }) : null;

  let insuranceUses = 0;
  let failingSince: number | null = null;
  let lastWarning = 0;
  function insuranceUsed(name: string) {
    insuranceUses++;
    const now = Date.now();
    failingSince ??= now;
    if (now - lastWarning < 60_000) return;
    lastWarning = now;
    log.warn('Redis is unavailable: limits apply per instance until it is back', { budget: name });
  }
  function redisAnswered() {
    if (failingSince === null) return;
    log.info('Redis is back: limits are shared again', { afterMs: Date.now() - failingSince });
    failingSince = null;
    lastWarning = 0;
  }

  function limiter(name: string, window: BudgetWindow): RateLimiterMemory | RateLimiterRedis {
    const options: IRateLimiterOptions = { points: window.points, duration: window.seconds };
    if (!redis) return new RateLimiterMemory(options);
    const keyPrefix = `${redis.prefix}:rl:${name}:${window.seconds}s`;
    return new RateLimiterRedis({
      ...options,
      keyPrefix,
      storeClient: store,
      useRedisPackage: true,
      // A disconnected client would queue the command until Redis is back: answer from memory at once instead.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new InsuranceLimiter({ ...options, keyPrefix }, () => insuranceUsed(name)),
    });
  }

  return {
    budget(name, windows) {
      const limiters = windows.map((w) => limiter(name, w));
      async function refund(key: string, points = 1) {
        await Promise.all(limiters.map((l) => l.reward(key, points)));
      }
      return {
        async check(key, points = 1) {
          const states = await Promise.all(limiters.map((l) => l.get(key)));
          let retryAfterMs = 0;
          states.forEach((state, i) => {
            if (state && state.consumedPoints + points > windows[i].points) retryAfterMs = Math.max(retryAfterMs, state.msBeforeNext, 1);
          });
          if (retryAfterMs > 0) return { ok: false, retryAfterMs };
          return { ok: true, used: states[0]?.consumedPoints ?? 0 };
        },
        async spend(key, points = 1) {
          const uses = insuranceUses;
          const results = await Promise.allSettled(limiters.map((l) => l.consume(key, points)));
          if (redis && insuranceUses === uses) redisAnswered();
          let retryAfterMs = 0;
          for (const r of results) {
            if (r.status === 'fulfilled') continue;
            if (!(r.reason instanceof RateLimiterRes)) throw r.reason;
            retryAfterMs = Math.max(retryAfterMs, r.reason.msBeforeNext, 1);
          }
          if (retryAfterMs === 0) {
            const first = results[0];
            return { ok: true, used: first.status === 'fulfilled' ? first.value.consumedPoints : points };
          }
          // A refused spend changes nothing: every window gets its points back, the refusing one too.
          await refund(key, points);
          return { ok: false, retryAfterMs };
        },
        refund,
      };
    },
  };
}

/** This instance's own copy of a shared budget, answering while Redis cannot; tells when it does. */
class InsuranceLimiter extends RateLimiterMemory {
  constructor(
    options: IRateLimiterOptions,
    private readonly onUse: () => void,
  ) {
    super(options);
  }
  override consume(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.onUse();
    return super.consume(key, points, options);
  }
}

/** What spendAll took, to give back if the thing it paid for does not happen after all. */
export interface Receipt {
  refund(): Promise<void>;
}

/**
 * Spends from several budgets at once (each `[budget, key, points]`): accepted only
 * when all of them have room; a refusal gives back what the others took, and says
 * when to retry (the latest of the refusals).
 */
export async function spendAll(
  spends: ReadonlyArray<readonly [budget: Budget, key: string, points?: number]>,
): Promise<({ ok: true; used: number[] } & Receipt) | { ok: false; retryAfterMs: number }> {
  const results = await Promise.all(spends.map(([budget, key, points]) => budget.spend(key, points)));
  const refund = async () => {
    await Promise.all(spends.filter((_, i) => results[i].ok).map(([budget, key, points]) => budget.refund(key, points)));
  };
  const refused = results.filter((r) => !r.ok);
  if (refused.length === 0) return { ok: true, used: results.map((r) => (r.ok ? r.used : 0)), refund };
  await refund();
  return { ok: false, retryAfterMs: Math.max(...refused.map((r) => r.retryAfterMs)) };
}
