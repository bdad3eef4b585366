import type { RequestHandler } from 'express';
import type { Budget } from '../limits/budgets';

/**
 * HTTP_RATE_LIMIT_PER_MINUTE: every request spends from its client address's
 * budget (`req.ip`, which follows TRUST_PROXY like src/web/client-address.ts);
 * beyond it, 429 JSON with Retry-After and `retryAfterMs`.
 */
export function httpBudget(budget: Budget): RequestHandler {
  return (req, res, next) => {
    budget.spend(`ip${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`).then((spent) => {
      if (spent.ok) return next();
      const seconds = Math.ceil(spent.retryAfterMs / 1000);
      res
        .status(429)
        .set('Retry-After', String(seconds))
        .json({
          error: { code: 'rate_limited', message: `Too many requests. Try again in ${seconds} s.`, retryAfterMs: spent.retryAfterMs },
        });
    }, next);
  };
}
