const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"»”’]+$/;

/**
 * Appends `text` to `parent` as text nodes, with http(s) URLs as links.
 * Nothing is parsed as HTML: markup in a message stays visible text.
 */
export function appendLinkified(parent: Node, text: string): void {
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    let raw = match[0];
    const trailing = raw.match(TRAILING);
    if (trailing) raw = raw.slice(0, raw.length - trailing[0].length);
    const href = safeHttpUrl(raw);
    if (!href) continue;
    if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
    const a = document.createElement('a');
    a.href = href;
    a.textContent = raw;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    parent.appendChild(a);
    last = start + raw.length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

/** An absolute http(s) URL (relative ones resolved against the page), or null for any other scheme. */
export function safeHttpUrl(value: string): string | null {
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
