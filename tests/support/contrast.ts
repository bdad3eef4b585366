/** Colour helpers the scripts below run in the page (WCAG 2 relative luminance and contrast ratio). */
const HELPERS = `
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 }; };
  const lum = ({ r, g, b }) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c.a > 0.99) return c; }
    return parse(getComputedStyle(document.body).backgroundColor);
  };
  const ratio = (fg, bg) => { const a = lum(fg), b = lum(bg); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  const round = (x) => Math.round(x * 100) / 100;
`;

/**
 * Runs in the page: the contrast ratio (WCAG 2) of the text of each element
 * against the first opaque background behind it.
 */
export const CONTRAST_REPORT = `(() => {${HELPERS}
  const selectors = ['h1', '#support-status', '#empty', '.msg--visitor .msg__text', '.msg--visitor .msg__meta', '.msg--visitor a',
    '.msg--staff .msg__text', '.msg--staff .msg__sender', '.msg--staff .msg__meta', '.msg--staff a', '#notice', '#connection',
    '#new-messages', '#load-earlier', '#name-form label', '#name-form .muted', '#name-form .button', '#text', '.menu__items button'];
  const out = [];
  for (const sel of selectors) {
    for (const el of document.querySelectorAll(sel)) {
      out.push({ what: sel, ratio: round(ratio(parse(getComputedStyle(el).color), background(el))) });
    }
  }
  const text = document.getElementById('text');
  out.push({ what: '#text::placeholder', ratio: round(ratio(parse(getComputedStyle(text, '::placeholder').color), background(text))) });
  return out;
})()`;

/**
 * Runs in the page: the contrast ratio of the text of each visible element matching `selector`
 * against the first opaque background behind it, named by its id or tag and classes.
 */
export const contrastOf = (selector: string) => `(() => {${HELPERS}
  const out = [];
  for (const el of document.querySelectorAll(${JSON.stringify(selector)})) {
    if (!el.getClientRects().length) continue;
    out.push({ what: el.id || el.tagName + '.' + el.className, ratio: round(ratio(parse(getComputedStyle(el).color), background(el))) });
  }
  return out;
})()`;

/**
 * Runs in the page: the support status's dot (#support-status::before) — its fill, or its ring
 * when it has no fill — as a colour and its contrast ratio against the background behind it.
 */
export const STATUS_DOT_CONTRAST = `(() => {${HELPERS}
  const el = document.getElementById('support-status');
  const dot = getComputedStyle(el, '::before');
  const fill = parse(dot.backgroundColor);
  const ring = dot.boxShadow === 'none' ? null : dot.boxShadow.match(/rgba?\\([^)]*\\)/)[0];
  const color = fill.a > 0.99 ? dot.backgroundColor : ring;
  return { color, ratio: color ? round(ratio(parse(color), background(el))) : 0 };
})()`;
