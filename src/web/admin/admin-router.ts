import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { AuthenticatedSession, StaffAuth } from '../../domain/admin-auth';
import type { AdminReadRepository } from '../../domain/admin-ports';
import type { Clock } from '../../domain/ports';
import type { Logger } from '../../logger';
import { createAdminApi } from './admin-api';
import { createAdminPage, pickServerLanguage, renderSignInPage } from './admin-pages';
import type { DepartmentLabels } from './department-labels';
import { departmentView } from '../../domain/departments';
import { clearedSessionCookies, readSessionCookie, sessionCookie } from './session-cookie';

export interface AdminRouterDeps {
  auth: StaffAuth;
  reads: AdminReadRepository;
  /** Names the departments a session may read (department-labels.ts). */
  labels: DepartmentLabels;
  clock: Clock;
  publicDir: string;
  /** PUBLIC_URL: https there means Secure cookies; its origin is the one allowed to log out. */
  publicUrl: string;
  logger: Logger;
  /** After a logout: the session's sockets are told and closed. */
  onLogout?: (idHash: string) => void;
}

const staffSession = (res: Response) => res.locals.staffSession as AuthenticatedSession;

/**
 * The read-only staff page (docs/admin.md):
 * - `GET /admin/login?token=` uses a one-time /web token, sets the session cookie, redirects to /admin;
 * - everything else under `/admin` and `/api/admin` needs a staff session: without one, pages get
 *   the sign-in explanation and the API 401 (403 for someone no longer in the staff chat);
 * - `/api/admin` has only GET routes, plus `POST /api/admin/logout` (CSRF token + same origin).
 */
export function createAdminRouter({ auth, reads, labels, clock, publicDir, publicUrl, logger, onLogout }: AdminRouterDeps): Router {
  const log = logger.child({ unit: 'admin' });
  const router = Router();
  const page = createAdminPage(publicDir);
  const ownOrigin = new URL(publicUrl).origin;
  const secure = (req: Request) => req.secure || publicUrl.startsWith('https:');

  // The page exists only behind a session, at /admin.
  router.get('/admin.html', (_req, res) => res.redirect(301, '/admin'));

  router.get('/admin/login', async (req, res) => {
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    // A HEAD (a link checker, a preview) must not use up the one-time token.
    if (req.method === 'HEAD') return res.status(200).type('html').end();
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const lang = pickServerLanguage(req.get('accept-language'));
    const result = await auth.login(token, req.get('user-agent') ?? null);
    if (!result.ok) {
      log.info('staff sign-in refused', { reason: result.reason });
      res
        .status(result.reason === 'unavailable' ? 503 : result.reason === 'not_staff' ? 403 : 401)
        .type('html')
        .send(renderSignInPage(result.reason, lang));
      return;
    }
    log.info('staff signed in', { telegramUserId: result.session.staff.telegramUserId });
    res.append('Set-Cookie', sessionCookie(result.cookieValue, secure(req)));
    res.redirect(303, '/admin?login=1');
  });

  const requireSession =
    (kind: 'page' | 'api'): RequestHandler =>
    async (req, res, next) => {
      const cookie = readSessionCookie(req.headers.cookie);
      const result = await auth.authenticate(cookie, { touch: true });
      if (result.ok) {
        res.locals.staffSession = result.session;
        return next();
      }
      res.set('Cache-Control', 'no-store');
      const status = result.reason === 'unavailable' ? 503 : result.reason === 'not_staff' ? 403 : 401;
      if (cookie && result.reason !== 'unavailable') res.append('Set-Cookie', clearedSessionCookies(secure(req)));
      if (kind === 'api') {
        const code = status === 503 ? 'unavailable' : status === 403 ? 'forbidden' : 'unauthorized';
        res.status(status).json({
          error: {
            code,
            reason: result.reason,
            message:
              status === 401
                ? 'A staff session is required.'
                : status === 403
                  ? 'Not a member of any staff chat.'
                  : 'Telegram could not be asked; try again.',
          },
        });
        return;
      }
      // Right after a login opened from another site (Telegram Web), the browser withholds the brand-new
      // SameSite=Strict cookie on the redirect; one same-site refresh brings it along.
      const justLoggedIn = !cookie && req.path === '/' && req.query.login === '1';
      res
        .status(status)
        .type('html')
        .send(
          renderSignInPage(result.reason, pickServerLanguage(req.get('accept-language')), justLoggedIn ? { continueTo: '/admin' } : {}),
        );
    };

  router.use('/admin', requireSession('page'));
  router.get(['/admin', '/admin/'], (req, res) => {
    const { html, etag } = page();
    res.set({
      'Cache-Control': 'no-cache, private',
      ETag: etag,
      'Content-Type': 'text/html; charset=utf-8',
      'Referrer-Policy': 'no-referrer',
    });
    if (req.headers['if-none-match'] === etag) return res.status(304).end();
    res.send(html);
  });

  const api = Router();
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  api.use(requireSession('api'));

  api.post('/logout', async (req, res) => {
    const session = staffSession(res);
    if (!fromOwnPage(req, ownOrigin) || !auth.checkCsrf(session, req.get('x-csrf-token'))) {
      res.status(403).json({ error: { code: 'forbidden', message: 'Sign out from the staff page (CSRF token missing or wrong).' } });
      return;
    }
    await auth.logout(session);
    onLogout?.(session.idHash);
    log.info('staff signed out', { telegramUserId: session.staff.telegramUserId });
    res.append('Set-Cookie', clearedSessionCookies(secure(req)));
    res.status(204).end();
  });

  // Read-only: nothing else may change anything.
  api.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    res.set('Allow', 'GET, HEAD');
    res.status(405).json({ error: { code: 'method_not_allowed', message: 'The staff API is read-only.' } });
  });

  api.get('/session', (_req, res) => {
    const session = staffSession(res);
    res.json({
      staff: session.staff,
      departments: labels.visible(session.departments).map(departmentView),
      csrfToken: session.csrfToken,
      idleTimeoutMinutes: Math.round(auth.idleTimeoutMs / 60_000),
    });
  });
  api.use(createAdminApi({ reads, clock, labels }));
  api.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `No such route: ${req.method} /api/admin${req.path}` } });
  });
  router.use('/api/admin', api);

  return router;
}

/** A browser request from a page of this site (the Origin, or failing that Sec-Fetch-Site, says so). */
function fromOwnPage(req: Request, ownOrigin: string): boolean {
  const origin = req.get('origin');
  if (origin) return origin === ownOrigin || origin === `${req.protocol}://${req.get('host')}`;
  const site = req.get('sec-fetch-site');
  return site === undefined || site === 'same-origin';
}
