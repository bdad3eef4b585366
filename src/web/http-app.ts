import path from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import helmet from 'helmet';
import compression from 'compression';
import type { Budget } from '../limits/budgets';
import { httpBudget } from './http-budget';
import type { Logger } from '../logger';
import { cacheVersionedAssets, createVisitorPageRouter, isVisitorPage } from './visitor-page';
import { requireTelegramSecret } from './telegram-webhook';

export interface HealthReport {
  status: 'ok' | 'error';
  db: 'ok' | 'error';
  telegram: 'ok' | 'disabled' | 'error';
  outbox: number | null;
  outboxFailed: number | null;
  /** Polling mode: whether this instance polls Telegram or stands by for the one that does. */
  polling?: 'leader' | 'standby';
  /** With REDIS_URL: whether this instance is connected to Redis (not part of the status code: see docs/deploy.md). */
  redis?: 'ok' | 'error';
  uptime: number;
}

export interface HttpAppDeps {
  publicDir: string;
  logger: Logger;
  trustProxy: number | null;
  /** HTTP_RATE_LIMIT_PER_MINUTE per client address: in this process, or in Redis across instances. */
  httpLimit: Budget;
  health: () => Promise<HealthReport>;
  /** CSP frame-ancestors sources of the visitor page (WIDGET_ORIGINS; '*' when unset). */
  frameAncestors?: string;
  /** PUBLIC_URL is https: browsers may upgrade every sub-request. Off on plain-HTTP installs, where it would break the page. */
  httpsOnly?: boolean;
  /** grammY webhook handler and its secret, mounted at POST /telegram/webhook in webhook mode. */
  telegramWebhook?: { handler: RequestHandler; secret: string };
  /** The read-only staff page and its API (/admin, /api/admin): src/web/admin. */
  admin?: RequestHandler;
  /** `npm run demo`'s staff view (src/demo/staff-view), ahead of the rate limit; never set by `npm start`. */
  demo?: RequestHandler;
  /**
   * Prometheus exposition for GET /metrics. `token`: METRICS_TOKEN, required as a bearer token;
   * without one, only `local` servers (bound to loopback) answer, and only requests no proxy forwarded.
   */
  metrics?: { contentType: string; render(): Promise<string>; token: string | null; local: boolean };
  /** POST /api/uploads and GET /media/<name> (src/web/uploads.ts, src/web/media-route.ts). */
  media?: { uploads: RequestHandler; files: RequestHandler };
  /** GET /api/transcript: the visitor's conversation as a file (src/web/transcript-route.ts). */
  transcript?: RequestHandler;
}

/** The Express side: static pages, /health, the Telegram webhook; JSON errors everywhere else. */
export function createHttpApp({
  publicDir,
  logger,
  trustProxy,
  httpLimit,
  health,
  frameAncestors = '*',
  httpsOnly = false,
  telegramWebhook,
  admin,
  demo,
  metrics,
  media,
  transcript,
}: HttpAppDeps) {
  const log = logger.child({ unit: 'http' });
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxy ?? false);

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:', 'blob:', 'https:'],
          'media-src': ["'self'", 'blob:', 'https:'],
          'connect-src': ["'self'"],
          'object-src': ["'none'"],
          'base-uri': ["'none'"],
          'form-action': ["'self'"],
          // Only the visitor page may be framed (by the widget, on the sites WIDGET_ORIGINS allows).
          'frame-ancestors': [(req) => (isVisitorPage(req.url) ? frameAncestors : "'self'")],
          'upgrade-insecure-requests': httpsOnly ? [] : null,
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
  );

  // The demo's staff view is one person on loopback playing staff; its live feed and files are not rationed.
  if (demo) app.use(demo);

  // The probe shares and spaces its database readings and answers from memory when they are slow (src/web/health-probe.ts): cheap
  // enough to be exempt from the per-address limit: a monitor behind a busy address is never refused.
  app.get('/health', async (_req, res) => {
    const report = await health();
    res
      .status(report.db === 'ok' ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(report);
  });

  // Telegram's own retries must not be throttled away: the webhook is authenticated by its secret header instead,
  // checked before the body is even read.
  if (telegramWebhook) {
    app.post('/telegram/webhook', requireTelegramSecret(telegramWebhook.secret), express.json({ limit: '1mb' }), telegramWebhook.handler);
  }

  app.use(httpBudget(httpLimit, trustProxy));

  if (metrics) {
    const allowed = metricsAccess(metrics);
    app.get('/metrics', async (req, res) => {
      if (!allowed(req)) {
        res
          .status(401)
          .set('WWW-Authenticate', 'Bearer realm="metrics"')
          .json({
            error: {
              code: 'unauthorized',
              message: metrics.token
                ? 'Send the metrics token as Authorization: Bearer <token>.'
                : 'Metrics are closed: set METRICS_TOKEN on the server and send it as Authorization: Bearer <token>.',
            },
          });
        return;
      }
      res
        .set('Content-Type', metrics.contentType)
        .set('Cache-Control', 'no-store')
        .send(await metrics.render());
    });
  }

  // Media is already compressed, and range requests (audio seeking) must reach the file as is.
  if (media) app.use(media.uploads, media.files);
  if (transcript) app.use(transcript);
  app.use(compression());
  if (admin) app.use(admin);
  app.use(createVisitorPageRouter({ publicDir }));
  app.use(
    express.static(path.resolve(publicDir), {
      index: false,
      maxAge: '1h',
      setHeaders: (res) => cacheVersionedAssets(res),
    }),
  );

  app.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `No such route: ${req.method} ${req.path}` } });
  });

  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    // body-parser and friends set `status` on the errors they throw (400 for bad JSON, 413 for too large).
    const given = typeof err === 'object' && err !== null && 'status' in err ? err.status : undefined;
    const status = typeof given === 'number' && given >= 400 && given < 500 ? given : 500;
    if (status >= 500) log.error('request failed', { error: err });
    res.status(status).json({
      error: { code: status === 500 ? 'internal' : 'bad_request', message: status === 500 ? 'Something went wrong.' : 'Bad request.' },
    });
  };
  app.use(onError);
  return app;
}

/** Who may read GET /metrics (HttpAppDeps.metrics). */
function metricsAccess({ token, local }: { token: string | null; local: boolean }): (req: Request) => boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const expected = token === null ? null : digest(token);
  return (req) => {
    if (expected) {
      const given = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
      return given !== undefined && timingSafeEqual(digest(given), expected);
    }
    // No token: a scraper on this very machine, talking to a server nobody else can reach, directly.
    return local && !req.get('x-forwarded-for') && !req.get('forwarded') && !req.get('x-real-ip');
  };
}

/** HOST values only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
