/**
 * Text handling: Telegram's HTML parse mode (a port of the rules of TDLib's
 * parse_html, including its error messages), entity auto-detection for
 * messages typed by users, and Telegram's trimming / length rules.
 */
import type { MessageEntity, User } from 'grammy/types';
import { badRequest } from './errors';

export class HtmlParseError extends Error {}

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

const ALLOWED_TAGS = new Set([
  'a',
  'b',
  'strong',
  'i',
  'em',
  's',
  'strike',
  'del',
  'u',
  'ins',
  'tg-spoiler',
  'tg-emoji',
  'span',
  'pre',
  'code',
  'blockquote',
]);

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\v' || c === '\f';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9]$/.test(c);

/** Decodes an HTML entity starting at `src[pos] === '&'`; undefined when it is not one Telegram knows. */
function decodeEntity(src: string, pos: number): { value: string; end: number } | undefined {
  let end = pos + 1;
  let value: string | undefined;
  if (src[end] === '#') {
    end++;
    let code = 0;
    let digits = 0;
    if (src[end] === 'x' || src[end] === 'X') {
      end++;
      while (end < src.length && /^[0-9a-fA-F]$/.test(src[end] ?? '')) {
        code = code * 16 + parseInt(src[end] ?? '0', 16);
        end++;
        digits++;
        if (code > 0x10ffff) return undefined;
      }
    } else {
      while (end < src.length && /^[0-9]$/.test(src[end] ?? '')) {
        code = code * 10 + Number(src[end]);
        end++;
        digits++;
        if (code > 0x10ffff) return undefined;
      }
    }
    if (digits === 0 || code === 0 || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    value = String.fromCodePoint(code);
  } else {
    while (end < src.length && /^[A-Za-z]$/.test(src[end] ?? '')) end++;
    const names: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
    value = names[src.slice(pos + 1, end)];
    if (value === undefined) return undefined;
  }
  if (src[end] === ';') end++;
  return { value, end };
}

interface OpenTag {
  tag: string;
  arg: string;
  /** Offset (UTF-16) in the plain output where the tag's content starts. */
  offset: number;
  /** For <pre>: language of a directly nested <code class="language-x">. */
  language?: string;
}

/**
 * Parses Telegram-HTML into plain text + entities. Throws HtmlParseError with
 * the message Telegram would put after "can't parse entities: ".
 */
export function parseTelegramHtml(src: string, resolveUser?: (id: number) => User | undefined): FormattedText {
  const byteOffset = (pos: number): number => Buffer.byteLength(src.slice(0, pos), 'utf8');
  function fail(msg: string): never {
    throw new HtmlParseError(msg);
  }
  let out = '';
  const entities: MessageEntity[] = [];
  const stack: OpenTag[] = [];
  const n = src.length;
  let i = 0;

  while (i < n) {
    const c = src[i];
    if (c === '&') {
      const decoded = decodeEntity(src, i);
      if (decoded !== undefined) {
        out += decoded.value;
        i = decoded.end;
      } else {
        out += '&';
        i++;
      }
      continue;
    }
    if (c !== '<') {
      out += c;
      i++;
      continue;
    }

    const begin = i;
    i++;
    if (src[i] !== '/') {
      // Start tag.
      while (i < n && !isSpace(src[i]) && src[i] !== '>') i++;
      if (i >= n) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
      const tag = src.slice(begin + 1, i).toLowerCase();
      if (!ALLOWED_TAGS.has(tag)) fail(`Unsupported start tag "${tag}" at byte offset ${byteOffset(begin)}`);
      let arg = '';
      while (src[i] !== '>') {
        while (i < n && isSpace(src[i])) i++;
        if (i >= n) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
        if (src[i] === '>') break;
        const attrBegin = i;
        while (i < n && !isSpace(src[i]) && src[i] !== '=' && src[i] !== '>') i++;
        const attr = src.slice(attrBegin, i).toLowerCase();
        if (attr === '') fail(`Empty attribute name in the tag "${tag}" at byte offset ${byteOffset(begin)}`);
        while (i < n && isSpace(src[i])) i++;
        if (src[i] !== '=') {
          if (tag === 'blockquote' && attr === 'expandable') {
            arg = 'expandable';
            continue;
          }
          if (i >= n) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
          fail(`Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${byteOffset(begin)}`);
        }
        i++;
        while (i < n && isSpace(src[i])) i++;
        if (i >= n) fail(`Unclosed start tag "${tag}" at byte offset ${byteOffset(begin)}`);
        let value = '';
        const quote = src[i];
        if (quote !== '"' && quote !== "'") {
          const tokenBegin = i;
          while (i < n && (isAlnum(src[i]) || src[i] === '.' || src[i] === '-')) i++;
          value = src.slice(tokenBegin, i).toLowerCase();
          if (i < n && !isSpace(src[i]) && src[i] !== '>') {
            fail(`Unexpected end of name token at byte offset ${byteOffset(tokenBegin)}`);
          }
        } else {
          i++;
          while (i < n && src[i] !== quote) {
            if (src[i] === '&') {
              const decoded = decodeEntity(src, i);
              if (decoded !== undefined) {
                value += decoded.value;
                i = decoded.end;
                continue;
              }
            }
            value += src[i];
            i++;
          }
          if (src[i] === quote) i++;
        }
        if (i >= n) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
        if (tag === 'a' && attr === 'href') arg = value;
        else if (tag === 'code' && attr === 'class' && value.startsWith('language-')) arg = value.slice('language-'.length);
        else if (tag === 'span' && attr === 'class' && value.startsWith('tg-')) arg = value.slice(3);
        else if (tag === 'tg-emoji' && attr === 'emoji-id') arg = value;
        else if (tag === 'blockquote' && attr === 'expandable') arg = 'expandable';
      }
      if (tag === 'span' && arg !== 'spoiler') {
        fail(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(begin)}`);
      }
      i++; // '>'
      stack.push({ tag, arg, offset: out.length });
      continue;
    }

    // End tag.
    const top = stack.pop();
    if (top === undefined) fail(`Unexpected end tag at byte offset ${byteOffset(begin)}`);
    i++; // '/'
    while (i < n && !isSpace(src[i]) && src[i] !== '>') i++;
    const endName = src.slice(begin + 2, i).toLowerCase();
    while (i < n && isSpace(src[i])) i++;
    if (src[i] !== '>') fail(`Unclosed end tag at byte offset ${byteOffset(begin)}`);
    i++;
    const open = top;
    if (endName !== '' && endName !== open.tag) {
      fail(`Unmatched end tag at byte offset ${byteOffset(begin)}, expected "</${open.tag}>", found "</${endName}>"`);
    }
    const offset = open.offset;
    const length = out.length - offset;
    const parent = stack[stack.length - 1];
    if (open.tag === 'code' && parent?.tag === 'pre' && parent.offset === offset) {
      // <pre><code class="language-x">…</code></pre> is one pre entity with a language.
      if (open.arg !== '') parent.language = open.arg;
      continue;
    }
    if (length <= 0) continue;
    const entity = toEntity(open, offset, length, out, resolveUser);
    if (entity !== undefined) entities.push(entity);
  }

  const unclosed = stack[stack.length - 1];
  if (unclosed !== undefined) fail(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  return { text: out, entities: sortEntities(entities) };
}

function toEntity(
  open: OpenTag,
  offset: number,
  length: number,
  out: string,
  resolveUser?: (id: number) => User | undefined,
): MessageEntity | undefined {
  switch (open.tag) {
    case 'b':
    case 'strong':
      return { type: 'bold', offset, length };
    case 'i':
    case 'em':
      return { type: 'italic', offset, length };
    case 'u':
    case 'ins':
      return { type: 'underline', offset, length };
    case 's':
    case 'strike':
    case 'del':
      return { type: 'strikethrough', offset, length };
    case 'tg-spoiler':
    case 'span':
      return { type: 'spoiler', offset, length };
    case 'code':
      return { type: 'code', offset, length };
    case 'pre':
      return open.language !== undefined ? { type: 'pre', offset, length, language: open.language } : { type: 'pre', offset, length };
    case 'blockquote':
      return { type: open.arg === 'expandable' ? 'expandable_blockquote' : 'blockquote', offset, length };
    case 'tg-emoji':
      return { type: 'custom_emoji', offset, length, custom_emoji_id: open.arg };
    case 'a': {
      const url = open.arg !== '' ? open.arg : out.slice(offset, offset + length);
      const mention = /^tg:\/\/user\?id=(\d+)$/i.exec(url);
      if (mention !== null) {
        const id = Number(mention[1]);
        const user = resolveUser?.(id) ?? { id, is_bot: false, first_name: '' };
        return { type: 'text_mention', offset, length, user };
      }
      return { type: 'text_link', offset, length, url };
    }
    default:
      return undefined;
  }
}

export function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
}

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
