import type { Request, Response } from 'express';
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from '../../db/unavailable';
import { isDomainError, type ErrorCode } from '../../domain/errors';
import type { Logger } from '../../logger';

/** A refusal with its HTTP status; the message is safe to show. */
export class UploadError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export const tooLarge = (maxBytes: number) =>
  new UploadError(413, 'too_large', `The file is larger than ${Math.round(maxBytes / (1024 * 1024))} MB.`);

export const notAllowed = (why: string) =>
  new UploadError(
    415,
    'unsupported_type',
    `This file type is not accepted (${why}). Send an image (JPEG, PNG, GIF, WebP) or audio (Ogg/Opus, MP3, M4A, WebM, WAV).`,
  );

/** After a refusal, this much of the rest of the body is read and discarded so the client can read the answer; beyond it the connection is dropped. */
const DRAIN_BYTES = 16 * 1024 * 1024;

/** Answers a refusal as JSON, then reads (a bounded amount of) the rest of the body so the client gets the answer. */
export function refuse(req: Request, res: Response, error: unknown, log: Logger, visitorId: number | null | undefined) {
  let status = 500;
  let body: { code: ErrorCode; message: string; retryAfterMs?: number } = {
    code: 'internal',
    message: 'Something went wrong. Please try again.',
  };
  if (error instanceof UploadError) {
    status = error.status;
    body = { code: error.code, message: error.message, ...(error.retryAfterMs ? { retryAfterMs: error.retryAfterMs } : {}) };
    if (error.retryAfterMs) res.setHeader('Retry-After', String(Math.ceil(error.retryAfterMs / 1000)));
  } else if (isDomainError(error)) {
    const forbidden = error.code === 'blocked' || error.code === 'verification_required';
    status = forbidden ? 403 : error.code === 'rate_limited' ? 429 : error.code === 'unauthorized' ? 401 : 400;
    const retryAfterMs = error.details?.retryAfterMs;
    body = { code: error.code, message: error.message, ...(retryAfterMs ? { retryAfterMs } : {}) };
    if (retryAfterMs) res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
  } else if (isDatabaseUnavailable(error)) {
    status = 503;
    body = { code: 'unavailable', message: DATABASE_UNAVAILABLE_MESSAGE };
  } else {
    log.error('upload failed', { error, visitorId });
  }
  if (status !== 500) log.info('upload refused', { status, errorCode: body.code, reason: body.message, visitorId });
  if (!req.complete && !req.destroyed) {
    let drained = 0;
    req.unpipe();
    req.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_BYTES) req.socket.destroy();
    });
    req.resume();
  }
  if (!res.headersSent && !res.destroyed) res.status(status).json({ error: body });
}
