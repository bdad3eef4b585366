import path from 'node:path';
import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import compression from 'compression';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from '../logger';
import { cacheVersionedAssets, createVisitorPageRouter, isVisitorPage } from './visitor-page';

export interface HealthReport {
  status: 'ok' | 'error';
  db: 'ok' | 'error';
  telegram: 'ok' | 'disabled' | 'error';
  outbox: number | null;
  outboxFailed: number | null;
  uptime: number;
}

export interface HttpAppDeps {
  publicDir: string;
  logger: Logger;
  trustProxy: number | null;
  httpPerMinute: number;
  health: () => Promise<HealthReport>;
  /** CSP frame-ancestors sources of the visitor page (WIDGET_ORIGINS; '*' when unset). */
  frameAncestors?: string;
  /** PUBLIC_URL is https: browsers may upgrade every sub-request. Off on plain-HTTP installs, where it would break the page. */
  httpsOnly?: boolean;
  /** grammY webhook handler, mounted at POST /telegram/webhook in webhook mode. */
  telegramWebhook?: RequestHandler;
}

/** The Express side: static pages, /health, the Telegram webhook; JSON errors everywhere else. */
export function createHttpApp({ publicDir, logger, trustProxy, httpPerMinute, health, frameAncestors = '*', httpsOnly = false, telegramWebhook }: HttpAppDeps) {
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

  // Telegram's own retries must not be throttled away: the webhook is authenticated by its secret header instead.
  if (telegramWebhook) app.post('/telegram/webhook', express.json({ limit: '1mb' }), telegramWebhook);

  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: httpPerMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: (_req, res, _next, options) => {
        res.status(429).json({ error: { code: 'rate_limited', message: `Too many requests. Try again in ${Math.ceil(options.windowMs / 1000)} s.` } });
      },
    }),
  );

  app.get('/health', async (_req, res) => {
    const report = await health();
    res.status(report.db === 'ok' ? 200 : 503).set('Cache-Control', 'no-store').json(report);
  });

  app.use(compression());
  app.use(createVisitorPageRouter({ publicDir }));
  app.use(express.static(path.resolve(publicDir), { index: false, maxAge: '1h', setHeaders: (res) => cacheVersionedAssets(res as unknown as Response) }));

  app.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `No such route: ${req.method} ${req.path}` } });
  });

  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status >= 500) log.error('request failed', { error: err });
    res.status(status).json({ error: { code: status === 500 ? 'internal' : 'bad_request', message: status === 500 ? 'Something went wrong.' : 'Bad request.' } });
  };
  app.use(onError);
  return app;
}
