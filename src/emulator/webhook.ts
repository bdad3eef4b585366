/**
 * Webhook delivery as Telegram does it: one update at a time, in order, each
 * POSTed to the bot's URL (with its secret token) and retried a few times; a
 * Bot API call in the response body is run. Undelivered updates stay queued.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Update } from 'grammy/types';
import { badRequest } from './errors';
import { toInt } from './params';
import { Sleeps } from './sleeps';
import { nowSeconds } from './state';
import type { Params } from './types';

export interface WebhookConfig {
  url: string;
  secretToken?: string;
  maxConnections: number;
}

export interface WebhookOptions {
  /** Pauses between the attempts to deliver one update. */
  retryDelaysMs: number[];
  /** Timeout of one POST. */
  timeoutMs: number;
  /** Runs a Bot API call found in a webhook response body ({ method, ...params }). */
  onWebhookReply: (method: string, params: Params) => Promise<void>;
}

/** What delivery needs from the update queue. */
export interface DeliverySource {
  /** The webhook set now, if any. */
  webhook(): WebhookConfig | undefined;
  /** The oldest pending update the bot wants (updates it does not want are dropped). */
  next(): Update | undefined;
  /** `update` reached the bot: it leaves the queue. */
  confirm(update: Update): void;
}

type PostOutcome = { ok: true; reply?: Params } | { ok: false; error: string };

/** setWebhook's parameters checked as Telegram checks them (`url` is not empty). */
export function webhookConfig(url: string, params: Params): WebhookConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest('bad webhook: invalid webhook URL specified');
  }
  // Real Telegram insists on HTTPS; the emulator also accepts http:// for local test servers.
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
  }
  const secret = params.secret_token;
  if (secret !== undefined && (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(secret))) {
    throw badRequest('secret token contains unallowed characters');
  }
  return {
    url,
    ...(typeof secret === 'string' ? { secretToken: secret } : {}),
    maxConnections: toInt(params.max_connections) ?? 40,
  };
}

export class WebhookDelivery {
  /** The last failed attempt, as getWebhookInfo reports it. */
  lastError: { date: number; message: string } | undefined;
  private delivering: Promise<void> | undefined;
  private redeliver = false;
  private closed = false;
  private readonly sleeps = new Sleeps();
  private readonly inflight = new Set<http.ClientRequest>();

  constructor(
    private readonly source: DeliverySource,
    private readonly opts: WebhookOptions,
  ) {}

  /** Starts delivering pending updates (or delivers again after the current run). */
  kick(): void {
    if (this.source.webhook() === undefined || this.closed) return;
    if (this.delivering !== undefined) {
      this.redeliver = true;
      return;
    }
    this.delivering = this.deliverAll().finally(() => {
      this.delivering = undefined;
      if (this.redeliver) {
        this.redeliver = false;
        this.kick();
      }
    });
  }

  /** Resolves once no delivery is in progress. */
  async idle(): Promise<void> {
    while (this.delivering !== undefined) await this.delivering;
  }

  /** Aborts every delivery for good. */
  close(): void {
    this.closed = true;
    this.sleeps.wakeAll();
    for (const req of this.inflight) req.destroy();
    this.inflight.clear();
  }

  private async deliverAll(): Promise<void> {
    for (;;) {
      const hook = this.source.webhook();
      const update = this.closed || hook === undefined ? undefined : this.source.next();
      if (hook === undefined || update === undefined) return;
      // Undelivered updates stay queued; the next push / setWebhook tries again.
      if (!(await this.deliverWithRetries(update, hook))) return;
      this.source.confirm(update);
    }
  }

  private async deliverWithRetries(update: Update, hook: WebhookConfig): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed || this.source.webhook() !== hook) return false;
      const outcome = await this.post(hook, update);
      if (outcome.ok) {
        this.lastError = undefined;
        const reply = outcome.reply;
        if (reply !== undefined && typeof reply.method === 'string') {
          const { method, ...params } = reply;
          await this.opts.onWebhookReply(method, params).catch(() => undefined);
        }
        return true;
      }
      this.lastError = { date: nowSeconds(), message: outcome.error };
      const delay = this.opts.retryDelaysMs[attempt];
      if (delay === undefined) return false;
      await this.sleeps.sleep(delay);
    }
  }

  private post(hook: WebhookConfig, update: Update): Promise<PostOutcome> {
    return new Promise<PostOutcome>((resolve) => {
      const url = new URL(hook.url);
      const body = Buffer.from(JSON.stringify(update));
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'application/json',
        'content-length': body.length,
        connection: 'close',
        ...(hook.secretToken !== undefined ? { 'X-Telegram-Bot-Api-Secret-Token': hook.secretToken } : {}),
      };
      const onResponse = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e: Error) => resolve({ ok: false, error: e.message }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            resolve({ ok: false, error: `Wrong response from the webhook: ${status} ${res.statusMessage ?? ''}`.trim() });
            return;
          }
          let reply: Params | undefined;
          if ((res.headers['content-type'] ?? '').includes('json')) {
            try {
              const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) reply = parsed as Params;
            } catch {
              // Telegram ignores bodies it can't use.
            }
          }
          resolve(reply !== undefined ? { ok: true, reply } : { ok: true });
        });
      };
      const options = { method: 'POST', headers, agent: false, timeout: this.opts.timeoutMs } as const;
      const req =
        url.protocol === 'https:'
          ? https.request(url, { ...options, rejectUnauthorized: false }, onResponse)
          : http.request(url, options, onResponse);
      this.inflight.add(req);
      req.on('close', () => this.inflight.delete(req));
      req.on('timeout', () => req.destroy(new Error('Read timeout expired')));
      req.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ ok: false, error: e.code === 'ECONNREFUSED' ? 'Connection refused' : e.message }),
      );
      req.end(body);
    });
  }
}
