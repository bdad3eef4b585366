import { isWidgetToPage, MIRRORED_KEYS, type MirroredKey, type PageToWidget } from './embed-protocol';

type WithoutSource<T> = T extends unknown ? Omit<T, 'source'> : never;

export interface EmbedLink {
  post(message: WithoutSource<PageToWidget>): void;
  onVisibility(listener: (open: boolean) => void): void;
  /** Values the widget kept for this page in the host site's storage (passed in the URL fragment). */
  seed: Partial<Record<MirroredKey, string>>;
}

/**
 * The page's side of the widget link, when it runs in the widget's iframe
 * (`/?embed=1&host=<host page origin>`). It talks only to its parent window,
 * only when the parent's origin is the one named in the URL (checked against
 * location.ancestorOrigins where the browser has it), and posts with that
 * origin as the target, so a page that lies about `host` receives nothing.
 *
 * Browsers that block third-party storage deny the iframe its localStorage, so
 * the widget keeps the visitor's token for it in the host site's storage: it
 * arrives in the URL fragment (never sent to any server) and is removed from
 * the address at once; changes go back to the widget as `store` messages.
 */
export function connectEmbed(win: Window): EmbedLink | null {
  const params = new URLSearchParams(win.location.search);
  if (params.get('embed') !== '1' || win.parent === win) return null;
  const host = params.get('host') ?? '';
  let origin: string;
  try {
    origin = new URL(host).origin;
  } catch {
    return null;
  }
  if (origin !== host || !/^https?:$/.test(new URL(host).protocol)) return null;
  const ancestors = win.location.ancestorOrigins;
  if (ancestors && ancestors.length > 0 && ancestors[0] !== origin) return null;

  const seed: Partial<Record<MirroredKey, string>> = {};
  const fragment = new URLSearchParams(win.location.hash.slice(1));
  for (const key of MIRRORED_KEYS) {
    const value = fragment.get(key);
    if (value && value.length <= 256) seed[key] = value;
  }
  if (win.location.hash) win.history.replaceState(null, '', win.location.pathname + win.location.search);

  const listeners: Array<(open: boolean) => void> = [];
  win.addEventListener('message', (event) => {
    if (event.source !== win.parent || event.origin !== origin || !isWidgetToPage(event.data)) return;
    for (const l of listeners) l(event.data.open);
  });
  return {
    post(message) {
      win.parent.postMessage({ ...message, source: 'topicdesk' }, origin);
    },
    onVisibility(listener) {
      listeners.push(listener);
    },
    seed,
  };
}
