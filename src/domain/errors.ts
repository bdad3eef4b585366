/** Stable error codes; these (and only these) reach visitors and API clients. */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'not_found'
  | 'blocked'
  | 'rate_limited'
  | 'too_large'
  | 'unsupported_type'
  | 'unavailable'
  // Identity over Telegram (docs/identity.md).
  | 'invalid_code'
  | 'code_expired'
  | 'too_many_attempts'
  | 'already_verified'
  // /lockdown is on and the visitor is not verified: a new thread needs verification first.
  | 'verification_required'
  // thread:rate for a closing that already has its rating (docs/protocol.md).
  | 'already_rated'
  | 'internal';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: { retryAfterMs?: number; attemptsLeft?: number },
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
