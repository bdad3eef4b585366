/**
 * Bar charts as inline SVG, built with DOM calls (no markup strings, no style
 * attributes: colours come from admin.css classes, so the strict CSP holds).
 */
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 220;
const M = { top: 10, right: 8, bottom: 26, left: 52 };

export interface Bar {
  /** X label (shown for some bars) and the bar's full description (tooltip and table). */
  label: string;
  title: string;
  /** Stacked from the bottom; null = no data for this bar. */
  values: Array<number | null>;
}

function node<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  parent?: Element,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  parent?.appendChild(el);
  return el;
}

/** Grid steps of 1, 2 or 5 × 10^n, at most 5 of them, the top one at or above `max`. */
function scale(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 4, step: 1 };
  for (let p = 10 ** Math.floor(Math.log10(max / 5)); ; p *= 10) {
    for (const f of [1, 2, 5]) {
      const step = f * p;
      if (Math.ceil(max / step) <= 5) return { top: Math.ceil(max / step) * step, step };
    }
  }
}

export function renderBarChart(
  container: HTMLElement,
  bars: Bar[],
  options: {
    classes: string[];
    formatValue: (v: number) => string;
    ariaLabel: string;
    empty?: string;
    headers: string[];
    /** Every how many bars the x axis is labelled (default 5; the last bar always is). */
    labelEvery?: number;
  },
): void {
  container.textContent = '';
  const svg = node('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': options.ariaLabel });
  container.appendChild(svg);
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const totals = bars.map((b) => b.values.reduce<number>((s, v) => s + (v ?? 0), 0));
  const { top, step } = scale(Math.max(0, ...totals));
  const y = (v: number) => M.top + plotH - (v / top) * plotH;

  for (let v = 0; v <= top + step / 2; v += step) {
    node('line', { class: 'chart__grid', x1: M.left, x2: WIDTH - M.right, y1: y(v), y2: y(v) }, svg);
    const label = node('text', { class: 'chart__axis', x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, svg);
    label.textContent = options.formatValue(v);
  }

  const slot = plotW / Math.max(1, bars.length);
  const barW = Math.max(2, slot * 0.7);
  bars.forEach((bar, i) => {
    const x = M.left + slot * i + (slot - barW) / 2;
    let base = 0;
    const group = node('g', {}, svg);
    const title = node('title', {}, group);
    title.textContent = bar.title;
    bar.values.forEach((v, k) => {
      if (v === null || v <= 0) return;
      // Small but not zero stays visible.
      const h = Math.max(2, y(base) - y(base + v));
      node(
        'rect',
        { class: options.classes[k], x: x.toFixed(1), y: (y(base) - h).toFixed(1), width: barW.toFixed(1), height: h.toFixed(1), rx: 2 },
        group,
      );
      base += v;
    });
    // An invisible full-height target, so the tooltip works on short bars too.
    node('rect', { x: x.toFixed(1), y: M.top, width: barW.toFixed(1), height: plotH, fill: 'transparent' }, group);
    if (i % (options.labelEvery ?? 5) === 0 || i === bars.length - 1) {
      const label = node('text', { class: 'chart__axis', x: (x + barW / 2).toFixed(1), y: HEIGHT - 8, 'text-anchor': 'middle' }, svg);
      label.textContent = bar.label;
    }
  });

  if (options.empty && totals.every((v) => v === 0)) {
    const note = node('text', { class: 'chart__empty', x: M.left + plotW / 2, y: M.top + plotH / 2, 'text-anchor': 'middle' }, svg);
    note.textContent = options.empty;
  }

  // The same numbers as a table, for screen readers.
  const table = document.createElement('table');
  table.className = 'visually-hidden';
  const head = table.createTHead().insertRow();
  for (const h of options.headers) {
    const th = document.createElement('th');
    th.textContent = h;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const bar of bars) {
    const row = body.insertRow();
    row.insertCell().textContent = bar.label;
    for (const v of bar.values) row.insertCell().textContent = v === null ? '–' : options.formatValue(v);
  }
  container.appendChild(table);
}
