/**
 * Texts and captions: the entities Telegram detects in what users type, and
 * how the Bot API turns a bot's text + parse_mode / entities into a message's
 * fields (trimming, length limits).
 */
import type { Message, MessageEntity, User } from 'grammy/types';
import { badRequest } from './errors';
import { type FormattedText, HtmlParseError, parseTelegramHtml, sortEntities } from './telegram-html';

/**
 * Entities Telegram detects by itself in text typed by a user: bot commands,
 * @mentions, #hashtags, URLs and e-mail addresses.
 */
export function detectEntities(text: string): MessageEntity[] {
  const found: MessageEntity[] = [];
  const add = (re: RegExp, type: 'bot_command' | 'mention' | 'hashtag' | 'url' | 'email'): void => {
    for (const m of text.matchAll(re)) {
      const lead = m[1] ?? '';
      const offset = (m.index ?? 0) + lead.length;
      const length = m[0].length - lead.length;
      if (found.some((e) => offset < e.offset + e.length && e.offset < offset + length)) continue;
      found.push({ type, offset, length });
    }
  };
  add(/(^|[\s(])\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])/g, 'bot_command');
  add(/(^|[\s(])https?:\/\/[^\s<>"]+[^\s<>".,;:!?)]/g, 'url');
  add(/(^|[\s(])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?![\w.])/g, 'email');
  add(/(^|[\s(])@[A-Za-z0-9_]{4,32}(?!\w)/g, 'mention');
  add(/(^|[\s(])#[\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*/gu, 'hashtag');
  return sortEntities(found);
}

/** Telegram strips leading/trailing whitespace from texts and captions; entities move along. */
export function trimFormatted(t: FormattedText): FormattedText {
  const lead = t.text.length - t.text.trimStart().length;
  const text = t.text.trim();
  const entities: MessageEntity[] = [];
  for (const e of t.entities) {
    const start = Math.max(0, e.offset - lead);
    const end = Math.min(text.length, e.offset + e.length - lead);
    if (end > start) entities.push({ ...e, offset: start, length: end - start });
  }
  return { text, entities };
}

/** Length as Telegram counts it for the 4096 / 1024 limits (Unicode code points). */
export const telegramLength = (s: string): number => Array.from(s).length;

export const MAX_TEXT_LENGTH = 4096;
export const MAX_CAPTION_LENGTH = 1024;

/**
 * Applies parse_mode / entities of a text or caption the way the Bot API does and
 * enforces Telegram's limits. Returns undefined for an absent/empty caption.
 */
export function formatOutgoing(
  kind: 'text' | 'caption',
  raw: unknown,
  parseMode: unknown,
  explicitEntities: unknown,
  resolveUser?: (id: number) => User | undefined,
): FormattedText | undefined {
  if (raw === undefined || raw === null) {
    if (kind === 'text') throw badRequest('message text is empty');
    return undefined;
  }
  const source =
    typeof raw === 'string'
      ? raw
      : typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint'
        ? String(raw)
        : JSON.stringify(raw);
  let formatted: FormattedText;
  const mode = typeof parseMode === 'string' ? parseMode.toLowerCase() : '';
  if (mode === 'html') {
    try {
      formatted = parseTelegramHtml(source, resolveUser);
    } catch (e) {
      if (e instanceof HtmlParseError) throw badRequest(`can't parse entities: ${e.message}`);
      throw e;
    }
  } else if (mode === '' && Array.isArray(explicitEntities)) {
    formatted = { text: source, entities: explicitEntities.filter(isEntity) };
  } else {
    // Markdown / MarkdownV2 are passed through unparsed.
    formatted = { text: source, entities: [] };
  }
  formatted = trimFormatted(formatted);
  if (formatted.text === '') {
    if (kind === 'text') throw badRequest('message text is empty');
    return undefined;
  }
  const max = kind === 'text' ? MAX_TEXT_LENGTH : MAX_CAPTION_LENGTH;
  if (telegramLength(formatted.text) > max) {
    throw badRequest(kind === 'text' ? 'message is too long' : 'message caption is too long');
  }
  return formatted;
}

function isEntity(value: unknown): value is MessageEntity {
  return (
    typeof value === 'object' &&
    value !== null &&
    'type' in value &&
    typeof value.type === 'string' &&
    'offset' in value &&
    typeof value.offset === 'number' &&
    'length' in value &&
    typeof value.length === 'number'
  );
}

/** A message's text or caption fields (with their entities, when there are any). */
export function textFields(f: FormattedText | undefined, kind: 'text' | 'caption'): Partial<Message> {
  if (f === undefined) return {};
  const entityKey = kind === 'text' ? 'entities' : 'caption_entities';
  return f.entities.length > 0 ? { [kind]: f.text, [entityKey]: f.entities } : { [kind]: f.text };
}
