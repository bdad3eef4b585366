import { GrammyError, HttpError } from 'grammy';
import { MediaUnavailableError } from './telegram-gateway';

/** What to do with a row after a failed send. */
export type Verdict =
  | { kind: 'throttled'; retryAfterMs: number }
  | { kind: 'retry_now'; reason: 'topic_deleted' | 'topic_closed' | 'not_a_forum' }
  | { kind: 'backoff'; reason: string }
  | { kind: 'permanent'; reason: string };

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 5 * 60 * 1000;

/** Exponential backoff with jitter around the nominal delay (0.5x–1.5x). */
export function backoffMs(attempts: number, random = Math.random): number {
  const nominal = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempts, 20));
  return Math.round(nominal * (0.5 + random()));
}

/** A failed send in one line, for logs and the row's last_error. */
export function describe(err: unknown): string {
  if (err instanceof GrammyError) return `${err.error_code}: ${err.description}`;
  if (err instanceof HttpError) return `network: ${String((err.error as Error)?.message ?? err.message)}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Classifies a failed send: Telegram's 429 (wait as told), a lost or closed topic or a chat
 * without topics (fix it and retry at once), a server or network error (back off), or a refusal
 * (fail the row). The Bot API names the topic problems only in its descriptions.
 */
export function judge(err: unknown): Verdict {
  if (err instanceof MediaUnavailableError) return { kind: 'permanent', reason: err.message };
  if (err instanceof GrammyError) {
    const d = err.description.toLowerCase();
    if (err.error_code === 429) return { kind: 'throttled', retryAfterMs: Math.max(1, err.parameters.retry_after ?? 1) * 1000 };
    if (err.error_code >= 500) return { kind: 'backoff', reason: describe(err) };
    if (d.includes('message thread not found') || d.includes('topic_deleted') || d.includes('topic not found'))
      return { kind: 'retry_now', reason: 'topic_deleted' };
    if (d.includes('topic_closed')) return { kind: 'retry_now', reason: 'topic_closed' };
    if (d.includes('not a forum') || d.includes('topics are disabled')) return { kind: 'retry_now', reason: 'not_a_forum' };
    return { kind: 'permanent', reason: describe(err) };
  }
  return { kind: 'backoff', reason: describe(err) };
}

/** Errors raised while creating the thread's topic: the staff notice then goes to General. */
const topicErrors = new WeakSet<object>();

/** Remembers that `err` came from creating a topic. */
export function markTopicError(err: unknown): void {
  if (typeof err === 'object' && err !== null) topicErrors.add(err);
}

/** Whether `err` came from creating a topic. */
export const isTopicError = (err: unknown): boolean => topicErrors.has(err as object);
