import { z } from 'zod';
import type { ErrorCode } from '../domain/errors';
import type { SupportStatus } from '../domain/ports';
import type { DeliveryStatus, MessageView, ThreadStatus, VisitorView } from '../domain/types';
import { cleanName, cleanText, MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from '../domain/text';
import { MAX_RATING_COMMENT } from '../domain/ratings';

/** Visitor protocol v1 (docs/protocol.md): the events and their payload schemas. */

export type Ack<T> = (
  response: ({ ok: true } & T) | { ok: false; error: { code: ErrorCode; message: string; retryAfterMs?: number; attemptsLeft?: number } },
) => void;

/** A thread as `session` and `thread:status` show it; `rateable`: closed and its closing not rated yet (thread:rate). */
export interface ThreadView {
  id: number;
  status: ThreadStatus;
  rateable: boolean;
}

export interface ServerToClientEvents {
  session: (payload: {
    token: string;
    visitor: VisitorView;
    thread: ThreadView | null;
    departments: Array<{ key: string; name: string }>;
  }) => void;
  message: (message: MessageView) => void;
  'message:status': (payload: { id: number; status: DeliveryStatus }) => void;
  'message:update': (message: MessageView) => void;
  'thread:status': (payload: ThreadView) => void;
  'support:status': (payload: SupportStatus) => void;
  /** Staff erased this visitor (/forget): forget the token and the chat, connect again without a token. */
  'session:reset': (payload: { reason: 'erased' }) => void;
  /** Another device of this visitor's verified user was erased (/forget): its messages leave this thread. */
  'messages:erased': (payload: { threadId: number; ids: number[] }) => void;
}

export interface ClientToServerEvents {
  'message:send': (payload: unknown, ack: Ack<{ message: MessageView }>) => void;
  history: (payload: unknown, ack: Ack<{ messages: MessageView[] }>) => void;
  'profile:update': (payload: unknown, ack: Ack<{ visitor: VisitorView }>) => void;
  /** Identity over Telegram (docs/identity.md); handled in otp-socket.ts. */
  'otp:start': (payload: unknown, ack: Ack<{ link: string; expiresAt: string }>) => void;
  'otp:verify': (payload: unknown, ack: Ack<{ visitor: VisitorView }>) => void;
  /** The visitor is typing (typing-socket.ts): the ack may be left out; given, it is answered `{ ok: true }` once handled. */
  typing: (payload: unknown, ack: Ack<object>) => void;
  /** A rating of a closed thread, once per closing (domain/ratings.ts). */
  'thread:rate': (payload: unknown, ack: Ack<object>) => void;
}

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * Text cleaned of direction controls and invisible characters (domain/text.ts), then trimmed:
 * 1..4000 characters; control characters other than newline and tab refused.
 */
const messageText = z
  .string()
  .transform((s) => cleanText(s).trim())
  .pipe(
    z
      .string()
      .min(1, 'text must not be empty (nor only invisible characters)')
      .max(MAX_TEXT_LENGTH, `text must be at most ${MAX_TEXT_LENGTH} characters`)
      .refine((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s), 'text contains control characters'),
  );

export const schemas = {
  'message:send': z.strictObject({
    text: messageText,
    clientId: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'clientId must be 1-64 characters of A-Z, a-z, 0-9, _ . : -'),
    department: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, 'department must be a department key: 1-32 characters of a-z, 0-9 and -')
      .optional(),
  }),
  history: z
    .strictObject({
      after: id.optional(),
      before: id.optional(),
      limit: z.number().int().min(1).max(200).optional(),
    })
    .optional()
    .transform((v) => v ?? {}),
  // `{}`; a client may leave it out (null on the wire).
  typing: z
    .strictObject({})
    .nullish()
    .transform((v) => v ?? {}),
  'thread:rate': z.strictObject({
    threadId: id,
    score: z.number().int().min(1).max(5),
    // Cleaned like any visitor text; too long or empty after cleaning is bad_request (not too_large: refine, not max).
    comment: z
      .string()
      .transform((s) => cleanText(s).trim())
      .pipe(
        z
          .string()
          .min(1, 'comment must not be empty (nor only invisible characters); leave it out instead')
          .refine((s) => s.length <= MAX_RATING_COMMENT, `comment must be at most ${MAX_RATING_COMMENT} characters`)
          .refine((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s), 'comment contains control characters'),
      )
      .optional(),
  }),
  'profile:update': z.strictObject({
    name: z
      .string()
      .transform(cleanName)
      .pipe(
        z
          .string()
          .min(1, 'name must not be empty (nor only invisible characters)')
          .max(MAX_NAME_LENGTH, `name must be at most ${MAX_NAME_LENGTH} characters`),
      )
      .refine((s) => !/[\u0000-\u001F\u007F]/.test(s), 'name contains control characters'),
  }),
};

/** The longest `error.message` an ack carries: it never echoes what the client sent. */
export const MAX_ERROR_MESSAGE = 200;

/** A string over its size limit (a text, caption or name too long): `too_large` rather than `bad_request`. */
export function isTooLarge(error: z.ZodError): boolean {
  return error.issues.some((i) => i.code === 'too_big' && i.origin === 'string');
}

/**
 * One short readable line from a zod error, for the `bad_request` / `too_large` message. Field
 * names a client made up are not repeated (an unknown key may be as long as the frame), and the
 * line is cut at MAX_ERROR_MESSAGE characters.
 */
export function describeIssues(error: z.ZodError): string {
  const line = error.issues
    .slice(0, 3)
    .map((i) => {
      const message = i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''}` : i.message;
      const path = i.path.map((p) => (typeof p === 'string' && /^[A-Za-z]{1,20}$/.test(p) ? p : typeof p === 'number' ? String(p) : '?'));
      return path.length ? `${path.join('.')}: ${message}` : message;
    })
    .join('; ');
  return line.length > MAX_ERROR_MESSAGE ? `${line.slice(0, MAX_ERROR_MESSAGE - 1)}…` : line;
}
