/**
 * GET /widget.js — `<script src="https://support.example.com/widget.js" async></script>`
 * puts a chat bubble on any page; clicking it opens the visitor page in an iframe.
 * It defines no globals (one IIFE) and keeps its markup and styles in a shadow
 * root, so the host page's CSS and the widget's never meet.
 */
import { isPageToWidget, MIRRORED_KEYS, type MirroredKey, type WidgetToPage } from './lib/embed-protocol';
import { format, pickLanguage, strings } from './lib/i18n';
import { widgetCss } from './lib/widget-style';

/** Host-site storage for the chat page's token and flags (its own storage may be blocked as third-party). */
const STATE_KEY = 'topicdesk.widget';
const SVG = 'http://www.w3.org/2000/svg';

const script =
  (document.currentScript as HTMLScriptElement | null) ?? document.querySelector<HTMLScriptElement>('script[src*="/widget.js"]');
if (script && !document.querySelector('topicdesk-widget')) {
  const chatOrigin = new URL(script.src, location.href).origin;
  // `data-department="<key>"` on the script tag: conversations opened here go to that department (docs/departments.md).
  const department = script.dataset.department ?? null;
  if (document.body) mount(chatOrigin, department);
  else document.addEventListener('DOMContentLoaded', () => mount(chatOrigin, department), { once: true });
}

function mount(chatOrigin: string, department: string | null) {
  const t = strings[pickLanguage(navigator.languages?.length ? navigator.languages : [navigator.language])];
  const host = document.createElement('topicdesk-widget');
  // Inline !important beats any rule of the host page that could reach the element itself.
  for (const [prop, value] of [
    ['all', 'initial'],
    ['position', 'fixed'],
    ['z-index', '2147483000'],
    ['right', '0'],
    ['bottom', '0'],
    ['width', '0'],
    ['height', '0'],
  ]) {
    host.style.setProperty(prop, value, 'important');
  }
  const root = host.attachShadow({ mode: 'open' });
  // Constructed sheets work under a host CSP without 'unsafe-inline'; <style> is the fallback.
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(widgetCss);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = widgetCss;
    root.appendChild(style);
  }

  const wrap = document.createElement('div');
  const panel = document.createElement('div');
  panel.className = 'panel';
  panel.id = 'panel';
  panel.hidden = true;
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', t.widgetTitle);
  const bubble = document.createElement('button');
  bubble.type = 'button';
  bubble.className = 'bubble';
  bubble.setAttribute('aria-controls', 'panel');
  bubble.setAttribute('aria-expanded', 'false');
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.hidden = true;
  badge.setAttribute('aria-hidden', 'true');
  const chatIcon = icon('M12 3C6.5 3 2 6.9 2 11.7c0 2.4 1.1 4.6 3 6.2L4.3 21l3.9-1.8c1.2.4 2.5.6 3.8.6 5.5 0 10-3.9 10-8.7S17.5 3 12 3z');
  const closeIcon = icon('M6.4 5L12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z');
  closeIcon.style.display = 'none';
  bubble.append(chatIcon, closeIcon, badge);
  wrap.append(panel, bubble);
  root.appendChild(wrap);
  document.body.appendChild(host);

  let iframe: HTMLIFrameElement | null = null;
  let open = false;
  let ready = false;
  let unread = 0;

  function label() {
    bubble.setAttribute(
      'aria-label',
      (open ? t.widgetClose : t.widgetOpen) + (unread && !open ? ` (${format(t.unread, { count: unread })})` : ''),
    );
    badge.textContent = unread > 99 ? '99+' : String(unread);
    badge.hidden = open || unread === 0;
  }

  function ensureFrame() {
    if (iframe) return;
    iframe = document.createElement('iframe');
    iframe.title = t.widgetTitle;
    // The page's saved state rides in the fragment: never sent to a server, and the page removes it at once.
    const state = new URLSearchParams(loadState()).toString();
    const page = encodeURIComponent(location.origin + location.pathname);
    const routed = department ? `&department=${encodeURIComponent(department)}` : '';
    iframe.src = `${chatOrigin}/?embed=1&host=${encodeURIComponent(location.origin)}&page=${page}${routed}${state ? `#${state}` : ''}`;
    panel.appendChild(iframe);
  }

  function tell(message: Omit<WidgetToPage, 'source'>) {
    if (ready && iframe?.contentWindow) iframe.contentWindow.postMessage({ ...message, source: 'topicdesk' }, chatOrigin);
  }

  function setOpen(next: boolean) {
    open = next;
    if (open) {
      ensureFrame();
      unread = 0;
    }
    panel.hidden = !open;
    wrap.className = open ? 'open' : '';
    chatIcon.style.display = open ? 'none' : '';
    closeIcon.style.display = open ? '' : 'none';
    bubble.setAttribute('aria-expanded', String(open));
    label();
    tell({ type: 'visibility', open });
    if (open) iframe!.focus();
    else bubble.focus();
  }

  bubble.addEventListener('click', () => setOpen(!open));

  window.addEventListener('message', (event) => {
    // Only our own iframe, from the chat's origin, is believed.
    if (!iframe || event.source !== iframe.contentWindow || event.origin !== chatOrigin || !isPageToWidget(event.data)) return;
    const data = event.data;
    if (data.type === 'ready') {
      ready = true;
      tell({ type: 'visibility', open });
    } else if (data.type === 'unread') {
      unread = open ? 0 : data.count;
      label();
    } else if (data.type === 'close') {
      if (open) setOpen(false);
    } else if (data.type === 'store') {
      saveState(data.key, data.value);
    } else if (data.type === 'ended') {
      clearState();
    }
  });

  label();
  // A visitor who has a conversation from this site gets it loaded (hidden), so replies show on the badge.
  if (loadState()['topicdesk.token']) ensureFrame();
}

function icon(d: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  svg.appendChild(path);
  return svg;
}

function loadState(): Partial<Record<MirroredKey, string>> {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(STATE_KEY) ?? '{}');
    const state: Partial<Record<MirroredKey, string>> = {};
    if (raw && typeof raw === 'object') {
      for (const key of MIRRORED_KEYS) {
        const value = (raw as Record<string, unknown>)[key];
        if (typeof value === 'string' && value.length <= 256) state[key] = value;
      }
    }
    return state;
  } catch {
    return {};
  }
}

function saveState(key: MirroredKey, value: string | null) {
  const state = loadState();
  if (value === null) delete state[key];
  else state[key] = value;
  try {
    localStorage.setItem(STATE_KEY, JSON.stringify(state));
  } catch {
    /* storage blocked here too: the conversation lasts as long as the page */
  }
}

function clearState() {
  try {
    localStorage.removeItem(STATE_KEY);
  } catch {
    /* nothing to clear */
  }
}
