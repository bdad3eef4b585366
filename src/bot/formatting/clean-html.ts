import sanitizeHtml from 'sanitize-html';

/**
 * The one allowlist for HTML that reaches a visitor (staff formatting, docs/protocol.md
 * "Formatting"): these tags, no attributes but `href` on links to http(s) or mailto —
 * and every link opens in a new tab without telling the site where it came from.
 * Anything else is dropped; the text inside it stays (as text).
 */
export const STAFF_HTML_TAGS = ['b', 'i', 'u', 's', 'tg-spoiler', 'code', 'pre', 'blockquote', 'a'] as const;
export const LINK_SCHEMES = ['http', 'https', 'mailto'] as const;

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [...STAFF_HTML_TAGS],
  allowedAttributes: { a: ['href', 'rel', 'target'] },
  allowedSchemes: [...LINK_SCHEMES],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Dropped with what is inside: never text on the page.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'iframe', 'object', 'template'],
  transformTags: {
    a: (_tag, attribs): sanitizeHtml.Tag => {
      const href = safeLinkHref(attribs.href);
      return { tagName: 'a', attribs: href === null ? {} : { href, rel: 'noopener noreferrer', target: '_blank' } };
    },
  },
  // A link without a usable address is no link: its text stays, as text.
  exclusiveFilter: (frame) => (frame.tag === 'a' && !frame.attribs.href ? 'excludeTag' : false),
};

/** Cleans HTML against the allowlist above. */
export function cleanStaffHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}

/** An absolute http(s) or mailto address, normalised; null for anything else (javascript:, data:, relative, …). */
export function safeLinkHref(value: string | undefined): string | null {
  if (value === undefined) return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  return (LINK_SCHEMES as readonly string[]).includes(url.protocol.slice(0, -1)) ? url.href : null;
}
