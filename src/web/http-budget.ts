import type { RequestHandler } from 'express';
import type { Budget } from '../limits/budgets';
import { requestAddress } from './client-address';

/**
 * HTTP_RATE_LIMIT_PER_MINUTE: every request spends from its client address's
 * budget (src/web/client-address.ts, following TRUST_PROXY); beyond it, 429 JSON
 * with Retry-After and `retryAfterMs`.
 */
export function httpBudget(budget: Budget, trustProxy: number | null): RequestHandler {
  return (req, res, next) => {
    budget.spend(`ip${requestAddress(req, trustProxy)}`).then((spent) => {
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
