/**
 * What visitors write, cleaned the same way at every door: message texts and captions
 * (socket and uploads), names (profile, Telegram names) and the topic titles made from them.
 * Pure: no framework, used by the server and by the visitor page.
 */

/** Longest message text or caption, in UTF-16 code units, after cleaning and trimming. */
export const MAX_TEXT_LENGTH = 4000;
/** Longest visitor name, after cleaning and collapsing whitespace. */
export const MAX_NAME_LENGTH = 64;

/**
 * Characters that show nothing yet change how the text around them is shown or compared:
 * Unicode's Default_Ignorable_Code_Point — bidi controls (U+200E/200F, U+202A–202E, U+2066–2069,
 * U+061C), zero-width characters (U+200B–200D, U+2060, U+FEFF), the soft hyphen, Hangul fillers,
 * tag characters, variation selectors … — and the interlinear annotation controls U+FFF9–FFFB.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\uFFF9-\uFFFB]/gu;
const ONE_INVISIBLE = new RegExp(`^${INVISIBLE.source}$`, 'u');

const PICTOGRAPH = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}]$/u;
/** Letters and marks of the scripts that join with ZWJ/ZWNJ (Arabic, Persian, Indic, …): not Latin, Greek or Cyrillic look-alikes. */
const JOINING_LETTER = /^(?![\p{sc=Latin}\p{sc=Greek}\p{sc=Cyrillic}\p{sc=Common}\p{sc=Inherited}])[\p{L}\p{M}]$/u;
const VARIATION_SELECTOR = /^[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]$/u;
const TAG = /^[\u{E0020}-\u{E007F}]$/u;
const BLACK_FLAG = '\u{1F3F4}';
const ZWJ = '\u200D';
const ZWNJ = '\u200C';

/** The code point that ends just before index `i`, or '' at the start. */
function before(s: string, i: number): string {
  if (i <= 0) return '';
  const low = s.charCodeAt(i - 1);
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) {
    const high = s.charCodeAt(i - 2);
    if (high >= 0xd800 && high <= 0xdbff) return s.slice(i - 2, i);
  }
  return s[i - 1];
}

/** The code point that starts at index `i`, or '' at the end. */
function at(s: string, i: number): string {
  const cp = s.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

/** A visible character (not whitespace, not itself invisible) that a variation selector may follow. */
const isBase = (c: string) => c !== '' && !/^\s$/u.test(c) && !ONE_INVISIBLE.test(c);

/**
 * An invisible character is kept only where it does visible work:
 * - a variation selector right after a visible character (❤️ is U+2764 U+FE0F);
 * - a zero-width joiner inside an emoji sequence (👩‍💻, 🏳️‍🌈, 👨🏽‍🦰) or between letters of a
 *   script that joins (Indic conjuncts), and a zero-width non-joiner between such letters
 *   (Persian "می‌خواهم");
 * - tag characters inside a subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿: U+1F3F4, tags, U+E007F);
 * - Mongolian variation selectors after a Mongolian letter.
 * Everything else goes: direction overrides and isolates, marks, zero-width spaces, word joiners,
 * byte-order marks, joiners between Latin letters, and all of them at the edges of the text.
 */
function keep(ch: string, offset: number, s: string): boolean {
  const prev = before(s, offset);
  const next = at(s, offset + ch.length);
  if (VARIATION_SELECTOR.test(ch)) return isBase(prev);
  if (ch === ZWJ) {
    // After an emoji, possibly with its presentation selector: 🏳 U+FE0F ZWJ 🌈.
    const emoji = prev === '\uFE0F' ? before(s, offset - 1) : prev;
    if (PICTOGRAPH.test(emoji) && PICTOGRAPH.test(next)) return true;
    return JOINING_LETTER.test(prev) && JOINING_LETTER.test(next);
  }
  if (ch === ZWNJ) return JOINING_LETTER.test(prev) && JOINING_LETTER.test(next);
  if (TAG.test(ch)) {
    let i = offset;
    while (TAG.test(before(s, i))) i -= 2;
    return before(s, i) === BLACK_FLAG;
  }
  if (ch >= '\u180B' && ch <= '\u180F') return /^\p{sc=Mongolian}$/u.test(prev);
  return false;
}

/**
 * Removes direction controls and invisible characters (see `keep` for the few kept where they
 * draw something). Line breaks, tabs and ordinary spaces stay; trimming is the caller's.
 */
export function cleanText(text: string): string {
  return text.replace(INVISIBLE, (ch: string, offset: number, whole: string) => (keep(ch, offset, whole) ? ch : ''));
}

/** A name as stored and shown: cleaned, runs of whitespace collapsed to one space, trimmed. */
export function cleanName(name: string): string {
  return cleanText(name).replace(/\s+/g, ' ').trim();
}

/** Longest page address remembered for a visitor (the page it chats from). */
export const MAX_PAGE_LENGTH = 512;

/**
 * The page a visitor says it chats from, as staff's /info shows it: an http(s) address in the
 * URL parser's own spelling, so anything that is not plain ASCII — direction controls, invisible
 * characters, look-alike letters in a path — is percent-encoded (or, in a host name, refused) and
 * cannot reorder or hide what staff read. Anything else, or longer than MAX_PAGE_LENGTH, is null.
 */
export function pageAddress(given: unknown): string | null {
  if (typeof given !== 'string' || given.length > MAX_PAGE_LENGTH) return null;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  const href = url.href;
  return href.length <= MAX_PAGE_LENGTH && /^[\x21-\x7e]+$/.test(href) ? href : null;
}
