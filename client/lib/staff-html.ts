/**
 * A staff message's `html` on the page (docs/protocol.md "Formatting from staff"). The server
 * already cleaned it; the page still never hands it to the browser's HTML parser: it reads the
 * few tags of the allowlist itself and builds the elements, so nothing else (a handler, a style,
 * a script, another scheme) could ever reach the page from it. Visitor text never comes here.
 */
const TAGS = new Set(['b', 'i', 'u', 's', 'tg-spoiler', 'code', 'pre', 'blockquote', 'a']);
/** Elements whose content is not text for a reader: dropped with their content. */
const DROP = new Set(['script', 'style', 'template', 'iframe', 'object', 'noscript', 'textarea', 'title', 'svg', 'math']);
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*\/?>/g;
const ATTR = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function appendStaffHtml(parent: HTMLElement, html: string, revealLabel: string): void {
  const open: HTMLElement[] = [parent];
  let dropping: string | null = null;
  let last = 0;
  const text = (s: string) => {
    if (s && !dropping) open[open.length - 1].appendChild(document.createTextNode(decode(s)));
  };
  for (const m of html.matchAll(TAG)) {
    text(html.slice(last, m.index));
    last = m.index + m[0].length;
    const closing = m[1] === '/';
    const name = m[2].toLowerCase();
    if (dropping) {
      if (closing && name === dropping) dropping = null;
    } else if (DROP.has(name)) {
      if (!closing) dropping = name;
    } else if (closing) {
      let at = open.length - 1;
      while (at > 0 && open[at].localName !== name) at--;
      if (at > 0) open.length = at;
    } else if (TAGS.has(name)) {
      const el = element(name, m[3], revealLabel);
      if (el) {
        open[open.length - 1].appendChild(el);
        open.push(el);
      }
    }
  }
  text(html.slice(last));
}

/** The element for an allowed tag; a link only with an http(s) or mailto address (null otherwise: its text stays). */
function element(name: string, attributes: string, revealLabel: string): HTMLElement | null {
  const el = document.createElement(name);
  if (name === 'a') {
    let href: string | null = null;
    for (const a of attributes.matchAll(ATTR)) if (a[1].toLowerCase() === 'href') href = safeHref(decode(a[2] ?? a[3] ?? a[4] ?? ''));
    if (!href) return null;
    el.setAttribute('href', href);
    el.setAttribute('target', '_blank');
    el.setAttribute('rel', 'noopener noreferrer');
  } else if (name === 'tg-spoiler') hideSpoiler(el, revealLabel);
  return el;
}

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return NAMED[ref.toLowerCase()] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** An absolute http(s) or mailto address, or null. */
function safeHref(value: string): string | null {
  try {
    const url = new URL(value);
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** A spoiler is covered until pressed (mouse, touch or keyboard); then it reads as plain text. */
function hideSpoiler(el: HTMLElement, label: string): void {
  el.tabIndex = 0;
  el.setAttribute('role', 'button');
  el.setAttribute('aria-label', label);
  el.title = label;
  const reveal = () => {
    if (el.dataset.revealed) return;
    el.dataset.revealed = '1';
    for (const name of ['tabindex', 'role', 'aria-label', 'title']) el.removeAttribute(name);
  };
  el.addEventListener('click', reveal);
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      reveal();
    }
  });
}
