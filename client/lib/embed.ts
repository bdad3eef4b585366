import { isWidgetToPage, type PageToWidget } from './embed-protocol';

type WithoutSource<T> = T extends unknown ? Omit<T, 'source'> : never;

export interface EmbedLink {
  post(message: WithoutSource<PageToWidget>): void;
  onVisibility(listener: (open: boolean) => void): void;
}

/**
 * The page's side of the widget link, when it runs in the widget's iframe
 * (`/?embed=1&host=<host page origin>`). It talks only to its parent window,
 * only when the parent's origin is the one named in the URL (checked against
 * location.ancestorOrigins where the browser has it), and posts with that
 * origin as the target, so a page that lies about `host` receives nothing.
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
  };
}
