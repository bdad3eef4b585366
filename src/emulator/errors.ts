import type { ResponseParameters } from 'grammy/types';
import type { ApiErrorInfo } from './types';

/** Thrown by method handlers; becomes `{ ok: false, error_code, description, parameters? }`. */
export class BotApiError extends Error {
  constructor(
    readonly error_code: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
    this.name = 'BotApiError';
  }

  toInfo(): ApiErrorInfo {
    return this.parameters === undefined
      ? { error_code: this.error_code, description: this.description }
      : { error_code: this.error_code, description: this.description, parameters: this.parameters };
  }
}

export const badRequest = (what: string): BotApiError => new BotApiError(400, `Bad Request: ${what}`);
export const forbidden = (what: string): BotApiError => new BotApiError(403, `Forbidden: ${what}`);
export const conflict = (what: string): BotApiError => new BotApiError(409, `Conflict: ${what}`);
export const tooManyRequests = (retryAfter: number): BotApiError =>
  new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });

/** A successful answer that also carries Telegram's optional `description` (setWebhook...). */
export class Described {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}
