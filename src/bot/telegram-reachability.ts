import type { Api, Transformer } from 'grammy';
import type { ApiResponse } from 'grammy/types';

/** Where the outcome of Bot API calls goes (domain/support-status.ts judges from it). */
export interface TelegramCallObserver {
  telegramSucceeded(): void;
  telegramFailed(): void;
}

/**
 * An API transformer that reports every Bot API call's outcome: a failure is a network
 * error or timeout, a 5xx, or a 401 (the token stopped working); any other answer —
 * a 4xx, a 429 — shows Telegram is there. A call aborted on purpose (shutdown, a runner
 * stopping its long poll) reports nothing.
 *
 * Install it before any retrying transformer (autoRetry retries network errors without
 * end), so that each attempt is seen rather than only the last.
 */
export function watchTelegramCalls(observer: TelegramCallObserver): Transformer {
  return async (prev, method, payload, signal) => {
    const call = prev(method, payload, signal);
    let outcome: ApiResponse<unknown>;
    try {
      outcome = await call;
    } catch (error) {
      if (!signal?.aborted) observer.telegramFailed();
      throw error;
    }
    if (!outcome.ok && (outcome.error_code >= 500 || outcome.error_code === 401)) observer.telegramFailed();
    else observer.telegramSucceeded();
    return call;
  };
}

/**
 * While Telegram is judged unreachable, asks it (getMe) every `intervalMs`, so that its
 * return is noticed at once — not only when the outbox retries or a long poll ends.
 * `api` must report through watchTelegramCalls.
 */
export function probeWhileUnreachable({
  api,
  unreachable,
  intervalMs,
}: {
  api: Pick<Api, 'getMe'>;
  unreachable: () => boolean;
  intervalMs: number;
}): { stop(): void } {
  let inFlight = false;
  const stopping = new AbortController();
  const timer = setInterval(() => {
    if (inFlight || !unreachable()) return;
    inFlight = true;
    api
      // grammY types its signal with the abort-controller package's AbortSignal; Node's is the same at run time.
      .getMe(stopping.signal as Parameters<Api['getMe']>[0])
      .catch(() => undefined) // reported by the transformer
      .finally(() => (inFlight = false));
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      stopping.abort();
    },
  };
}
