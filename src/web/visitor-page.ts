import { createVersionedPage } from './versioned-page';
import path from 'node:path';
import { Router, type Response } from 'express';

/** Local assets the page links with a content version (`?v=`), served as immutable. */
const VERSIONED_ASSETS = ['/style.css', '/build/chat.js'];

/**
 * The visitor page and the widget loader:
 * - `GET /` (and `/index.html`): public/index.html with versioned asset links, revalidated on every
 *   load, embeddable by the sites WIDGET_ORIGINS names (CSP frame-ancestors, set by the app's helmet).
 * - `GET /widget.js`: the loader that host sites include, loadable cross-origin.
 */
export function createVisitorPageRouter({ publicDir }: { publicDir: string }): Router {
  const router = Router();
  const dir = path.resolve(publicDir);
  // index.html with content versions, rebuilt when any of its files changes.
  const loadPage = createVersionedPage(dir, '/index.html', VERSIONED_ASSETS);

  router.get(['/', '/index.html'], (req, res) => {
    const { html, etag } = loadPage();
    // frame-ancestors replaces X-Frame-Options here: it is the one that can name several sites.
    res.removeHeader('X-Frame-Options');
    res.set({
      'Cache-Control': 'no-cache',
      ETag: etag,
      'Content-Type': 'text/html; charset=utf-8',
      // Embeddable by sites that require it of their frames (COEP); the page is a static shell.
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.send(html);
  });

  router.get('/widget.js', (_req, res, next) => {
    res.set({
      // Host pages on other origins must be able to load it (helmet's default is same-origin).
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Cache-Control': 'public, max-age=600',
    });
    res.sendFile(path.join(dir, 'build', 'widget.js'), { headers: { 'Content-Type': 'text/javascript; charset=utf-8' } }, (err) => {
      if (err) next(err);
    });
  });

  return router;
}

/** express.static's setHeaders: a request carrying a content version may be cached for good. */
export function cacheVersionedAssets(res: Response): void {
  if (/[?&]v=[0-9a-f]{12}\b/.test(res.req.url)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
}

/** Whether a request is for the embeddable visitor page (its frame-ancestors differ from the rest). */
export function isVisitorPage(url: string | undefined): boolean {
  const pathname = (url ?? '/').split('?')[0];
  return pathname === '/' || pathname === '/index.html';
}
