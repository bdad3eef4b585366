/**
 * What a Bot API method handler is, and how handlers read their decoded
 * parameters (form bodies carry numbers as numeric strings).
 */
import type { InlineKeyboardButton, Message } from 'grammy/types';
import { badRequest } from './errors';
import type { RateLimiter } from './rate-limit';
import type { World } from './state';
import type { Params } from './types';
import type { UpdateQueue } from './updates';

export interface CallContext {
  /** Registers a callback for when the HTTP client goes away before the answer. */
  onClientGone(cb: () => void): void;
}

/** Gets the decoded params; returns the `result` (or a Described result), or throws a BotApiError. */
export type Handler = (params: Params, ctx: CallContext) => unknown;

/** Handlers by Bot API method name (as Telegram spells it). */
export type MethodTable = Record<string, Handler>;

export interface MethodDeps {
  world: World;
  updates: UpdateQueue;
  limiter: RateLimiter;
}

export function toInt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

export function optInt(p: Params, name: string): number | undefined {
  const v = p[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = toInt(v);
  if (n === undefined) throw badRequest(`invalid ${name} specified`);
  return n;
}

export function reqInt(p: Params, name: string, emptyMessage = `${name} is empty`): number {
  const n = optInt(p, name);
  if (n === undefined) throw badRequest(emptyMessage);
  return n;
}

export function optStr(p: Params, name: string): string | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint'
      ? String(v)
      : JSON.stringify(v);
}

export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Telegram echoes only inline keyboards in returned messages. */
export function inlineMarkup(v: unknown): Message['reply_markup'] | undefined {
  const markup = asRecord(v);
  if (markup === undefined || !Array.isArray(markup.inline_keyboard)) return undefined;
  return { inline_keyboard: markup.inline_keyboard as InlineKeyboardButton[][] };
}
