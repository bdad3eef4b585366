import { tooManyRequests } from './errors';
import type { RateLimitSpec } from './types';

/** Sliding-window flood control per chat, like Telegram's per-group message limits. */
export class RateLimiter {
  private readonly specs = new Map<number, RateLimitSpec>();
  private readonly stamps = new Map<number, number[]>();

  set(chatId: number, spec: RateLimitSpec | null): void {
    if (spec === null) {
      this.specs.delete(chatId);
      this.stamps.delete(chatId);
    } else {
      if (!(spec.limit >= 0) || !(spec.windowMs > 0)) throw new Error('TelegramEmulator: bad rate limit spec');
      this.specs.set(chatId, { ...spec });
    }
  }

  private live(chatId: number, windowMs: number, now: number): number[] {
    const kept = (this.stamps.get(chatId) ?? []).filter((t) => t > now - windowMs);
    this.stamps.set(chatId, kept);
    return kept;
  }

  /** Throws a 429 when `count` more messages would exceed the chat's limit. */
  check(chatId: number, count = 1): void {
    const spec = this.specs.get(chatId);
    if (spec === undefined) return;
    const now = Date.now();
    const live = this.live(chatId, spec.windowMs, now);
    const excess = live.length + count - spec.limit;
    if (excess <= 0) return;
    // The send fits once `excess` of the current stamps have left the window.
    const freeing = live[Math.min(excess, live.length) - 1];
    const freeAt = freeing === undefined ? now + spec.windowMs : freeing + spec.windowMs;
    throw tooManyRequests(Math.max(1, Math.ceil((freeAt - now) / 1000)));
  }

  record(chatId: number, count = 1): void {
    if (!this.specs.has(chatId)) return;
    const list = this.stamps.get(chatId) ?? [];
    const now = Date.now();
    for (let i = 0; i < count; i++) list.push(now);
    this.stamps.set(chatId, list);
  }

  clear(): void {
    this.specs.clear();
    this.stamps.clear();
  }
}
