import { z } from 'zod';
import type { ErrorCode } from '../domain/errors';
import type { SupportStatus } from '../domain/ports';
import type { DeliveryStatus, MessageView, ThreadStatus, VisitorView } from '../domain/types';

/** Visitor protocol v1 (SPEC §3): the events and their payload schemas. */

export type Ack<T> = (
  response: ({ ok: true } & T) | { ok: false; error: { code: ErrorCode; message: string; retryAfterMs?: number; attemptsLeft?: number } },
) => void;

export interface ServerToClientEvents {
  session: (payload: { token: string; visitor: VisitorView; thread: { id: number; status: ThreadStatus } | null }) => void;
  message: (message: MessageView) => void;
  'message:status': (payload: { id: number; status: DeliveryStatus }) => void;
  'message:update': (message: MessageView) => void;
  'thread:status': (payload: { id: number; status: ThreadStatus }) => void;
  'support:status': (payload: SupportStatus) => void;
}

export interface ClientToServerEvents {
  'message:send': (payload: unknown, ack: Ack<{ message: MessageView }>) => void;
  history: (payload: unknown, ack: Ack<{ messages: MessageView[] }>) => void;
  'profile:update': (payload: unknown, ack: Ack<{ visitor: VisitorView }>) => void;
  /** Identity over Telegram (docs/identity.md); handled in otp-socket.ts. */
  'otp:start': (payload: unknown, ack: Ack<{ link: string; expiresAt: string }>) => void;
  'otp:verify': (payload: unknown, ack: Ack<{ visitor: VisitorView }>) => void;
}

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Text after trimming: 1..4000 characters; control characters other than newline and tab refused. */
const messageText = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1, 'text must not be empty')
      .max(4000, 'text must be at most 4000 characters')
      .refine((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s), 'text contains control characters'),
  );

export const schemas = {
  'message:send': z.strictObject({
    text: messageText,
    clientId: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'clientId must be 1-64 characters of A-Z, a-z, 0-9, _ . : -'),
  }),
  history: z
    .strictObject({
      after: id.optional(),
      before: id.optional(),
      limit: z.number().int().min(1).max(200).optional(),
    })
    .optional()
    .transform((v) => v ?? {}),
  'profile:update': z.strictObject({
    name: z
      .string()
      .transform((s) => s.trim().replace(/\s+/g, ' '))
      .pipe(z.string().min(1, 'name must not be empty').max(64, 'name must be at most 64 characters'))
      .refine((s) => !/[\u0000-\u001F\u007F]/.test(s), 'name contains control characters'),
  }),
};

/** One readable line from a zod error, for the `bad_request` message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
