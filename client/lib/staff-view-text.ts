/**
 * A Telegram text with its entities (bold, code, links, bot commands…) drawn as
 * DOM nodes. Nothing is parsed as HTML: every piece goes in with textContent.
 * Like Telegram's apps, URLs and /commands are also found in plain text.
 */
import type { ViewEntity } from './staff-view-state';
import { safeHttpUrl } from './linkify';

export interface TextActions {
  /** A /command was clicked: Telegram sends it. */
  onCommand(command: string): void;
  /** A link was clicked; return true when the page handled it itself (a link to one of its topics). */
  onLink?(url: string, event: MouseEvent): boolean;
}

const STYLE_CLASS: Record<string, string> = {
  bold: 'ent-bold',
  italic: 'ent-italic',
  underline: 'ent-underline',
  strikethrough: 'ent-strike',
  spoiler: 'ent-spoiler',
  code: 'ent-code',
  pre: 'ent-pre',
  blockquote: 'ent-quote',
  expandable_blockquote: 'ent-quote',
};

const AUTO = /(^|[\s(])(\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])|https?:\/\/[^\s<>"]+[^\s<>".,;:!?)'"])/g;

function link(url: string, text: string, actions: TextActions): HTMLElement {
  const href = safeHttpUrl(url);
  if (!href) {
    const span = document.createElement('span');
    span.textContent = text;
    return span;
  }
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.addEventListener('click', (event) => {
    if (actions.onLink?.(href, event)) event.preventDefault();
  });
  return a;
}

function commandButton(text: string, actions: TextActions): HTMLElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'ent-command';
  b.textContent = text;
  b.addEventListener('click', (event) => {
    event.stopPropagation();
    actions.onCommand(text);
  });
  return b;
}

/** Plain text, with the URLs and /commands Telegram's apps would highlight. */
function appendAuto(parent: Node, text: string, actions: TextActions): void {
  let last = 0;
  for (const match of text.matchAll(AUTO)) {
    const lead = match[1] ?? '';
    const start = (match.index ?? 0) + lead.length;
    const found = match[2] ?? '';
    if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
    parent.appendChild(found.startsWith('/') ? commandButton(found, actions) : link(found, found, actions));
    last = start + found.length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

/**
 * Appends `text` to `parent` with its entities: the text is cut at every entity
 * boundary and each piece is wrapped in the styles and the link that cover it.
 */
export function appendFormatted(parent: HTMLElement, text: string, entities: readonly ViewEntity[], actions: TextActions): void {
  const cuts = new Set<number>([0, text.length]);
  for (const e of entities) {
    cuts.add(Math.max(0, Math.min(text.length, e.offset)));
    cuts.add(Math.max(0, Math.min(text.length, e.offset + e.length)));
  }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i];
    const to = points[i + 1];
    const piece = text.slice(from, to);
    const covering = entities.filter((e) => e.offset <= from && e.offset + e.length >= to);
    const styles = covering.map((e) => STYLE_CLASS[e.type]).filter((c): c is string => c !== undefined);
    const linking = covering.find((e) => ['url', 'text_link', 'bot_command', 'email'].includes(e.type));
    const literal = covering.some((e) => e.type === 'code' || e.type === 'pre');
    let node: HTMLElement;
    if (linking?.type === 'text_link' && linking.url) node = link(linking.url, piece, actions);
    else if (linking?.type === 'url') node = link(piece, piece, actions);
    else if (linking?.type === 'bot_command') node = commandButton(piece, actions);
    else if (linking?.type === 'email') {
      node = document.createElement('a');
      (node as HTMLAnchorElement).href = `mailto:${piece}`;
      node.textContent = piece;
    } else {
      node = document.createElement('span');
      if (literal) node.textContent = piece;
      else appendAuto(node, piece, actions);
    }
    if (styles.length === 0 && node.tagName === 'SPAN' && node.className === '') {
      while (node.firstChild) parent.appendChild(node.firstChild);
      continue;
    }
    if (styles.length > 0) {
      const wrap = document.createElement(literal ? 'code' : 'span');
      wrap.className = styles.join(' ');
      if (styles.includes('ent-spoiler')) {
        wrap.tabIndex = 0;
        wrap.addEventListener('click', (event) => {
          if (wrap.classList.contains('is-revealed')) return;
          event.stopPropagation();
          wrap.classList.add('is-revealed');
        });
      }
      wrap.appendChild(node);
      parent.appendChild(wrap);
    } else parent.appendChild(node);
  }
}
