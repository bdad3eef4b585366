/**
 * Telegram's HTML parse mode: a port of the rules of TDLib's parse_html,
 * including its error messages, turning Telegram-HTML into plain text and
 * message entities.
 */
import type { MessageEntity, User } from 'grammy/types';
import { decodeEntity } from './html-entities';

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

/** Entities in Telegram's order: by offset, an enclosing entity before the ones inside it. */
export function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
}
