import type { MessageEntity } from 'grammy/types';
import { escapeHtml } from '../../domain/html';
import { cleanStaffHtml, safeLinkHref } from './clean-html';

/** An opening tag and its closing tag for one entity; null for entities shown as plain text. */
interface Tag {
  open: string;
  close: string;
  link: boolean;
}

const SIMPLE: Partial<Record<MessageEntity['type'], string>> = {
  bold: 'b',
  italic: 'i',
  underline: 'u',
  strikethrough: 's',
  spoiler: 'tg-spoiler',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  expandable_blockquote: 'blockquote',
};

function tagOf(entity: MessageEntity, covered: string): Tag | null {
  const simple = SIMPLE[entity.type];
  if (simple) return { open: `<${simple}>`, close: `</${simple}>`, link: false };
  let href: string | null = null;
  if (entity.type === 'text_link') href = safeLinkHref(entity.url);
  else if (entity.type === 'url') href = safeLinkHref(/^[a-z][a-z0-9+.-]*:/i.test(covered) ? covered : `http://${covered}`);
  else if (entity.type === 'email') href = safeLinkHref(`mailto:${covered}`);
  // Mentions, hashtags, commands, phone numbers, custom emoji…: their text, as it is.
  return href === null ? null : { open: `<a href="${escapeHtml(href)}">`, close: '</a>', link: true };
}

/** A UTF-16 position moved off the middle of a surrogate pair and into the text. */
function position(text: string, at: number): number {
  const p = Math.max(0, Math.min(text.length, Math.trunc(at)));
  const code = text.charCodeAt(p);
  return p > 0 && p < text.length && code >= 0xdc00 && code <= 0xdfff ? p - 1 : p;
}

interface Span {
  start: number;
  end: number;
  tag: Tag;
}

/**
 * Telegram's entities (UTF-16 offsets, as JavaScript strings count) as HTML. Nested entities
 * nest; entities that overlap without nesting (Telegram never sends them, a forged update
 * might) are closed and opened again around each other, so the markup is always well formed.
 * A link inside a link stays text. Returns the raw markup; staffHtml cleans it.
 */
export function entitiesToHtml(text: string, entities: readonly MessageEntity[]): string {
  const spans: Span[] = [];
  for (const e of entities) {
    const start = position(text, e.offset);
    const end = position(text, e.offset + e.length);
    if (end <= start) continue;
    const tag = tagOf(e, text.slice(start, end));
    if (tag) spans.push({ start, end, tag });
  }
  // Outer first: earlier start, then longer.
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const bounds = [...new Set([0, text.length, ...spans.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);

  let out = '';
  const open: Span[] = [];
  let next = 0;
  for (let i = 0; i < bounds.length; i++) {
    const at = bounds[i];
    // Close what ends here; what was opened after it and goes on is closed too, then opened again.
    const endsHere = open.findIndex((s) => s.end <= at);
    if (endsHere !== -1) {
      const closed = open.splice(endsHere);
      for (const s of [...closed].reverse()) out += s.tag.close;
      for (const s of closed) if (s.end > at) reopen(s);
    }
    while (next < spans.length && spans[next].start === at) reopen(spans[next++]);
    if (i + 1 < bounds.length) out += escapeHtml(text.slice(at, bounds[i + 1]));
  }
  for (const s of open.reverse()) out += s.tag.close;
  return out;

  function reopen(s: Span) {
    if (s.tag.link && open.some((o) => o.tag.link)) return;
    open.push(s);
    out += s.tag.open;
  }
}

/** The HTML a visitor sees for a staff text or caption: null when it has no formatting (the plain text says it all). */
export function staffHtml(text: string | null | undefined, entities: readonly MessageEntity[] | undefined): string | null {
  if (!text || !entities || entities.length === 0) return null;
  const html = cleanStaffHtml(entitiesToHtml(text, entities));
  return html === escapeHtml(text) || !html.includes('<') ? null : html;
}
