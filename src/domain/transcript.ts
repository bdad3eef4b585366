import type { Message, Thread } from './types';
import { escapeHtml } from './html';
import type { Language } from './language';

const LABELS = {
  en: {
    title: (ref: string, who: string) => `Conversation ${ref} with ${who}`,
    started: 'Started',
    visitor: 'Visitor',
    staff: 'Staff',
    note: 'Note',
  },
  tr: {
    title: (ref: string, who: string) => `${who} ile ${ref} görüşmesi`,
    started: 'Başlangıç',
    visitor: 'Ziyaretçi',
    staff: 'Destek',
    note: 'Not',
  },
};

/** What a transcript says about the conversation, besides its messages. */
export interface TranscriptHead {
  thread: Pick<Thread, 'ref' | 'createdAt'>;
  /** How staff call the visitor: their name, or `Visitor #<n>`. */
  visitor: string;
  /** Absolute base for root-relative attachment URLs (PUBLIC_URL). */
  publicUrl: string;
  /** The file's own words (default English): staff's file follows its asker, the visitor's the page. */
  language?: Language;
}

const when = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const labels = (head: TranscriptHead) => LABELS[head.language ?? 'en'];
const who = (m: Message, l: (typeof LABELS)['en']) => (m.sender === 'visitor' ? l.visitor : m.sender === 'staff' ? l.staff : l.note);
const absolute = (url: string, base: string) => (url.startsWith('/') ? `${base.replace(/\/+$/, '')}${url}` : url);

/**
 * A conversation as a plain-text file (UTF-8): one block per message, oldest first, times in
 * UTC, attachments as their links. Texts are as written, never interpreted.
 */
export function transcriptText(head: TranscriptHead, messages: readonly Message[]): string {
  const l = labels(head);
  const lines = [l.title(head.thread.ref, head.visitor), `${l.started} ${when(head.thread.createdAt)}`, ''];
  for (const m of messages) {
    const file = m.attachment ? `[${m.attachment.kind}: ${absolute(m.attachment.url, head.publicUrl)}]` : null;
    const body = [file, m.text].filter((s): s is string => Boolean(s)).join('\n');
    lines.push(`[${when(m.createdAt)}] ${who(m, l)}:`, ...body.split('\n').map((line) => `  ${line}`), '');
  }
  return lines.join('\n');
}

/**
 * The same as a clean HTML page: no script, no style from outside, every text escaped;
 * attachments are links (http(s) only) opening in a new tab.
 */
export function transcriptHtml(head: TranscriptHead, messages: readonly Message[]): string {
  const l = labels(head);
  const title = l.title(head.thread.ref, head.visitor);
  const items = messages.map((m) => {
    const url = m.attachment ? absolute(m.attachment.url, head.publicUrl) : null;
    const link =
      url && /^https?:\/\//i.test(url)
        ? `<p><a href="${escapeHtml(url)}" rel="noopener noreferrer" target="_blank">${escapeHtml(m.attachment!.kind)}</a></p>`
        : '';
    const text = m.text ? `<p class="text">${escapeHtml(m.text)}</p>` : '';
    return `<li class="${m.sender}"><p class="meta">${who(m, l)} · <time datetime="${m.createdAt.toISOString()}">${when(m.createdAt)}</time></p>${link}${text}</li>`;
  });
  return [
    '<!doctype html>',
    `<html lang="${head.language ?? 'en'}"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src https: http:">`,
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font:16px/1.45 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}ol{list-style:none;padding:0}li{margin:0 0 1rem}.meta{color:#555;font-size:.85rem;margin:0}.text{white-space:pre-wrap;margin:.2rem 0}.staff .meta{color:#1558c7}</style>',
    `</head><body><h1>${escapeHtml(title)}</h1><p>${l.started} ${when(head.thread.createdAt)}</p>`,
    `<ol>${items.join('')}</ol></body></html>`,
    '',
  ].join('\n');
}
